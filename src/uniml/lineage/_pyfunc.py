"""The MLflow pyfunc flavor of a uniml model: the uniml save folder wrapped as a python_model.

What ``mlflow.pyfunc.load_model(uri).predict(frame)`` takes and returns, per task:

==============  ===========================================  ==========================================
task            input frame                                  output (exactly the adapter's)
==============  ===========================================  ==========================================
regression,     the feature columns                          ``adapter.predict(frame)`` (a Series
classification                                               indexed like the frame)
forecasting     with exogenous regressors: the future frame  ``adapter.predict(frame)``
                (series id, time, regressors); without:      ``adapter.predict(horizon=h)``
                one column ``horizon`` (first value used)
causal          the effect-modifier columns                  ``adapter.predict(frame)``: effect,
                                                             lower, upper
recommendation  a column of user ids named like the          ``adapter.predict(users, k)``: user,
                training user column, optional column ``k``  item, score, rank
==============  ===========================================  ==========================================

MLflow signatures cannot express pandas ``category`` columns, so they travel
as strings; the wrapper restores the recorded categories (an unseen level is
a :class:`~uniml.SchemaError` naming the column, never a silent NaN).

This module imports MLflow; only the lineage worker and MLflow's loader import it.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

# imported by name: `mlflow.pyfunc.PythonModel` as an attribute is invisible to mypy
# (mlflow's package __init__ declares `pyfunc` as a lazily loaded module)
from mlflow.pyfunc import PythonModel


class UnimlPyfuncModel(PythonModel):
    """MLflow ``python_model`` serving a uniml save folder (artifact ``uniml_model``)."""

    def load_context(self, context):
        from uniml.core.persistence import load

        # the folder's hashes are verified by load; it ships inside this MLflow model,
        # which MLflow itself deserialises with cloudpickle: the same trust boundary
        self.adapter = load(context.artifacts[ARTIFACT], trusted=True)

    # A DataFrame hint is one MLflow accepts without inferring a schema from it: no input
    # coercion by MLflow (the adapter enforces the recorded schema itself) and no warning
    # asking for type hints, which catch_warnings() cannot silence reliably on our thread.
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return predict_frame(self.adapter, model_input)


__all__ = [
    "ARTIFACT",
    "UnimlPyfuncModel",
    "example_frame",
    "predict_frame",
    "save_pyfunc",
    "signature_for",
]

ARTIFACT = "uniml_model"
PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


def _restore_categories(adapter, frame: pd.DataFrame) -> pd.DataFrame:
    """Undo what MLflow signatures impose: categories sent as strings, datetimes as nanoseconds."""
    from uniml.core.errors import SchemaError

    out = frame
    for col in adapter.schema_.to_dict()["columns"]:
        name, cats = col["name"], col.get("categories")
        if name in frame.columns and str(col.get("dtype", "")).startswith("datetime64"):
            current = frame[name].dtype
            if str(current) != col["dtype"] and getattr(current, "kind", "") == "M":
                out = out.assign(**{name: frame[name].astype(col["dtype"])})
            continue
        if col.get("kind") != "category" or name not in frame.columns:
            continue
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            continue
        values = frame[name]
        unseen = sorted(set(values.dropna().astype(str)) - {str(c) for c in cats})
        if unseen:
            raise SchemaError(
                f"column {name!r} has categories {unseen} unseen at fit; known: {cats}", column=name
            )
        lookup = {str(c): c for c in cats}
        mapped = values.map(lambda v, table=lookup: v if pd.isna(v) else table.get(str(v), v))
        dtype = pd.CategoricalDtype(cats, ordered=bool(col.get("ordered")))
        out = out.assign(**{name: mapped.astype(dtype)})
    return out


def predict_frame(adapter, frame):
    """Predict with a uniml adapter from one pyfunc input frame (see the module docstring).

    Parameters
    ----------
    adapter : uniml.Adapter
        Fitted.
    frame : pandas.DataFrame

    Returns
    -------
    pandas.Series or pandas.DataFrame
        What the adapter's own predict returns.

    Raises
    ------
    SchemaError
        The frame lacks the columns the task needs.

    Examples
    --------
    >>> import numpy as np, pandas as pd, uniml
    >>> X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    >>> m = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1, min_child_samples=2)
    >>> _ = m.fit(X, X["a"] * 2)
    >>> predict_frame(m, X.head(3)).equals(m.predict(X.head(3)))
    True
    """
    from uniml.core.errors import SchemaError

    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    task = str(adapter.task_kind)
    schema = adapter.schema_.to_dict()
    if task in ("regression", "classification"):
        frame = _restore_categories(adapter, frame)
        if schema.get("from_array"):
            names = [c["name"] for c in schema["columns"]]
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise SchemaError(
                    f"column {missing[0]!r} is missing; expected {names}", column=missing[0]
                )
            return adapter.predict(frame[names].to_numpy())
        return adapter.predict(frame)
    if task == "forecasting":
        if not adapter.exog_ and "horizon" in frame.columns:
            return adapter.predict(horizon=int(frame["horizon"].iloc[0]))
        return adapter.predict(_restore_categories(adapter, frame))
    if task == "causal":
        return adapter.predict(_restore_categories(adapter, frame))
    if task == "recommendation":
        user = schema["columns"][0]["name"]
        column = user if user in frame.columns else ("user" if "user" in frame.columns else None)
        if column is None:
            raise SchemaError(f"column {user!r} (user ids) is missing", column=user)
        k = int(frame["k"].iloc[0]) if "k" in frame.columns else 10
        return adapter.predict(frame[column].tolist(), k=k)
    raise SchemaError(f"no pyfunc input convention for task {task!r}")


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: object for c in cats}).astype({c: str for c in cats}) if cats else frame


def example_frame(adapter, X) -> pd.DataFrame | None:
    """A small pyfunc input example for ``adapter`` built from its training frame ``X``.

    Returns None where no example can be built without future data (a
    forecaster with exogenous regressors).

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1, min_child_samples=2)
    >>> _ = m.fit(np.arange(20.0).reshape(10, 2), np.arange(10.0))
    >>> example_frame(m, None).columns.tolist()
    ['x0', 'x1']
    """
    from uniml.lineage._fingerprint import to_frame

    task = str(adapter.task_kind)
    names = list(adapter.schema_.names)
    if task in ("regression", "classification"):
        if X is None:
            cols = adapter.schema_.to_dict()["columns"]
            return pd.DataFrame({c["name"]: np.zeros(1, dtype=c["dtype"]) for c in cols})
        frame = to_frame(X).head(5)
        frame.columns = names if adapter.schema_.to_dict().get("from_array") else frame.columns
        return _as_strings(frame[names])
    if task == "forecasting":
        return None if adapter.exog_ else pd.DataFrame({"horizon": [3]})
    if task == "causal":
        return _as_strings(X[names].head(5))
    if task == "recommendation":
        return pd.DataFrame({names[0]: X[names[0]].drop_duplicates().head(3).to_numpy(), "k": 5})
    return None


def signature_for(adapter, example: pd.DataFrame | None):
    """MLflow ModelSignature: inputs from the recorded schema (or the example), outputs from a prediction.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1, min_child_samples=2)
    >>> _ = m.fit(np.arange(20.0).reshape(10, 2), np.arange(10.0))
    >>> print(signature_for(m, example_frame(m, None)).inputs)
    ['x0': double (required), 'x1': double (required)]
    """
    from mlflow.models import infer_signature

    if example is not None:
        output = predict_frame(adapter, example)
        return infer_signature(
            example, _as_strings(output) if isinstance(output, pd.DataFrame) else output
        )
    # a forecaster with regressors: the future frame's columns, from the recorded schema
    cols = adapter.schema_.to_dict()["columns"]
    empty = pd.DataFrame({c["name"]: pd.Series(dtype=c["dtype"]) for c in cols})
    return infer_signature(_as_strings(empty))


def save_pyfunc(adapter, uniml_folder: Path, dest: Path, example, extra: str) -> Path:
    """Write an MLflow pyfunc model folder at ``dest`` wrapping ``uniml_folder``.

    Parameters
    ----------
    adapter : uniml.Adapter
        The fitted adapter (loaded from ``uniml_folder``), used for the signature.
    uniml_folder : Path
        A ``model.save()`` folder.
    dest : Path
        Folder to create.
    example : pandas.DataFrame or None
        Input example.
    extra : str
        The uniml extra of the adapter's library (``lightgbm``, ``causal``...).

    Returns
    -------
    Path
    """
    from uniml._version import __version__

    requirement = (
        f"uniml[{extra}]=={__version__}" if extra and extra != "core" else f"uniml=={__version__}"
    )
    # save_model copies our folder in through MLflow's artifact download, which draws a tqdm
    # bar on stderr from the lineage thread; MLflow reads this switch on every download
    progress = os.environ.get(PROGRESS_BAR)
    os.environ[PROGRESS_BAR] = "false"
    try:
        mlflow.pyfunc.save_model(
            str(dest),
            python_model=UnimlPyfuncModel(),
            artifacts={ARTIFACT: str(uniml_folder)},
            signature=signature_for(adapter, example),
            input_example=example,
            pip_requirements=[requirement, f"mlflow=={mlflow.__version__}"],
            metadata={"uniml_adapter": adapter.name, "uniml_task": str(adapter.task_kind)},
        )
    finally:
        if progress is None:
            os.environ.pop(PROGRESS_BAR, None)
        else:
            os.environ[PROGRESS_BAR] = progress
    return dest

"""The conformance suite: every adapter must pass :func:`check_adapter`.

The suite is the specification of the adapter contract (DESIGN.md): fit and
predict shapes and index alignment, typed schema errors, explanation
additivity where declared, bit-for-bit save/load round-trips with hash
verification, ``sklearn.base.clone``, determinism under a fixed seed,
not-fitted errors, pickling, and that ``fit`` never modifies its input. The
``bad_input`` check feeds what careless users send (``inf`` targets and
features, NaN and text columns, duplicated columns, empty frames, unknown
keywords, saves onto a file, malformed manifests) and expects a typed uniml
error naming the problem; whether loading needs ``trusted=True`` is taken from
the adapter class (``loads_code()``), never from the manifest.

The project's own tests run it over every adapter in the catalog; a
third-party adapter runs it in its own tests::

    from uniml.testing import check_adapter
    check_adapter(MyAdapter(param=1))

Examples
--------
>>> from uniml.testing import check_adapter
>>> passed = check_adapter("lightgbm.regressor")
>>> "save_load_roundtrip" in passed
True
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "adapter_checks",
    "check_adapter",
    "make_causal_data",
    "make_forecast_data",
    "make_interaction_data",
    "make_tabular_data",
]

# the per-task generators, importable from here as well as from their task module
# (resolved on first use: the task modules import this one)
_TASK_GENERATORS = {
    "make_forecast_data": "uniml.testing.forecasting",
    "make_causal_data": "uniml.testing.causal",
    "make_interaction_data": "uniml.testing.recommendation",
}


def __getattr__(name: str):
    if name in _TASK_GENERATORS:
        import importlib

        return getattr(importlib.import_module(_TASK_GENERATORS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: absolute tolerance of additive explanations computed in float64
ADDITIVITY_TOL = 1e-6


def make_tabular_data(
    task: str, *, categorical: bool = False, n_classes: int = 2, n: int = 160, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic tabular data with a known signal, a shuffled string index and mixed dtypes.

    Parameters
    ----------
    task : {"regression", "classification"}
    categorical : bool
        Add a pandas ``category`` column (levels ``red, green, blue``).
    n_classes : int
        Classes for classification; labels are strings (``"c0"``, ``"c1"``...).
    n : int
        Rows.
    seed : int

    Returns
    -------
    X : pandas.DataFrame
    y : pandas.Series
        Named ``"target"``, indexed like ``X``.

    Examples
    --------
    >>> X, y = make_tabular_data("classification", n_classes=3)
    >>> sorted(y.unique())
    ['c0', 'c1', 'c2']
    """
    rng = np.random.default_rng(seed)
    index = pd.Index([f"r{i}" for i in rng.permutation(n)], name="row_id")
    X = pd.DataFrame(
        {
            "num_a": rng.normal(size=n),
            "num_b": rng.uniform(-2, 2, size=n),
            "int_c": rng.integers(0, 5, size=n).astype(np.int64),
        },
        index=index,
    )
    signal = 2.0 * X["num_a"] - X["num_b"] + 0.5 * X["int_c"]
    if categorical:
        levels = ["red", "green", "blue"]
        X["cat_d"] = pd.Categorical(rng.choice(levels, size=n), categories=levels)
        signal = signal + X["cat_d"].map({"red": 1.5, "green": 0.0, "blue": -1.5}).astype(float)
    if task == "regression":
        y = signal + rng.normal(scale=0.3, size=n)
    elif task == "classification":
        score = signal + rng.normal(scale=0.5, size=n)
        cuts = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
        y = pd.Series(
            np.array([f"c{k}" for k in range(n_classes)], dtype=object)[
                np.searchsorted(cuts, score)
            ],
            index=index,
        )
    else:
        raise ValueError(f"make_tabular_data covers regression and classification, not {task!r}")
    return X, pd.Series(np.asarray(y), index=index, name="target")


# --------------------------------------------------------------------- checks
def _fail(check: str, message: str):
    raise AssertionError(f"[{check}] {message}")


def _expect(exc_type, check: str, what: str, func, *args, column=None, mention=None, **kwargs):
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        if mention is not None and str(mention) not in str(exc):
            _fail(check, f"{what}: the error does not name {mention!r}: {exc}")
        if column is not None:
            if getattr(exc, "column", None) != column:
                _fail(
                    check,
                    f"{what}: {exc_type.__name__} names column {getattr(exc, 'column', None)!r}, "
                    f"expected {column!r} ({exc})",
                )
            if repr(column) not in str(exc) and str(column) not in str(exc):
                _fail(check, f"{what}: message does not name {column!r}: {exc}")
        return exc
    except Exception as exc:  # wrong type
        _fail(check, f"{what}: expected {exc_type.__name__}, got {type(exc).__name__}: {exc}")
    _fail(check, f"{what}: expected {exc_type.__name__}, nothing was raised")


def _outputs(model, X) -> dict[str, np.ndarray]:
    out = {"predict": np.asarray(model.predict(X))}
    if model._is_classifier():
        out["predict_proba"] = np.asarray(model.predict_proba(X))
    return out


def _same_outputs(check, a: dict, b: dict, what: str):
    for key in a:
        if a[key].dtype.kind in "fc":
            equal = np.array_equal(a[key], b[key], equal_nan=True)
        else:
            equal = np.array_equal(a[key], b[key])
        if not equal:
            diff = (
                np.nanmax(np.abs(a[key].astype(float) - b[key].astype(float)))
                if a[key].dtype.kind in "fc"
                else "labels differ"
            )
            _fail(check, f"{what}: {key} differs (max abs diff {diff})")


# ------------------------------------------------------ checks shared by every task
def _check_metadata(cls, task: str | None = None) -> None:
    """Class metadata is complete, declares ``task`` (when given), and passes the class's own validation."""
    info = cls.info()
    for key in ("name", "task", "library", "installed", "explanation", "persistence"):
        if info.get(key) in (None, ""):
            _fail("metadata", f"class metadata {key!r} is empty")
    if task is not None and info["task"] != task:
        _fail("metadata", f"task is {info['task']!r}, expected {task!r}")
    cls.validate_metadata()


def _check_clone_unfitted(model) -> None:
    """``sklearn.base.clone`` of a fitted adapter is unfitted and keeps the parameter names."""
    from sklearn.base import clone

    copy = clone(model)
    if hasattr(copy, "schema_"):
        _fail("clone", "clone kept fitted state")
    if set(copy.get_params(deep=False)) != set(model.get_params(deep=False)):
        _fail("clone", "clone changed the parameter names")


def _check_tamper_detected(folder: Path, manifest: dict) -> None:
    """Altering the manifest or any saved artifact makes ``uniml.load`` refuse the folder."""
    import json

    from uniml.core.errors import IntegrityError
    from uniml.core.persistence import MANIFEST_NAME, load

    # the manifest is sealed: editing its fitted state (or anything else) is refused
    file = folder / MANIFEST_NAME
    original = file.read_text()
    edited = json.loads(original)
    edited["state"] = {**(edited.get("state") or {}), "tampered": True}
    file.write_text(json.dumps(edited, indent=2))
    _expect(IntegrityError, "save_load_roundtrip", "tampered manifest", load, folder, trusted=True)
    file.write_text(original)
    artifact = folder / next(iter(manifest["artifacts"]))
    artifact.write_bytes(artifact.read_bytes() + b" ")
    _expect(IntegrityError, "save_load_roundtrip", "tampered artifact", load, folder, trusted=True)


def _check_manifest_shape(folder: Path) -> None:
    """A manifest that is not an object, or lacks ``artifacts``, is an ``IntegrityError`` at load."""
    import json

    from uniml.core.errors import IntegrityError
    from uniml.core.persistence import MANIFEST_NAME, load

    file = folder / MANIFEST_NAME
    original = file.read_text()
    manifest = json.loads(original)
    cases = [
        ("a manifest that is a JSON list", "[]"),
        (
            "a manifest without artifacts",
            json.dumps({k: v for k, v in manifest.items() if k != "artifacts"}),
        ),
        ("a manifest whose artifacts is a list", json.dumps({**manifest, "artifacts": []})),
    ]
    try:
        for what, text in cases:
            file.write_text(text)
            _expect(IntegrityError, "bad_input", what, load, folder, trusted=True)
    finally:
        file.write_text(original)


def _check_untrusted_refusal(cls, folder: Path, manifest: dict) -> bool:
    """Whether loading needs ``trusted=True``: decided by the class (``loads_code()``), never by
    the manifest's flags; a class that runs code on load must refuse an untrusted load."""
    from uniml.core.errors import UntrustedArtifactError
    from uniml.core.persistence import load

    code = cls.loads_code()
    flagged = any(a.get("pickle") for a in manifest["artifacts"].values())
    if flagged and not code:
        _fail(
            "save_load_roundtrip",
            "an artifact is flagged pickle but the class declares no code runs on load "
            "(set persistence / runs_code_on_load so that loads_code() is True)",
        )
    if code:
        _expect(
            UntrustedArtifactError,
            "save_load_roundtrip",
            "untrusted load of a class that runs code on load",
            load,
            folder,
        )
    return code


#: a keyword no adapter takes: the bad-input checks expect it refused by name
UNKNOWN_PARAM = "surely_not_a_param"


def _check_unknown_param(adapter, fit: Callable) -> None:
    """An unknown keyword is an ``UnknownParameterError`` naming it, at ``make`` or at ``fit``."""
    from uniml.core.catalog import get_adapter_class, make
    from uniml.core.errors import AdapterNotFoundError, UnknownParameterError

    cls = type(adapter)
    params = {**adapter.get_params(deep=False), UNKNOWN_PARAM: 1}
    try:
        registered = get_adapter_class(cls.name) is cls
    except AdapterNotFoundError:
        registered = False

    def build_and_fit():
        fit(make(cls.name, **params) if registered else cls(**params))

    _expect(
        UnknownParameterError,
        "bad_input",
        "an unknown keyword",
        build_and_fit,
        mention=UNKNOWN_PARAM,
    )


def _check_save_onto_file(model) -> None:
    """``save`` onto an existing regular file is a ``FolderExistsError`` and leaves the file alone."""
    from uniml.core.errors import FolderExistsError

    target = Path(tempfile.mkdtemp()) / "model"
    target.write_text("keep me")
    _expect(FolderExistsError, "bad_input", "save onto an existing file", model.save, target)
    if not target.is_file() or target.read_text() != "keep me":
        _fail("bad_input", "a refused save changed the file it was pointed at")


def _tabular_checks(adapter, X, y) -> list[tuple[str, Callable[[], None]]]:
    from sklearn.base import clone

    from uniml.core.errors import (
        DataContractError,
        NotFittedError,
        SchemaError,
    )
    from uniml.core.explanation import Explanation
    from uniml.core.persistence import MANIFEST_NAME, load

    cls = type(adapter)
    X_new = X.iloc[::-1].head(25)  # new row order and subset: alignment must follow the index
    state: dict = {}

    def fitted():
        if "model" not in state:
            state["model"] = clone(adapter).fit(X, y)
        return state["model"]

    def metadata():
        _check_metadata(cls)

    def not_fitted():
        fresh = clone(adapter)
        for method in ("predict", "explain"):
            _expect(NotFittedError, "not_fitted", f"{method} before fit", getattr(fresh, method), X)
        _expect(NotFittedError, "not_fitted", "save before fit", fresh.save, tempfile.mkdtemp())

    def fit_does_not_modify_input():
        X_copy, y_copy = X.copy(deep=True), y.copy(deep=True)
        clone(adapter).fit(X, y)
        pd.testing.assert_frame_equal(X, X_copy, check_exact=True)
        pd.testing.assert_series_equal(y, y_copy, check_exact=True)

    def fit_predict_shapes():
        model = clone(adapter)
        if model.fit(X, y) is not model:
            _fail("fit_predict_shapes", "fit must return self")
        pred = model.predict(X_new)
        if not isinstance(pred, pd.Series):
            _fail("fit_predict_shapes", f"predict must return a Series, got {type(pred).__name__}")
        if not pred.index.equals(X_new.index):
            _fail("fit_predict_shapes", "predict's index is not the input's index")
        if pred.name != y.name:
            _fail(
                "fit_predict_shapes", f"predictions should be named {y.name!r}, got {pred.name!r}"
            )
        if model._is_classifier():
            if not set(pred.unique()) <= set(model.classes_):
                _fail("fit_predict_shapes", "predict returned labels outside classes_")
            proba = model.predict_proba(X_new)
            if list(proba.columns) != list(model.classes_) or not proba.index.equals(X_new.index):
                _fail(
                    "fit_predict_shapes",
                    "predict_proba columns must be classes_ and index the input's",
                )
            if not np.allclose(proba.sum(axis=1), 1.0):
                _fail("fit_predict_shapes", "predict_proba rows do not sum to 1")
        elif not np.all(np.isfinite(pred.to_numpy(dtype=float))):
            _fail("fit_predict_shapes", "non-finite predictions")
        if model.n_features_in_ != X.shape[1]:
            _fail("fit_predict_shapes", "n_features_in_ is wrong")

    def schema_errors():
        model = fitted()
        cols = list(X.columns)
        first, last = cols[0], cols[-1]
        cases = [
            ("missing column", X_new.drop(columns=[last]), last),
            ("extra column", X_new.assign(unexpected=1.0), "unexpected"),
            ("reordered columns", X_new[[last, *cols[:-1]]], last),
            ("renamed column", X_new.rename(columns={first: "renamed"}), first),
            ("dtype change", X_new.assign(**{first: X_new[first].astype(str)}), first),
        ]
        cat_cols = [c for c in cols if isinstance(X[c].dtype, pd.CategoricalDtype)]
        if cat_cols:
            c = cat_cols[0]
            bad = X_new.copy()
            bad[c] = pd.Categorical(["never-seen"] * len(bad))
            cases.append(("unseen category", bad, c))
        for what, frame, column in cases:
            for method in ("predict", "explain"):
                _expect(
                    SchemaError,
                    "schema_errors",
                    f"{what} in {method}",
                    getattr(model, method),
                    frame,
                    column=column,
                )

    def explanation():
        model = fitted()
        exp = model.explain(X_new)
        if not isinstance(exp, Explanation):
            _fail("explanation", f"explain must return an Explanation, got {type(exp).__name__}")
        if cls.additive is not None and exp.additive != cls.additive:
            _fail(
                "explanation",
                f"class declares additive={cls.additive} but the explanation says {exp.additive}",
            )
        if cls.explanation_kind != "depends" and exp.kind != cls.explanation_kind:
            _fail("explanation", f"class declares kind {cls.explanation_kind!r}, got {exp.kind!r}")
        if exp.importance is None or len(exp.importance) == 0:
            _fail("explanation", "no global importance")
        if exp.contributions is not None and not exp.contributions.index.equals(X_new.index):
            _fail("explanation", "contributions are not indexed like the input")
        if exp.additive:
            err = exp.additivity_error()
            tol = ADDITIVITY_TOL
            if exp.meta.get("precision") == "float32":  # the library itself computes in float32
                tol = ADDITIVITY_TOL * max(
                    1.0, float(np.nanmax(np.abs(np.asarray(exp.prediction, dtype=float))))
                )
            if not err <= tol:
                _fail(
                    "explanation",
                    f"base + sum(contributions) misses the prediction by {err:.3g} (tol {tol:.3g})",
                )
            if exp.space == "raw" and not model._is_classifier():
                gap = np.max(
                    np.abs(
                        np.asarray(exp.reconstruction())
                        - model.predict(X_new).to_numpy(dtype=float)
                    )
                )
                if not gap <= tol:
                    _fail(
                        "explanation", f"space 'raw' but contributions miss predict() by {gap:.3g}"
                    )

    def save_load_roundtrip():
        import json

        model = fitted()
        folder = Path(tempfile.mkdtemp()) / "model"
        model.save(folder)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        for key in (
            "adapter",
            "uniml_version",
            "library_versions",
            "schema",
            "params",
            "artifacts",
        ):
            if key not in manifest:
                _fail("save_load_roundtrip", f"manifest lacks {key!r}")
        if manifest["adapter"] != cls.name:
            _fail("save_load_roundtrip", "manifest names another adapter")
        pickled = _check_untrusted_refusal(cls, folder, manifest)
        loaded = load(folder, trusted=pickled)
        if type(loaded) is not cls:
            _fail("save_load_roundtrip", f"load returned {type(loaded).__name__}")
        _same_outputs(
            "save_load_roundtrip", _outputs(model, X_new), _outputs(loaded, X_new), "after load"
        )
        a, b = model.explain(X_new), loaded.explain(X_new)
        if a.contributions is not None:
            pd.testing.assert_frame_equal(a.contributions, b.contributions, check_exact=True)
        _expect(
            SchemaError,
            "save_load_roundtrip",
            "schema after load",
            loaded.predict,
            X_new.drop(columns=[X.columns[0]]),
            column=X.columns[0],
        )
        # tampering with any artifact must be detected before it is read
        _check_tamper_detected(folder, manifest)

    def clone_unfitted():
        _check_clone_unfitted(fitted())

    def determinism():
        if not cls.deterministic:
            return
        a = clone(adapter).fit(X, y)
        b = clone(adapter).fit(X, y)
        _same_outputs(
            "determinism", _outputs(a, X_new), _outputs(b, X_new), "two fits with the same seed"
        )

    def pickling():
        model = fitted()
        again = pickle.loads(pickle.dumps(model))
        _same_outputs(
            "pickling", _outputs(model, X_new), _outputs(again, X_new), "after pickle round-trip"
        )

    def array_input():
        if any(isinstance(d, pd.CategoricalDtype) for d in X.dtypes):
            return
        arr = X.to_numpy(dtype=np.float64)
        model = clone(adapter).fit(arr, y.to_numpy())
        pred = model.predict(arr[:5])
        if not isinstance(pred, pd.Series) or len(pred) != 5:
            _fail("array_input", "predict on an array must return a Series of the same length")
        _expect(SchemaError, "array_input", "wrong width", model.predict, arr[:5, :-1])
        _expect(SchemaError, "array_input", "1-D input", model.predict, arr[0])

    def bad_input():
        """Bad input is a typed error naming the column (issue 14), never a raw library error,
        a silent NaN prediction or a class called ``inf``."""
        model = fitted()
        numeric = [c for c in X.columns if X[c].dtype.kind == "f"]
        col = numeric[0]
        # inf in the target (a float target, as a careless upstream produces it)
        if y.dtype.kind == "f":
            y_inf = y.copy()
        else:
            y_inf = pd.Series(pd.factorize(y)[0].astype(float), index=y.index, name=y.name)
        y_inf.iloc[1] = np.inf
        fresh = clone(adapter)
        _expect(
            DataContractError, "bad_input", "inf in the target", fresh.fit, X, y_inf, mention=y.name
        )
        # inf in a feature, at fit and at predict
        X_inf = X.copy()
        X_inf.iloc[1, X.columns.get_loc(col)] = np.inf
        fresh = clone(adapter)
        _expect(
            SchemaError, "bad_input", "inf in a feature at fit", fresh.fit, X_inf, y, column=col
        )
        _expect(
            SchemaError,
            "bad_input",
            "inf in a feature at predict",
            model.predict,
            X_inf.head(5),
            column=col,
        )
        # NaN in a feature at predict: a typed error naming it, or a real prediction for every row
        X_nan = X_new.copy()
        X_nan[col] = np.nan
        try:
            pred = model.predict(X_nan)
        except SchemaError as exc:
            if getattr(exc, "column", None) != col:
                _fail("bad_input", f"NaN in {col!r}: the SchemaError names {exc.column!r}: {exc}")
        except Exception as exc:
            _fail(
                "bad_input",
                f"NaN in {col!r} at predict: expected a prediction or a SchemaError naming the "
                f"column, got {type(exc).__name__}: {exc}",
            )
        else:
            if pred.isna().any():
                _fail("bad_input", f"NaN in {col!r} at predict gave NaN predictions silently")
        # a text column at fit: accepted, or a SchemaError naming it
        try:
            clone(adapter).fit(X.assign(comment=["free text"] * len(X)), y)
        except SchemaError as exc:
            if getattr(exc, "column", None) != "comment":
                _fail("bad_input", f"a text column: the SchemaError names {exc.column!r}: {exc}")
        except Exception as exc:
            _fail(
                "bad_input",
                f"a text column at fit: expected a fit or a SchemaError naming it, got "
                f"{type(exc).__name__}: {exc}",
            )
        # a duplicated column name at predict is named, not reported as another column missing
        dup = pd.concat([X_new, X_new[[col]]], axis=1)
        _expect(SchemaError, "bad_input", "a duplicated column", model.predict, dup, column=col)
        # an empty frame at predict is an empty result
        empty = model.predict(X_new.iloc[:0])
        if not isinstance(empty, pd.Series) or len(empty) != 0 or empty.name != y.name:
            _fail("bad_input", "predict on an empty frame must return an empty Series named like y")
        if model._is_classifier():
            proba = model.predict_proba(X_new.iloc[:0])
            if proba.shape != (0, len(model.classes_)):
                _fail("bad_input", f"predict_proba on an empty frame has shape {proba.shape}")
        _check_unknown_param(adapter, lambda m: m.fit(X, y))
        _check_save_onto_file(model)
        folder = model.save(Path(tempfile.mkdtemp()) / "model")
        _check_manifest_shape(folder)

    return [
        ("metadata", metadata),
        ("not_fitted", not_fitted),
        ("fit_does_not_modify_input", fit_does_not_modify_input),
        ("fit_predict_shapes", fit_predict_shapes),
        ("bad_input", bad_input),
        ("schema_errors", schema_errors),
        ("explanation", explanation),
        ("save_load_roundtrip", save_load_roundtrip),
        ("clone", clone_unfitted),
        ("determinism", determinism),
        ("pickling", pickling),
        ("array_input", array_input),
    ]


def _instances(adapter_or_name) -> list:
    from uniml.core.adapter import Adapter
    from uniml.core.catalog import get_adapter_class

    if isinstance(adapter_or_name, str):
        cls = get_adapter_class(adapter_or_name)
        cls.require_library()
        return [cls(**params) for params in cls._test_params()]
    if isinstance(adapter_or_name, type) and issubclass(adapter_or_name, Adapter):
        return [adapter_or_name(**params) for params in adapter_or_name._test_params()]
    if isinstance(adapter_or_name, Adapter):
        return [adapter_or_name]
    raise TypeError(
        f"expected an adapter, an adapter class or a catalog name, got {adapter_or_name!r}"
    )


def _datasets(adapter) -> list[tuple[str, pd.DataFrame, pd.Series]]:
    categorical = adapter._accepts_categorical()
    task = str(adapter.task_kind)
    if task == "regression":
        return [("regression", *make_tabular_data("regression", categorical=categorical))]
    if task == "classification":
        return [
            ("binary", *make_tabular_data("classification", categorical=categorical, n_classes=2)),
            (
                "multiclass",
                *make_tabular_data("classification", categorical=categorical, n_classes=3, seed=1),
            ),
        ]
    raise ValueError(f"tabular datasets cover regression and classification, not {task!r}")


def _task_checks(adapter) -> list[tuple[str, str, Callable[[], None]]]:
    """(dataset, check, callable) triples for one adapter instance, by task kind.

    Tabular checks live here; each other task kind has a module
    ``uniml.testing.<task>`` exposing ``checks(adapter)`` with the same return shape.
    """
    import importlib

    task = str(adapter.task_kind)
    if task in ("regression", "classification"):
        return [
            (data_name, check_name, func)
            for data_name, X, y in _datasets(adapter)
            for check_name, func in _tabular_checks(adapter, X, y)
        ]
    try:
        module = importlib.import_module(f"uniml.testing.{task}")
    except ModuleNotFoundError as exc:
        raise ValueError(f"the conformance suite has no checks for task {task!r}") from exc
    return module.checks(adapter)


def adapter_checks(adapter_or_name) -> list[tuple[str, Callable[[], None]]]:
    """The conformance checks for an adapter, as ``(id, callable)`` pairs (for pytest parametrisation).

    Parameters
    ----------
    adapter_or_name : Adapter, Adapter subclass, or str
        An (unfitted) adapter instance, a class (checked with each of its
        ``_test_params()``), or a catalog name.

    Returns
    -------
    list of (str, callable)
        ``id`` is ``"<adapter repr>/<dataset>/<check>"``; calling the callable
        raises ``AssertionError`` when the check fails.

    Examples
    --------
    >>> ids = [cid for cid, _ in adapter_checks("xgboost.classifier")]
    >>> any(cid.endswith("multiclass/explanation") for cid in ids)
    True
    """
    out = []
    for adapter in _instances(adapter_or_name):
        label = repr(adapter).replace("\n", "")
        for data_name, check_name, func in _task_checks(adapter):
            out.append((f"{label}/{data_name}/{check_name}", func))
    return out


def check_adapter(adapter_or_name) -> list[str]:
    """Run every conformance check; raise ``AssertionError`` naming the first that fails.

    Parameters
    ----------
    adapter_or_name : Adapter, Adapter subclass, or str
        See :func:`adapter_checks`.

    Returns
    -------
    list of str
        Names of the checks that passed (each once).

    Raises
    ------
    AssertionError
        ``"[check] what went wrong"`` for the first failing check.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> import uniml
    >>> "schema_errors" in check_adapter(uniml.make("sklearn.estimator", estimator=Ridge()))
    True
    """
    passed = []
    for check_id, func in adapter_checks(adapter_or_name):
        func()
        name = check_id.rsplit("/", 1)[-1]
        if name not in passed:
            passed.append(name)
    return passed

"""The reference profile: everything monitoring needs from the reference data, computed once.

A :class:`Profile` holds, per column, the reference's quantile bin edges and
bin shares, a sorted sample (all values when the reference is small, else an
order-statistic sketch whose approximation error is measured at fit time),
category shares and missing rates; the prediction's distribution; the model's
reference performance (from the evaluation's out-of-fold predictions when
given); what label-free estimation needs (a calibration map for CBPE, a
sample of errors for DLE); a PCA for multivariate drift; and, optionally,
thresholds learned from reference chunks. It is saved as one ``.npz`` file
(arrays plus a JSON header, read back with ``allow_pickle=False``) and can be
logged as an MLflow artifact beside the model version.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uniml.monitoring import _stats
from uniml.monitoring._errors import MonitoringError

__all__ = ["CategoricalColumn", "NumericColumn", "Profile"]

FORMAT = 1
#: default number of order statistics kept per numeric column
SKETCH_SIZE = 10_000
#: default number of quantile bins (JS divergence, PSI, plots)
N_BINS = 10
#: at most this many categories are kept per column (the rest are pooled as "other")
MAX_CATEGORIES = 1000
OTHER = "__other__"
#: rows kept for the PCA and for DLE's error model
PCA_ROWS = 50_000
DLE_ROWS = 20_000


@dataclass
class NumericColumn:
    """Reference facts of one numeric column.

    Parameters
    ----------
    name : str
    n : int
        Non-missing reference values.
    missing_rate : float
    mean, std : float
    sketch : numpy.ndarray
        Sorted values: all of them (``exact``) or ``sketch_size`` order statistics.
    exact : bool
        Whether ``sketch`` is the whole reference.
    sketch_error : float
        Wasserstein distance between the reference and its sketch (0 when exact):
        a bound on how far any current column's distance to the sketch is from
        its distance to the full reference (triangle inequality).
    ks_error : float
        ``sup |F_sketch - F_reference|``: the same bound for the KS statistic.
    edges : numpy.ndarray
        Inner quantile bin edges.
    shares : numpy.ndarray
        Reference share of each bin (``len(edges) + 1``).
    role : str
        ``"feature"`` or ``"prediction"``.

    Examples
    --------
    >>> col = NumericColumn.fit("x", pd.Series([1.0, 2.0, None, 4.0]))
    >>> col.n, round(col.missing_rate, 2), col.exact
    (3, 0.25, True)
    """

    name: str
    n: int
    missing_rate: float
    mean: float
    std: float
    sketch: np.ndarray
    exact: bool
    sketch_error: float
    ks_error: float
    edges: np.ndarray
    shares: np.ndarray
    role: str = "feature"
    kind: str = field(default="numeric", init=False)

    @functools.cached_property
    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The sketch's own CDF counts at and just left of each point (cached for KS).

        Returns
        -------
        tuple of numpy.ndarray
        """
        return (
            np.searchsorted(self.sketch, self.sketch, "right"),
            np.searchsorted(self.sketch, self.sketch, "left"),
        )

    @property
    def scale(self) -> float:
        """What Wasserstein distances are divided by: the reference's standard deviation.

        Returns
        -------
        float
            The std, else ``|mean|``, else 1 for a constant zero column.
        """
        if self.std > 0:
            return self.std
        return abs(self.mean) if self.mean else 1.0

    @classmethod
    def fit(
        cls,
        name: str,
        values: pd.Series,
        *,
        sketch_size: int = SKETCH_SIZE,
        n_bins: int = N_BINS,
        role: str = "feature",
    ) -> NumericColumn:
        """Profile one numeric column.

        Parameters
        ----------
        name : str
        values : pandas.Series
        sketch_size : int, default 10000
        n_bins : int, default 10
        role : str, default "feature"

        Returns
        -------
        NumericColumn
        """
        x = _as_float(values, name)
        missing = np.isnan(x)
        xs = np.sort(x[~missing])
        n = int(xs.size)
        if n == 0:
            raise MonitoringError(f"column {name!r}: the reference has no non-missing value")
        if n <= sketch_size:
            sketch, exact, err, ks_err = xs, True, 0.0, 0.0
        else:
            idx = ((np.arange(sketch_size) + 0.5) * n / sketch_size).astype(np.int64)
            sketch = xs[np.minimum(idx, n - 1)]
            exact = False
            err = _stats.wasserstein_sorted(xs, sketch)
            ks_err = _stats.ks_sorted(xs, sketch)
        edges = np.unique(np.quantile(xs, np.linspace(0, 1, n_bins + 1)[1:-1]))
        shares = _stats.bin_counts(xs, edges) / n
        return cls(
            name=name,
            n=n,
            missing_rate=float(missing.mean()) if x.size else 0.0,
            mean=float(xs.mean()),
            std=float(xs.std()),
            sketch=sketch,
            exact=exact,
            sketch_error=float(err),
            ks_error=float(ks_err),
            edges=edges,
            shares=shares,
            role=role,
        )


@dataclass
class CategoricalColumn:
    """Reference facts of one categorical column.

    Parameters
    ----------
    name : str
    n : int
        Non-missing reference values.
    missing_rate : float
    categories : list of str
        Categories seen in the reference (as strings), most frequent first.
    shares : numpy.ndarray
        Reference share of each category (an ``"__other__"`` entry pools the
        rare ones beyond ``max_categories``).
    role : str
        ``"feature"`` or ``"prediction"``.

    Examples
    --------
    >>> col = CategoricalColumn.fit("c", pd.Series(["a", "b", "a", None]))
    >>> col.categories, col.shares.round(3).tolist()
    (['a', 'b'], [0.667, 0.333])
    """

    name: str
    n: int
    missing_rate: float
    categories: list
    shares: np.ndarray
    role: str = "feature"
    kind: str = field(default="categorical", init=False)

    @classmethod
    def fit(
        cls,
        name: str,
        values: pd.Series,
        *,
        max_categories: int = MAX_CATEGORIES,
        role: str = "feature",
    ) -> CategoricalColumn:
        """Profile one categorical column.

        Parameters
        ----------
        name : str
        values : pandas.Series
        max_categories : int, default 1000
        role : str, default "feature"

        Returns
        -------
        CategoricalColumn
        """
        counts = category_counts(values)
        n = int(counts.sum())
        if n == 0:
            raise MonitoringError(f"column {name!r}: the reference has no non-missing value")
        if len(counts) > max_categories:
            rest = counts.iloc[max_categories:].sum()
            counts = pd.concat([counts.iloc[:max_categories], pd.Series({OTHER: rest})])
        return cls(
            name=name,
            n=n,
            missing_rate=float(values.isna().mean()) if len(values) else 0.0,
            categories=[str(c) for c in counts.index],
            shares=counts.to_numpy(dtype=float) / n,
            role=role,
        )


def category_counts(values: pd.Series) -> pd.Series:
    """Counts of each non-missing value as a string, most frequent first."""
    counts = values.value_counts(dropna=True, sort=True)
    counts.index = counts.index.map(str)
    return counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")


def _as_float(values: pd.Series, name: str) -> np.ndarray:
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"column {name!r}: expected numbers ({exc})") from None


def is_numeric(values: pd.Series) -> bool:
    """Numbers (not booleans) are profiled as distributions; everything else as categories."""
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )


def _task_of(model, y) -> str | None:
    task = getattr(model, "task", None) if model is not None else None
    if isinstance(task, str) and task in ("regression", "classification"):
        return task
    if model is not None and hasattr(model, "predict_proba"):
        return "classification"
    if y is None:
        return None
    y = pd.Series(y)
    if is_numeric(y) and y.nunique() > 20:
        return "regression"
    return "classification"


def _oof(evaluation, model_name: str | None) -> pd.DataFrame | None:
    """Out-of-fold ``y_true, y_pred[, proba]`` from an evaluation report or a frame."""
    if evaluation is None:
        return None
    frame = getattr(evaluation, "predictions", evaluation)
    if not isinstance(frame, pd.DataFrame):
        raise MonitoringError(
            "evaluation: expected an evaluation report (with .predictions) or a DataFrame "
            f"with y_true and y_pred columns, got {type(evaluation).__name__}"
        )
    missing = {"y_true", "y_pred"} - set(frame.columns)
    if missing:
        raise MonitoringError(f"evaluation predictions lack column(s) {sorted(missing)}")
    if "model" in frame.columns:
        models = list(dict.fromkeys(frame["model"]))
        if model_name is None:
            roles = getattr(evaluation, "roles", {}) or {}
            candidates = [m for m in models if roles.get(m, "candidate") == "candidate"]
            if len(candidates) != 1:
                raise MonitoringError(
                    f"evaluation holds several models {models}: pass evaluation_model=<name>"
                )
            model_name = candidates[0]
        if model_name not in models:
            raise MonitoringError(f"evaluation has no model {model_name!r}; it has {models}")
        frame = frame[frame["model"] == model_name]
    return frame.reset_index(drop=True)


def _isotonic(proba: np.ndarray, correct_label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An isotonic calibration map of P(y = positive | score) as interpolation knots."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba, correct_label)
    return np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)


class Profile:
    """The reference profile of a model: fit once, save with the model version, monitor against.

    Build it with :meth:`fit`; the constructor is for :meth:`load`.

    Parameters
    ----------
    columns : dict
        Column name -> :class:`NumericColumn` or :class:`CategoricalColumn`
        (features and the prediction).
    n_rows : int
    task : str or None
        ``"regression"``, ``"classification"`` or None (no model nor target).
    prediction : str or None
        Name of the profiled prediction column.
    performance : dict
        Reference performance: ``source`` (``"out-of-fold"`` or ``"in-sample"``),
        ``n`` and per metric its value and per-row standard deviation.
    cbpe : dict or None
        Binary classifiers: the isotonic calibration knots and class labels.
    dle : dict or None
        Regressors: a sample of encoded features, predictions and absolute errors.
    pca : dict or None
        Standardisation, components and the reference reconstruction error.
    learned : dict
        Column -> statistic -> ``{"mean", "std", "k", "chunk_size", "n_chunks"}``.
    meta : dict
        Creation time, uniml version, settings, model identity.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> profile = Profile.fit(ref)
    >>> sorted(profile.columns), profile.columns["x"].kind
    (['c', 'x'], 'numeric')
    >>> path = profile.save(tempfile.mkdtemp() + "/profile.npz")
    >>> Profile.load(path).columns["c"].categories == profile.columns["c"].categories
    True
    """

    def __init__(
        self,
        columns: dict,
        *,
        n_rows: int,
        task: str | None = None,
        prediction: str | None = None,
        performance: dict | None = None,
        cbpe: dict | None = None,
        dle: dict | None = None,
        pca: dict | None = None,
        learned: dict | None = None,
        meta: dict | None = None,
    ):
        self.columns = columns
        self.n_rows = n_rows
        self.task = task
        self.prediction = prediction
        self.performance = performance or {}
        self.cbpe = cbpe
        self.dle = dle
        self.pca = pca
        self.learned = learned or {}
        self.meta = meta or {}

    def __repr__(self) -> str:
        kinds = [c.kind for c in self.columns.values()]
        return (
            f"Profile({self.n_rows} rows, {kinds.count('numeric')} numeric and "
            f"{kinds.count('categorical')} categorical columns, task={self.task!r})"
        )

    @property
    def features(self) -> list[str]:
        """Names of the profiled feature columns (not the prediction).

        Returns
        -------
        list of str
        """
        return [n for n, c in self.columns.items() if c.role == "feature"]

    # ------------------------------------------------------------------ fit
    @classmethod
    def fit(
        cls,
        reference: pd.DataFrame,
        model=None,
        *,
        target: str | None = None,
        predictions=None,
        proba=None,
        evaluation=None,
        evaluation_model: str | None = None,
        task: str | None = None,
        columns: list[str] | None = None,
        sketch_size: int = SKETCH_SIZE,
        n_bins: int = N_BINS,
        learn_thresholds: bool = False,
        chunk_size: int | None = None,
        k: float = 3.0,
        pca_variance: float = 0.65,
        random_state: int = 0,
        model_info: dict | None = None,
    ) -> Profile:
        """Compute the reference profile of ``reference`` (and of ``model``'s predictions on it).

        Parameters
        ----------
        reference : pandas.DataFrame
            Reference data: the training data or a recent healthy window.
        model : uniml adapter or scikit-learn estimator, optional
            Predicts the reference to profile the prediction distribution
            (``predict_proba`` too for classifiers).
        target : str, optional
            Column of ``reference`` holding the actual values (not profiled as a
            feature); gives the in-sample performance when no evaluation is given.
        predictions : array-like or str, optional
            Predictions on the reference (or the name of a column holding them);
            default: ``model.predict``, else a ``prediction`` column if present.
        proba : array-like or str, optional
            Binary classifiers: probability of the positive class on the reference.
        evaluation : EvalReport or pandas.DataFrame, optional
            Out-of-fold predictions (``y_true``, ``y_pred``, optional ``proba``;
            an evaluation report's ``predictions``): the reference performance and
            the CBPE calibration come from them, like with like.
        evaluation_model : str, optional
            Which model of the evaluation (default: its only candidate).
        task : str, optional
            ``"regression"`` or ``"classification"``; default from the model or target.
        columns : list of str, optional
            Feature columns to profile (default: every column but target and prediction).
        sketch_size : int, default 10000
            Order statistics kept per numeric column when the reference is larger.
        n_bins : int, default 10
            Quantile bins for Jensen-Shannon and PSI.
        learn_thresholds : bool, default False
            Also learn per-column thresholds ``mean + k * std`` of each statistic
            over reference chunks.
        chunk_size : int, optional
            Rows per reference chunk (default: a tenth of the reference, at least 500).
        k : float, default 3
            Standard deviations above the chunk mean for a learned alert threshold
            (``k - 1`` for the warning).
        pca_variance : float, default 0.65
            Share of the (standardised) variance the multivariate PCA keeps.
        random_state : int, default 0
            Seeds the row samples (PCA, DLE).
        model_info : dict, optional
            Free identity of the model version (``name``, ``version``, ``digest``).

        Returns
        -------
        Profile

        Raises
        ------
        MonitoringError
            A named column is missing, or the reference is empty.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> rng = np.random.default_rng(1)
        >>> X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
        >>> y = X["a"] * 2 + rng.normal(scale=0.1, size=300)
        >>> model = LinearRegression().fit(X, y)
        >>> profile = Profile.fit(X.assign(y=y), model, target="y")
        >>> profile.task, profile.prediction, profile.performance["source"]
        ('regression', 'prediction', 'in-sample')
        """
        if not isinstance(reference, pd.DataFrame):
            raise MonitoringError(
                f"reference: expected a pandas DataFrame, got {type(reference).__name__}"
            )
        if len(reference) == 0:
            raise MonitoringError("reference: the frame is empty")
        for name, value in (("target", target),):
            if value is not None and value not in reference.columns:
                raise MonitoringError(f"{name} column {value!r} is not in the reference")
        pred_col = predictions if isinstance(predictions, str) else None
        if pred_col is not None and pred_col not in reference.columns:
            raise MonitoringError(f"prediction column {pred_col!r} is not in the reference")
        if pred_col is None and predictions is None and model is None:
            pred_col = "prediction" if "prediction" in reference.columns else None
        proba_col = proba if isinstance(proba, str) else None
        if proba_col is not None and proba_col not in reference.columns:
            raise MonitoringError(f"proba column {proba_col!r} is not in the reference")
        reserved = {target, pred_col, proba_col} - {None}
        if columns is None:
            feats = [c for c in reference.columns if c not in reserved]
        else:
            absent = [c for c in columns if c not in reference.columns]
            if absent:
                raise MonitoringError(f"columns {absent} are not in the reference")
            feats = list(columns)
        X = reference[feats]
        y = reference[target] if target is not None else None

        # predictions on the reference
        pred = None
        prob = None
        if pred_col is not None:
            pred = reference[pred_col].to_numpy()
        elif predictions is not None:
            pred = np.asarray(predictions)
        elif model is not None:
            pred = np.asarray(model.predict(X))
        if proba_col is not None:
            prob = reference[proba_col].to_numpy(dtype=float)
        elif proba is not None:
            prob = np.asarray(proba, dtype=float)
        elif model is not None and hasattr(model, "predict_proba"):
            p = np.asarray(model.predict_proba(X), dtype=float)
            if p.ndim == 2 and p.shape[1] == 2:
                prob = p[:, 1]
        if pred is not None and len(pred) != len(reference):
            raise MonitoringError(
                f"predictions: {len(pred)} values for {len(reference)} reference rows"
            )
        kind = task or _task_of(model, y if y is not None else pred)
        if kind not in (None, "regression", "classification"):
            raise MonitoringError(f"task: expected 'regression' or 'classification', got {kind!r}")

        cols: dict[str, Any] = {}
        for name in feats:
            cols[str(name)] = _fit_column(str(name), X[name], sketch_size, n_bins, "feature")
        prediction_name = None
        if pred is not None:
            prediction_name = "prediction"
            if kind == "classification":  # labels are categories, whatever their dtype
                cols[prediction_name] = CategoricalColumn.fit(
                    prediction_name, pd.Series(pred), role="prediction"
                )
            else:
                cols[prediction_name] = _fit_column(
                    prediction_name, pd.Series(pred), sketch_size, n_bins, "prediction"
                )
        if prob is not None:
            cols["proba"] = _fit_column("proba", pd.Series(prob), sketch_size, n_bins, "prediction")

        oof = _oof(evaluation, evaluation_model)
        classes = None
        if model is not None and hasattr(model, "classes_"):
            classes = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        performance: dict[str, Any] = {}
        cbpe = dle = None
        if oof is not None:
            source = "out-of-fold"
            yt, yp = oof["y_true"].to_numpy(), oof["y_pred"].to_numpy()
            pp = oof["proba"].to_numpy(dtype=float) if "proba" in oof.columns else None
        elif y is not None and pred is not None:
            source = "in-sample"
            yt, yp, pp = y.to_numpy(), pred, prob
        else:
            source, yt, yp, pp = None, None, None, None
        if source is not None and kind is not None:
            performance = reference_performance(kind, yt, yp)
            performance["source"] = source
            if kind == "classification" and pp is not None:
                labels = classes or sorted(pd.unique(yt).tolist())
                if len(labels) == 2:
                    positive = labels[1]
                    xk, yk = _isotonic(pp.astype(float), (yt == positive).astype(float))
                    cbpe = {
                        "x": xk,
                        "y": yk,
                        "labels": [_plain(v) for v in labels],
                        "source": source,
                    }
            if kind == "regression" and y is not None and pred is not None:
                feature_cols = {n: c for n, c in cols.items() if c.role == "feature"}
                dle = _dle_sample(
                    encode_features(X, feature_cols),
                    np.asarray(pred, float),
                    y.to_numpy(float),
                    random_state,
                )

        pca = _fit_pca(X, cols, pca_variance, random_state)
        profile = cls(
            cols,
            n_rows=len(reference),
            task=kind,
            prediction=prediction_name,
            performance=performance,
            cbpe=cbpe,
            dle=dle,
            pca=pca,
            meta={
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "uniml": _uniml_version(),
                "sketch_size": sketch_size,
                "n_bins": n_bins,
                "model": dict(model_info or {}),
            },
        )
        if learn_thresholds:
            profile.learn_thresholds(reference, chunk_size=chunk_size, k=k)
        return profile

    def learn_thresholds(
        self, reference: pd.DataFrame, *, chunk_size: int | None = None, k: float = 3.0
    ) -> dict:
        """Learn per-column thresholds from chunks of the reference (mean + k std of each statistic).

        Each chunk of ``chunk_size`` consecutive rows is compared with the whole
        profile exactly as a monitoring run would compare current data; the
        statistic's mean and standard deviation over chunks give
        ``warn = mean + (k - 1) std`` and ``alert = mean + k std``. They hold for
        current batches of about ``chunk_size`` rows (sampling noise shrinks
        with size); the report says so when the sizes differ.

        Parameters
        ----------
        reference : pandas.DataFrame
            The reference the profile was fitted on.
        chunk_size : int, optional
            Default: a tenth of the reference, at least 500 rows.
        k : float, default 3

        Returns
        -------
        dict
            :attr:`learned`.

        Raises
        ------
        MonitoringError
            Fewer than 5 chunks fit in the reference.
        """
        from uniml.monitoring._monitor import column_statistics

        size = chunk_size or max(len(reference) // 10, 500)
        n_chunks = len(reference) // size
        if n_chunks < 5:
            raise MonitoringError(
                f"learned thresholds need at least 5 chunks: {len(reference)} rows make "
                f"{n_chunks} chunks of {size}; pass a smaller chunk_size"
            )
        values: dict[str, dict[str, list[float]]] = {}
        for i in range(n_chunks):
            chunk = reference.iloc[i * size : (i + 1) * size]
            for name, col in self.columns.items():
                if col.role != "feature" or name not in chunk.columns:
                    continue
                stats = column_statistics(col, chunk[name])
                for stat in ("wasserstein", "js", "psi", "missing"):
                    if stat in stats and stats[stat] is not None and not math.isnan(stats[stat]):
                        values.setdefault(name, {}).setdefault(stat, []).append(stats[stat])
        self.learned = {
            name: {
                stat: {
                    "mean": float(np.mean(v)),
                    "std": float(np.std(v, ddof=1)),
                    "k": float(k),
                    "chunk_size": int(size),
                    "n_chunks": int(n_chunks),
                }
                for stat, v in per.items()
            }
            for name, per in values.items()
        }
        return self.learned

    # ----------------------------------------------------------- persistence
    def to_header(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The JSON header and the arrays this profile is saved as.

        Returns
        -------
        tuple
            ``(header, arrays)``: a JSON-able dict and named numpy arrays.
        """
        arrays: dict[str, np.ndarray] = {}
        cols = []
        for i, (name, col) in enumerate(self.columns.items()):
            entry = {"name": name, "kind": col.kind, "role": col.role, "n": col.n}
            entry["missing_rate"] = col.missing_rate
            if col.kind == "numeric":
                entry.update(
                    mean=col.mean,
                    std=col.std,
                    exact=col.exact,
                    sketch_error=col.sketch_error,
                    ks_error=col.ks_error,
                )
                arrays[f"c{i}_sketch"] = col.sketch
                arrays[f"c{i}_edges"] = col.edges
            else:
                entry["categories"] = col.categories
            arrays[f"c{i}_shares"] = col.shares
            cols.append(entry)
        header: dict[str, Any] = {
            "format": FORMAT,
            "n_rows": self.n_rows,
            "task": self.task,
            "prediction": self.prediction,
            "performance": self.performance,
            "learned": self.learned,
            "meta": self.meta,
            "columns": cols,
        }
        for part in ("cbpe", "dle", "pca"):
            value = getattr(self, part)
            if value is None:
                header[part] = None
                continue
            plain = {}
            for key, v in value.items():
                if isinstance(v, np.ndarray):
                    arrays[f"{part}_{key}"] = v
                    plain[key] = {"array": f"{part}_{key}"}
                else:
                    plain[key] = v
            header[part] = plain
        return header, arrays

    def save(self, path) -> Path:
        """Write the profile to one ``.npz`` file (no pickle inside).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Path
        """
        header, arrays = self.to_header()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, __header__=blob, **arrays)  # type: ignore[arg-type]
        path.write_bytes(buffer.getvalue())
        return path

    @classmethod
    def load(cls, path) -> Profile:
        """Read a profile written by :meth:`save` (arrays only: ``allow_pickle=False``).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Profile

        Raises
        ------
        MonitoringError
            Not a profile file, or a newer format.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError:
            raise MonitoringError(f"profile {str(path)!r} does not exist") from None
        except (OSError, ValueError) as exc:
            raise MonitoringError(f"profile {str(path)!r} is not a uniml profile: {exc}") from None
        if "__header__" not in arrays:
            raise MonitoringError(f"profile {str(path)!r} has no header")
        header = json.loads(arrays.pop("__header__").tobytes().decode("utf-8"))
        if header.get("format", 0) > FORMAT:
            raise MonitoringError(
                f"profile {str(path)!r} has format {header['format']}; this uniml reads {FORMAT}"
            )
        cols: dict[str, Any] = {}
        for i, e in enumerate(header["columns"]):
            if e["kind"] == "numeric":
                cols[e["name"]] = NumericColumn(
                    name=e["name"],
                    n=e["n"],
                    missing_rate=e["missing_rate"],
                    mean=e["mean"],
                    std=e["std"],
                    sketch=arrays[f"c{i}_sketch"],
                    exact=e["exact"],
                    sketch_error=e["sketch_error"],
                    ks_error=e["ks_error"],
                    edges=arrays[f"c{i}_edges"],
                    shares=arrays[f"c{i}_shares"],
                    role=e["role"],
                )
            else:
                cols[e["name"]] = CategoricalColumn(
                    name=e["name"],
                    n=e["n"],
                    missing_rate=e["missing_rate"],
                    categories=e["categories"],
                    shares=arrays[f"c{i}_shares"],
                    role=e["role"],
                )
        parts = {}
        for part in ("cbpe", "dle", "pca"):
            value = header.get(part)
            if value is not None:
                value = {
                    k: arrays[v["array"]] if isinstance(v, dict) and "array" in v else v
                    for k, v in value.items()
                }
            parts[part] = value
        return cls(
            cols,
            n_rows=header["n_rows"],
            task=header["task"],
            prediction=header["prediction"],
            performance=header["performance"],
            learned=header["learned"],
            meta=header["meta"],
            **parts,
        )

    def log_to_mlflow(
        self, run_id: str, *, tracking_uri: str | None = None, artifact_path: str = "monitoring"
    ) -> str:
        """Store the profile as an artifact of the model version's run (``monitoring/profile.npz``).

        Parameters
        ----------
        run_id : str
            The MLflow run that logged the model version.
        tracking_uri : str, optional
        artifact_path : str, default "monitoring"

        Returns
        -------
        str
            The artifact URI (``runs:/<run_id>/monitoring/profile.npz``).
        """
        import tempfile

        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        with tempfile.TemporaryDirectory(prefix="uniml-profile-") as tmp:
            path = self.save(Path(tmp) / "profile.npz")
            client.log_artifact(run_id, str(path), artifact_path=artifact_path)
        return f"runs:/{run_id}/{artifact_path}/profile.npz"

    @classmethod
    def from_mlflow(
        cls, run_id: str, *, tracking_uri: str | None = None, artifact_path: str = "monitoring"
    ) -> Profile:
        """Load the profile logged with :meth:`log_to_mlflow`.

        Parameters
        ----------
        run_id : str
        tracking_uri : str, optional
        artifact_path : str, default "monitoring"

        Returns
        -------
        Profile
        """
        import tempfile

        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        with tempfile.TemporaryDirectory(prefix="uniml-profile-") as tmp:
            local = client.download_artifacts(run_id, f"{artifact_path}/profile.npz", tmp)
            return cls.load(local)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _uniml_version() -> str:
    from uniml._version import __version__

    return __version__


def _fit_column(name, values: pd.Series, sketch_size, n_bins, role):
    if is_numeric(values):
        return NumericColumn.fit(name, values, sketch_size=sketch_size, n_bins=n_bins, role=role)
    return CategoricalColumn.fit(name, values, role=role)


def reference_performance(task: str, y_true, y_pred) -> dict:
    """Reference metrics with their per-row standard deviation (for sampling-noise thresholds).

    Parameters
    ----------
    task : str
    y_true, y_pred : array-like

    Returns
    -------
    dict
        ``n`` and ``metrics``: name -> ``{"value", "row_std", "greater_is_better"}``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if task == "classification":
        correct = (y_true == y_pred).astype(float)
        metrics = {
            "accuracy": {
                "value": float(correct.mean()),
                "row_std": float(correct.std()),
                "greater_is_better": True,
            }
        }
    else:
        err = y_true.astype(float) - y_pred.astype(float)
        abs_err = np.abs(err)
        sq = err**2
        metrics = {
            "mae": {
                "value": float(abs_err.mean()),
                "row_std": float(abs_err.std()),
                "greater_is_better": False,
            },
            "rmse": {
                "value": float(math.sqrt(sq.mean())),
                # delta method: sd(sqrt(mean sq)) ~ sd(sq) / (2 rmse)
                "row_std": float(sq.std() / (2 * math.sqrt(sq.mean()))) if sq.mean() > 0 else 0.0,
                "greater_is_better": False,
            },
        }
    return {"n": int(y_true.size), "metrics": metrics}


def encode_features(X: pd.DataFrame, columns: dict) -> np.ndarray:
    """Numeric matrix of the profiled features: numbers as is, categories as their reference rank."""
    out = np.empty((len(X), len(columns)), dtype=float)
    for j, (name, col) in enumerate(columns.items()):
        if name not in X.columns:
            raise MonitoringError(f"column {name!r} of the profile is not in the data")
        if col.kind == "numeric":
            out[:, j] = _as_float(X[name], name)
        else:
            codes = {c: i for i, c in enumerate(col.categories)}
            out[:, j] = X[name].map(lambda v, codes=codes: codes.get(str(v), -1)).to_numpy(float)
    return out


def _dle_sample(F: np.ndarray, pred, y, random_state) -> dict:
    """Rows DLE learns the absolute error from: encoded features, prediction, |error|."""
    rng = np.random.default_rng(random_state)
    idx = np.arange(len(F))
    if len(idx) > DLE_ROWS:
        idx = np.sort(rng.choice(idx, DLE_ROWS, replace=False))
    return {
        "features": F[idx],
        "prediction": pred[idx],
        "abs_error": np.abs(y[idx] - pred[idx]),
        "random_state": int(random_state),
    }


def _fit_pca(X: pd.DataFrame, cols: dict, variance: float, random_state: int) -> dict | None:
    """Standardise numeric features, keep ``variance`` of it, record the held-out reconstruction error."""
    numeric = [n for n, c in cols.items() if c.role == "feature" and c.kind == "numeric"]
    if len(numeric) < 2 or len(X) < 50:
        return None
    rng = np.random.default_rng(random_state)
    idx = np.arange(len(X))
    if len(idx) > PCA_ROWS:
        idx = rng.choice(idx, PCA_ROWS, replace=False)
    else:
        idx = rng.permutation(idx)
    center = np.array([cols[n].mean for n in numeric])
    scale = np.array([cols[n].scale for n in numeric])
    Z = (X.iloc[idx][numeric].to_numpy(dtype=float, na_value=np.nan) - center) / scale
    Z = np.where(np.isnan(Z), 0.0, Z)
    half = len(Z) // 2
    mean = Z[:half].mean(axis=0)
    # principal axes from the eigen-decomposition of the (small) covariance matrix
    eigval, eigvec = np.linalg.eigh(np.cov(Z[:half] - mean, rowvar=False))
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = np.clip(eigval[order], 0, None), eigvec[:, order]
    share = np.cumsum(eigval) / eigval.sum() if eigval.sum() > 0 else np.ones_like(eigval)
    n_comp = int(np.searchsorted(share, variance) + 1)
    n_comp = min(max(n_comp, 1), len(numeric) - 1)  # keep a direction out, or nothing can change
    components = eigvec[:, :n_comp].T.copy()
    held = _reconstruction_error(Z[half:], mean, components)
    return {
        "columns": numeric,
        "center": center,
        "scale": scale,
        "mean": mean,
        "components": components,
        "error_mean": float(held.mean()),
        "error_std": float(held.std()),
        "n": int(held.size),
        "variance": float(variance),
    }


def _reconstruction_error(Z: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    centred = Z - mean
    kept = centred @ components.T  # orthonormal rows: |x - P x|^2 = |x|^2 - |C x|^2
    sq = np.einsum("ij,ij->i", centred, centred) - np.einsum("ij,ij->i", kept, kept)
    return np.sqrt(np.clip(sq, 0, None))

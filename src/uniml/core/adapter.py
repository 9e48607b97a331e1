"""The :class:`Adapter` base class: one interface over every wrapped library.

Template methods: the public ``fit`` / ``predict`` / ``predict_proba`` /
``explain`` / ``save`` validate and convert input, enforce the schema, fire
lifecycle events, and call the private ``_fit`` / ``_predict`` /
``_predict_proba`` / ``_explain`` / ``_save`` / ``_load`` that an adapter
implements with data already in the shape it needs.

Class-level metadata (``name``, ``task``, ``library``, ``extra``,
``explanation_kind``, ``additive``, ``persistence``...) is read by the
catalog, the docs and the conformance suite without instantiating anything.

A new tabular adapter is a dozen lines; see ``docs/extending.md``.

Examples
--------
>>> import numpy as np, uniml
>>> from sklearn.linear_model import Ridge
>>> model = uniml.make("sklearn.estimator", estimator=Ridge(alpha=1.0))
>>> X, y = np.random.default_rng(0).normal(size=(50, 3)), np.arange(50.0)
>>> model.fit(X, y).predict(X[:2]).shape
(2,)
"""

from __future__ import annotations

import functools
import json
import math
import time
import warnings
from abc import ABCMeta, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.metaestimators import available_if

from uniml.core import events
from uniml.core.dependencies import distribution_version, import_optional, is_installed
from uniml.core.errors import DataContractError, NotFittedError, SchemaError, UnimlError
from uniml.core.explanation import KINDS, Explanation
from uniml.core.schema import Schema
from uniml.core.tasks import TabularData, Task, count_infinite

__all__ = [
    "Adapter",
    "ClassifierAdapter",
    "EstimatorNotFittedError",
    "LibraryParams",
    "ProbabilityFrame",
    "RegressorAdapter",
    "TabularAdapter",
]


class EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """:class:`uniml.NotFittedError` that is also scikit-learn's ``NotFittedError``.

    Adapters raise it, so ``except sklearn.exceptions.NotFittedError`` (and
    scikit-learn's own checks) catch it too; ``errors.py`` cannot subclass
    scikit-learn's class itself without making ``import uniml`` import scikit-learn.

    Examples
    --------
    >>> import uniml, sklearn.exceptions
    >>> try:
    ...     uniml.make("lightgbm.regressor").predict([[1.0]])
    ... except sklearn.exceptions.NotFittedError as err:
    ...     isinstance(err, uniml.NotFittedError)
    True
    """


_PERSISTENCE_FORMATS = {
    "skops": False,
    "xgboost-json": False,
    "lightgbm-text": False,
    "prophet-json": False,
    "npz-json": False,
    "statsmodels-pickle": True,
    "pickle": True,
    "cloudpickle": True,
}


class Adapter(BaseEstimator, metaclass=ABCMeta):
    """Base class of every uniml adapter.

    Subclasses declare metadata as class attributes and implement the private
    hooks. Constructor arguments are stored verbatim (scikit-learn's estimator
    contract), so ``get_params``, ``set_params`` and ``sklearn.base.clone``
    work for every adapter.

    Attributes
    ----------
    name : str
        Catalog name, ``"<library>.<model>"``.
    task : str
        One of the :class:`~uniml.core.tasks.Task` values.
    library : str
        Importable module of the wrapped library (``"lightgbm"``).
    extra : str
        uniml extra installing the library (``pip install 'uniml[extra]'``).
    explanation_kind : str
        What ``explain`` returns (a key of :data:`~uniml.core.explanation.KINDS`),
        or ``"depends"`` when it varies with the wrapped estimator.
    additive : bool or None
        Whether explanations are additive; None when it depends.
    persistence : str
        Artifact format written by ``save``.
    schema_ : Schema
        Input schema captured at fit (set on fitted instances; the attributes
        above are declared on the class).

    Examples
    --------
    >>> from uniml.core.catalog import get_adapter_class
    >>> cls = get_adapter_class("xgboost.classifier")
    >>> issubclass(cls, Adapter), cls.task, cls.persistence
    (True, 'classification', 'xgboost-json')
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = ""
    library: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    explanation_kind: ClassVar[str] = "depends"
    additive: ClassVar[bool | None] = None
    persistence: ClassVar[str] = "pickle"
    #: whether reading a saved folder runs code (unpickles): decided by the class, never by
    #: the manifest; None derives it from ``persistence`` (unknown formats count as code)
    runs_code_on_load: ClassVar[bool | None] = None
    #: modules whose versions go into the manifest and lineage
    extra_library_modules: ClassVar[tuple[str, ...]] = ()
    #: True when fitting twice with the same parameters gives identical predictions
    deterministic: ClassVar[bool] = True
    #: True when the adapter accepts pandas ``category`` columns
    supports_categorical: ClassVar[bool] = False
    #: True when the wrapped library takes only numeric (and, if supported, category)
    #: columns: ``fit`` then refuses text/object/datetime columns by name
    numeric_only: ClassVar[bool] = False

    # ------------------------------------------------------------- metadata
    @classmethod
    def validate_metadata(cls) -> None:
        """Check the class-level declarations (the catalog calls this on register)."""
        if not cls.name or "." not in cls.name:
            raise ValueError(
                f"{cls.__qualname__}.name must look like 'library.model', got {cls.name!r}"
            )
        Task(cls.task)
        if not cls.library:
            raise ValueError(f"{cls.__qualname__}.library is not declared")
        if cls.explanation_kind != "depends" and cls.explanation_kind not in KINDS:
            raise ValueError(
                f"{cls.__qualname__}.explanation_kind {cls.explanation_kind!r} is unknown"
            )

    @classmethod
    def library_modules(cls) -> tuple[str, ...]:
        """The wrapped library plus any further modules it needs."""
        return (cls.library, *cls.extra_library_modules)

    @classmethod
    def info(cls) -> dict[str, Any]:
        """Metadata of this adapter class, as listed by :func:`uniml.adapters`.

        Examples
        --------
        >>> from uniml.core.catalog import get_adapter_class
        >>> get_adapter_class("lightgbm.regressor").info()["persistence"]
        'lightgbm-text'
        """
        return {
            "name": cls.name,
            "task": str(Task(cls.task)),
            "library": cls.library,
            "installed": all(is_installed(m) for m in cls.library_modules()),
            "version": distribution_version(cls.library),
            "extra": cls.extra,
            "explanation": cls.explanation_kind,
            "persistence": cls.persistence,
        }

    @classmethod
    def _test_params(cls) -> list[dict]:
        """Small, seeded parameter sets the conformance suite fits (one instance each)."""
        return [{}]

    @classmethod
    def check_installed(cls) -> None:
        """Raise :class:`~uniml.MissingDependencyError` if a needed library is absent (imports nothing)."""
        from uniml.core.errors import MissingDependencyError

        for m in cls.library_modules():
            if not is_installed(m):
                raise MissingDependencyError(m, cls.extra or m, f"adapter {cls.name!r}")

    @classmethod
    def require_library(cls):
        """Import the wrapped library, or raise :class:`~uniml.MissingDependencyError`."""
        module = None
        for m in cls.library_modules():
            imported = import_optional(m, cls.extra or m, f"adapter {cls.name!r}")
            module = module or imported
        return module

    def _accepts_categorical(self) -> bool:
        """Whether this instance, as configured, accepts pandas ``category`` columns."""
        return self.supports_categorical

    @property
    def task_kind(self) -> Task:
        """This adapter's :class:`~uniml.core.tasks.Task`."""
        return Task(self.task)

    # --------------------------------------------------------- fitted state
    #: the attribute ``fit`` sets last; its presence means "fitted"
    _fitted_attribute: ClassVar[str] = "schema_"

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, self._fitted_attribute)

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise EstimatorNotFittedError(
                f"this {type(self).__name__} ({self.name}) is not fitted yet; call fit() first"
            )

    # ---------------------------------------------------------------- hooks
    # Every task implements _save/_load; the fit/predict/explain hooks have task-specific
    # shapes and are declared by each task's base (TabularAdapter below, and the
    # forecasting, causal and recommendation bases).

    @abstractmethod
    def _save(self, folder: Path) -> dict[str, dict]:
        """Write the fitted model's artifacts into ``folder``.

        Returns ``{file name: {"format": str, "pickle": bool}}``.
        """

    @abstractmethod
    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        """Restore fitted state from ``folder`` (params are already set)."""

    def _state(self) -> dict:
        """Small JSON-able fitted state to keep in the manifest (beyond the schema)."""
        return {}

    def _set_state(self, state: dict) -> None:
        """Restore what :meth:`_state` returned."""

    @classmethod
    def _params_from_manifest(cls, params: dict, folder: Path, trusted: bool) -> dict:
        """Constructor parameters to rebuild the adapter from its manifest."""
        from uniml.core.persistence import is_restorable

        bad = [k for k, v in params.items() if not is_restorable(v)]
        if bad:
            raise UnimlError(
                f"{cls.name}: parameter(s) {bad} were not JSON-serialisable when saved and "
                f"cannot be restored; override _params_from_manifest to restore them"
            )
        return params

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Save the fitted model to a folder (manifest + native artifacts).

        Parameters
        ----------
        path : str or Path
            Folder to create.
        overwrite : bool, default False
            Replace an existing non-empty folder.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        NotFittedError
        FolderExistsError
            ``path`` is a file; or the folder is not empty and ``overwrite`` is
            False; or (even with ``overwrite``) it holds files that no uniml
            ``save`` wrote: ``overwrite`` only removes a previous save's manifest
            and the artifacts it lists, never unrelated files. A
            ``FileExistsError``.

        Examples
        --------
        >>> import numpy as np, tempfile, uniml
        >>> m = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1)
        >>> _ = m.fit(np.random.default_rng(0).normal(size=(40, 2)), np.arange(40.0))
        >>> sorted(p.name for p in m.save(tempfile.mkdtemp() + "/m").iterdir())
        ['model.txt', 'uniml.json']
        """
        from uniml.core.persistence import build_manifest, write_manifest

        self._check_fitted()
        folder = Path(path)
        _clear_for_save(folder, overwrite)
        folder.mkdir(parents=True, exist_ok=True)
        artifacts = self._save(folder)
        for info in artifacts.values():
            info.setdefault("pickle", _PERSISTENCE_FORMATS.get(str(info.get("format")), True))
        manifest = build_manifest(self, artifacts, self._base_state() | self._state())
        write_manifest(folder, manifest)
        return folder

    def _base_state(self) -> dict:
        return {}

    def _set_base_state(self, state: dict) -> None:
        pass

    @classmethod
    def _from_folder(cls, folder: Path, manifest: dict, trusted: bool):
        params = cls._params_from_manifest(dict(manifest["params"]), folder, trusted)
        model = cls(**params)
        model.schema_ = Schema.from_dict(manifest["schema"])
        model._set_base_state(manifest.get("state", {}))
        model._set_state(manifest.get("state", {}))
        model._load(folder, manifest, trusted)
        return model

    @classmethod
    def loads_code(cls) -> bool:
        """Whether :func:`uniml.load` must demand ``trusted=True`` for this class's folders.

        Examples
        --------
        >>> from uniml.core.catalog import get_adapter_class
        >>> get_adapter_class("lightgbm.regressor").loads_code()
        False
        >>> get_adapter_class("statsmodels.ets").loads_code()
        True
        """
        if cls.runs_code_on_load is not None:
            return bool(cls.runs_code_on_load)
        return _PERSISTENCE_FORMATS.get(cls.persistence, True)

    # --------------------------------------------------------------- params
    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return super().__repr__(N_CHAR_MAX)


def _clear_for_save(folder: Path, overwrite: bool) -> None:
    """Make ``folder`` ready for a save: absent, empty, or (``overwrite``) a previous save.

    Only ``uniml.json`` and the artifacts its manifest lists are removed, each confined
    to the folder; anything else present refuses the save, naming the file.
    """
    from uniml.core.errors import FolderExistsError

    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir() or folder.is_symlink():
        raise FolderExistsError(f"cannot save to {folder}: it exists and is not a folder")
    present = sorted(p for p in folder.rglob("*") if not p.is_dir())
    if not present:
        return
    if not overwrite:
        raise FolderExistsError(
            f"{folder} exists and is not empty; pass overwrite=True to replace a previous save"
        )
    root = folder.resolve()
    ours: set[Path] = set()
    manifest_path = folder / "uniml.json"
    try:
        listed = json.loads(manifest_path.read_text()).get("artifacts", {})
        names = list(listed) if isinstance(listed, dict) else []
    except (OSError, ValueError, AttributeError):
        names = []
    if manifest_path.is_file() and not manifest_path.is_symlink():
        ours.add(manifest_path.resolve())
    for name in names:
        candidate = (folder / str(name)).resolve()
        if candidate.is_relative_to(root) and candidate != root:
            ours.add(candidate)
    foreign = [p for p in present if p.is_symlink() or p.resolve() not in ours]
    if foreign:
        raise FolderExistsError(
            f"{folder} holds {len(foreign)} file(s) no uniml save wrote (first: "
            f"{foreign[0].relative_to(folder).as_posix()!r}); overwrite=True only replaces a "
            f"previous save, never unrelated files: choose another folder or remove them"
        )
    for p in present:
        p.unlink()
    for sub in sorted((d for d in folder.rglob("*") if d.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()


class ProbabilityFrame(pd.DataFrame):
    """Class probabilities: a DataFrame (columns = classes, index = the input's) that
    also answers numpy-style 2-D indexing such as ``proba[:, 1]``.

    scikit-learn's scorers (``roc_auc``, ``neg_log_loss``...) and meta-estimators
    slice ``predict_proba`` output that way; a plain DataFrame would refuse. With
    flat columns a tuple key has no other meaning, so nothing else changes. Derived
    frames (arithmetic, ``.loc``...) are ordinary DataFrames.

    Parameters
    ----------
    data : array-like, dict or pandas.DataFrame, optional
        The probabilities, as for :class:`pandas.DataFrame`.
    index : array-like, optional
        Row labels (the input's index).
    columns : array-like, optional
        Column labels (the classes).
    dtype : dtype, optional
        Data type to force.
    copy : bool, optional
        Copy ``data`` (pandas' default when None).

    Examples
    --------
    >>> p = ProbabilityFrame({"no": [0.2, 0.9], "yes": [0.8, 0.1]}, index=["a", "b"])
    >>> p[:, 1].tolist(), p["yes"].tolist()
    ([0.8, 0.1], [0.8, 0.1])
    """

    def __init__(
        self,
        data: Any = None,
        index: Any = None,
        columns: Any = None,
        dtype: Any = None,
        copy: bool | None = None,
    ) -> None:
        super().__init__(data, index=index, columns=columns, dtype=dtype, copy=copy)

    @property
    def _constructor(self):
        return pd.DataFrame

    def __getitem__(self, key):
        if isinstance(key, tuple) and not isinstance(self.columns, pd.MultiIndex):
            return self.to_numpy()[key]
        return super().__getitem__(key)


def _index_of(X, n_rows: int) -> pd.Index:
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.index
    return pd.RangeIndex(n_rows)  # X may be any array-like, even one without len()


def _series(values, index: pd.Index, name) -> pd.Series:
    """``pd.Series(values, index=index, name=name)`` without copying a fresh 1-D array.

    The one-row predict path spent more time building its Series than LightGBM spends
    predicting; pandas' block-manager constructor skips the generic input sanitising.
    Used only for a plain 1-D ndarray of the index's length, and only once a probe has
    shown it builds exactly what the public constructor builds (else the public one).
    """
    if (
        type(values) is np.ndarray
        and values.ndim == 1
        and len(values) == len(index)
        and _fast_series_ok()
    ):
        return _fast_series(values, index, name)
    return pd.Series(values, index=index, name=name, copy=False)


def _fast_series(values, index, name) -> pd.Series:
    from pandas.core.internals import SingleBlockManager

    mgr = SingleBlockManager.from_array(values, index)
    series = pd.Series._from_mgr(mgr, axes=mgr.axes)
    object.__setattr__(series, "_name", name)  # what the name setter stores, minus validation
    return series


@functools.cache
def _fast_series_ok() -> bool:
    probe = np.array([1.5, -2.0]), pd.Index(["a", "b"]), "y"
    try:
        fast = _fast_series(*probe)
    except Exception:  # any pandas without these internals: the public constructor
        return False
    public = pd.Series(probe[0], index=probe[1], name=probe[2])
    return bool(
        fast.name == "y" and fast.equals(public) and fast.index.equals(public.index)
    ) and str(fast) == str(public)


def _check_finite_features(X) -> None:
    """Refuse ``inf``/``-inf`` in numeric features, naming the first such column.

    scikit-learn and XGBoost reject them with their own messages, LightGBM treats them as
    huge values, statsmodels returns NaN: one typed error for every adapter instead.
    """
    if isinstance(X, pd.DataFrame):
        # fast path: every block a numpy array, no float block holding an infinity (a finite
        # sum rules out inf in one reduction; NaN or overflow fall back to the exact test)
        blocks = getattr(getattr(X, "_mgr", None), "blocks", None)
        if blocks is not None and all(
            type(b.values) is np.ndarray
            and (
                b.values.dtype.kind != "f"
                or math.isfinite(np.add.reduce(b.values, axis=None))
                or not np.isinf(b.values).any()
            )
            for b in blocks
        ):
            return
        for i, column in enumerate(X.columns):
            n = count_infinite(X.iloc[:, i])
            if n:
                raise SchemaError(
                    f"column {column!r} has {n} infinite value(s) (inf/-inf); replace or drop them "
                    f"first (uniml refuses them for every adapter)",
                    column=column,
                )
        return
    if hasattr(X, "toarray"):  # sparse: check the stored values
        data = getattr(X, "data", None)
        X = np.asarray(data if data is not None else [])
        if count_infinite(X):
            raise SchemaError("X has infinite value(s) (inf/-inf); replace or drop them first")
        return
    arr = np.asarray(X)
    if arr.dtype.kind == "f" and arr.ndim == 2:
        bad = np.isinf(arr).any(axis=0)
        if bad.any():
            j = int(np.argmax(bad))
            raise SchemaError(
                f"column 'x{j}' (position {j}) has {int(np.isinf(arr[:, j]).sum())} infinite "
                f"value(s) (inf/-inf); replace or drop them first",
                column=f"x{j}",
            )


def _frame_feature_names(X) -> np.ndarray | None:
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        return np.asarray(X.columns, dtype=object)
    return None


class TabularAdapter(Adapter):
    """Base of regression and classification adapters: ``fit(X, y)`` / ``predict(X)``.

    Accepts ``fit(X, y)`` with a DataFrame or 2-D array and a Series/array
    target, or ``fit(TabularData(...))``. Tabular adapters are scikit-learn
    estimators: they work in Pipelines, ``clone`` and ``GridSearchCV``.

    Attributes
    ----------
    schema_ : Schema
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.
    target_name_ : str or None
        Name of the target Series, used to name predictions.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> from sklearn.linear_model import LinearRegression
    >>> m = uniml.make("sklearn.estimator", estimator=LinearRegression())
    >>> isinstance(m, TabularAdapter), m.fit(np.eye(3), [1.0, 2.0, 3.0]).n_features_in_
    (True, 3)
    """

    # ---------------------------------------------------------------- hooks
    @abstractmethod
    def _fit(self, X, y, **fit_params) -> None:
        """Fit the wrapped model; X passed the schema capture, y is prepared for the library."""

    @abstractmethod
    def _predict(self, X):
        """Predictions for schema-checked X, as an array aligned row for row."""

    @abstractmethod
    def _explain(self, X, **kwargs) -> Explanation:
        """An Explanation for schema-checked X (the caller sets the index)."""

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, **fit_params):
        """Fit on features ``X`` and target ``y`` (or on a :class:`~uniml.TabularData`).

        Parameters
        ----------
        X : pandas.DataFrame, array-like of shape (n_samples, n_features), or TabularData
        y : pandas.Series or array-like of shape (n_samples,)
            Ignored when ``X`` is a ``TabularData``.
        **fit_params
            Passed to the library's fit (``sample_weight``, ``eval_set``...).

        Returns
        -------
        self

        Raises
        ------
        DataContractError
            ``y`` missing, of the wrong length or index, or containing NaN.
        SchemaError
            Unusable column names or a non-2-D ``X``.
        """
        if isinstance(X, TabularData):
            if X.weight is not None:
                fit_params.setdefault("sample_weight", X.sample_weight)
            X, y = X.X, X.y
        X, y = self._check_xy(X, y)
        schema = Schema.capture(X)
        if self.numeric_only and isinstance(X, pd.DataFrame):  # arrays: the library's own check
            self._check_numeric_columns(schema, X)
        if events.listening():
            events.emit("fit_start", adapter=self, X=X, y=y, fit_params=fit_params)
        start = time.perf_counter()
        y_fit = self._prepare_target(y)
        self._fit(X, y_fit, **fit_params)
        self.schema_ = schema
        self.n_features_in_ = schema.n_features
        names = _frame_feature_names(X)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.target_name_ = y.name if isinstance(y, pd.Series) else None
        if events.listening():
            events.emit(
                "fit_end",
                adapter=self,
                X=X,
                y=y,
                fit_params=fit_params,
                duration=time.perf_counter() - start,
            )
        return self

    def _check_numeric_columns(self, schema: Schema, X) -> None:
        allowed = {"float", "integer", "bool"}
        if self.supports_categorical:  # whether this configuration uses them is the adapter's check
            allowed.add("category")
        for i, col in enumerate(schema.columns):
            if col.kind not in allowed:
                values = X.iloc[:, i] if isinstance(X, pd.DataFrame) else np.asarray(X)
                try:  # object columns holding numbers are numbers (scikit-learn's check_dtype_object)
                    np.asarray(values, dtype=float)
                    continue
                except (TypeError, ValueError):
                    pass
                hint = (
                    "convert it to a pandas category (astype('category')) or encode it"
                    if self.supports_categorical
                    else "encode it as numbers first (e.g. a Pipeline with OneHotEncoder)"
                )
                raise SchemaError(
                    f"column {col.name!r} has dtype {col.dtype} ({col.kind}); {self.name} takes "
                    f"numeric{' and category' if 'category' in allowed else ''} columns only: {hint}",
                    column=col.name,
                    expected=sorted(allowed),
                    got=col.kind,
                )

    def _check_xy(self, X, y):
        if y is None:
            raise DataContractError(
                f"{type(self).__name__}.fit needs a target: it requires y to be passed, but the "
                f"target y is None; call fit(X, y) or fit(TabularData(frame, target=...))"
            )
        if not isinstance(X, pd.DataFrame):
            X = np.asarray(X) if not hasattr(X, "toarray") else X
            if getattr(X, "ndim", 2) != 2:
                raise SchemaError(
                    f"expected 2-D X of shape (n_samples, n_features), got shape {np.shape(X)}. "
                    f"Reshape your data with X.reshape(-1, 1) if it has a single feature"
                )
        if isinstance(y, pd.DataFrame):
            if y.shape[1] != 1:
                raise DataContractError(
                    f"y must be one column, got a DataFrame with {y.shape[1]} columns"
                )
            y = y.iloc[:, 0]
        if not isinstance(y, pd.Series):
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:
                warnings.warn(
                    "A column-vector y was passed when a 1d array was expected. Please change "
                    "the shape of y to (n_samples,), for example using ravel().",
                    DataConversionWarning,
                    stacklevel=3,
                )
                y_arr = y_arr[:, 0]
            if y_arr.ndim != 1:
                raise DataContractError(f"y must be 1-D, got shape {y_arr.shape}")
            y = y_arr
        n_x, n_y = X.shape[0], len(y)
        if n_x != n_y:
            raise DataContractError(
                f"X has {n_x} rows but y has {n_y}; they must match row for row"
            )
        if isinstance(X, pd.DataFrame) and isinstance(y, pd.Series) and not y.index.equals(X.index):
            raise DataContractError(
                "y's index differs from X's index; uniml never realigns rows silently — "
                "pass y aligned to X (e.g. y.loc[X.index]) or reset both indexes"
            )
        if n_x == 0:
            raise DataContractError("cannot fit on 0 rows")
        if X.shape[1] == 0:
            raise SchemaError(
                f"0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 is required."
            )
        missing = pd.isna(y)
        if np.any(missing):
            raise DataContractError(
                f"y has {int(np.sum(missing))} missing value(s); drop or impute them first"
            )
        n_inf = count_infinite(y)
        if n_inf:
            name = y.name if isinstance(y, pd.Series) and y.name is not None else "y"
            raise DataContractError(
                f"target {name!r} has {n_inf} infinite value(s) (inf/-inf); drop or replace them first"
            )
        _check_finite_features(X)
        return X, y

    # -------------------------------------------------------------- predict
    def predict(self, X) -> pd.Series:
        """Predict for ``X``; checks ``X`` against the fitted schema first.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Same columns, order and dtype kinds as at fit.

        Returns
        -------
        pandas.Series
            Aligned to ``X``'s index, named after the training target. A 0-row
            ``X`` (with the fitted columns) gives an empty Series for every
            adapter (float for regressors, the labels' dtype for classifiers).

        Raises
        ------
        NotFittedError
        SchemaError
            Naming the offending column.
        """
        self._check_fitted()
        Xc = self.schema_.enforce(X, owner=type(self).__name__)
        _check_finite_features(Xc)
        if len(Xc) == 0:  # every adapter alike: an empty result, without asking the library
            values = np.empty(0, dtype=self.classes_.dtype if self._is_classifier() else float)
        else:
            values = self._predict(Xc)
        pred = _series(values, _index_of(X, len(Xc)), self.target_name_ or "prediction")
        if events.listening():
            events.emit("predict", adapter=self, X=X, prediction=pred)
        return pred

    # -------------------------------------------------------------- explain
    def explain(self, X, **kwargs) -> Explanation:
        """Explain predictions for ``X``.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
        **kwargs
            Adapter-specific options.

        Returns
        -------
        Explanation
            Contributions are indexed like ``X``, columns are the schema's
            feature names.
        """
        self._check_fitted()
        Xc = self.schema_.enforce(X, owner=type(self).__name__)
        _check_finite_features(Xc)
        exp = self._explain(Xc, **kwargs)
        if exp.contributions is not None:
            exp.contributions.index = _index_of(X, len(Xc))
        if isinstance(exp.prediction, (pd.Series, pd.DataFrame)):
            exp.prediction.index = _index_of(X, len(Xc))
        if events.listening():
            events.emit("explain", adapter=self, X=X, explanation=exp)
        return exp

    # ---------------------------------------------------------- classifiers
    #: classifiers only: receive y as integer codes 0..k-1 in _fit
    _encode_labels: ClassVar[bool] = False

    def _is_classifier(self) -> bool:
        return self.task_kind is Task.CLASSIFICATION

    def _prepare_target(self, y):
        if not self._is_classifier():
            return y
        labels = np.asarray(y)
        if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
            raise DataContractError(
                "Unknown label type: continuous. Classification needs discrete class labels, "
                "but y has non-integer float values; use a regressor for a continuous target"
            )
        try:
            self.classes_, codes = np.unique(labels, return_inverse=True)
        except TypeError as exc:
            raise DataContractError(
                f"class labels in y cannot be sorted (mixed types?): {exc}"
            ) from exc
        if len(self.classes_) < 2:
            raise DataContractError(
                f"classification needs at least 2 classes in y; got only one class: {self.classes_.tolist()}"
            )
        return codes if self._encode_labels else y

    def _predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, k) in ``classes_`` order; classifiers override."""
        raise AttributeError(f"{type(self).__name__} does not provide class probabilities")

    def _predict_labels_from_proba(self, X):
        return self.classes_[np.argmax(self._predict_proba(X), axis=1)]

    @available_if(lambda self: self._is_classifier())
    def predict_proba(self, X) -> pd.DataFrame:
        """Class probabilities for ``X`` (classifiers only).

        Returns
        -------
        ProbabilityFrame
            A DataFrame with one column per class (``classes_`` order), aligned
            to ``X``'s index, rows summing to 1; numpy-style ``proba[:, 1]``
            also works, for scikit-learn's scorers.

        Raises
        ------
        NotFittedError
        SchemaError
        """
        self._check_fitted()
        Xc = self.schema_.enforce(X, owner=type(self).__name__)
        _check_finite_features(Xc)
        values = (
            self._predict_proba(Xc) if len(Xc) else np.empty((0, len(self.classes_)), dtype=float)
        )
        proba = ProbabilityFrame(values, index=_index_of(X, len(Xc)), columns=self.classes_)
        if events.listening():
            events.emit("predict", adapter=self, X=X, prediction=proba)
        return proba

    @available_if(lambda self: self._is_classifier())
    def predict_log_proba(self, X) -> pd.DataFrame:
        """Logarithm of :meth:`predict_proba` (classifiers only)."""
        return np.log(self.predict_proba(X))

    # -------------------------------------------------------------- helpers
    @property
    def feature_names(self) -> list:
        """Feature names in model order (``x0, x1...`` for array input)."""
        self._check_fitted()
        return list(self.schema_.names)

    def _base_state(self) -> dict:
        state = {"target_name": self.target_name_}
        if self._is_classifier():
            state["classes"] = self.classes_.tolist()
            state["classes_dtype"] = str(self.classes_.dtype)
        return state

    def _set_base_state(self, state: dict) -> None:
        self.target_name_ = state.get("target_name")
        self.n_features_in_ = self.schema_.n_features
        if not self.schema_.from_array and all(isinstance(n, str) for n in self.schema_.names):
            self.feature_names_in_ = np.asarray(self.schema_.names, dtype=object)
        if "classes" in state:
            dtype = state.get("classes_dtype", "object")
            self.classes_ = np.asarray(
                state["classes"], dtype=None if dtype.startswith("<U") else dtype
            )


class RegressorAdapter(RegressorMixin, TabularAdapter):
    """Base of regression adapters (task ``"regression"``); ``score`` is R².

    Examples
    --------
    >>> import uniml
    >>> isinstance(uniml.make("lightgbm.regressor"), RegressorAdapter)
    True
    """

    task = "regression"


class ClassifierAdapter(ClassifierMixin, TabularAdapter):
    """Base of classification adapters (task ``"classification"``); ``score`` is accuracy.

    ``classes_`` holds the sorted labels seen at fit. Adapters that set
    ``_encode_labels = True`` receive ``y`` as integer codes ``0..k-1`` in
    ``_fit`` (XGBoost requires this); ``_predict_proba`` returns an array of
    shape ``(n, k)`` in ``classes_`` order.

    Examples
    --------
    >>> import uniml
    >>> isinstance(uniml.make("xgboost.classifier"), ClassifierAdapter)
    True
    """

    task = "classification"

    def _predict(self, X):
        return self._predict_labels_from_proba(X)


class LibraryParams:
    """Mixin for adapters whose constructor takes the library's hyperparameters verbatim.

    ``Adapter(**params)`` stores each keyword as an attribute, unchanged and
    unvalidated (scikit-learn's contract: no logic in ``__init__``); the
    library validates them at ``fit``. ``get_params`` returns exactly the
    keywords given (plus later ``set_params``), so ``clone`` and
    ``GridSearchCV`` work, and defaults stay the library's own.

    Parameters
    ----------
    **params
        Hyperparameters, stored as attributes under their own names.

    Examples
    --------
    >>> import uniml
    >>> m = uniml.make("xgboost.regressor", max_depth=3)
    >>> m.set_params(learning_rate=0.05).get_params()
    {'learning_rate': 0.05, 'max_depth': 3}
    """

    def __init__(self, **params: Any):
        for key, value in params.items():
            setattr(self, key, value)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The keywords given at construction or by ``set_params`` (nested ones too when ``deep``).

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of nested estimators, as ``name__sub``.

        Returns
        -------
        dict
            Parameter name -> value, sorted by name.
        """
        params = {
            k: v
            for k, v in sorted(vars(self).items())
            if not k.startswith("_") and not k.endswith("_")
        }
        if deep:
            for key, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update(
                        {f"{key}__{k}": v for k, v in value.get_params(deep=True).items()}
                    )
        return params

    def set_params(self, **params: Any):
        """Set hyperparameters (``name__sub`` reaches a nested estimator).

        Parameters
        ----------
        **params
            Parameter name -> new value; ``name__sub`` sets ``sub`` on the
            nested estimator held in ``name``.

        Returns
        -------
        LibraryParams
            ``self``.
        """
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            head, sep, sub = key.partition("__")
            if sep:
                nested.setdefault(head, {})[sub] = value
            else:
                setattr(self, key, value)
        for head, sub_params in nested.items():
            getattr(self, head).set_params(**sub_params)
        return self

    #: the escape hatch: a dict of keywords handed to the library unchecked
    _EXTRA_PARAMS: ClassVar[str] = "extra_params"

    @classmethod
    def _known_params(cls) -> frozenset[str] | None:
        """Every keyword the wrapped library accepts (aliases included), or None to not check.

        Adapters override this from the library's signature or documented parameter
        list; the check runs in ``uniml.make`` (so specs too) and again at ``fit``.
        """
        return None

    @classmethod
    def _adapter_param(cls, name: str) -> bool:
        """Whether ``name`` is an option of the adapter itself (not handed to the library)."""
        return False

    @classmethod
    def check_param_names(cls, names) -> None:
        """Raise :class:`~uniml.UnknownParameterError` for a keyword the library does not know.

        Parameters
        ----------
        names : iterable of str
            Keyword names given to the adapter. ``extra_params`` (a dict passed to
            the library unchecked) is always accepted: the escape hatch for
            keywords this check does not know.

        Raises
        ------
        UnknownParameterError
            Naming the keyword and its closest known names.

        Examples
        --------
        >>> from uniml.core.catalog import get_adapter_class
        >>> cls = get_adapter_class("xgboost.regressor")
        >>> cls.check_param_names(["max_depth", "eta"])  # eta: XGBoost's alias of learning_rate
        >>> cls.check_param_names(["max_dept"])
        Traceback (most recent call last):
        ...
        uniml.core.errors.UnknownParameterError: xgboost.regressor: unknown parameter 'max_dept' ...
        """
        import difflib

        from uniml.core.errors import UnknownParameterError

        known = cls._known_params()
        if known is None:
            return
        for name in names:
            if name == cls._EXTRA_PARAMS or name in known or cls._adapter_param(name):
                continue
            close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownParameterError(
                f"{getattr(cls, 'name', cls.__name__)}: unknown parameter {name!r} for "
                f"{getattr(cls, 'library', 'the library')}{hint} "
                f"(pass keywords uniml does not know as {cls._EXTRA_PARAMS}={{{name!r}: ...}})",
                parameter=name,
                suggestions=close,
            )

    def _library_params(self) -> dict:
        """The hyperparameters to hand to the library, checked for clashes with adapter attributes
        and for unknown names; ``extra_params`` entries are merged in unchecked."""
        from uniml.core.errors import ParameterError

        params = self.get_params(deep=False)
        extra = params.pop(self._EXTRA_PARAMS, None) or {}
        if not isinstance(extra, dict):
            raise ParameterError(
                f"{self._EXTRA_PARAMS} must be a dict of keyword -> value, got {type(extra).__name__}",
                parameter=self._EXTRA_PARAMS,
            )
        self.check_param_names(params)
        clash = sorted(k for k in (*params, *extra) if hasattr(type(self), k))
        if clash:
            raise UnimlError(
                f"parameter name(s) {clash} clash with {type(self).__name__} attributes; "
                f"pass them through the library's own alias instead"
            )
        return {**params, **extra}


def signature_params(*callables) -> frozenset[str]:
    """The named keyword parameters of ``callables`` (``self``, ``*args``, ``**kwargs`` left out).

    Examples
    --------
    >>> sorted(signature_params(lambda a, b=1, *args, c, **kw: None))
    ['a', 'b', 'c']
    """
    import inspect

    names: set[str] = set()
    for fn in callables:
        for p in inspect.signature(fn).parameters.values():
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                names.add(p.name)
    return frozenset(names)


def json_default(obj):
    """``json.dumps`` default for numpy values."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dump_json(path: Path, data) -> None:
    """Write ``data`` as JSON (numpy-aware)."""
    Path(path).write_text(json.dumps(data, default=json_default))

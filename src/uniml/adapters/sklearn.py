"""scikit-learn adapter: ``sklearn.estimator`` wraps any regressor, classifier or Pipeline.

The task (regression or classification) follows the wrapped estimator.

Explanations depend on the final estimator:

* linear models (``coef_``/``intercept_``): exact coefficient contributions
  ``coef * (z - mean(z_train))`` over the features the model sees (after the
  Pipeline's transformers), additive to the prediction (regression) or the
  decision function (classification);
* tree ensembles: TreeSHAP via ``shap.TreeExplainer`` (``uniml[shap]``),
  additive in the space shap explains (raw output, probability for forests,
  log-odds for gradient boosting);
* anything else: permutation importance (global only, not additive), against
  ``y`` when given, otherwise against the model's own predictions.

Persistence uses skops, never pickle. Types outside scikit-learn, numpy and
scipy (a user function inside a ``FunctionTransformer``, a custom class) make
``uniml.load`` refuse the folder unless ``trusted=True``.

Examples
--------
>>> import uniml
>>> from sklearn.datasets import load_diabetes
>>> from sklearn.linear_model import Ridge
>>> X, y = load_diabetes(return_X_y=True, as_frame=True)
>>> m = uniml.make("sklearn.estimator", estimator=Ridge(alpha=0.1)).fit(X, y)
>>> e = m.explain(X.head(5))
>>> e.kind, e.additivity_error() < 1e-9
('linear', True)
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from uniml.core.adapter import TabularAdapter
from uniml.core.catalog import register
from uniml.core.dependencies import import_optional
from uniml.core.errors import DataContractError, SchemaError, UntrustedArtifactError
from uniml.core.explanation import Explanation

__all__ = ["SklearnEstimator"]

#: reviewed classes (exact names) skops may build without trusted=True, beyond skops' own
#: default trusted types and scikit-learn's estimator classes: fitted tree structures,
#: neighbour trees and distance metrics, and numpy's dtype. Never whole modules, never functions.
_REVIEWED_SKOPS_TYPES = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
)


@functools.lru_cache(maxsize=1)
def _safe_skops_types() -> frozenset[str]:
    """Type names a skops file may hold and still load without ``trusted=True``.

    scikit-learn's estimator classes (``sklearn.utils.all_estimators``), its
    distance-metric classes, and a short reviewed list of fitted structures;
    functions (``builtins.exec``, ``operator.*``, numpy functions) are never in it.

    Examples
    --------
    >>> names = _safe_skops_types()
    >>> "sklearn.tree._tree.Tree" in names, "builtins.exec" in names
    (True, False)
    """
    import inspect

    from sklearn.metrics import _dist_metrics
    from sklearn.utils import all_estimators

    names = {f"{c.__module__}.{c.__qualname__}" for _, c in all_estimators()}
    names.update(
        f"{_dist_metrics.__name__}.{n}"
        for n, obj in vars(_dist_metrics).items()
        if inspect.isclass(obj) and n.endswith(("64", "32"))
    )
    names.update(_REVIEWED_SKOPS_TYPES)
    return frozenset(names)


_TREE_MODELS = (
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
    "ExtraTreeRegressor",
    "ExtraTreeClassifier",
    "RandomForestRegressor",
    "RandomForestClassifier",
    "ExtraTreesRegressor",
    "ExtraTreesClassifier",
    "GradientBoostingRegressor",
    "GradientBoostingClassifier",
    "IsolationForest",
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
)


def _read_skops(
    path: str | Path, *, trusted: bool, allowed: frozenset[str] = frozenset()
) -> object:
    """The one place uniml reads a skops file.

    Without ``trusted``, only skops' own default trusted types and the exact type
    names in ``allowed`` (a reviewed list of classes) may appear in the file;
    anything else (functions such as ``builtins.exec``, ``operator`` or numpy
    functions) is refused before any object is built.

    Parameters
    ----------
    path : str or Path
        The ``.skops`` file.
    trusted : bool
        Load whatever types the file holds (the caller trusts its source).
    allowed : frozenset of str, optional
        Exact extra type names accepted without ``trusted``.

    Returns
    -------
    object

    Raises
    ------
    UntrustedArtifactError
        The file holds types outside the default list and ``allowed``.

    Examples
    --------
    >>> import tempfile, pathlib, skops.io as sio
    >>> from sklearn.linear_model import Ridge
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.skops"
    >>> sio.dump(Ridge(alpha=2.0), p)
    >>> _read_skops(p, trusted=False)
    Ridge(alpha=2.0)
    """
    sio = import_optional("skops.io", "core", "loading scikit-learn models")
    untrusted = sio.get_untrusted_types(file=path)
    unsafe = sorted(t for t in untrusted if t not in allowed)
    if unsafe and trusted is not True:
        raise UntrustedArtifactError(
            f"{path} contains types outside the reviewed safe list that could run code when "
            f"loaded: {unsafe}; pass trusted=True only if you trust where this folder came from"
        )
    return sio.load(path, trusted=list(untrusted))


@contextmanager
def _named_input_errors(owner: str, X):
    """Turn scikit-learn's refusals of missing values and text into a SchemaError naming the column.

    The estimator decides what it accepts (a Pipeline may impute or encode); only when it
    refuses does the user get uniml's error, with scikit-learn's own as the cause.
    """
    try:
        yield
    except ValueError as exc:
        text = str(exc)
        # the library's own first line stays in the message (scikit-learn's checks match on it)
        first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
        if not isinstance(X, pd.DataFrame):
            frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        if "contains NaN" in text:
            bad = [c for c in frame.columns if frame[c].isna().any()]
            if bad:
                n = int(frame[bad[0]].isna().sum())
                raise SchemaError(
                    f"{owner}: column {bad[0]!r} has {n} missing value(s) and the wrapped "
                    f"estimator does not accept them ({first_line}): impute them (e.g. a "
                    f"Pipeline with SimpleImputer) or drop those rows",
                    column=bad[0],
                ) from exc
        if "could not convert string to float" in text:
            bad = [
                c
                for c in frame.columns
                if frame[c].dtype.kind in "OUST" or str(frame[c].dtype) in ("str", "string")
            ]
            if bad:
                raise SchemaError(
                    f"{owner}: column {bad[0]!r} holds text and the wrapped estimator takes "
                    f"numbers only ({first_line}): encode it (e.g. a Pipeline with "
                    f"OneHotEncoder) or drop it",
                    column=bad[0],
                ) from exc
        raise


def _split(estimator):
    """(transformers before the final step or None, final estimator)."""
    if isinstance(estimator, Pipeline):
        steps = estimator[:-1] if len(estimator.steps) > 1 else None
        return steps, estimator[-1]
    return None, estimator


def _is_linear(final) -> bool:
    module = type(final).__module__
    return (
        hasattr(final, "coef_")
        and hasattr(final, "intercept_")
        and (
            module.startswith("sklearn.linear_model")
            or module.startswith("sklearn.svm")
            and "Linear" in type(final).__name__
        )
    )


def _is_tree(final) -> bool:
    if not (type(final).__module__.startswith("sklearn.") and type(final).__name__ in _TREE_MODELS):
        return False
    # shap's TreeExplainer explains GradientBoostingClassifier for binary problems only
    return not (type(final).__name__ == "GradientBoostingClassifier" and len(final.classes_) > 2)


@register
class SklearnEstimator(TabularAdapter):
    """Any scikit-learn regressor, classifier or Pipeline behind the uniml interface.

    Parameters
    ----------
    estimator : scikit-learn estimator
        An unfitted regressor, classifier or Pipeline ending in one. It is
        cloned at ``fit``; the fitted copy is ``estimator_``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone.
    classes_ : ndarray
        Class labels (classifiers only).

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    >>> m = uniml.make("sklearn.estimator", estimator=pipe).fit(X, y)
    >>> m.task_kind.value, m.predict_proba(X.head(1)).shape
    ('classification', (1, 3))
    """

    name = "sklearn.estimator"
    task = "regression"  # class-level default; instances follow the wrapped estimator
    tasks = ("regression", "classification")
    library = "sklearn"
    extra = "core"
    explanation_kind = "depends"
    additive = None
    persistence = "skops"
    extra_library_modules = ("skops",)

    def __init__(self, estimator=None):
        self.estimator = estimator

    @classmethod
    def info(cls) -> dict:
        """Catalog metadata; the task is ``regression|classification`` (it follows the estimator)."""
        return {**super().info(), "task": "regression|classification"}

    @classmethod
    def _test_params(cls) -> list[dict]:
        from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.neighbors import KNeighborsRegressor
        from sklearn.preprocessing import StandardScaler

        return [
            {"estimator": Ridge(alpha=0.5)},
            {
                "estimator": Pipeline(
                    [("scale", StandardScaler()), ("logit", LogisticRegression(max_iter=1000))]
                )
            },
            {"estimator": RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)},
            {"estimator": HistGradientBoostingRegressor(max_iter=20, random_state=0)},
            {"estimator": KNeighborsRegressor(n_neighbors=3)},
        ]

    # ------------------------------------------------------------- task kind
    @property
    def task_kind(self):
        """Classification when the wrapped estimator is a classifier, else regression."""
        from uniml.core.tasks import Task

        return Task.CLASSIFICATION if is_classifier(self.estimator) else Task.REGRESSION

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None:
            return tags
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.string = inner.input_tags.string
        tags.non_deterministic = inner.non_deterministic
        return tags

    def score(self, X, y, sample_weight=None) -> float:
        """The wrapped estimator's own ``score`` (R² or accuracy) after the schema check.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Same columns, order and dtype kinds as at fit.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's ``score``.

        Returns
        -------
        float
            The estimator's score of its predictions on ``X`` against ``y``.
        """
        self._check_fitted()
        return self.estimator_.score(
            self.schema_.enforce(X, owner=type(self).__name__), y, sample_weight=sample_weight
        )

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, **fit_params):
        if self.estimator is None:
            raise DataContractError(
                "sklearn.estimator needs an estimator: make('sklearn.estimator', estimator=...)"
            )
        if not (is_classifier(self.estimator) or is_regressor(self.estimator)):
            raise DataContractError(
                f"{type(self.estimator).__name__} is neither a regressor nor a classifier; "
                f"sklearn.estimator wraps supervised estimators (or Pipelines ending in one)"
            )
        with _named_input_errors(self.name, X):
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        pre, final = _split(self.estimator_)
        if _is_linear(final):
            z = pre.transform(X) if pre is not None else X
            z = z.toarray() if hasattr(z, "toarray") else z  # e.g. OneHotEncoder's sparse output
            self.linear_mean_ = np.asarray(np.mean(np.asarray(z, dtype=np.float64), axis=0)).ravel()

    def _predict(self, X):
        with _named_input_errors(self.name, X):
            return self.estimator_.predict(X)

    def _predict_proba(self, X):
        with _named_input_errors(self.name, X):
            return self.estimator_.predict_proba(X)

    # -------------------------------------------------------------- explain
    def _explain(
        self, X, y=None, n_repeats: int = 5, random_state: int = 0, **kwargs
    ) -> Explanation:
        """Linear contributions, TreeSHAP or permutation importance (see module docs)."""
        with _named_input_errors(self.name, X):
            self.estimator_.predict(X)  # the estimator's own refusals, named, before any arithmetic
        pre, final = _split(self.estimator_)
        if _is_linear(final):
            return self._explain_linear(X, pre, final)
        if _is_tree(final):
            return self._explain_tree(X, pre, final)
        return self._explain_permutation(X, y, n_repeats, random_state)

    def _transformed(self, X, pre):
        if pre is None:
            return np.asarray(X, dtype=np.float64), list(self.schema_.names)
        z = pre.transform(X)
        z = z.toarray() if hasattr(z, "toarray") else np.asarray(z, dtype=np.float64)
        try:
            names = [str(n) for n in pre.get_feature_names_out()]
        except (AttributeError, ValueError):
            names = [f"z{i}" for i in range(z.shape[1])]
        return z, names

    def _explain_linear(self, X, pre, final) -> Explanation:
        z, names = self._transformed(X, pre)
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(final.intercept_, dtype=np.float64))
        centered = z - self.linear_mean_
        base_values = intercept + coef @ self.linear_mean_
        if self._is_classifier():
            margin = np.asarray(self.estimator_.decision_function(X), dtype=np.float64)
            space = "margin"
        else:
            margin = np.asarray(self.estimator_.predict(X), dtype=np.float64)
            space = "raw"
        if coef.shape[0] == 1:
            frame = pd.DataFrame(centered * coef[0], columns=names)
            return Explanation(
                frame,
                float(base_values[0]),
                "linear",
                True,
                pd.Series(margin.reshape(-1)),
                space=space,
                meta={"estimator": type(final).__name__},
            )
        outputs = list(self.classes_) if self._is_classifier() else list(range(coef.shape[0]))
        cube = centered[:, None, :] * coef[None, :, :]
        cols = pd.MultiIndex.from_product([outputs, names])
        frame = pd.DataFrame(cube.reshape(len(z), -1), columns=cols)
        return Explanation(
            frame,
            pd.Series(base_values, index=outputs),
            "linear",
            True,
            pd.DataFrame(margin, columns=outputs),
            space=space,
            meta={"estimator": type(final).__name__},
        )

    def _explain_tree(self, X, pre, final) -> Explanation:
        shap = import_optional("shap", "shap", "TreeSHAP explanations of scikit-learn tree models")
        z, names = self._transformed(X, pre)
        explainer = shap.TreeExplainer(final)
        values = np.asarray(explainer.shap_values(z, check_additivity=False), dtype=np.float64)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
        name = type(final).__name__
        # the whole estimator on X equals the final step on the transformed z
        if self._is_classifier():
            if "GradientBoosting" in name:
                space, output = "margin", self.estimator_.decision_function(X)
            else:
                space, output = "probability", self.estimator_.predict_proba(X)
        else:
            space, output = "raw", self.estimator_.predict(X)
        output = np.asarray(output, dtype=np.float64)
        meta = {"estimator": name, "source": "shap.TreeExplainer"}
        if values.ndim == 2:  # one output
            if output.ndim == 2:  # shap explained one column of a 2-column output
                output = output[:, -1]
            return Explanation(
                pd.DataFrame(values, columns=names),
                float(expected[0]),
                "tree_shap",
                True,
                pd.Series(output),
                space=space,
                meta=meta,
            )
        outputs = list(self.classes_)
        cube = np.transpose(values, (0, 2, 1))  # (n, features, k) -> (n, k, features)
        frame = pd.DataFrame(
            cube.reshape(len(z), -1), columns=pd.MultiIndex.from_product([outputs, names])
        )
        return Explanation(
            frame,
            pd.Series(expected, index=outputs),
            "tree_shap",
            True,
            pd.DataFrame(output, columns=outputs),
            space=space,
            meta=meta,
        )

    def _explain_permutation(self, X, y, n_repeats, random_state) -> Explanation:
        from sklearn.inspection import permutation_importance

        reference = "y" if y is not None else "own predictions"
        target = np.asarray(y) if y is not None else self.estimator_.predict(X)
        result = permutation_importance(
            self.estimator_, X, target, n_repeats=n_repeats, random_state=random_state
        )
        names = list(self.schema_.names)
        table = pd.DataFrame(
            {"importance_mean": result.importances_mean, "importance_std": result.importances_std},
            index=pd.Index(names, name="feature"),
        )
        importance = table["importance_mean"].sort_values(ascending=False, kind="stable")
        return Explanation(
            None,
            float("nan"),
            "permutation",
            False,
            None,
            space="score",
            importance=importance,
            tables={"permutation": table},
            meta={
                "estimator": type(_split(self.estimator_)[1]).__name__,
                "reference": reference,
                "n_repeats": n_repeats,
            },
        )

    # ----------------------------------------------------------- persistence
    def _state(self) -> dict:
        state = {}
        if hasattr(self, "linear_mean_"):
            state["linear_mean"] = self.linear_mean_.tolist()
        return state

    def _set_state(self, state: dict) -> None:
        if "linear_mean" in state:
            self.linear_mean_ = np.asarray(state["linear_mean"], dtype=np.float64)

    def _save(self, folder: Path) -> dict:
        sio = import_optional("skops.io", "core", "saving scikit-learn models")
        path = folder / "model.skops"
        sio.dump(self.estimator_, path)
        return {
            "model.skops": {
                "format": "skops",
                "untrusted_types": sio.get_untrusted_types(file=path),
            }
        }

    @classmethod
    def _params_from_manifest(cls, params, folder, trusted):
        return {}  # the estimator is restored from the skops file in _load

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        self.estimator_ = _read_skops(
            folder / "model.skops", trusted=trusted, allowed=_safe_skops_types()
        )
        self.estimator = clone(self.estimator_)

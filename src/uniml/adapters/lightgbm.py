"""LightGBM adapters: ``lightgbm.regressor`` and ``lightgbm.classifier``.

Every keyword is a LightGBM hyperparameter passed unchanged to
``LGBMRegressor`` / ``LGBMClassifier`` (one default differs: ``verbose=-1``
unless you set ``verbose``, so fits do not print LightGBM's log lines); ``fit`` keywords (``eval_set``,
``callbacks``, ``categorical_feature``...) pass to their ``fit``. Pandas
``category`` columns are used natively.

Predictions talk to the fitted ``Booster`` directly after the schema check
(single-threaded for small batches, where OpenMP start-up dominates); they are
identical to ``LGBMRegressor.predict``. Explanations are LightGBM's native
TreeSHAP contributions (``pred_contrib=True``), additive in raw-score space.
Persistence uses LightGBM's text model format.

Examples
--------
>>> import uniml
>>> from sklearn.datasets import load_breast_cancer
>>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
>>> clf = uniml.make("lightgbm.classifier", n_estimators=30, random_state=0, verbose=-1).fit(X, y)
>>> clf.predict_proba(X.head(2)).shape
(2, 2)
>>> e = clf.explain(X.head(2))
>>> e.space, e.additivity_error() < 1e-9
('margin', True)
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.core.adapter import (
    ClassifierAdapter,
    LibraryParams,
    RegressorAdapter,
    TabularAdapter,
    signature_params,
)
from uniml.core.catalog import register
from uniml.core.explanation import Explanation

__all__ = ["LightGBMClassifier", "LightGBMRegressor"]

#: batches up to this many rows predict on one thread (no OpenMP spin-up)
SMALL_BATCH = 512
# objectives whose raw score is the prediction itself
_IDENTITY_OBJECTIVES = {
    "regression",
    "regression_l2",
    "l2",
    "mse",
    "mean_squared_error",
    "rmse",
    "regression_l1",
    "l1",
    "mae",
    "huber",
    "fair",
    "quantile",
    "mape",
}


@functools.cache
def _lightgbm_params() -> frozenset[str]:
    """LGBMModel's keywords plus every LightGBM parameter and alias (LightGBM's own list)."""
    import lightgbm
    from lightgbm.basic import _ConfigAliases

    names = set(signature_params(lightgbm.LGBMModel.__init__))
    for param, aliases in _ConfigAliases._get_all_param_aliases().items():
        names.add(param)
        names.update(aliases)
    return frozenset(names)


class _LightGBM(LibraryParams, TabularAdapter):
    library = "lightgbm"
    extra = "lightgbm"
    explanation_kind = "tree_shap"
    additive = True
    persistence = "lightgbm-text"
    supports_categorical = True
    numeric_only = True
    _estimator_class = ""

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        return _lightgbm_params()

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [
            {
                "n_estimators": 15,
                "num_leaves": 7,
                "min_child_samples": 5,
                "random_state": 0,
                "verbose": -1,
                "n_jobs": 1,
            }
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, **fit_params):
        lgb = self.require_library()
        params = self._library_params()
        # LightGBM's per-fit [Info]/[Warning] lines are noise in users' logs; `verbose=` brings them back
        if "verbose" not in params and "verbosity" not in params:
            params["verbose"] = -1
        estimator = getattr(lgb, self._estimator_class)(**params)
        self.model_ = estimator.fit(X, y, **fit_params)
        self.booster_ = self.model_.booster_

    # -------------------------------------------------------------- predict
    def _booster_input(self, X):
        # Numeric frames go to the Booster as one array (what LightGBM would do itself);
        # frames with categories go as frames so the Booster maps levels to its codes.
        if isinstance(X, pd.DataFrame) and not self.schema_.categorical:
            return X.to_numpy(copy=False)
        return X

    def _raw(self, X, **kwargs) -> np.ndarray:
        data = self._booster_input(X)
        if len(data) <= SMALL_BATCH:
            kwargs["num_threads"] = 1
        return self.booster_.predict(data, **kwargs)

    # -------------------------------------------------------------- explain
    def _explain(self, X, **kwargs) -> Explanation:
        contrib = self._raw(X, pred_contrib=True)
        margin = self._raw(X, raw_score=True)
        names = list(self.schema_.names)
        n_out = 1 if margin.ndim == 1 else margin.shape[1]
        if n_out == 1:
            frame = pd.DataFrame(contrib[:, :-1], columns=names)
            base = float(contrib[0, -1]) if len(contrib) else 0.0
            prediction = pd.Series(margin)
        else:
            cube = contrib.reshape(len(contrib), n_out, len(names) + 1)
            cols = pd.MultiIndex.from_product([list(self.classes_), names])
            frame = pd.DataFrame(cube[:, :, :-1].reshape(len(contrib), -1), columns=cols)
            base = pd.Series(
                cube[0, :, -1] if len(cube) else np.zeros(n_out), index=list(self.classes_)
            )
            prediction = pd.DataFrame(margin, columns=list(self.classes_))
        return Explanation(
            frame,
            base,
            "tree_shap",
            True,
            prediction,
            space=self._space(),
            meta={"source": "lightgbm pred_contrib"},
        )

    def _space(self) -> str:
        if self._is_classifier():
            return "margin"
        objective = self.booster_.params.get("objective", "regression")
        return "raw" if objective in _IDENTITY_OBJECTIVES else "margin"

    # ----------------------------------------------------------- persistence
    def _save(self, folder: Path) -> dict:
        self.booster_.save_model(str(folder / "model.txt"))
        return {"model.txt": {"format": "lightgbm-text"}}

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        lgb = self.require_library()
        self.booster_ = lgb.Booster(model_file=str(folder / "model.txt"))
        self.model_ = None  # the sklearn wrapper is not needed to predict or explain


@register
class LightGBMRegressor(_LightGBM, RegressorAdapter):
    """LightGBM gradient-boosted trees for regression.

    Parameters
    ----------
    **params
        Any ``lightgbm.LGBMRegressor`` hyperparameter, passed unchanged.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The fitted booster.
    model_ : lightgbm.LGBMRegressor or None
        The fitted scikit-learn wrapper (None after ``uniml.load``).

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> m = uniml.make("lightgbm.regressor", n_estimators=20, verbose=-1).fit(X, y)
    >>> round(m.score(X, y), 2) > 0.5
    True
    """

    name = "lightgbm.regressor"
    _estimator_class = "LGBMRegressor"

    def _predict(self, X):
        return self._raw(X)


@register
class LightGBMClassifier(_LightGBM, ClassifierAdapter):
    """LightGBM gradient-boosted trees for binary and multiclass classification.

    Parameters
    ----------
    **params
        Any ``lightgbm.LGBMClassifier`` hyperparameter, passed unchanged.

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels.
    booster_ : lightgbm.Booster

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_wine
    >>> X, y = load_wine(return_X_y=True, as_frame=True)
    >>> m = uniml.make("lightgbm.classifier", n_estimators=10, verbose=-1).fit(X, y)
    >>> m.explain(X.head(2)).outputs
    [0, 1, 2]
    """

    name = "lightgbm.classifier"
    _estimator_class = "LGBMClassifier"
    _encode_labels = True

    def _predict_proba(self, X):
        proba = self._raw(X)
        if proba.ndim == 1:  # binary: LightGBM returns P(class 1)
            proba = np.vstack((1.0 - proba, proba)).transpose()
        return proba

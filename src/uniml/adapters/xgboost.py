"""XGBoost adapters: ``xgboost.regressor`` and ``xgboost.classifier``.

Every keyword is an XGBoost hyperparameter passed unchanged to
``XGBRegressor`` / ``XGBClassifier``; ``fit`` keywords (``eval_set``,
``sample_weight``...) pass to their ``fit``. The classifier accepts any
sortable labels (XGBoost itself insists on ``0..k-1``). Pandas ``category``
columns need ``enable_categorical=True``, as in XGBoost.

Predictions call ``Booster.inplace_predict`` after the schema check —
identical to ``XGBRegressor.predict``. Explanations are XGBoost's native
TreeSHAP (``pred_contribs=True``), computed by XGBoost in float32 and additive
in margin space to float32 precision. Persistence uses XGBoost's JSON format.

Examples
--------
>>> import uniml
>>> from sklearn.datasets import load_diabetes
>>> X, y = load_diabetes(return_X_y=True, as_frame=True)
>>> m = uniml.make("xgboost.regressor", n_estimators=20, max_depth=3).fit(X, y)
>>> m.explain(X.head(3)).kind
'tree_shap'
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
from uniml.core.errors import DataContractError
from uniml.core.explanation import Explanation

__all__ = ["XGBoostClassifier", "XGBoostRegressor"]

_IDENTITY_OBJECTIVES = {
    "reg:squarederror",
    "reg:absoluteerror",
    "reg:pseudohubererror",
    "reg:quantileerror",
    "reg:squaredlogerror",
}

# XGBoost's documented booster/learning-task parameters and aliases ("XGBoost Parameters"),
# beyond the keywords XGBModel's signature names; XGBModel forwards these through **kwargs
_BOOSTER_PARAMS = frozenset(
    """
    alpha aft_loss_distribution aft_loss_distribution_scale base_score boost_from_average
    booster colsample_bylevel colsample_bynode colsample_bytree device
    disable_default_eval_metric eta eval_metric feature_selector gamma gpu_id grow_policy
    huber_slope interaction_constraints lambda lambdarank_bias_norm
    lambdarank_num_pair_per_sample lambdarank_pair_method lambdarank_normalization
    lambdarank_score_normalization lambdarank_unbiased learning_rate max_bin max_cat_threshold
    max_cat_to_onehot max_cached_hist_node max_delta_step max_depth max_leaves min_child_weight
    min_split_loss monotone_constraints multi_strategy ndcg_exp_gain normalize_type nthread
    num_class num_feature num_parallel_tree objective one_drop predictor process_type
    quantile_alpha rate_drop refresh_leaf sample_type sampling_method scale_pos_weight seed
    seed_per_iteration skip_drop sketch_ratio subsample tree_method top_k
    tweedie_variance_power updater use_rmm validate_parameters verbosity
    """.split()
)


@functools.cache
def _xgboost_params() -> frozenset[str]:
    import xgboost

    return _BOOSTER_PARAMS | signature_params(xgboost.XGBModel.__init__)


class _XGBoost(LibraryParams, TabularAdapter):
    library = "xgboost"
    extra = "xgboost"
    explanation_kind = "tree_shap"
    additive = True
    persistence = "xgboost-json"
    supports_categorical = True
    numeric_only = True
    _estimator_class = ""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    def _accepts_categorical(self) -> bool:
        return bool(getattr(self, "enable_categorical", False))

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        return _xgboost_params()

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [
            {
                "n_estimators": 15,
                "max_depth": 3,
                "random_state": 0,
                "enable_categorical": True,
                "n_jobs": 1,
            }
        ]

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, **fit_params):
        xgb = self.require_library()
        params = self._library_params()
        if isinstance(X, pd.DataFrame) and not params.get("enable_categorical", False):
            cats = [c for c, d in X.dtypes.items() if isinstance(d, pd.CategoricalDtype)]
            if cats:
                raise DataContractError(
                    f"column {cats[0]!r} is categorical; XGBoost uses categories only with "
                    f"enable_categorical=True (pass it to make(...)) — or encode the column yourself"
                )
        self.model_ = getattr(xgb, self._estimator_class)(**params).fit(X, y, **fit_params)
        self._after_fit_or_load()

    def _after_fit_or_load(self):
        self.booster_ = self.model_.get_booster()
        # the same iteration range XGBModel.predict uses (honours early stopping)
        self._iteration_range = self.model_._get_iteration_range(None)

    # -------------------------------------------------------------- predict
    def _booster_input(self, X):
        if isinstance(X, pd.DataFrame) and not self.schema_.categorical:
            return X.to_numpy()
        return X

    def _raw(self, X, margin: bool = False) -> np.ndarray:
        return self.booster_.inplace_predict(
            self._booster_input(X),
            iteration_range=self._iteration_range,
            predict_type="margin" if margin else "value",
            missing=self.model_.missing,
            validate_features=False,  # the schema check already guaranteed names and order
        )

    # -------------------------------------------------------------- explain
    def _explain(self, X, **kwargs) -> Explanation:
        xgb = self.require_library()
        dmatrix = xgb.DMatrix(
            self._booster_input(X),
            missing=self.model_.missing,
            enable_categorical=bool(self.schema_.categorical),
            feature_names=self.booster_.feature_names,
            feature_types=self.booster_.feature_types,
        )
        contrib = self.booster_.predict(
            dmatrix, pred_contribs=True, iteration_range=self._iteration_range
        )
        # the margin from the same DMatrix (no second conversion of X); equals inplace_predict's
        margin = self.booster_.predict(
            dmatrix, output_margin=True, iteration_range=self._iteration_range
        )
        names = list(self.schema_.names)
        if contrib.ndim == 2:
            frame = pd.DataFrame(contrib[:, :-1].astype(np.float64), columns=names)
            base = float(contrib[0, -1]) if len(contrib) else 0.0
            prediction = pd.Series(np.asarray(margin, dtype=np.float64).reshape(-1))
        else:  # (n, k, p + 1)
            classes = list(self.classes_)
            cols = pd.MultiIndex.from_product([classes, names])
            frame = pd.DataFrame(
                contrib[:, :, :-1].reshape(len(contrib), -1).astype(np.float64), columns=cols
            )
            base = pd.Series(contrib[0, :, -1].astype(np.float64), index=classes)
            prediction = pd.DataFrame(np.asarray(margin, dtype=np.float64), columns=classes)
        return Explanation(
            frame,
            base,
            "tree_shap",
            True,
            prediction,
            space=self._space(),
            meta={"source": "xgboost pred_contribs", "precision": "float32"},
        )

    def _space(self) -> str:
        if self._is_classifier():
            return "margin"
        return "raw" if self.model_.objective in _IDENTITY_OBJECTIVES else "margin"

    # ----------------------------------------------------------- persistence
    def _save(self, folder: Path) -> dict:
        self.model_.save_model(str(folder / "model.json"))
        return {"model.json": {"format": "xgboost-json"}}

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        xgb = self.require_library()
        # sklearn-level parameters (``missing``...) are not in the JSON model: rebuild the
        # wrapper with the saved params (already restored on self) before loading the booster
        self.model_ = getattr(xgb, self._estimator_class)(**self._library_params())
        self.model_.load_model(str(folder / "model.json"))
        self._after_fit_or_load()


@register
class XGBoostRegressor(_XGBoost, RegressorAdapter):
    """XGBoost gradient-boosted trees for regression.

    Parameters
    ----------
    **params
        Any ``xgboost.XGBRegressor`` hyperparameter, passed unchanged.

    Attributes
    ----------
    model_ : xgboost.XGBRegressor
    booster_ : xgboost.Booster

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> m = uniml.make("xgboost.regressor", n_estimators=10).fit(X, y)
    >>> m.predict(X.head(2)).name
    'target'
    """

    name = "xgboost.regressor"
    _estimator_class = "XGBRegressor"

    def _predict(self, X):
        return self._raw(X)


@register
class XGBoostClassifier(_XGBoost, ClassifierAdapter):
    """XGBoost gradient-boosted trees for binary and multiclass classification.

    Labels may be any sortable values; they are encoded to ``0..k-1`` for
    XGBoost and decoded back in ``predict``.

    Parameters
    ----------
    **params
        Any ``xgboost.XGBClassifier`` hyperparameter, passed unchanged.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> uniml.make("xgboost.classifier", n_estimators=5).fit(X, y).classes_.tolist()
    ['no', 'yes']
    """

    name = "xgboost.classifier"
    _estimator_class = "XGBClassifier"
    _encode_labels = True

    def _predict_proba(self, X):
        proba = self._raw(X)
        if proba.ndim == 1:  # binary: P(class 1)
            proba = np.vstack((1.0 - proba, proba)).transpose()
        return proba

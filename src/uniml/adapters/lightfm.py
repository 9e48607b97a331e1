"""LightFM adapter: ``lightfm.recommender``.

Every ``lightfm.LightFM`` constructor argument (``loss``, ``no_components``,
``learning_schedule``, ``learning_rate``, ``rho``, ``epsilon``, ``item_alpha``,
``user_alpha``, ``max_sampled``, ``k``, ``n``, ``random_state``) passes through
unchanged, as do ``LightFM.fit``'s ``epochs`` (default 10 here, LightFM's is 1)
``num_threads`` (default 1) and ``verbose``. Adapter-owned keywords:

``early_stopping_rounds`` (default None)
    Stop when ``validation_metric`` on ``fit(..., validation=...)`` has not
    improved for this many epochs, and keep the best epoch's parameters.
``validation_metric`` (default ``"precision@10"``)
    ``precision@k``, ``recall@k`` or ``ndcg@k``.
``identity_features`` (default True)
    Give every user/item its own indicator feature next to its features
    (LightFM's default; without it, ids are represented by features alone).
``normalize_features`` (default True)
    Scale each feature row to unit L1 norm (as ``lightfm.data.Dataset`` does).

Feature frames (``InteractionData(user_features=..., item_features=...)``,
indexed by id) are encoded column by column: numeric columns as one weighted
feature, other columns one-hot (``"column=value"``). Ids with feature rows but
no interactions are part of the model; unseen ids are cold-started from
feature rows passed at ``predict``/``score``/``explain`` time.

Scores are LightFM's own: ``score`` calls ``LightFM.predict``; ``predict``
ranks by vectorised float32 scoring and reports LightFM's ``predict`` score of
each selected pair. ``explain`` splits each score into the user bias, the
item bias and one contribution per (user feature, item feature) pair, where
an id's own indicator feature is called ``user_id`` / ``item_id``.
Persistence: parameter arrays and feature matrices in ``model.npz``, feature
encodings in ``features.json``, ids in ``ids.json`` — no pickle.

Examples
--------
>>> import pandas as pd, uniml
>>> df = pd.DataFrame({"user": [1, 1, 2, 3, 3], "item": ["a", "b", "b", "c", "a"]})
>>> m = uniml.make("lightfm.recommender", loss="warp", epochs=5, random_state=0).fit(df)
>>> m.predict([1, 2], k=2).columns.tolist()
['user', 'item', 'score', 'rank']
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.core.adapter import LibraryParams
from uniml.core.catalog import register
from uniml.core.errors import DataContractError, SchemaError, UnimlError
from uniml.core.explanation import Explanation
from uniml.core.recommendation import RecommenderAdapter

__all__ = ["LightFMRecommender"]

_FIT_PARAMS = {"epochs": 10, "num_threads": 1, "verbose": False}
_ADAPTER_PARAMS = {
    "early_stopping_rounds": None,
    "validation_metric": "precision@10",
    "identity_features": True,
    "normalize_features": True,
}
_STATE = (
    "item_embeddings",
    "item_embedding_gradients",
    "item_embedding_momentum",
    "item_biases",
    "item_bias_gradients",
    "item_bias_momentum",
    "user_embeddings",
    "user_embedding_gradients",
    "user_embedding_momentum",
    "user_biases",
    "user_bias_gradients",
    "user_bias_momentum",
)
_METRIC = re.compile(r"^(precision|recall|ndcg)@(\d+)$")


# ------------------------------------------------------------- feature frames
class _FeatureEncoding:
    """Column-wise encoding of a feature frame into sparse feature weights."""

    def __init__(self, columns: list[dict]):
        self.columns = columns
        self.names: list[str] = []
        self._offsets = []
        for col in columns:
            self._offsets.append(len(self.names))
            if col["kind"] == "numeric":
                self.names.append(str(col["name"]))
            else:
                self.names.extend(f"{col['name']}={level}" for level in col["levels"])

    @classmethod
    def fit(cls, frame: pd.DataFrame, role: str) -> _FeatureEncoding:
        columns = []
        for name in frame.columns:
            values = frame[name]
            if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
                levels = (
                    list(values.cat.categories)
                    if isinstance(values.dtype, pd.CategoricalDtype)
                    else list(pd.unique(values.dropna()))
                )
                if not all(isinstance(v, (str, int, float, bool, np.generic)) for v in levels):
                    raise DataContractError(
                        f"role {role!r}: column {name!r} has levels that are not strings or numbers"
                    )
                columns.append(
                    {"name": name, "kind": "levels", "levels": [_plain(v) for v in levels]}
                )
            else:
                columns.append({"name": name, "kind": "numeric"})
        return cls(columns)

    def transform(self, frame: pd.DataFrame, role: str):
        """CSR of shape (len(frame), len(names)); NaN cells contribute nothing."""
        sp = _sparse()
        missing = [c["name"] for c in self.columns if c["name"] not in frame.columns]
        if missing:
            raise SchemaError(
                f"{role}: feature column {missing[0]!r} is missing; expected columns "
                f"{[c['name'] for c in self.columns]}",
                column=missing[0],
            )
        rows, cols, vals = [], [], []
        n = len(frame)
        for col, offset in zip(self.columns, self._offsets, strict=True):
            values = frame[col["name"]]
            if col["kind"] == "numeric":
                try:
                    x = pd.to_numeric(values).to_numpy(dtype=np.float64)
                except (TypeError, ValueError) as exc:
                    raise SchemaError(
                        f"{role}: feature column {col['name']!r} must be numeric ({exc})",
                        column=col["name"],
                    ) from exc
                ok = np.isfinite(x) & (x != 0)
                rows.append(np.flatnonzero(ok))
                cols.append(np.full(ok.sum(), offset))
                vals.append(x[ok])
            else:
                levels = pd.Index(col["levels"])
                present = values.notna().to_numpy()
                codes = levels.get_indexer(pd.Index(values.to_numpy()[present]))
                if (codes < 0).any():
                    unseen = list(pd.unique(values.to_numpy()[present][codes < 0]))[:5]
                    raise SchemaError(
                        f"{role}: feature column {col['name']!r} has unseen values {unseen}; "
                        f"fitted values are {col['levels'][:5]}",
                        column=col["name"],
                    )
                rows.append(np.flatnonzero(present))
                cols.append(offset + codes)
                vals.append(np.ones(len(codes)))
        r = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        c = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
        v = np.concatenate(vals) if vals else np.empty(0)
        return sp.csr_matrix((v, (r, c)), shape=(n, len(self.names)), dtype=np.float64)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _sparse():
    import scipy.sparse as sp

    return sp


def _normalize(matrix):
    """Rows scaled to unit L1 norm (rows of zeros stay zero)."""
    sp = _sparse()
    norms = np.asarray(abs(matrix).sum(axis=1)).ravel()
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.diags(scale) @ matrix


# ------------------------------------------------------------------ adapter
@register
class LightFMRecommender(LibraryParams, RecommenderAdapter):
    """LightFM hybrid matrix factorisation (``lightfm.recommender``).

    Parameters
    ----------
    **params
        Any ``lightfm.LightFM`` constructor argument; ``epochs``,
        ``num_threads`` and ``verbose`` of ``LightFM.fit``; and the adapter's
        ``early_stopping_rounds``, ``validation_metric``,
        ``identity_features``, ``normalize_features`` (module docstring).

    Attributes
    ----------
    model_ : lightfm.LightFM
    user_features_, item_features_ : scipy.sparse.csr_matrix
        Feature weights of known users/items (float32), identity block first.
    best_epoch_ : int
        Epochs actually kept (all of them without early stopping).
    validation_history_ : list of float
        Validation metric after each epoch (empty without ``validation``).

    Examples
    --------
    >>> import pandas as pd, uniml
    >>> df = pd.DataFrame({"user": ["u1", "u1", "u2"], "item": [10, 11, 10]})
    >>> m = uniml.make("lightfm.recommender", epochs=3, random_state=0).fit(df)
    >>> m.predict(["u2"], k=5)["item"].tolist()  # item 10 was seen
    [11]
    >>> e = m.explain(pd.DataFrame({"user": ["u2"], "item": [11]}))
    >>> e.contributions.columns.tolist(), e.additivity_error() < 1e-5
    (['user_bias', 'item_bias', 'user_id x item_id'], True)
    """

    name = "lightfm.recommender"
    library = "lightfm"
    extra = "recsys"
    explanation_kind = "recsys_features"
    additive = True
    persistence = "npz-json"
    cold_start_features = True

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [
            {"loss": "warp", "no_components": 8, "epochs": 5, "random_state": 0, "num_threads": 1}
        ]

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        lightfm = cls.require_library()
        ctor = set(inspect.signature(lightfm.LightFM.__init__).parameters) - {"self"}
        return frozenset(ctor | set(_FIT_PARAMS) | set(_ADAPTER_PARAMS))

    # --------------------------------------------------------------- params
    def _split_params(self):
        lightfm = self.require_library()
        ctor_names = set(inspect.signature(lightfm.LightFM.__init__).parameters) - {"self"}
        params = self.get_params(deep=False)
        unknown = sorted(set(params) - ctor_names - set(_FIT_PARAMS) - set(_ADAPTER_PARAMS))
        if unknown:
            import difflib

            from uniml.core.errors import UnknownParameterError

            known = sorted(ctor_names | set(_FIT_PARAMS) | set(_ADAPTER_PARAMS))
            close = difflib.get_close_matches(unknown[0], known, n=3, cutoff=0.6)
            raise UnknownParameterError(
                f"{self.name}: unknown parameter(s) {unknown}; LightFM accepts {sorted(ctor_names)}, "
                f"its fit {sorted(_FIT_PARAMS)}, and the adapter {sorted(_ADAPTER_PARAMS)}",
                parameter=unknown[0],
                suggestions=close,
            )
        ctor = {k: v for k, v in params.items() if k in ctor_names}
        fit = {k: params.get(k, d) for k, d in _FIT_PARAMS.items()}
        own = {k: params.get(k, d) for k, d in _ADAPTER_PARAMS.items()}
        return lightfm, ctor, fit, own

    # ------------------------------------------------------------------ fit
    def _features(self, role, frame, n, own):
        sp = _sparse()
        identity = sp.identity(n, dtype=np.float64, format="csr")
        if frame is None:
            return None, identity
        encoding = _FeatureEncoding.fit(frame, role)
        feats = encoding.transform(frame, role)
        matrix = sp.hstack([identity, feats], format="csr") if own["identity_features"] else feats
        if own["normalize_features"]:
            matrix = _normalize(matrix)
        return encoding, matrix

    def _fit_interactions(
        self,
        users,
        items,
        weights,
        n_users,
        n_items,
        user_features,
        item_features,
        validation,
        **fit_params,
    ):
        sp = _sparse()
        lightfm, ctor, fit, own = self._split_params()
        if not own["identity_features"] and (user_features is None or item_features is None):
            raise DataContractError(
                "identity_features=False needs both user and item feature frames"
            )
        self._user_encoding_, ufm = self._features("user_features", user_features, n_users, own)
        self._item_encoding_, ifm = self._features("item_features", item_features, n_items, own)
        self._identity_ = bool(own["identity_features"])
        self.user_features_ = ufm.astype(np.float32).tocsr()
        self.item_features_ = ifm.astype(np.float32).tocsr()
        shape = (n_users, n_items)
        interactions = sp.coo_matrix(
            (np.ones(len(users), dtype=np.float32), (users, items)), shape=shape
        )
        sample_weight = None
        if weights is not None:
            sample_weight = sp.coo_matrix((weights.astype(np.float32), (users, items)), shape=shape)
        model = lightfm.LightFM(**ctor)
        args = {
            "user_features": self.user_features_,
            "item_features": self.item_features_,
            "sample_weight": sample_weight,
            "num_threads": fit["num_threads"],
            "verbose": fit["verbose"],
        }
        self.validation_history_ = []
        epochs = int(fit["epochs"])
        rounds = own["early_stopping_rounds"]
        self.model_ = model
        if validation is None:
            model.fit(interactions, epochs=epochs, **args)
            self.best_epoch_ = epochs
            self._refresh()
            return
        metric = _parse_metric(own["validation_metric"])
        seen = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
        best, best_state, since = -np.inf, None, 0
        for epoch in range(1, epochs + 1):
            (model.fit if epoch == 1 else model.fit_partial)(interactions, epochs=1, **args)
            self._refresh()
            value = self._validation_value(metric, validation, seen)
            self.validation_history_.append(value)
            if value > best:
                best, since, self.best_epoch_ = value, 0, epoch
                best_state = {k: getattr(model, k).copy() for k in _STATE} if rounds else None
            else:
                since += 1
                if rounds and since >= rounds:
                    break
        if rounds and best_state is not None:
            for key, value in best_state.items():
                setattr(model, key, value)
            self._refresh()
        elif not rounds:
            self.best_epoch_ = len(self.validation_history_)

    def _validation_value(self, metric, validation, seen) -> float:
        name, k = metric
        vu, vi = validation
        if len(vu) == 0:
            raise DataContractError(
                "validation has no interaction between users and items known at fit"
            )
        truth = _sparse().csr_matrix((np.ones(len(vu)), (vu, vi)), shape=seen.shape)
        truth.data[:] = 1.0
        rows = np.unique(vu)
        scores = self._score_matrix(rows, None, None)
        sub = seen[rows]
        scores[sub.nonzero()] = -np.inf
        k = min(k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(
            top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable"), axis=1
        )
        rel = np.asarray(truth[rows][np.arange(len(rows))[:, None], top].todense()) > 0
        n_rel = np.asarray(truth[rows].sum(axis=1)).ravel()
        if name == "precision":
            return float(rel.sum(axis=1).mean() / k)
        if name == "recall":
            return float((rel.sum(axis=1) / n_rel).mean())
        disc = 1.0 / np.log2(np.arange(2, k + 2))
        ideal = np.array([disc[: min(int(n), k)].sum() for n in n_rel])
        return float(((rel * disc).sum(axis=1) / ideal).mean())

    def _refresh(self) -> None:
        """Cache user/item representations (features @ embeddings) for vectorised top-k."""
        m = self.model_
        self._user_repr_ = np.asarray(self.user_features_ @ m.user_embeddings, dtype=np.float32)
        self._user_bias_ = np.asarray(self.user_features_ @ m.user_biases, dtype=np.float32)
        self._item_repr_ = np.asarray(self.item_features_ @ m.item_embeddings, dtype=np.float32)
        self._item_bias_ = np.asarray(self.item_features_ @ m.item_biases, dtype=np.float32)

    # -------------------------------------------------------------- scoring
    def _has_features(self, role: str) -> bool:
        return (self._user_encoding_ if role == "user" else self._item_encoding_) is not None

    def _cold_matrix(self, role: str, cold: pd.DataFrame):
        """Feature rows of ids unseen at fit: no identity feature, their features (or nothing)."""
        sp = _sparse()
        encoding = self._user_encoding_ if role == "user" else self._item_encoding_
        n_known = self.n_users_ if role == "user" else self.n_items_
        width = (self.user_features_ if role == "user" else self.item_features_).shape[1]
        if encoding is None or cold.shape[1] == 0:
            return sp.csr_matrix((len(cold), width), dtype=np.float32)
        feats = encoding.transform(cold, f"{role}_features")
        if self._identity_:
            feats = sp.hstack([sp.csr_matrix((len(cold), n_known)), feats], format="csr")
        if self.get_params().get("normalize_features", True):
            feats = _normalize(feats)
        return feats.astype(np.float32).tocsr()

    def _reprs(self, role, rows, cold):
        emb, bias = (
            (self._user_repr_, self._user_bias_)
            if role == "user"
            else (self._item_repr_, self._item_bias_)
        )
        if cold is None or not (rows < 0).any():
            return emb[rows], bias[rows]
        out_e = np.empty((len(rows), emb.shape[1]), dtype=np.float32)
        out_b = np.empty(len(rows), dtype=np.float32)
        known = rows >= 0
        out_e[known], out_b[known] = emb[rows[known]], bias[rows[known]]
        m = self._cold_matrix(role, cold)
        model_emb = self.model_.user_embeddings if role == "user" else self.model_.item_embeddings
        model_bias = self.model_.user_biases if role == "user" else self.model_.item_biases
        out_e[~known] = m @ model_emb
        out_b[~known] = m @ model_bias
        return out_e, out_b

    def _score_matrix(self, user_rows, user_cold, item_rows):
        ue, ub = self._reprs("user", np.asarray(user_rows), user_cold)
        if item_rows is None:
            ie, ib = self._item_repr_, self._item_bias_
        else:
            ie, ib = self._item_repr_[item_rows], self._item_bias_[item_rows]
        scores = ue @ ie.T
        scores += ub[:, None]
        scores += ib[None, :]
        return scores

    def _feature_matrices(self, user_rows, item_rows, user_cold, item_cold):
        """LightFM-ready ids and feature matrices, with cold rows appended after the known ones."""
        sp = _sparse()
        ufm, ifm = self.user_features_, self.item_features_
        u = np.asarray(user_rows, dtype=np.int64).copy()
        i = np.asarray(item_rows, dtype=np.int64).copy()
        if (u < 0).any():
            cold = (
                user_cold
                if user_cold is not None
                else pd.DataFrame(index=range(int((u < 0).sum())))
            )
            ufm = sp.vstack([ufm, self._cold_matrix("user", cold)], format="csr")
            u[u < 0] = self.n_users_ + np.arange(int((u < 0).sum()))
        if (i < 0).any():
            cold = (
                item_cold
                if item_cold is not None
                else pd.DataFrame(index=range(int((i < 0).sum())))
            )
            ifm = sp.vstack([ifm, self._cold_matrix("item", cold)], format="csr")
            i[i < 0] = self.n_items_ + np.arange(int((i < 0).sum()))
        return u.astype(np.int32), i.astype(np.int32), ufm, ifm

    def _score_pairs(self, user_rows, item_rows, user_cold, item_cold):
        if len(user_rows) == 0:
            return np.empty(0, dtype=np.float32)
        u, i, ufm, ifm = self._feature_matrices(user_rows, item_rows, user_cold, item_cold)
        return self.model_.predict(u, i, user_features=ufm, item_features=ifm, num_threads=1)

    def predict(self, users, k: int = 10, exclude_seen: bool = True, **kwargs) -> pd.DataFrame:
        """Top-``k`` items per user, with LightFM's own ``predict`` score (see :meth:`RecommenderAdapter.predict`).

        Parameters
        ----------
        users : array-like of user ids
            Duplicates are allowed (each gets its own block of rows).
        k : int, default 10
            Items per user.
        exclude_seen : bool, default True
            Leave out items the user interacted with at fit.
        **kwargs
            ``items``, ``user_features`` and ``on_unknown``, as for
            :meth:`RecommenderAdapter.predict`.

        Returns
        -------
        pandas.DataFrame
            Columns ``user, item, score, rank``; ``score`` is LightFM's
            ``predict`` for the pair.

        Examples
        --------
        >>> import pandas as pd, uniml
        >>> df = pd.DataFrame({"user": [1, 2, 2], "item": ["a", "a", "b"]})
        >>> m = uniml.make("lightfm.recommender", epochs=2, random_state=0).fit(df)
        >>> m.predict([1, 99], k=1, on_unknown="drop")[["user", "item", "rank"]].to_dict("records")
        [{'user': 1, 'item': 'b', 'rank': 1}]
        """
        result = super().predict(users, k=k, exclude_seen=exclude_seen, **kwargs)
        user_features = kwargs.get("user_features")
        if len(result) == 0:
            return result
        # the ranking used vectorised float32 scoring; report LightFM's exact score per selected pair
        urows = self.user_map_.lookup(result["user"])
        irows = self.item_map_.lookup(result["item"])
        cold = None
        if (urows < 0).any():
            ids = result["user"].to_numpy()[urows < 0]
            cold = (
                user_features.reindex(pd.Index(ids, tupleize_cols=False))
                if user_features is not None
                else pd.DataFrame(index=range(len(ids)))
            )
        exact = self._score_pairs(urows, irows, cold, None)
        result["score"] = exact
        return result

    # -------------------------------------------------------------- explain
    def _feature_names(self, role: str) -> list[str]:
        encoding = self._user_encoding_ if role == "user" else self._item_encoding_
        names = [f"{role}_id"] if self._identity_ else []
        return names + ([] if encoding is None else list(encoding.names))

    def _explain_pairs(self, user_rows, item_rows, user_cold, item_cold, **kwargs) -> Explanation:
        u, i, ufm, ifm = self._feature_matrices(user_rows, item_rows, user_cold, item_cold)
        m = self.model_
        uemb, iemb = m.user_embeddings.astype(np.float64), m.item_embeddings.astype(np.float64)
        ubias, ibias = m.user_biases.astype(np.float64), m.item_biases.astype(np.float64)
        unames, inames = self._feature_names("user"), self._feature_names("item")
        n_uid = self.n_users_ if self._identity_ else 0
        n_iid = self.n_items_ if self._identity_ else 0

        def label(idx, n_id):  # the identity block collapses to one "<role>_id" name
            return np.where(idx < n_id, 0, idx - n_id + (1 if n_id else 0))

        columns: dict[str, np.ndarray] = {
            "user_bias": np.zeros(len(u)),
            "item_bias": np.zeros(len(u)),
        }
        for r in range(len(u)):
            urow, irow = ufm.getrow(int(u[r])), ifm.getrow(int(i[r]))
            uf, uw = urow.indices, urow.data.astype(np.float64)
            itf, iw = irow.indices, irow.data.astype(np.float64)
            columns["user_bias"][r] = float(uw @ ubias[uf])
            columns["item_bias"][r] = float(iw @ ibias[itf])
            inter = (uw[:, None] * iw[None, :]) * (uemb[uf] @ iemb[itf].T)
            ul, il = label(uf, n_uid), label(itf, n_iid)
            for a in range(len(uf)):
                for b in range(len(itf)):
                    key = f"{unames[ul[a]]} x {inames[il[b]]}"
                    if key not in columns:
                        columns[key] = np.zeros(len(u))
                    columns[key][r] += inter[a, b]
        contributions = pd.DataFrame(columns)
        prediction = pd.Series(
            self._score_pairs(user_rows, item_rows, user_cold, item_cold).astype(np.float64),
            name="score",
        )
        return Explanation(
            contributions,
            0.0,
            "recsys_features",
            True,
            prediction,
            space="raw",
            meta={"precision": "float32", "source": "lightfm parameters"},
        )

    # ----------------------------------------------------------- persistence
    def _save_model(self, folder: Path) -> dict:
        arrays = {k: getattr(self.model_, k) for k in _STATE}
        for role, matrix in (("user", self.user_features_), ("item", self.item_features_)):
            arrays[f"{role}_features_data"] = matrix.data
            arrays[f"{role}_features_indices"] = matrix.indices
            arrays[f"{role}_features_indptr"] = matrix.indptr
            arrays[f"{role}_features_shape"] = np.asarray(matrix.shape, dtype=np.int64)
        with open(folder / "model.npz", "wb") as fh:
            np.savez(fh, **arrays)
        features = {
            "identity": self._identity_,
            "user": None if self._user_encoding_ is None else self._user_encoding_.columns,
            "item": None if self._item_encoding_ is None else self._item_encoding_.columns,
            "best_epoch": self.best_epoch_,
            "validation_history": self.validation_history_,
        }
        (folder / "features.json").write_text(json.dumps(features))
        return {"model.npz": {"format": "npz-json"}, "features.json": {"format": "npz-json"}}

    def _load_model(self, folder: Path, manifest: dict) -> None:
        sp = _sparse()
        lightfm, ctor, _, _ = self._split_params()
        model = lightfm.LightFM(**ctor)
        with np.load(folder / "model.npz", allow_pickle=False) as arrays:
            for key in _STATE:
                setattr(model, key, arrays[key])
            for role in ("user", "item"):
                matrix = sp.csr_matrix(
                    (
                        arrays[f"{role}_features_data"],
                        arrays[f"{role}_features_indices"],
                        arrays[f"{role}_features_indptr"],
                    ),
                    shape=tuple(arrays[f"{role}_features_shape"]),
                )
                setattr(self, f"{role}_features_", matrix)
        features = json.loads((folder / "features.json").read_text())
        self._identity_ = features["identity"]
        self._user_encoding_ = (
            None if features["user"] is None else _FeatureEncoding(features["user"])
        )
        self._item_encoding_ = (
            None if features["item"] is None else _FeatureEncoding(features["item"])
        )
        self.best_epoch_ = features["best_epoch"]
        self.validation_history_ = features["validation_history"]
        self.model_ = model
        self._refresh()


def _parse_metric(metric: str):
    match = _METRIC.match(str(metric))
    if not match:
        raise UnimlError(
            f"validation_metric must look like 'precision@10', 'recall@5' or 'ndcg@10', got {metric!r}"
        )
    return match.group(1), int(match.group(2))

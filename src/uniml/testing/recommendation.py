"""Conformance checks for recommendation adapters (``task = "recommendation"``).

:func:`uniml.testing.check_adapter` dispatches here. The checks: top-k shape
and columns, ranks ``1..k`` with descending scores, no seen items when
excluded, ``score`` agreeing with ``predict``, typed errors for unknown ids
(and the ``on_unknown`` policies), schema errors on ``score``, additive
explanations (to 1e-5, float32), bit-identical save/load round-trips with
hash verification, clone, determinism with a fixed seed and one thread,
pickling, not-fitted errors, and that ``fit`` leaves its input unchanged.

Examples
--------
>>> data = make_interaction_data(n_users=20, n_items=15)
>>> data.n_users, sorted(data.frame.columns)
(20, ['item', 'user', 'weight'])
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.testing import _expect, _fail

__all__ = ["ADDITIVITY_TOL", "checks", "make_interaction_data"]

#: absolute tolerance of additive recommender explanations (LightFM computes in float32)
ADDITIVITY_TOL = 1e-5


def make_interaction_data(
    n_users: int = 60,
    n_items: int = 40,
    n_groups: int = 3,
    per_user: int = 8,
    popularity_noise: float = 0.3,
    features: bool = False,
    seed: int = 0,
):
    """Synthetic interactions with planted structure: user groups prefer item groups.

    Each user belongs to one of ``n_groups`` groups and draws most of its
    interactions from the matching item group; a fraction
    ``popularity_noise`` comes from a global, skewed popularity distribution.
    User ids are strings (``"u0"``...), item ids integers (``1000``...).

    Parameters
    ----------
    n_users, n_items, n_groups : int
    per_user : int
        Interactions per user (distinct items).
    popularity_noise : float
        Share of interactions drawn from global popularity instead of the group.
    features : bool
        Attach ``user_features`` (``segment``, the planted group) and
        ``item_features`` (``category``, the item group; ``price``).
    seed : int

    Returns
    -------
    InteractionData
        Columns ``user``, ``item``, ``weight``; ``data.groups`` maps users and
        items to their planted groups (``{"user": Series, "item": Series}``).

    Examples
    --------
    >>> d = make_interaction_data(n_users=10, n_items=9, per_user=3, features=True)
    >>> len(d.frame), d.item_features.columns.tolist()
    (30, ['category', 'price'])
    """
    from uniml.core.recommendation import InteractionData

    rng = np.random.default_rng(seed)
    users = np.array([f"u{i}" for i in range(n_users)], dtype=object)
    items = np.arange(1000, 1000 + n_items)
    ugroup = rng.integers(0, n_groups, size=n_users)
    igroup = np.arange(n_items) % n_groups
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = popularity[rng.permutation(n_items)]
    popularity /= popularity.sum()
    rows_u: list[int] = []
    rows_i: list[int] = []
    for u in range(n_users):
        in_group = np.flatnonzero(igroup == ugroup[u])
        p = (1 - popularity_noise) * np.isin(np.arange(n_items), in_group) / len(
            in_group
        ) + popularity_noise * popularity
        chosen = rng.choice(n_items, size=min(per_user, n_items), replace=False, p=p / p.sum())
        rows_u.extend([u] * len(chosen))
        rows_i.extend(chosen)
    user_pos, item_pos = np.asarray(rows_u), np.asarray(rows_i)
    frame = pd.DataFrame(
        {
            "user": users[user_pos],
            "item": items[item_pos],
            "weight": rng.uniform(0.5, 2.0, size=len(user_pos)),
        }
    )
    ufeat = ifeat = None
    if features:
        ufeat = pd.DataFrame(
            {"segment": [f"s{g}" for g in ugroup]}, index=pd.Index(users, name="user")
        )
        ifeat = pd.DataFrame(
            {"category": [f"c{g}" for g in igroup], "price": rng.uniform(0, 1, n_items)},
            index=pd.Index(items, name="item"),
        )
    data = InteractionData(
        frame, user="user", item="item", weight="weight", user_features=ufeat, item_features=ifeat
    )
    # ground truth for the tests, not a role of the data contract: an instance attribute
    # InteractionData does not declare
    vars(data)["groups"] = {
        "user": pd.Series(ugroup, index=users),
        "item": pd.Series(igroup, index=items),
    }
    return data


def _recommendation_checks(adapter, data) -> list[tuple[str, Callable[[], None]]]:
    from sklearn.base import clone

    from uniml.core.errors import (
        NotFittedError,
        ParameterError,
        SchemaError,
    )
    from uniml.core.explanation import Explanation
    from uniml.core.persistence import MANIFEST_NAME, load
    from uniml.core.recommendation import UnknownIdError
    from uniml.testing import (
        _check_clone_unfitted,
        _check_manifest_shape,
        _check_metadata,
        _check_save_onto_file,
        _check_tamper_detected,
        _check_unknown_param,
        _check_untrusted_refusal,
    )

    cls = type(adapter)
    frame = data.frame
    users = list(pd.unique(frame[data.user]))[:12]
    k = 5
    pairs = frame[[data.user, data.item]].iloc[::3].head(15).copy()
    pairs.index = pd.Index([f"p{i}" for i in range(len(pairs))])
    state: dict = {}

    def fitted():
        if "model" not in state:
            state["model"] = clone(adapter).fit(data)
        return state["model"]

    def metadata():
        _check_metadata(cls, "recommendation")

    def not_fitted():
        fresh = clone(adapter)
        _expect(NotFittedError, "not_fitted", "predict before fit", fresh.predict, users)
        _expect(NotFittedError, "not_fitted", "score before fit", fresh.score, pairs)
        _expect(NotFittedError, "not_fitted", "explain before fit", fresh.explain, pairs)
        _expect(NotFittedError, "not_fitted", "save before fit", fresh.save, tempfile.mkdtemp())

    def fit_does_not_modify_input():
        copy = frame.copy(deep=True)
        clone(adapter).fit(data)
        pd.testing.assert_frame_equal(frame, copy, check_exact=True)

    def top_k():
        model = clone(adapter)
        if model.fit(data) is not model:
            _fail("top_k", "fit must return self")
        rec = model.predict(users, k=k)
        if list(rec.columns) != ["user", "item", "score", "rank"]:
            _fail("top_k", f"columns must be user, item, score, rank; got {list(rec.columns)}")
        if list(pd.unique(rec["user"])) != users:
            _fail("top_k", "users must come back in input order")
        for user, block in rec.groupby("user", sort=False):
            n_seen = len(model.seen_items(user))
            expected = min(k, model.n_items_ - n_seen)
            if len(block) != expected:
                _fail("top_k", f"user {user!r}: {len(block)} rows, expected {expected}")
            if block["rank"].tolist() != list(range(1, len(block) + 1)):
                _fail("top_k", f"user {user!r}: ranks are not 1..k: {block['rank'].tolist()}")
            if np.any(np.diff(block["score"].to_numpy()) > 1e-6):
                _fail("top_k", f"user {user!r}: scores are not descending with rank")
            if block["item"].duplicated().any():
                _fail("top_k", f"user {user!r}: an item is recommended twice")
        if not np.isfinite(rec["score"].to_numpy()).all():
            _fail("top_k", "non-finite scores")
        big = model.predict(users[:2], k=model.n_items_ + 5, exclude_seen=False)
        if len(big) != 2 * model.n_items_:
            _fail("top_k", "k above the catalogue size must return every item once")

    def no_seen_items():
        model = fitted()
        rec = model.predict(users, k=model.n_items_)
        seen = set(zip(frame[data.user], frame[data.item], strict=True))
        leaked = [(u, i) for u, i in zip(rec["user"], rec["item"], strict=True) if (u, i) in seen]
        if leaked:
            _fail("no_seen_items", f"seen items recommended with exclude_seen=True: {leaked[:3]}")
        all_items = model.predict(users[:1], k=model.n_items_, exclude_seen=False)
        if len(all_items) != model.n_items_:
            _fail("no_seen_items", "exclude_seen=False must rank the whole catalogue")

    def score_agrees():
        model = fitted()
        rec = model.predict(users, k=k)
        scored = model.score(
            rec.rename(columns={"user": data.user, "item": data.item})[[data.user, data.item]]
        )
        if not np.array_equal(scored.to_numpy(), rec["score"].to_numpy()):
            _fail("score_agrees", "score(pairs) differs from the scores predict reported")
        s = model.score(pairs)
        if not isinstance(s, pd.Series) or not s.index.equals(pairs.index):
            _fail("score_agrees", "score must return a Series indexed like the pairs")

    def unknown_ids():
        model = fitted()
        ghost = "__never_seen__"
        err = _expect(
            UnknownIdError,
            "unknown_ids",
            "predict for an unknown user",
            model.predict,
            [users[0], ghost],
        )
        if ghost not in err.ids or repr(ghost) not in str(err):
            _fail("unknown_ids", f"the error must list the unknown id: {err}")
        dropped = model.predict([users[0], ghost], k=k, on_unknown="drop")
        if set(dropped["user"]) != {users[0]}:
            _fail("unknown_ids", "on_unknown='drop' must leave the unknown user out")
        zero = model.predict([ghost], k=k, on_unknown="zero")
        if len(zero) != min(k, model.n_items_):
            _fail("unknown_ids", "on_unknown='zero' must still recommend k items")
        if data.user_features is not None and getattr(cls, "cold_start_features", False):
            feats = data.user_features.iloc[:1].set_axis(pd.Index([ghost]), axis=0)
            cold = model.predict([ghost], k=k, user_features=feats)
            if len(cold) != min(k, model.n_items_) or not np.isfinite(cold["score"]).all():
                _fail(
                    "unknown_ids",
                    "a user unseen at fit but with a feature row must be cold-started",
                )
            again = model.score(
                cold.rename(columns={"user": data.user, "item": data.item})[[data.user, data.item]],
                user_features=feats,
            )
            if not np.array_equal(again.to_numpy(), cold["score"].to_numpy()):
                _fail("unknown_ids", "cold-start scores differ between predict and score")
        bad_items = pairs.head(2).copy()
        column = bad_items.columns.get_loc(data.item)
        bad_items.iloc[0, column] = (
            -987654 if pd.api.types.is_integer_dtype(frame[data.item]) else ghost
        )
        _expect(UnknownIdError, "unknown_ids", "score with an unknown item", model.score, bad_items)
        nan = model.score(bad_items, on_unknown="nan")
        if not (np.isnan(nan.iloc[0]) and np.isfinite(nan.iloc[1])):
            _fail("unknown_ids", "on_unknown='nan' must give NaN for the unknown pair only")

    def schema_errors():
        model = fitted()
        for column in (data.user, data.item):
            err = _expect(
                SchemaError,
                "schema_errors",
                f"score without {column!r}",
                model.score,
                pairs.drop(columns=[column]),
            )
            if err.column != column:
                _fail("schema_errors", f"SchemaError names {err.column!r}, expected {column!r}")

    def explanation():
        model = fitted()
        exp = model.explain(pairs)
        if not isinstance(exp, Explanation):
            _fail("explanation", f"explain must return an Explanation, got {type(exp).__name__}")
        if exp.kind != cls.explanation_kind or exp.additive != cls.additive:
            _fail(
                "explanation",
                f"declared {cls.explanation_kind}/{cls.additive}, got {exp.kind}/{exp.additive}",
            )
        if not exp.contributions.index.equals(pairs.index):
            _fail("explanation", "contributions are not indexed like the pairs")
        if exp.additive:
            err = exp.additivity_error()
            if not err <= ADDITIVITY_TOL:
                _fail("explanation", f"base + sum(contributions) misses the score by {err:.3g}")
            gap = np.max(
                np.abs(exp.reconstruction().to_numpy() - model.score(pairs).to_numpy(dtype=float))
            )
            if not gap <= ADDITIVITY_TOL:
                _fail("explanation", f"contributions miss score() by {gap:.3g}")

    def save_load_roundtrip():
        model = fitted()
        folder = Path(tempfile.mkdtemp()) / "model"
        model.save(folder)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        if manifest["adapter"] != cls.name:
            _fail("save_load_roundtrip", "manifest names another adapter")
        pickled = _check_untrusted_refusal(cls, folder, manifest)
        loaded = load(folder, trusted=pickled)
        if type(loaded) is not cls:
            _fail("save_load_roundtrip", f"load returned {type(loaded).__name__}")
        pd.testing.assert_frame_equal(
            model.predict(users, k=k), loaded.predict(users, k=k), check_exact=True
        )
        pd.testing.assert_series_equal(model.score(pairs), loaded.score(pairs), check_exact=True)
        pd.testing.assert_frame_equal(
            model.explain(pairs).contributions,
            loaded.explain(pairs).contributions,
            check_exact=True,
        )
        _expect(
            UnknownIdError,
            "save_load_roundtrip",
            "unknown id after load",
            loaded.predict,
            ["__never_seen__"],
        )
        _check_tamper_detected(folder, manifest)

    def clone_unfitted():
        _check_clone_unfitted(fitted())

    def determinism():
        if not cls.deterministic:
            return
        a = clone(adapter).fit(data).predict(users, k=k)
        b = clone(adapter).fit(data).predict(users, k=k)
        pd.testing.assert_frame_equal(a, b, check_exact=True)

    def pickling():
        model = fitted()
        again = pickle.loads(pickle.dumps(model))
        pd.testing.assert_frame_equal(
            model.predict(users, k=k), again.predict(users, k=k), check_exact=True
        )

    def bad_input():
        """k must be a positive whole number; unknown keywords, saves onto a file and malformed
        manifests are typed errors."""
        model = fitted()
        for bad_k in (0, -1, 2.5):
            _expect(
                ParameterError,
                "bad_input",
                f"k={bad_k!r}",
                model.predict,
                users,
                k=bad_k,
                mention="k",
            )
        _check_unknown_param(adapter, lambda m: m.fit(data))
        _check_save_onto_file(model)
        _check_manifest_shape(model.save(Path(tempfile.mkdtemp()) / "model"))

    return [
        ("metadata", metadata),
        ("not_fitted", not_fitted),
        ("fit_does_not_modify_input", fit_does_not_modify_input),
        ("bad_input", bad_input),
        ("top_k", top_k),
        ("no_seen_items", no_seen_items),
        ("score_agrees", score_agrees),
        ("unknown_ids", unknown_ids),
        ("schema_errors", schema_errors),
        ("explanation", explanation),
        ("save_load_roundtrip", save_load_roundtrip),
        ("clone", clone_unfitted),
        ("determinism", determinism),
        ("pickling", pickling),
    ]


def checks(adapter) -> list[tuple[str, str, Callable[[], None]]]:
    """(dataset, check, callable) triples for a recommendation adapter instance.

    Datasets: ``interactions`` (ids only) and, for adapters declaring
    ``cold_start_features``, ``with_features`` (user and item feature frames).

    Parameters
    ----------
    adapter : RecommenderAdapter
        Unfitted; each check works on clones of it.

    Returns
    -------
    list of (dataset, check, callable)
        Calling the callable raises ``AssertionError`` when the check fails.

    Examples
    --------
    >>> import uniml
    >>> names = {c for _, c, _ in checks(uniml.make("lightfm.recommender"))}
    >>> {"top_k", "no_seen_items", "determinism"} <= names
    True
    """
    datasets = [("interactions", make_interaction_data(n_users=40, n_items=30, per_user=6))]
    if getattr(adapter, "cold_start_features", False):
        datasets.append(
            (
                "with_features",
                make_interaction_data(n_users=40, n_items=30, per_user=6, features=True, seed=1),
            )
        )
    return [
        (name, check, func)
        for name, data in datasets
        for check, func in _recommendation_checks(adapter, data)
    ]

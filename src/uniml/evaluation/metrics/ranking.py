"""Ranking metrics for recommendations, and the popularity baseline.

Every metric compares a recommendation frame (``user, item, rank`` — what a
recommender's ``predict`` returns) with held-out interactions (``user, item``;
duplicates count once) and averages over the users of the held-out frame:
a user with held-out items but no recommendations scores 0, users without
held-out items are not evaluated. Relevance is binary.

=================  ======================================================
metric             per user
=================  ======================================================
precision@k        hits in the top k / k (``lightfm.evaluation`` convention)
recall@k           hits in the top k / number of held-out items
ndcg@k             DCG of the top k / ideal DCG (``1/log2(rank + 1)`` gains)
map@k              average precision at the hits, / min(k, held-out items)
hit rate@k         1 if any hit in the top k
coverage@k         (global) distinct items recommended in the top k / catalogue size
=================  ======================================================

Only numpy and pandas are needed (no recommender library).

Examples
--------
>>> import pandas as pd
>>> recs = pd.DataFrame({"user": [1, 1, 2, 2], "item": ["a", "b", "a", "c"], "rank": [1, 2, 1, 2]})
>>> truth = pd.DataFrame({"user": [1, 2], "item": ["b", "z"]})
>>> precision_at_k(recs, truth, k=2), recall_at_k(recs, truth, k=2)
(0.25, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "PopularityRecommender",
    "catalogue_coverage",
    "hit_rate_at_k",
    "map_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_report",
    "recall_at_k",
]


def _hits(recommendations: pd.DataFrame, truth: pd.DataFrame, k: int, user: str, item: str):
    """Per evaluated user: a (n_users, k) bool matrix of hits by rank, and held-out counts."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    for name, frame in (("recommendations", recommendations), ("truth", truth)):
        missing = [c for c in (user, item) if c not in frame.columns]
        if missing:
            raise KeyError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
    truth = truth[[user, item]].drop_duplicates()
    users = pd.Index(pd.unique(truth[user]))
    n_rel = truth.groupby(user, sort=False).size().reindex(users).to_numpy(dtype=float)
    recs = recommendations
    if "rank" not in recs.columns:
        recs = recs.assign(rank=recs.groupby(user, sort=False).cumcount() + 1)
    recs = recs.loc[recs["rank"] <= k, [user, item, "rank"]]
    hit = (
        recs.merge(truth.assign(_rel=True), on=[user, item], how="left")["_rel"]
        .fillna(False)
        .to_numpy(bool)
    )
    matrix = np.zeros((len(users), k), dtype=bool)
    rows = users.get_indexer(recs[user])
    ok = (rows >= 0) & hit
    matrix[rows[ok], recs["rank"].to_numpy(dtype=np.int64)[ok] - 1] = True
    return matrix, n_rel


def precision_at_k(
    recommendations, truth, k: int = 10, *, user: str = "user", item: str = "item"
) -> float:
    """Mean share of the top ``k`` that is relevant (divides by ``k``, like ``lightfm.evaluation``).

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    user, item : str
        Column names in both frames.

    Returns
    -------
    float
        In [0, 1]; 0 when ``truth`` has no rows.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "rank": [1, 2]})
    >>> precision_at_k(recs, pd.DataFrame({"user": [1], "item": ["a"]}), k=2)
    0.5
    """
    hits, _ = _hits(recommendations, truth, k, user, item)
    return float(hits.sum(axis=1).mean() / k) if len(hits) else 0.0


def recall_at_k(
    recommendations, truth, k: int = 10, *, user: str = "user", item: str = "item"
) -> float:
    """Mean share of each user's held-out items found in the top ``k``.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    user, item : str
        Column names in both frames.

    Returns
    -------
    float
        In [0, 1]; 0 when ``truth`` has no rows.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "rank": [1, 2]})
    >>> recall_at_k(recs, pd.DataFrame({"user": [1, 1], "item": ["a", "c"]}), k=2)
    0.5
    """
    hits, n_rel = _hits(recommendations, truth, k, user, item)
    return float((hits.sum(axis=1) / n_rel).mean()) if len(hits) else 0.0


def ndcg_at_k(
    recommendations, truth, k: int = 10, *, user: str = "user", item: str = "item"
) -> float:
    """Mean normalised discounted cumulative gain at ``k`` (binary relevance).

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    user, item : str
        Column names in both frames.

    Returns
    -------
    float
        In [0, 1] (1: every held-out item ranked first); 0 when ``truth`` has no rows.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "rank": [1, 2]})
    >>> round(ndcg_at_k(recs, pd.DataFrame({"user": [1], "item": ["b"]}), k=2), 4)
    0.6309
    """
    hits, n_rel = _hits(recommendations, truth, k, user, item)
    if not len(hits):
        return 0.0
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(disc)[np.minimum(n_rel, k).astype(int) - 1]
    return float(((hits * disc).sum(axis=1) / ideal).mean())


def map_at_k(
    recommendations, truth, k: int = 10, *, user: str = "user", item: str = "item"
) -> float:
    """Mean average precision at ``k``: precision at each hit, averaged over ``min(k, held-out)``.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    user, item : str
        Column names in both frames.

    Returns
    -------
    float
        In [0, 1]; 0 when ``truth`` has no rows.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "rank": [1, 2]})
    >>> map_at_k(recs, pd.DataFrame({"user": [1], "item": ["b"]}), k=2)
    0.5
    """
    hits, n_rel = _hits(recommendations, truth, k, user, item)
    if not len(hits):
        return 0.0
    prec = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return float(((prec * hits).sum(axis=1) / np.minimum(n_rel, k)).mean())


def hit_rate_at_k(
    recommendations, truth, k: int = 10, *, user: str = "user", item: str = "item"
) -> float:
    """Share of users with at least one held-out item in their top ``k``.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    user, item : str
        Column names in both frames.

    Returns
    -------
    float
        In [0, 1]; 0 when ``truth`` has no rows.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 2], "item": ["a", "a"], "rank": [1, 1]})
    >>> hit_rate_at_k(recs, pd.DataFrame({"user": [1, 2], "item": ["a", "b"]}), k=1)
    0.5
    """
    hits, _ = _hits(recommendations, truth, k, user, item)
    return float(hits.any(axis=1).mean()) if len(hits) else 0.0


def catalogue_coverage(recommendations, catalogue, k: int = 10, *, item: str = "item") -> float:
    """Share of the catalogue that appears in anyone's top ``k``.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        An ``item`` column and, optionally, ``rank`` (without it every row counts).
    catalogue : int or array-like
        Catalogue size, or the item ids in it (recommended items outside it do not count).
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    item : str, default "item"
        Item column of ``recommendations``.

    Returns
    -------
    float
        In [0, 1]; 0 for an empty catalogue.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1, 2], "item": ["a", "a"], "rank": [1, 1]})
    >>> catalogue_coverage(recs, ["a", "b", "c", "d"])
    0.25
    """
    recs = recommendations
    if "rank" in recs.columns:
        recs = recs[recs["rank"] <= k]
    size = (
        catalogue
        if isinstance(catalogue, (int, np.integer))
        else len(pd.unique(np.asarray(catalogue)))
    )
    if isinstance(catalogue, (int, np.integer)):
        shown = recs[item].nunique()
    else:
        shown = int(pd.Index(pd.unique(recs[item])).isin(pd.unique(np.asarray(catalogue))).sum())
    return float(shown / size) if size else 0.0


def ranking_report(
    recommendations, truth, k: int = 10, *, catalogue=None, user: str = "user", item: str = "item"
) -> dict[str, float]:
    """Every ranking metric at ``k`` in one dict (coverage only when ``catalogue`` is given).

    Parameters
    ----------
    recommendations : pandas.DataFrame
        ``user``, ``item`` and ``rank`` columns (rank 1 is best); without
        ``rank``, row order within each user is the ranking.
    truth : pandas.DataFrame
        Held-out interactions, ``user`` and ``item`` columns.
    k : int, default 10
        Cut-off: only ranks 1 to ``k`` count.
    catalogue : int or array-like, optional
        Catalogue size or item ids; adds ``coverage@k``.
    user, item : str
        Column names in both frames.

    Returns
    -------
    dict of str to float
        ``precision@k``, ``recall@k``, ``ndcg@k``, ``map@k``, ``hit_rate@k``
        and, with ``catalogue``, ``coverage@k``.

    Raises
    ------
    ValueError
        ``k`` below 1.
    KeyError
        A frame lacks the ``user`` or ``item`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"user": [1], "item": ["a"], "rank": [1]})
    >>> sorted(ranking_report(recs, pd.DataFrame({"user": [1], "item": ["a"]}), k=1))
    ['hit_rate@1', 'map@1', 'ndcg@1', 'precision@1', 'recall@1']
    """
    kw = {"user": user, "item": item}
    out = {
        f"precision@{k}": precision_at_k(recommendations, truth, k, **kw),
        f"recall@{k}": recall_at_k(recommendations, truth, k, **kw),
        f"ndcg@{k}": ndcg_at_k(recommendations, truth, k, **kw),
        f"map@{k}": map_at_k(recommendations, truth, k, **kw),
        f"hit_rate@{k}": hit_rate_at_k(recommendations, truth, k, **kw),
    }
    if catalogue is not None:
        out[f"coverage@{k}"] = catalogue_coverage(recommendations, catalogue, k, item=item)
    return out


class PopularityRecommender:
    """Baseline: recommend the most-interacted items, excluding what each user has seen.

    Parameters
    ----------
    weighted : bool, default False
        Rank by summed interaction weight instead of interaction count.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 2, 2, 3], "item": ["a", "a", "b", "c"]})
    >>> PopularityRecommender().fit(df).predict([1], k=2)["item"].tolist()
    ['b', 'c']
    """

    def __init__(self, weighted: bool = False):
        self.weighted = weighted

    def fit(self, data, user: str = "user", item: str = "item", weight: str | None = None):
        """Count interactions per item; ``data`` is an InteractionData or a DataFrame.

        Parameters
        ----------
        data : InteractionData or pandas.DataFrame
            The training interactions; an InteractionData brings its own
            ``user``, ``item`` and ``weight`` roles (the arguments are then ignored).
        user, item : str
            Columns of a DataFrame ``data``.
        weight : str, optional
            Weight column of a DataFrame ``data``, summed when ``weighted``.

        Returns
        -------
        PopularityRecommender
            ``self``, fitted: ``items_`` and ``scores_`` (most popular first, ties
            in order of first appearance) and ``seen_`` (each user's items).
        """
        if hasattr(data, "frame") and hasattr(data, "user"):
            frame, user, item, weight = data.frame, data.user, data.item, data.weight
        else:
            frame = data
        if self.weighted and weight is not None:
            counts = frame.groupby(item, sort=False)[weight].sum()
        else:
            counts = frame.groupby(item, sort=False).size()
        order = np.lexsort((np.arange(len(counts)), -counts.to_numpy(dtype=float)))
        self.items_ = counts.index[order]
        self.scores_ = counts.to_numpy(dtype=float)[order]
        self.seen_ = frame.groupby(user, sort=False)[item].agg(set).to_dict()
        return self

    def predict(self, users, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top ``k`` popular items per user: columns ``user, item, score, rank``.

        Parameters
        ----------
        users : scalar or iterable
            One user id or several; unknown users get the overall top ``k``.
        k : int, default 10
            Items per user (fewer when the user has seen most of the catalogue).
        exclude_seen : bool, default True
            Leave out the items each user interacted with during ``fit``.

        Returns
        -------
        pandas.DataFrame
            ``user, item, score, rank`` (rank 1 first), users in the given order.
        """
        users = list(users) if not isinstance(users, (str, int)) else [users]
        parts = []
        for u in users:
            if exclude_seen and u in self.seen_:
                keep = ~pd.Index(self.items_).isin(list(self.seen_[u]))
                items, scores = self.items_[keep][:k], self.scores_[keep][:k]
            else:
                items, scores = self.items_[:k], self.scores_[:k]
            parts.append(
                pd.DataFrame(
                    {
                        "user": [u] * len(items),
                        "item": items,
                        "score": scores,
                        "rank": np.arange(1, len(items) + 1),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["user", "item", "score", "rank"])
        return pd.concat(parts, ignore_index=True)

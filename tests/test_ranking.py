"""Ranking metrics: hand-computed values, lightfm.evaluation parity, the popularity baseline."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from uniml.evaluation.metrics.ranking import (
    PopularityRecommender,
    catalogue_coverage,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
)

RECS = pd.DataFrame(
    {
        "user": ["a"] * 3 + ["b"] * 3,
        "item": [1, 2, 3, 4, 5, 6],
        "rank": [1, 2, 3, 1, 2, 3],
    }
)
TRUTH = pd.DataFrame(
    {"user": ["a", "a", "b", "c"], "item": [2, 9, 6, 1]}
)  # c has no recommendations


def test_hand_computed_values():
    # a: hit at rank 2 of 2 relevant; b: hit at rank 3 of 1 relevant; c: nothing recommended
    assert precision_at_k(RECS, TRUTH, k=3) == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert recall_at_k(RECS, TRUTH, k=3) == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert hit_rate_at_k(RECS, TRUTH, k=3) == pytest.approx(2 / 3)
    assert hit_rate_at_k(RECS, TRUTH, k=1) == 0.0
    ndcg_a = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    ndcg_b = (1 / np.log2(4)) / 1
    assert ndcg_at_k(RECS, TRUTH, k=3) == pytest.approx((ndcg_a + ndcg_b) / 3)
    assert map_at_k(RECS, TRUTH, k=3) == pytest.approx(((1 / 2) / 2 + (1 / 3) / 1) / 3)
    assert catalogue_coverage(RECS, range(1, 13), k=2) == pytest.approx(4 / 12)
    assert catalogue_coverage(RECS, 12, k=3) == pytest.approx(6 / 12)


def test_duplicates_in_truth_count_once_and_order_defines_rank():
    truth = pd.concat([TRUTH, TRUTH])
    no_rank = RECS.drop(columns="rank")
    assert precision_at_k(no_rank, truth, k=3) == precision_at_k(RECS, TRUTH, k=3)
    report = ranking_report(RECS, TRUTH, k=3, catalogue=12)
    assert set(report) == {"precision@3", "recall@3", "ndcg@3", "map@3", "hit_rate@3", "coverage@3"}


def test_perfect_ranking_scores_one():
    truth = RECS[RECS["rank"] <= 2][["user", "item"]]
    for metric in (recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k):
        assert metric(RECS, truth, k=2) == pytest.approx(1.0)
    assert precision_at_k(RECS, truth, k=2) == pytest.approx(1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(RECS, TRUTH, k=0)
    with pytest.raises(KeyError, match="customer"):
        precision_at_k(RECS, TRUTH, k=2, user="customer")


def test_popularity_baseline_excludes_seen_and_ranks_by_count():
    df = pd.DataFrame(
        {"user": [1, 2, 3, 3, 4], "item": ["x", "x", "x", "y", "z"], "w": [1, 1, 1, 5, 1]}
    )
    pop = PopularityRecommender().fit(df)
    assert pop.predict([4], k=3)["item"].tolist() == ["x", "y"]
    assert pop.predict(["new"], k=2)["item"].tolist() == ["x", "y"]
    assert pop.predict([3], k=5, exclude_seen=False)["rank"].tolist() == [1, 2, 3]
    weighted = PopularityRecommender(weighted=True).fit(df, weight="w")
    assert weighted.predict(["new"], k=1)["item"].tolist() == ["y"]


def test_metrics_agree_with_lightfm_evaluation():
    import lightfm
    import scipy.sparse as sp
    from lightfm.evaluation import precision_at_k as lfm_precision
    from lightfm.evaluation import recall_at_k as lfm_recall

    import uniml
    from uniml.core.recommendation import InteractionData
    from uniml.testing.recommendation import make_interaction_data

    data = make_interaction_data(n_users=80, n_items=50, per_user=10, seed=4)
    frame = data.frame
    test_mask = np.random.default_rng(0).uniform(size=len(frame)) < 0.3
    train, test = frame[~test_mask], frame[test_mask]
    model = uniml.make("lightfm.recommender", epochs=5, no_components=8, random_state=0).fit(
        InteractionData(train, user="user", item="item")
    )
    test = test[test["item"].isin(model.item_map_.ids)]
    shape = (model.n_users_, model.n_items_)

    def matrix(f):
        return sp.coo_matrix(
            (
                np.ones(len(f), dtype=np.float32),
                (model.user_map_.lookup(f["user"]), model.item_map_.lookup(f["item"])),
            ),
            shape=shape,
        )

    rec = model.predict(test["user"].unique(), k=5)
    for ours, theirs in ((precision_at_k, lfm_precision), (recall_at_k, lfm_recall)):
        expected = theirs(
            model.model_,
            matrix(test).tocsr(),
            matrix(train).tocsr(),
            k=5,
            user_features=model.user_features_,
            item_features=model.item_features_,
        ).mean()
        assert ours(rec, test, k=5) == pytest.approx(float(expected), abs=1e-6)
    assert lightfm is not None


def test_evaluation_imports_without_lightfm_and_is_not_imported_by_uniml():
    code = (
        "import sys; sys.modules['lightfm'] = None\n"
        "import uniml; assert 'uniml.evaluation' not in sys.modules\n"
        "from uniml.evaluation.metrics import ranking; print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "ok"

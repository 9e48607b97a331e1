"""Property tests: id maps round-trip any supported id type; top-k invariants on random interactions."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uniml
from uniml.core.errors import DataContractError
from uniml.core.recommendation import IdMap, InteractionData

scalar_ids = st.one_of(
    st.integers(-(2**62), 2**62),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)
ids = st.one_of(scalar_ids, st.tuples(st.text(max_size=3), st.integers(0, 9)))


@given(st.lists(ids, min_size=1, max_size=30, unique_by=lambda v: (type(v).__name__, v)))
def test_id_map_json_round_trip(values):
    index = pd.Index(values, dtype=object, tupleize_cols=False)
    if index.has_duplicates:  # 1 == 1.0 in pandas: not a valid id set
        return
    m = IdMap(index)
    back = IdMap.from_json(json.loads(json.dumps(m.to_json())))
    assert list(back.ids) == list(m.ids)
    assert [type(v) for v in back.ids] == [type(v) for v in m.ids]
    assert back.lookup(values).tolist() == list(range(len(values)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(1, 12))
def test_top_k_invariants_on_random_interactions(seed, k):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    frame = pd.DataFrame({"user": rng.integers(0, 8, n), "item": rng.choice(list("abcdefghij"), n)})
    model = uniml.make("lightfm.recommender", epochs=1, no_components=2, random_state=0).fit(frame)
    users = list(model.user_map_.ids)
    rec = model.predict(users, k=k)
    for user, block in rec.groupby("user", sort=False):
        seen = set(model.seen_items(user))
        assert not seen & set(block["item"])
        assert len(block) == min(k, model.n_items_ - len(seen))
        assert block["rank"].tolist() == list(range(1, len(block) + 1))
        assert (np.diff(block["score"].to_numpy()) <= 1e-6).all()


def test_feature_frames_without_rows_for_every_id_are_refused():
    frame = pd.DataFrame({"user": [1, 2], "item": ["a", "b"]})
    feats = pd.DataFrame({"segment": ["x"]}, index=[1])
    with pytest.raises(DataContractError, match="segment"):
        uniml.make("lightfm.recommender").fit(
            InteractionData(frame, user="user", item="item", user_features=feats)
        )

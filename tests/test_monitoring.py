"""Monitoring: statistics against scipy, known-answer drift, false alarms, label-free estimates, profiles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.spatial.distance import jensenshannon

from uniml.monitoring import (
    DriftAlert,
    MonitoringError,
    PerformanceAlert,
    Profile,
    _stats,
    monitor,
    read_current,
)

floats = hs.lists(
    hs.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 1)),  # rounding makes ties
    min_size=1,
    max_size=60,
)


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")
@settings(max_examples=150, deadline=None)
@given(floats, floats)
def test_wasserstein_and_ks_equal_scipy(a, b):
    a, b = np.sort(np.array(a)), np.sort(np.array(b))
    assert _stats.wasserstein_sorted(a, b) == pytest.approx(
        st.wasserstein_distance(a, b), abs=1e-9, rel=1e-9
    )
    assert _stats.ks_sorted(a, b) == pytest.approx(st.ks_2samp(a, b).statistic, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.integers(0, 50), min_size=2, max_size=12), hs.randoms(use_true_random=False))
def test_js_distance_equals_scipy(counts, rnd):
    p = np.array(counts, float) + 1e-3
    q = np.array([rnd.randint(0, 50) for _ in counts], float)
    q[0] += 1  # never all zero
    assert _stats.js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)


def test_benjamini_hochberg_equals_scipy():
    p = np.random.default_rng(3).uniform(size=40) ** 3
    np.testing.assert_allclose(
        _stats.benjamini_hochberg(p), st.false_discovery_control(p), atol=1e-12
    )
    with_nan = _stats.benjamini_hochberg([0.01, np.nan, 0.02])
    assert np.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02)


def test_exact_mode_statistics_equal_scipy():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.gamma(2.0, size=3000)})
    cur = pd.DataFrame({"x": rng.gamma(2.3, size=4000) + 0.1})
    profile = Profile.fit(ref)
    col = profile.columns["x"]
    assert col.exact and col.sketch_error == 0
    stats = monitor(profile, cur, emit=False).column("x").statistics
    std = ref["x"].std(ddof=0)
    assert stats["wasserstein"] * std == pytest.approx(
        st.wasserstein_distance(ref["x"], cur["x"]), abs=1e-9
    )
    assert stats["ks"] == pytest.approx(st.ks_2samp(ref["x"], cur["x"]).statistic, abs=1e-9)
    # JS and PSI on the reference's decile bins, counted independently with numpy
    edges = np.quantile(ref["x"], np.linspace(0, 1, 11)[1:-1])
    p = np.bincount(np.searchsorted(edges, ref["x"], side="right"), minlength=10)
    q = np.bincount(np.searchsorted(edges, cur["x"], side="right"), minlength=10)
    assert stats["js"] == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)
    pp, qq = np.clip(p / p.sum(), 1e-4, None), np.clip(q / q.sum(), 1e-4, None)
    assert stats["psi"] == pytest.approx(np.sum((qq - pp) * np.log(qq / pp)), abs=1e-9)


def test_sketch_error_is_a_bound_and_small():
    rng = np.random.default_rng(1)
    ref = rng.lognormal(size=300_000)
    profile = Profile.fit(pd.DataFrame({"x": ref}), sketch_size=10_000)
    col = profile.columns["x"]
    assert not col.exact and col.sketch.size == 10_000
    # stated: the sketch is within 0.5 % of a standard deviation (Wasserstein) and 1e-4 (KS)
    assert col.sketch_error / col.std < 5e-3 and col.ks_error <= 1.0 / 10_000
    for shift in (0.0, 0.05, 0.5):
        cur = np.sort(rng.lognormal(mean=shift, size=50_000))
        full_w = st.wasserstein_distance(ref, cur)
        sketch_w = _stats.wasserstein_sorted(cur, col.sketch)
        assert abs(sketch_w - full_w) <= col.sketch_error + 1e-12
        full_ks = st.ks_2samp(ref, cur).statistic
        assert abs(_stats.ks_sorted(cur, col.sketch) - full_ks) <= col.ks_error + 1e-12


@pytest.mark.parametrize(
    ("shift", "scale", "level"),
    [(0.5, 1.0, "alert"), (0.15, 1.0, "warn"), (0.0, 1.6, "alert"), (0.02, 1.0, "ok")],
)
def test_known_shifts_are_detected_at_their_size(shift, scale, level):
    rng = np.random.default_rng(2)
    profile = Profile.fit(pd.DataFrame({"x": rng.normal(size=50_000)}))
    report = monitor(
        profile, pd.DataFrame({"x": rng.normal(shift, scale, size=50_000)}), emit=False
    )
    col = report.column("x")
    # normalised W1 of N(0,1) -> N(m, s): |m| for s = 1; for m = 0, (s - 1) * sqrt(2/pi)
    expected = shift if scale == 1.0 else (scale - 1) * np.sqrt(2 / np.pi)
    assert col.statistics["wasserstein"] == pytest.approx(expected, abs=0.02)
    assert col.level == level


def _no_shift_alerts(n: int, seeds) -> tuple[int, int]:
    """Alert-level findings over columns x seeds when reference and current share a distribution."""
    alerts = checks = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)

        def frame(size, rng=rng):
            return pd.DataFrame(
                {
                    "normal": rng.normal(size=size),
                    "skewed": rng.lognormal(size=size),
                    "discrete": rng.poisson(3, size=size).astype(float),
                    "cat": rng.choice(
                        list("abcdefgh"), size=size, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.04, 0.01]
                    ),
                    "gappy": np.where(rng.random(size) < 0.1, np.nan, rng.uniform(size=size)),
                }
            )

        profile = Profile.fit(frame(max(n, 5000)))
        report = monitor(profile, frame(n), emit=False)
        alerts += sum(c.level == "alert" for c in report.columns) + (
            report.multivariate["level"] == "alert"
        )
        checks += len(report.columns) + 1
    return alerts, checks


@pytest.mark.parametrize(
    ("n", "seeds"), [(1000, range(30)), (100_000, range(4)), (1_000_000, range(1))]
)
def test_no_shift_raises_no_alert(n, seeds):
    alerts, checks = _no_shift_alerts(n, seeds)
    assert alerts == 0, f"{alerts} false alarms in {checks} checks at {n} rows"


def test_new_category_at_two_percent_is_flagged_once():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"c": rng.choice(list("abc"), 20_000), "x": rng.normal(size=20_000)})
    cur = pd.DataFrame({"c": rng.choice(list("abc"), 10_000), "x": rng.normal(size=10_000)})
    cur.loc[rng.choice(10_000, 200, replace=False), "c"] = "new"
    report = monitor(Profile.fit(ref), cur, emit=False)
    drift = [a for a in report.alerts if isinstance(a, DriftAlert)]
    assert [a.column for a in drift] == ["c"]
    col = report.column("c")
    assert col.statistics["unseen"] == pytest.approx(0.02)
    assert col.statistics["unseen_categories"] == {"new": pytest.approx(0.02)}
    assert any("unseen" in r and "'new' 2.0%" in r for r in col.reasons)


def test_missing_rate_change_is_flagged_on_its_own():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=20_000)})
    x = rng.normal(size=20_000)
    x[rng.random(20_000) < 0.08] = np.nan  # same distribution, 8 % now missing
    col = monitor(Profile.fit(ref), pd.DataFrame({"x": x}), emit=False).column("x")
    assert col.level == "alert" and col.statistics["levels"] == {
        "wasserstein": "ok",
        "js": "ok",
        "missing": "alert",
    }


def test_small_samples_need_significance_after_benjamini_hochberg():
    rng = np.random.default_rng(6)
    profile = Profile.fit(pd.DataFrame({f"x{i}": rng.normal(size=5000) for i in range(10)}))
    small = monitor(
        profile, pd.DataFrame({f"x{i}": rng.normal(size=60) for i in range(10)}), emit=False
    )
    pvals = [small.column(f"x{i}").statistics["p_value"] for i in range(10)]
    adjusted = [small.column(f"x{i}").statistics["p_adjusted"] for i in range(10)]
    np.testing.assert_allclose(adjusted, st.false_discovery_control(pvals))
    assert small.level == "ok"  # noisy effect sizes at 60 rows, none significant
    big = monitor(
        profile, pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(10)}), emit=False
    )
    assert "p_value" not in big.column("x0").statistics  # p-values only for small samples


def test_threshold_overrides_and_learned_thresholds():
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=20_000), "y": rng.normal(size=20_000)})
    cur = pd.DataFrame({"x": rng.normal(0.12, size=2000), "y": rng.normal(0.12, size=2000)})
    profile = Profile.fit(ref, learn_thresholds=True, chunk_size=2000, k=3)
    default = monitor(profile, cur, emit=False)
    assert default.column("x").level == "warn"
    custom = monitor(profile, cur, thresholds={"x": {"wasserstein": (0.05, 0.1)}}, emit=False)
    assert custom.column("x").level == "alert" and custom.column("y").level == "warn"
    assert custom.column("x").thresholds["source"] == "override"
    learned = monitor(profile, cur, learned_thresholds=True, emit=False)
    info = profile.learned["x"]["wasserstein"]
    assert info["n_chunks"] == 10 and info["chunk_size"] == 2000
    assert learned.column("x").thresholds["wasserstein"][1] == pytest.approx(
        info["mean"] + 3 * info["std"]
    )
    assert learned.column("x").level == "alert"  # a 0.12 sigma shift is far outside chunk noise
    with pytest.raises(MonitoringError, match="unknown statistic 'wass'"):
        monitor(profile, cur, thresholds={"x": {"wass": (0.1, 0.2)}}, emit=False)


def _binary_world(rng, n, mean):
    X = pd.DataFrame({"a": rng.normal(mean, 1, n), "b": rng.normal(0, 1, n)})
    p = 1 / (1 + np.exp(-(1.5 * X["a"] - X["b"])))
    y = (rng.random(n) < p).astype(int)
    return X, y


def test_cbpe_tracks_realised_accuracy_under_covariate_shift():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(8)
    X, y = _binary_world(rng, 20_000, 0.0)
    model = LogisticRegression().fit(X, y)
    profile = Profile.fit(X.assign(y=y), model, target="y")
    assert profile.cbpe is not None
    inside = 0
    seeds = range(20)
    for seed in seeds:
        Xc, yc = _binary_world(np.random.default_rng(100 + seed), 3000, 1.2)  # covariate shift only
        cur = Xc.assign(prediction=model.predict(Xc), proba=model.predict_proba(Xc)[:, 1])
        est = monitor(profile, cur, emit=False).performance["estimated"]["accuracy"]
        realised = float((cur["prediction"] == yc).mean())
        inside += est["interval"][0] <= realised <= est["interval"][1]
        assert est["method"] == "CBPE" and "no concept drift" in est["assumptions"]
    assert inside >= 17, f"the 95 % interval held {inside} times in {len(seeds)}"
    # with actuals, the realised accuracy is measured instead
    full = monitor(profile, cur, actuals=yc, emit=False)
    assert full.performance["realised"]["accuracy"]["value"] == pytest.approx(realised)


def test_performance_alert_with_actuals_under_concept_drift():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(9)
    X, y = _binary_world(rng, 10_000, 0.0)
    model = LogisticRegression().fit(X, y)
    profile = Profile.fit(X.assign(y=y), model, target="y")
    Xc, _ = _binary_world(rng, 5000, 0.0)
    flipped = 1 - model.predict(Xc)  # the world turned around
    cur = Xc.assign(prediction=model.predict(Xc), proba=model.predict_proba(Xc)[:, 1])
    report = monitor(profile, cur, actuals=flipped, emit=False)
    perf = [a for a in report.alerts if isinstance(a, PerformanceAlert)]
    assert [a.metric for a in perf] == ["accuracy"] and not perf[0].estimated


def test_dle_estimates_mae_under_covariate_shift():
    rng = np.random.default_rng(10)

    def world(n, mean):
        X = pd.DataFrame({"a": rng.normal(mean, 1, n), "b": rng.uniform(size=n)})
        y = X["a"] + rng.normal(scale=0.2 + np.abs(X["a"]), size=n)  # noise grows with |a|
        return X, y

    X, y = world(8000, 0.0)
    profile = Profile.fit(X.assign(y=y, prediction=X["a"]), target="y", task="regression")
    Xc, yc = world(4000, 1.0)
    est = monitor(profile, Xc.assign(prediction=Xc["a"]), emit=False).performance["estimated"][
        "mae"
    ]
    realised = float(np.mean(np.abs(yc - Xc["a"])))
    assert est["method"] == "DLE"
    assert est["interval"][0] - 0.05 * realised <= realised <= est["interval"][1] + 0.05 * realised
    assert est["value"] > profile.performance["metrics"]["mae"]["value"] * 1.3  # it saw the shift


def test_profile_save_load_round_trip_without_pickle(tmp_path):
    rng = np.random.default_rng(11)
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=30_000),
            "c": rng.choice(["a", "b"], 30_000),
            "y": rng.integers(0, 2, 30_000),
        }
    )
    ref["proba"] = rng.uniform(size=30_000)
    ref["prediction"] = (ref["proba"] > 0.5).astype(int)
    profile = Profile.fit(ref, target="y", proba="proba", sketch_size=1000, learn_thresholds=True)
    path = profile.save(tmp_path / "p.npz")
    with np.load(path, allow_pickle=False) as data:  # nothing in the file needs pickle
        assert "__header__" in data.files
    loaded = Profile.load(path)
    cur = ref.sample(5000, random_state=1).drop(columns="y")
    a, b = monitor(profile, cur, emit=False), monitor(loaded, cur, emit=False)
    assert json.dumps(a.to_dict()["columns"]) == json.dumps(b.to_dict()["columns"])
    assert (
        a.performance["estimated"]["accuracy"]["value"]
        == b.performance["estimated"]["accuracy"]["value"]
    )
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(MonitoringError, match="not a uniml profile"):
        Profile.load(tmp_path / "bad.npz")


def test_profile_from_evaluation_out_of_fold_predictions():
    rng = np.random.default_rng(12)
    X = pd.DataFrame({"a": rng.normal(size=500)})
    oof = pd.DataFrame(
        {
            "model": ["m"] * 500 + ["base"] * 500,
            "y_true": np.r_[X["a"], X["a"]],
            "y_pred": np.r_[X["a"] + 0.5, np.zeros(500)],
        }
    )
    report = type("R", (), {"predictions": oof, "roles": {"m": "candidate", "base": "baseline"}})()
    profile = Profile.fit(X.assign(prediction=X["a"]), evaluation=report, task="regression")
    assert profile.performance["source"] == "out-of-fold"
    assert profile.performance["metrics"]["mae"]["value"] == pytest.approx(0.5)
    with pytest.raises(MonitoringError, match="several models"):
        Profile.fit(X, evaluation=oof.assign(model=oof["model"]), task="regression")


def test_bad_input_is_a_typed_error_naming_the_problem():
    profile = Profile.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0], "z": ["a", "b", "a"]}))
    with pytest.raises(MonitoringError, match=r"lacks profiled column\(s\) \['z'\]"):
        monitor(profile, pd.DataFrame({"x": [1.0]}), emit=False)
    with pytest.raises(MonitoringError, match="column 'x': expected numbers"):
        monitor(profile, pd.DataFrame({"x": ["a"], "z": ["a"]}), emit=False)
    with pytest.raises(MonitoringError, match="actuals: 2 values for 1 current rows"):
        monitor(profile, pd.DataFrame({"x": [1.0], "z": ["a"]}), actuals=[1, 2], emit=False)
    with pytest.raises(MonitoringError, match="target column 'y'"):
        Profile.fit(pd.DataFrame({"x": [1.0]}), target="y")


def test_reads_the_serving_prediction_log_layout(tmp_path):
    rng = np.random.default_rng(13)
    for day in ("2026-12-05", "2026-12-06"):
        folder = tmp_path / f"date={day}"
        folder.mkdir()
        lines = [
            json.dumps(
                {
                    "ts": f"{day}T0{i % 10}:00:00+00:00",
                    "request_id": f"r{i}",
                    "row": 0,
                    "model_name": "churn",
                    "model_version": "3",
                    "run_id": "abc",
                    "features": {"x": float(rng.normal()), "c": str(rng.choice(["a", "b"]))},
                    "prediction": float(rng.uniform()),
                }
            )
            for i in range(50)
        ]
        (folder / "part-1-0-00001.jsonl").write_text("\n".join(lines) + "\n")
    frame = read_current(tmp_path)
    assert len(frame) == 100
    assert {"timestamp", "x", "c", "prediction", "request_id", "model_version"} <= set(frame)
    assert len(read_current(tmp_path, since="2026-12-06")) == 50
    flat = tmp_path / "flat.parquet"
    frame.drop(columns=["row"]).to_parquet(flat)
    assert read_current(flat)["x"].tolist() == frame["x"].tolist()
    with pytest.raises(MonitoringError, match="does not exist"):
        read_current(tmp_path / "nowhere")


def test_multivariate_drift_sees_a_broken_correlation_the_marginals_hide():
    rng = np.random.default_rng(14)
    z = rng.normal(size=(20_000, 2))
    ref = pd.DataFrame({"x": z[:, 0], "y": 0.95 * z[:, 0] + np.sqrt(1 - 0.95**2) * z[:, 1]})
    cur = pd.DataFrame({"x": rng.normal(size=10_000), "y": rng.normal(size=10_000)})
    report = monitor(Profile.fit(ref), cur, emit=False, domain_classifier=True)
    assert [c.level for c in report.columns] == ["ok", "ok"]  # each column alone is unchanged
    pca = report.multivariate["pca_error"]
    assert pca["level"] == "alert" and pca["value"] > 2 * pca["reference"]
    assert [a.statistic for a in report.alerts] == ["pca_error"]
    # the domain classifier needs every reference value (20,000 rows > the 10,000-point sketch)
    assert report.multivariate["domain_auc"]["note"] == "needs an exact numeric profile"
    shifted = monitor(
        Profile.fit(ref.iloc[:5000]), cur.assign(x=cur["x"] + 1), emit=False, domain_classifier=True
    )
    assert shifted.multivariate["domain_auc"]["value"] > 0.6

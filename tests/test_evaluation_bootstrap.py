"""The per-row paired bootstrap of the evaluation harness.

Checked against independent computations: scikit-learn's metrics on the
same resampled rows (a plain loop over the resamples, same seed), a
coverage simulation with a known true difference, and the per-row forms of
every built-in metric against the metric functions.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge

import uniml
from uniml.evaluation import StratifiedKFold, evaluate
from uniml.evaluation._bootstrap import RowBootstrap, kernel
from uniml.evaluation.metrics import Metric, get_metric
from uniml.evaluation.metrics import classification as cm


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :5], y


def ridge(alpha):
    return uniml.make("sklearn.estimator", estimator=Ridge(alpha=alpha))


def _point(k, n):
    """A kernel's value on the fold itself (every row once)."""
    if hasattr(k, "stats"):
        return float(k.values(k.stats.sum(axis=0, keepdims=True))[0])
    return float(k.values(np.ones((n, 1), dtype=np.int32))[0])


# ------------------------------------------------------------- per-row forms of the metrics
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 60), st.sampled_from([2, 3]), st.booleans())
def test_kernels_reproduce_the_metrics(seed, n, n_classes, ties):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=n) * 3 + 1
    p = t + rng.normal(size=n)
    for name, sk in (
        ("rmse", lambda a, b: np.sqrt(skm.mean_squared_error(a, b))),
        ("mae", skm.mean_absolute_error),
        ("r2", skm.r2_score),
        ("mape", skm.mean_absolute_percentage_error),
    ):
        k = kernel(get_metric("regression", name), {"y_true": t, "y_pred": p})
        assert _point(k, n) == pytest.approx(sk(t, p), rel=1e-9, abs=1e-12), name
    labels = np.arange(n_classes)
    y = np.r_[labels, rng.integers(0, n_classes, n - n_classes)]  # every class present
    raw = rng.random((n, n_classes))
    if ties:
        raw = np.round(raw, 1) + 0.01
    proba = raw / raw.sum(axis=1, keepdims=True)
    score = proba[:, 1] if n_classes == 2 else proba
    src = {"y_true": y, "proba": score, "labels": labels, "y_pred": labels[proba.argmax(axis=1)]}
    expected = {
        "roc_auc": skm.roc_auc_score(y, score, multi_class="ovr")
        if n_classes > 2
        else skm.roc_auc_score(y, score),
        "log_loss": skm.log_loss(y, proba, labels=labels),
        "brier": cm.brier(y, score, labels=labels),
        "f1": skm.f1_score(
            y, src["y_pred"], average="binary" if n_classes == 2 else "macro", zero_division=0.0
        ),
        "ece": cm.ece(y, score, labels=labels),
    }
    if n_classes == 2:
        expected["brier"] = skm.brier_score_loss(y, score)
    for name, value in expected.items():
        k = kernel(get_metric("classification", name), src)
        assert _point(k, n) == pytest.approx(value, rel=1e-9, abs=1e-12), name
    # forecasting: sMAPE, MASE (some series without a scale), coverage and width
    from uniml.evaluation.metrics import forecasting as fm

    scale = np.where(rng.random(n) < 0.2, np.nan, rng.random(n) + 0.5)
    lo, hi = p - 1.0, p + rng.random(n)
    src = {"y_true": t, "y_pred": p, "scale": scale, "intervals": {0.8: (lo, hi)}}
    for name, value in (
        ("smape", fm.smape(t, p)),
        ("mase", fm.mase(t, p, scale)),
        ("coverage_80", fm.coverage(t, lo, hi)),
        ("width_80", fm.width(lo, hi)),
    ):
        k = kernel(get_metric("forecasting", name), src)
        assert _point(k, n) == pytest.approx(value, rel=1e-9, nan_ok=True), name
    # causal: uplift on a 0/1 treatment (ties in the score when `ties`), and errors against a known effect
    from uniml.evaluation.metrics import causal

    treated = np.r_[0, 1, rng.integers(0, 2, n - 2)]
    effect = np.round(p) if ties else p
    src = {"effect": effect, "treatment": treated, "outcome": t}
    for name, value in (
        ("qini", causal.qini(effect, treated, t)),
        ("auuc", causal.auuc(effect, treated, t)),
        ("uplift@30%", causal.uplift_at_k(effect, treated, t, 0.3)),
    ):
        k = kernel(get_metric("causal", name), src)
        assert _point(k, n) == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), name
    src = {"true_effect": t, "effect": p}
    assert _point(kernel(get_metric("causal", "pehe"), src), n) == pytest.approx(
        np.sqrt(np.mean((t - p) ** 2))
    )
    assert _point(kernel(get_metric("causal", "ate_error"), src), n) == pytest.approx(
        abs(p.mean() - t.mean())
    )


def test_metrics_without_a_per_row_form_have_no_kernel():
    user = Metric("max_error", lambda t, p: float(np.max(np.abs(t - p))), greater_is_better=False)
    recs = pd.DataFrame({"user": [1], "item": ["a"]})
    assert (
        kernel(user, {"y_true": recs, "y_pred": recs}) is None
    )  # recommendations: frames, not rows
    assert (
        kernel(get_metric("recommendation", "coverage@5"), {"recs": recs, "catalogue": ["a"]})
        is None
    )
    assert kernel(user, {"y_true": np.zeros(3), "y_pred": np.ones(3)}) is not None


def test_uplift_metrics_are_recomputed_on_each_resample():
    from uniml.evaluation.metrics import causal

    rng = np.random.default_rng(5)
    n, n_boot = 120, 60
    x, t = rng.normal(size=n), rng.integers(0, 2, n)
    y = (x > 0) * t * 2.0 + rng.normal(size=n)
    scores = {
        "good": x,
        "noise": rng.normal(size=n),
        "tied": np.round(x),
    }  # ties: curves end per tie group
    boot = RowBootstrap({0: np.arange(n)}, n_boot=n_boot, seed=21)
    for name in ("qini", "auuc", "uplift@30%"):
        metric = get_metric("causal", name)
        for model, e in scores.items():
            boot.add(model, name, 0, kernel(metric, {"effect": e, "treatment": t, "outcome": y}))
    boot.run()
    for name, fn in (
        ("qini", causal.qini),
        ("auuc", causal.auuc),
    ):  # order-free: any row order gives the same
        d = [
            fn(scores["tied"][i], t[i], y[i]) - fn(scores["noise"][i], t[i], y[i])
            for i in np.random.default_rng(np.random.SeedSequence(21).spawn(1)[0]).integers(
                0, n, size=(n_boot, n), dtype=np.int32
            )
        ]
        r = boot.compare("tied", "noise", name)
        assert [r["ci_low"], r["ci_high"]] == pytest.approx(list(np.percentile(d, [2.5, 97.5]))), (
            name
        )
    idx = np.random.default_rng(np.random.SeedSequence(21).spawn(1)[0]).integers(
        0, n, size=(n_boot, n), dtype=np.int32
    )
    for name, fn in (
        ("qini", causal.qini),
        ("auuc", causal.auuc),
        ("uplift@30%", lambda e, tt, yy: causal.uplift_at_k(e, tt, yy, 0.3)),
    ):
        d = [fn(scores["good"][i], t[i], y[i]) - fn(scores["noise"][i], t[i], y[i]) for i in idx]
        r = boot.compare("good", "noise", name)
        assert [r["ci_low"], r["ci_high"]] == pytest.approx(list(np.percentile(d, [2.5, 97.5]))), (
            name
        )
        assert r["diff"] == pytest.approx(fn(scores["good"], t, y) - fn(scores["noise"], t, y))


# ------------------------------------------------------------- against a loop over resamples
def _loop_bootstrap(report, model, ref, metric_fn, n_boot, seed, confidence=0.95):
    """Straightforward paired bootstrap: the same documented draws, one resample at a time, sklearn metrics."""
    p = report.predictions
    folds = sorted(p["fold"].unique())
    streams = np.random.SeedSequence(seed).spawn(len(folds))
    values = {model: np.zeros((len(folds), n_boot)), ref: np.zeros((len(folds), n_boot))}
    points = {model: [], ref: []}
    for j, (fold, ss) in enumerate(zip(folds, streams, strict=True)):
        rows = {
            m: {c: v.to_numpy() for c, v in p[(p.model == m) & (p.fold == fold)].items()}
            for m in (model, ref)
        }
        assert np.array_equal(rows[model]["row"], rows[ref]["row"])  # same rows, same order
        n = len(rows[model]["row"])
        idx = np.random.default_rng(ss).integers(0, n, size=(n_boot, n), dtype=np.int32)
        for m in (model, ref):
            points[m].append(metric_fn(rows[m]))
            for b in range(n_boot):
                values[m][j, b] = metric_fn({c: v[idx[b]] for c, v in rows[m].items()})
    a, r = values[model].mean(axis=0), values[ref].mean(axis=0)
    d, rel = a - r, (a - r) / np.abs(r)
    q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
    ma, mr = np.mean(points[model]), np.mean(points[ref])
    return {
        "diff": ma - mr,
        "ci": np.percentile(d, q),
        "rel_ci": np.percentile(rel, q),
        "n": len(p[p.model == model]),
    }


def test_regression_intervals_equal_a_loop_with_sklearn(diabetes):
    X, y = diabetes
    n_boot = 60
    r = evaluate(
        {"ridge": ridge(0.1)},
        (X, y),
        n_jobs=1,
        n_boot=n_boot,
        random_state=3,
        keep_predictions=None,
        metrics=["rmse", "mae", "r2"],
    )
    fns = {
        "rmse": lambda f: np.sqrt(skm.mean_squared_error(f["y_true"], f["y_pred"])),
        "mae": lambda f: skm.mean_absolute_error(f["y_true"], f["y_pred"]),
        "r2": lambda f: skm.r2_score(f["y_true"], f["y_pred"]),
    }
    for metric, fn in fns.items():
        row = r.comparisons.query(
            f"model == 'ridge' and reference == 'dummy_mean' and metric == '{metric}'"
        ).iloc[0]
        ref = _loop_bootstrap(r, "ridge", "dummy_mean", fn, n_boot, 3)
        assert row["unit"] == "rows" and row["n_units"] == len(X) and row["n_folds"] == 5
        assert row["diff"] == pytest.approx(ref["diff"])
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ref["ci"]))
        assert [row["rel_ci_low"], row["rel_ci_high"]] == pytest.approx(list(ref["rel_ci"]))
        # the point is the leaderboard's mean over folds
        board = r.leaderboard
        assert row["diff"] == pytest.approx(
            board.loc["ridge", f"{metric}_mean"] - board.loc["dummy_mean", f"{metric}_mean"]
        )


def test_classification_intervals_equal_a_loop_with_sklearn(cancer):
    X, y = cancer
    n_boot = 40
    logit = uniml.make("sklearn.estimator", estimator=LogisticRegression(max_iter=2000))
    r = evaluate(
        {"logit": logit},
        (X, y),
        protocol=StratifiedKFold(3),
        n_jobs=1,
        n_boot=n_boot,
        random_state=11,
        keep_predictions=None,
    )
    fns = {
        "roc_auc": lambda f: skm.roc_auc_score(
            f["y_true"], f["proba"]
        ),  # the prior baseline: all scores tied
        "log_loss": lambda f: skm.log_loss(f["y_true"], f["proba"], labels=[0, 1]),
        "brier": lambda f: skm.brier_score_loss(f["y_true"], f["proba"]),
        "f1": lambda f: skm.f1_score(f["y_true"], f["y_pred"], zero_division=0.0),
        "ece": lambda f: cm.ece(f["y_true"], f["proba"], labels=[0, 1]),
    }
    for metric, fn in fns.items():
        row = r.comparisons.query(
            f"model == 'logit' and reference == 'dummy_prior' and metric == '{metric}'"
        ).iloc[0]
        ref = _loop_bootstrap(r, "logit", "dummy_prior", fn, n_boot, 11)
        assert row["unit"] == "rows"
        assert row["diff"] == pytest.approx(ref["diff"])
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ref["ci"])), metric
        if metric != "f1":  # the prior predicts no positive: F1 0, relative difference undefined
            assert [row["rel_ci_low"], row["rel_ci_high"]] == pytest.approx(list(ref["rel_ci"])), (
                metric
            )
    assert r.extra["bootstrap"]["unit"] == "rows" and not r.extra["bootstrap"]["per_fold_metrics"]
    assert r.protocol["bootstrap"] == "paired, rows resampled within folds"


# ------------------------------------------------------------- coverage
def test_intervals_cover_a_known_difference_about_95_percent_of_the_time():
    """Two models with correlated errors of known spread: MAE and AUC differences are known exactly."""
    from scipy.stats import norm

    rng = np.random.default_rng(2026)
    sa, sb, n, reps = 1.0, 1.2, 300, 200
    true_mae = (sa - sb) * np.sqrt(2 / np.pi)
    da, db = 1.2, 0.9  # AUC of a score N(d*y, 1): Phi(d / sqrt 2)
    true_auc = norm.cdf(da / np.sqrt(2)) - norm.cdf(db / np.sqrt(2))
    hits = {"mae": 0, "roc_auc": 0}
    mae, auc = get_metric("regression", "mae"), get_metric("classification", "roc_auc")
    for rep in range(reps):
        t = rng.normal(size=n)
        shared = rng.normal(size=n)  # paired: most of the error is common to both models
        ea = sa * (0.8 * shared + 0.6 * rng.normal(size=n))
        eb = sb * (0.8 * shared + 0.6 * rng.normal(size=n))
        y = rng.integers(0, 2, n)
        za = rng.normal(size=n)
        boot = RowBootstrap({0: np.arange(n // 2), 1: np.arange(n - n // 2)}, n_boot=400, seed=rep)
        for fold, rows in ((0, slice(0, n // 2)), (1, slice(n // 2, n))):
            boot.add(
                "a", "mae", fold, kernel(mae, {"y_true": t[rows], "y_pred": t[rows] + ea[rows]})
            )
            boot.add(
                "b", "mae", fold, kernel(mae, {"y_true": t[rows], "y_pred": t[rows] + eb[rows]})
            )
            lab = np.array([0, 1])
            boot.add(
                "a",
                "roc_auc",
                fold,
                kernel(auc, {"y_true": y[rows], "labels": lab, "proba": da * y[rows] + za[rows]}),
            )
            boot.add(
                "b",
                "roc_auc",
                fold,
                kernel(
                    auc,
                    {
                        "y_true": y[rows],
                        "labels": lab,
                        "proba": db * y[rows]
                        + 0.7 * za[rows]
                        + 0.71 * rng.normal(size=len(za[rows])),
                    },
                ),
            )
        boot.run()
        for metric, truth in (("mae", true_mae), ("roc_auc", true_auc)):
            r = boot.compare("a", "b", metric)
            hits[metric] += r["ci_low"] <= truth <= r["ci_high"]
    for metric, h in hits.items():
        assert 0.90 <= h / reps <= 0.99, (metric, h / reps)


# ------------------------------------------------------------- gates and determinism
def test_gates_judge_the_per_row_interval(diabetes, tmp_path):
    X, y = diabetes
    champion = ridge(0.3).fit(X, y).save(tmp_path / "champion")
    n_boot = 60
    r = evaluate(
        {"worse": ridge(30.0), "better": ridge(0.01)},
        (X, y),
        champion=str(champion),
        n_jobs=1,
        gates=["rmse not worse than champion by 1% at 95%"],
        n_boot=n_boot,
        keep_predictions=None,
        random_state=0,
    )
    verdict = {g.model: g for g in r.gates}
    worse, better = verdict["worse"], verdict["better"]
    assert not worse.passed and better.passed and not r.passed
    w, c = r.leaderboard.loc["worse", "rmse_mean"], r.leaderboard.loc["champion", "rmse_mean"]
    assert worse.reason.startswith(f"rmse: worse {w:.4g} vs champion {c:.4g} (+")
    assert f"paired bootstrap over {len(X)} rows of 5 folds" in worse.reason
    assert "exceeds the allowed +1.0%" in worse.reason
    ref = _loop_bootstrap(
        r,
        "worse",
        "champion",
        lambda f: np.sqrt(skm.mean_squared_error(f["y_true"], f["y_pred"])),
        n_boot,
        0,
    )
    assert [worse.ci_low, worse.ci_high] == pytest.approx(list(ref["rel_ci"]))
    assert worse.value == pytest.approx((w - c) / c) and worse.ci_low > 0.01
    assert "is within the allowed +1.0%" in better.reason


def test_same_intervals_and_verdicts_whatever_n_jobs(cancer):
    X, y = cancer
    cands = {
        "logit": uniml.make("sklearn.estimator", estimator=LogisticRegression(max_iter=2000)),
        "weak": uniml.make(
            "sklearn.estimator", estimator=LogisticRegression(C=1e-4, max_iter=2000)
        ),
    }
    gates = ["roc_auc better than baseline", "weak: log_loss not worse than logit by 5%"]
    one = evaluate(cands, (X, y), n_jobs=1, random_state=4, gates=gates, n_boot=300)
    two = evaluate(cands, (X, y), n_jobs=2, random_state=4, gates=gates, n_boot=300)
    pd.testing.assert_frame_equal(one.comparisons, two.comparisons)
    assert one.gates == two.gates
    assert (one.comparisons["unit"] == "rows").all()
    assert not {g.model: g for g in one.gates if g.metric == "log_loss"}["weak"].passed


def test_user_metrics_are_resampled_by_row_too(diabetes):
    X, y = diabetes

    def max_error(t, p):
        return float(np.max(np.abs(t - p)))

    max_error.greater_is_better = False
    n_boot = 40
    r = evaluate(
        {"ridge": ridge(0.1)},
        (X, y),
        metrics=["rmse", max_error],
        n_jobs=1,
        n_boot=n_boot,
        keep_predictions=None,
        gates=["max_error not worse than baseline by 50%"],
        random_state=2,
    )
    units = r.comparisons.set_index("metric")["unit"]
    assert units["rmse"] == "rows" and units["max_error"] == "rows"
    row = r.comparisons.set_index("metric").loc["max_error"]
    ref = _loop_bootstrap(
        r, "ridge", "dummy_mean", lambda f: skm.max_error(f["y_true"], f["y_pred"]), n_boot, 2
    )
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ref["ci"]))
    assert r.extra["bootstrap"]["per_fold_metrics"] == []
    assert f"paired bootstrap over {len(X)} rows of 5 folds" in r.gates[0].reason


def test_backtests_and_recommendations_resample_their_units():
    from uniml.evaluation import LeaveOut, RollingOrigin

    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "sid": f"s{s}",
                "ds": pd.date_range("2024-01-01", periods=40, freq="D"),
                "y": 10 + rng.normal(size=40).cumsum(),
            }
        )
        for s in range(12)
    ]
    panel = uniml.ForecastData(
        pd.concat(frames, ignore_index=True), time="ds", target="y", series_id="sid"
    )
    protocol = RollingOrigin(horizon=5, n_origins=3)
    r = evaluate(
        {"ets": uniml.make("statsmodels.ets")},
        panel,
        protocol=protocol,
        n_jobs=1,
        n_boot=100,
        metrics=["mae", "mase"],
    )
    assert set(r.comparisons["unit"]) == {"series x origin blocks"}
    assert (r.comparisons["n_units"] == 12 * 3).all()
    few = uniml.ForecastData(
        pd.concat(frames[:2], ignore_index=True), time="ds", target="y", series_id="sid"
    )
    r = evaluate(
        {"ets": uniml.make("statsmodels.ets")},
        few,
        protocol=protocol,
        n_jobs=1,
        n_boot=100,
        metrics=["mae"],
    )
    assert (
        set(r.comparisons["unit"]) == {"backtest rows"}
        and (r.comparisons["n_units"] == 2 * 5 * 3).all()
    )

    df = pd.DataFrame(
        {"u": rng.integers(0, 40, 800), "i": rng.zipf(1.6, 800) % 30}
    ).drop_duplicates()
    data = uniml.InteractionData(df.reset_index(drop=True), user="u", item="i")
    r = evaluate(
        {"lfm": uniml.make("lightfm.recommender", epochs=2, random_state=0)},
        data,
        protocol=LeaveOut("random", test_size=0.25, n_splits=2, k=5),
        n_jobs=1,
        n_boot=100,
    )
    units = r.comparisons.set_index("metric")["unit"]
    assert units["ndcg@5"] == "users" and units["coverage@5"] == "folds"
    row = r.comparisons.set_index("metric").loc["precision@5"]
    board = r.leaderboard
    assert row["diff"] == pytest.approx(
        board.loc["lfm", "precision@5_mean"] - board.loc["popularity", "precision@5_mean"]
    )


def test_an_empty_fold_is_left_out_and_threads_change_nothing():
    rng = np.random.default_rng(0)
    t = rng.normal(size=80)
    mae = get_metric("regression", "mae")
    results = []
    for n_jobs in (1, 2):
        boot = RowBootstrap(
            {0: np.arange(0), 1: np.arange(40), 2: np.arange(40)}, n_boot=50, seed=9
        )
        boot.add("a", "mae", 0, kernel(mae, {"y_true": np.zeros(0), "y_pred": np.zeros(0)}))
        boot.add("b", "mae", 0, kernel(mae, {"y_true": np.zeros(0), "y_pred": np.zeros(0)}))
        for fold, rows in ((1, slice(0, 40)), (2, slice(40, 80))):
            boot.add("a", "mae", fold, kernel(mae, {"y_true": t[rows], "y_pred": t[rows] + 1.0}))
            boot.add("b", "mae", fold, kernel(mae, {"y_true": t[rows], "y_pred": t[rows] + 0.5}))
        boot.run(n_jobs=n_jobs)
        results.append(boot.compare("a", "b", "mae"))
    assert results[0] == results[1]
    assert results[0]["n_folds"] == 2 and results[0]["n"] == 80
    assert results[0]["diff"] == pytest.approx(0.5) and results[0]["ci_low"] == pytest.approx(0.5)


def test_row_bootstrap_supports_needs_a_kernel_on_every_fold():
    boot = RowBootstrap({0: [0, 1], 1: [0, 1]}, n_boot=2)
    assert not boot.supports("m", "rmse")  # never registered
    boot.add("m", "rmse", 0, object())
    boot.add("m", "rmse", 1, None)
    assert not boot.supports("m", "rmse")
    boot.add("m", "rmse", 1, object())
    assert boot.supports("m", "rmse")

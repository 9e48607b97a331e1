"""The evaluation harness against independent computations (scikit-learn, hand-written loops)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold as SkGroupKFold
from sklearn.model_selection import KFold as SkKFold
from sklearn.model_selection import StratifiedKFold as SkStratifiedKFold
from sklearn.model_selection import TimeSeriesSplit as SkTimeSeriesSplit
from sklearn.model_selection import cross_val_score

import uniml
from uniml.core import events
from uniml.evaluation import (
    EvalReport,
    GateError,
    GroupKFold,
    KFold,
    LeaveOut,
    MetricError,
    StratifiedKFold,
    TimeSeriesSplit,
    evaluate,
    splitters,
)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)


def ridge(alpha=1.0):
    return uniml.make("sklearn.estimator", estimator=Ridge(alpha=alpha))


def _fold_means(report, model, metric):
    s = report.fold_scores
    return s[(s.model == model) & (s.metric == metric)].sort_values("fold")["value"].to_numpy()


def test_kfold_rmse_equals_cross_val_score(diabetes):
    import lightgbm

    X, y = diabetes
    candidates = {
        "ridge": ridge(),
        "lgbm": uniml.make("lightgbm.regressor", n_estimators=20, n_jobs=1, verbose=-1),
    }
    report = evaluate(
        candidates, (X, y), protocol=KFold(5, random_state=3), metrics=["rmse"], n_jobs=1
    )
    cv = SkKFold(5, shuffle=True, random_state=3)
    raw = {"ridge": Ridge(), "lgbm": lightgbm.LGBMRegressor(n_estimators=20, n_jobs=1, verbose=-1)}
    for name, est in raw.items():
        expected = -cross_val_score(est, X, y, cv=cv, scoring="neg_root_mean_squared_error")
        np.testing.assert_allclose(_fold_means(report, name, "rmse"), expected, rtol=1e-9)
        assert report.leaderboard.loc[name, "rmse_mean"] == pytest.approx(expected.mean())
        assert report.leaderboard.loc[name, "rmse_std"] == pytest.approx(expected.std(ddof=1))
    # the mean-predicting baseline always runs
    expected = -cross_val_score(
        __import__("sklearn.dummy").dummy.DummyRegressor(),
        X,
        y,
        cv=cv,
        scoring="neg_root_mean_squared_error",
    )
    np.testing.assert_allclose(_fold_means(report, "dummy_mean", "rmse"), expected)
    assert report.roles["dummy_mean"] == "baseline"
    assert list(report.leaderboard.index)[-1] == "dummy_mean"  # sorted best first (lowest rmse)


def _test_rows(report, model):
    p = report.predictions[report.predictions.model == model]
    return [np.sort(p[p.fold == f]["row"].to_numpy()) for f in sorted(p.fold.unique())]


def test_stratified_grouped_and_time_ordered_folds_equal_sklearn(cancer):
    X, y = cancer
    X = X.iloc[:, :5]
    logit = uniml.make("sklearn.estimator", estimator=LogisticRegression(max_iter=500))
    r = evaluate(
        {"logit": logit},
        (X, y),
        metrics=["roc_auc"],
        n_jobs=1,
        random_state=7,
        keep_predictions=None,
    )
    assert r.protocol["kind"] == "stratified_kfold"  # the default for classification
    sk = [te for _, te in SkStratifiedKFold(5, shuffle=True, random_state=7).split(X, y)]
    assert all(np.array_equal(a, b) for a, b in zip(_test_rows(r, "logit"), sk, strict=True))

    groups = np.arange(len(X)) % 13
    frame = X.assign(y=y.to_numpy(), g=groups)
    data = uniml.TabularData(frame, target="y", features=list(X.columns))
    r = evaluate(
        {"logit": logit},
        data,
        protocol=GroupKFold("g", n_splits=4),
        metrics=["roc_auc"],
        n_jobs=1,
        keep_predictions=None,
    )
    sk = [te for _, te in SkGroupKFold(4).split(X, y, groups)]
    assert all(np.array_equal(a, b) for a, b in zip(_test_rows(r, "logit"), sk, strict=True))

    # time-ordered: rows shuffled in the frame, ordered by a time column
    rng = np.random.default_rng(0)
    t = rng.permutation(len(X))
    data = uniml.TabularData(frame.assign(t=t), target="y", features=list(X.columns))
    r = evaluate(
        {"logit": logit},
        data,
        protocol=TimeSeriesSplit(4, time="t"),
        metrics=["roc_auc"],
        n_jobs=1,
        keep_predictions=None,
    )
    order = np.argsort(t, kind="stable")
    sk = [np.sort(order[te]) for _, te in SkTimeSeriesSplit(4).split(X)]
    assert all(np.array_equal(a, b) for a, b in zip(_test_rows(r, "logit"), sk, strict=True))
    p = r.predictions[r.predictions.model == "logit"]
    for f, rows in p.groupby("fold")["row"]:
        # every test row is later in time than every training row of its fold
        train_max = max(
            t[order[tr]].max() for i, (tr, _) in enumerate(SkTimeSeriesSplit(4).split(X)) if i == f
        )
        assert t[rows.to_numpy()].min() > train_max


def test_classification_metrics_match_sklearn_on_the_folds(cancer):
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    X, y = cancer
    X = X.iloc[:, :6]
    r = evaluate(
        {"logit": uniml.make("sklearn.estimator", estimator=LogisticRegression(max_iter=1000))},
        (X, y),
        metrics=["roc_auc", "log_loss", "brier"],
        n_jobs=1,
        keep_predictions=None,
    )
    cv = SkStratifiedKFold(5, shuffle=True, random_state=0)
    for i, (tr, te) in enumerate(cv.split(X, y)):
        p = (
            LogisticRegression(max_iter=1000)
            .fit(X.iloc[tr], y.iloc[tr])
            .predict_proba(X.iloc[te])[:, 1]
        )
        s = r.fold_scores[(r.fold_scores.model == "logit") & (r.fold_scores.fold == i)].set_index(
            "metric"
        )["value"]
        assert s["roc_auc"] == pytest.approx(roc_auc_score(y.iloc[te], p))
        assert s["log_loss"] == pytest.approx(log_loss(y.iloc[te], p))
        assert s["brier"] == pytest.approx(brier_score_loss(y.iloc[te], p))


def test_gates_against_a_saved_champion(diabetes, tmp_path):
    X, y = diabetes
    champion = ridge(alpha=0.3).fit(X, y)
    folder = champion.save(tmp_path / "champion")
    report = evaluate(
        {"worse": ridge(alpha=30.0), "better": ridge(alpha=0.01)},
        (X, y),
        champion=str(folder),
        gates=["rmse not worse than champion by 1% at 95%"],
        n_jobs=1,
    )
    assert report.roles["champion"] == "champion"
    verdicts = {g.model: g for g in report.gates}
    worse, better = verdicts["worse"], verdicts["better"]
    assert not worse.passed and better.passed and not report.passed
    # the reason names the metric, both values and the interval
    w = report.leaderboard.loc["worse", "rmse_mean"]
    c = report.leaderboard.loc["champion", "rmse_mean"]
    assert worse.reason.startswith(f"rmse: worse {w:.4g} vs champion {c:.4g} (+")
    assert "95% CI [" in worse.reason and "exceeds the allowed +1.0%" in worse.reason
    # the interval is a paired bootstrap of per-fold relative differences; the point is the ratio of means
    assert worse.value == pytest.approx((w - c) / c)
    assert worse.ci_low <= worse.value <= worse.ci_high
    assert worse.ci_low > 0.01
    # the champion was refit on the same folds: its fold scores are those of a fresh Ridge(alpha=0.3)
    expected = -cross_val_score(
        Ridge(alpha=0.3),
        X,
        y,
        cv=SkKFold(5, shuffle=True, random_state=0),
        scoring="neg_root_mean_squared_error",
    )
    np.testing.assert_allclose(_fold_means(report, "champion", "rmse"), expected)
    row = report.comparisons.query(
        "model == 'worse' and reference == 'champion' and metric == 'rmse'"
    ).iloc[0]
    assert row["diff"] == pytest.approx(w - c)


def test_absolute_and_baseline_gates(diabetes):
    X, y = diabetes
    r = evaluate(
        {"ridge": ridge(0.01)},
        (X, y),
        gates=["rmse <= 40", "r2 better than baseline", {"metric": "mae", "max": 1000}],
        n_jobs=1,
    )
    by = {g.name: g for g in r.gates}
    assert not by["rmse <= 40"].passed and "is not <= 40" in by["rmse <= 40"].reason
    assert by["r2 better than baseline at 95%"].passed
    assert by["mae <= 1000"].passed
    assert "mae" in r.metrics  # a gate's metric is evaluated even if not listed


def test_same_results_whatever_n_jobs(diabetes):
    from sklearn.ensemble import RandomForestRegressor

    X, y = diabetes
    cands = {
        "rf": uniml.make(
            "sklearn.estimator", estimator=RandomForestRegressor(n_estimators=5, random_state=0)
        ),
        "lgbm": uniml.make("lightgbm.regressor", n_estimators=10, n_jobs=1, verbose=-1),
    }
    one = evaluate(cands, (X, y), n_jobs=1, random_state=5, gates=["rmse better than baseline"])
    two = evaluate(cands, (X, y), n_jobs=2, random_state=5, gates=["rmse better than baseline"])
    pd.testing.assert_frame_equal(one.fold_scores, two.fold_scores)
    pd.testing.assert_frame_equal(one.comparisons, two.comparisons)
    pd.testing.assert_frame_equal(one.leaderboard, two.leaderboard)
    assert one.gates == two.gates
    assert two.n_jobs == 2


def test_events_muted_per_fold_and_one_evaluate_event(diabetes):
    X, y = diabetes
    seen = []
    token = events.subscribe(lambda name, payload: seen.append((name, payload)))
    try:
        report = evaluate({"ridge": ridge()}, (X, y), n_jobs=1, spec={"from": "test"})
    finally:
        events.unsubscribe(token)
    assert [n for n, _ in seen] == ["evaluate"]
    assert seen[0][1]["report"] is report and seen[0][1]["spec"] == {"from": "test"}


def test_json_round_trip_of_a_real_report(diabetes):
    X, y = diabetes
    r = evaluate({"ridge": ridge()}, (X, y), gates=["rmse <= 100"], n_jobs=1)
    back = EvalReport.from_json(r.to_json())
    assert back == r
    pd.testing.assert_frame_equal(back.leaderboard, r.leaderboard)
    pd.testing.assert_frame_equal(back.fold_scores, r.fold_scores)


def test_typed_errors(diabetes, cancer):
    X, y = diabetes
    with pytest.raises(uniml.DataContractError, match="continuous"):
        evaluate(uniml.make("lightgbm.classifier"), (X, y + 0.5), n_jobs=1)
    with pytest.raises(uniml.DataContractError, match="forecasting"):
        evaluate(uniml.make("statsmodels.ets"), (X, y), n_jobs=1)
    with pytest.raises(GateError, match="'rmse is low'"):
        evaluate(ridge(), (X, y), gates=["rmse is low"], n_jobs=1)
    with pytest.raises(GateError, match="champion= was not given"):
        evaluate(ridge(), (X, y), gates=["rmse not worse than champion"], n_jobs=1)
    with pytest.raises(GateError, match="unknown regression metric 'auc'"):
        evaluate(ridge(), (X, y), gates=["auc > 0.5"], n_jobs=1)
    with pytest.raises(MetricError, match="roc_auc"):
        evaluate(ridge(), (X, y), metrics=["roc_auc"], n_jobs=1)
    with pytest.raises(uniml.UnimlError, match="StratifiedKFold|stratified_kfold"):
        evaluate(ridge(), (X, y), protocol=StratifiedKFold(), n_jobs=1)


def test_user_metric_callable(diabetes):
    from uniml.evaluation import Metric

    X, y = diabetes
    maxerr = Metric("max_error", lambda t, p: float(np.max(np.abs(t - p))), greater_is_better=False)
    r = evaluate(
        {"ridge": ridge()}, (X, y), metrics=["rmse", maxerr], n_jobs=1, keep_predictions=None
    )
    p = r.predictions[r.predictions.model == "ridge"]
    by_fold = p.groupby("fold").apply(
        lambda g: np.max(np.abs(g.y_true - g.y_pred)), include_groups=False
    )
    np.testing.assert_allclose(_fold_means(r, "ridge", "max_error"), by_fold.to_numpy())
    assert r.greater_is_better["max_error"] is False


def test_recommendation_protocol_matches_ranking_metrics():
    from uniml.evaluation.metrics import ranking

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"u": rng.integers(0, 40, 800), "i": rng.zipf(1.6, 800) % 30}
    ).drop_duplicates()
    data = uniml.InteractionData(df.reset_index(drop=True), user="u", item="i")
    protocol = LeaveOut("random", test_size=0.25, n_splits=2, k=5)
    r = evaluate(
        {"lfm": uniml.make("lightfm.recommender", epochs=3, random_state=0)},
        data,
        protocol=protocol,
        n_jobs=1,
        random_state=1,
    )
    assert r.metrics[0] == "ndcg@5"
    for fold in protocol.split_frame(data, random_state=1):
        train, test = data.frame.iloc[fold.train], data.frame.iloc[fold.test]
        pop = ranking.PopularityRecommender().fit(train, user="u", item="i")
        truth = test.rename(columns={"u": "user", "i": "item"})
        recs = pop.predict(pd.unique(truth["user"]), k=5)
        s = r.fold_scores[(r.fold_scores.model == "popularity") & (r.fold_scores.fold == fold.id)]
        s = s.set_index("metric")["value"]
        assert s["ndcg@5"] == pytest.approx(ranking.ndcg_at_k(recs, truth, 5))
        assert s["precision@5"] == pytest.approx(ranking.precision_at_k(recs, truth, 5))
        assert s["coverage@5"] == pytest.approx(
            ranking.catalogue_coverage(recs, train["i"].unique(), 5)
        )
        # no held-out pair is unknown to the training rows
        assert set(test["u"]) <= set(train["u"]) and set(test["i"]) <= set(train["i"])
    curve = r.predictions[(r.predictions.model == "lfm") & (r.predictions.fold == 0)]
    assert curve["k"].tolist() == [1, 2, 3, 4, 5]


def test_champion_from_an_mlflow_run_uri(diabetes, tmp_path, monkeypatch):
    import uniml.lineage as lineage

    monkeypatch.chdir(tmp_path)
    X, y = diabetes
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with lineage.enable(
        tracking_uri=uri, experiment="eval-test", spool=str(tmp_path / "spool"), explain_rows=0
    ):
        ridge(alpha=0.3).fit(X, y)
        run = lineage.last_run(timeout=60)
        assert run is not None and run.model_uri.startswith("runs:/")
        seen = []
        token = events.subscribe(lambda name, payload: seen.append(name))
        try:
            r = evaluate(
                {"worse": ridge(alpha=30.0)},
                (X, y),
                champion=run.model_uri,
                gates=["rmse not worse than champion by 1%"],
                n_jobs=1,
            )
        finally:
            events.unsubscribe(token)
        lineage.flush(timeout=60)
    assert r.params["champion"]["estimator__alpha"] == 0.3
    assert not r.passed and "vs champion" in r.gates[0].reason
    assert seen == [
        "evaluate"
    ]  # the refits of the champion and candidates per fold are not tracked
    assert r.extra["champion_source"] == run.model_uri


def test_progress_callback_counts_jobs(diabetes):
    X, y = diabetes
    calls = []
    evaluate(
        {"ridge": ridge()},
        (X, y),
        protocol=KFold(3),
        n_jobs=1,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(i, 6) for i in range(1, 7)]  # (ridge + dummy_mean) x 3 folds


class _Broken(Ridge):
    def fit(self, X, y, sample_weight=None):
        raise FloatingPointError("diverged")


def test_a_model_failing_in_a_fold_is_named(diabetes):
    from uniml.evaluation import EvaluationError

    X, y = diabetes
    with pytest.raises(
        EvaluationError, match=r"model 'broken' failed on fold 0: FloatingPointError: diverged"
    ):
        evaluate({"broken": _Broken()}, (X, y), n_jobs=1)


def test_eval_report_stays_unhashable():
    report = EvalReport.example()
    assert report == EvalReport.example()
    with pytest.raises(TypeError, match="unhashable"):
        hash(report)


def test_sklearn_splits_use_their_own_seed_before_the_evaluation_seed():
    X, y = np.zeros((10, 1)), np.zeros(10)
    own = splitters.KFold(n_splits=2, random_state=1).split_arrays(X, y, random_state=2)
    same = splitters.KFold(n_splits=2).split_arrays(X, y, random_state=1)
    assert [f.test.tolist() for f in own] == [f.test.tolist() for f in same]
    # GroupKFold has no random_state attribute: the evaluation's seed is passed on unused
    folds = splitters.GroupKFold(groups=[0, 0, 1, 1], n_splits=2).split_arrays(
        X[:4], y[:4], random_state=3
    )
    assert sorted(f.test.tolist() for f in folds) == [[0, 1], [2, 3]]

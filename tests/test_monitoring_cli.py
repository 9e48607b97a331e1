"""`uniml monitor SPEC.yaml`: exit codes, the prediction log as input, HTML and JSON reports."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from uniml.cli import cli
from uniml.monitoring import Profile, monitor


def _log(folder, frame: pd.DataFrame, day: str) -> None:
    """Rows in the serving prediction-log layout (docs/serving.md)."""
    part = folder / f"date={day}"
    part.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, row in enumerate(frame.itertuples(index=False)):
        lines.append(
            json.dumps(
                {
                    "ts": f"{day}T{i % 24:02d}:00:00+00:00",
                    "request_id": f"{day}-{i}",
                    "row": 0,
                    "model_name": "churn",
                    "model_version": "3",
                    "run_id": "",
                    "features": {"a": row.a, "b": row.b, "c": row.c},
                    "prediction": int(row.prediction),
                    "proba": None,
                }
            )
        )
    (part / "part-1-0-00001.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("monitor-cli")
    rng = np.random.default_rng(0)

    def frame(n, shift=0.0):
        X = pd.DataFrame(
            {"a": rng.normal(shift, 1, n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)}
        )
        y = (rng.random(n) < 1 / (1 + np.exp(-2 * X["a"]))).astype(int)
        return X, y

    X, y = frame(6000)
    model = LogisticRegression().fit(X[["a", "b"]], y)
    ref = X.assign(y=y, prediction=model.predict(X[["a", "b"]]))
    profile = Profile.fit(
        ref, target="y", task="classification", model_info={"name": "churn", "version": "3"}
    )
    profile.save(root / "profile.npz")
    for day, shift in (("2026-12-04", 0.0), ("2026-12-05", 0.0)):
        Xd, yd = frame(1500, shift)
        _log(root / "ok", Xd.assign(prediction=model.predict(Xd[["a", "b"]])), day)
    for day, shift in (("2026-12-04", 0.0), ("2026-12-05", 1.0)):
        Xd, yd = frame(1500, shift)
        cur = Xd.assign(prediction=model.predict(Xd[["a", "b"]]))
        _log(root / "drift", cur, day)
        truth = pd.DataFrame({"request_id": [f"{day}-{i}" for i in range(1500)], "row": 0, "y": yd})
        truth.to_parquet(root / f"actuals-{day}.parquet")
    return root


def _spec(root, name, text) -> str:
    path = root / f"{name}.yaml"
    path.write_text(text)
    return str(path)


def test_no_drift_exits_0_with_reports(world):
    spec = _spec(
        world,
        "ok",
        "profile: profile.npz\ncurrent: ok/\noutput: {html: out/ok.html, json: out/ok.json}\n",
    )
    result = CliRunner().invoke(cli, ["monitor", spec])
    assert result.exit_code == 0, result.output
    data = json.loads((world / "out" / "ok.json").read_text())
    assert data["level"] in ("ok", "warn") and data["n_rows"] == 3000 and data["alerts"] == []
    text = (world / "out" / "ok.html").read_text()
    assert "<script" not in text and text.count('<figure class="plot"') >= 3
    assert all(f.count("<svg") == 1 for f in text.split('<figure class="plot"')[1:])


def test_drift_exits_1_with_alerts_over_time_and_actuals_joined(world):
    spec = _spec(
        world,
        "drift",
        "profile: profile.npz\ncurrent: drift/\nchunk: 1D\n"
        "actuals: {path: actuals-2026-12-05.parquet, column: y, join: [request_id, row]}\n"
        "sinks: [{file: {path: out/alerts.jsonl}}]\n"
        "retrain: {k: 1, state: out/retrain.json}\n"
        "output: {html: out/drift.html, json: out/drift.json}\n",
    )
    result = CliRunner().invoke(cli, ["monitor", spec])
    assert result.exit_code == 1, result.output
    assert "ALERT DriftAlert: column 'a' drifted" in result.output
    data = json.loads((world / "out" / "drift.json").read_text())
    assert [c["start"][:10] for c in data["chunks"]] == ["2026-12-04", "2026-12-05"]
    day1, day2 = data["chunks"]
    assert day1["a"] < 0.1 < 0.8 < day2["a"]  # the shift is on the second day
    realised = data["performance"]["realised"]["accuracy"]
    assert realised["n"] == 1500  # only the second day has actuals
    assert any("have no actual yet" in n for n in data["performance"]["notes"])
    kinds = [
        json.loads(line)["kind"]
        for line in (world / "out" / "alerts.jsonl").read_text().splitlines()
    ]
    assert kinds[0] == "DriftAlert" and kinds[-1] == "RetrainRequested"
    html = (world / "out" / "drift.html").read_text()
    keys = re.findall(r'data-plot="([^"]+)"', html)
    assert {
        "drift-overview",
        "dist-a",
        "dist-prediction",
        "drift-over-time",
        "performance-over-time",
    } <= set(keys)
    for col in data["columns"]:  # the HTML holds the JSON's content
        assert f">{col['name']}<" in html
        assert col["level"] in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profile: profile.npz\ncurrent: ok/\nbogus: 1\n", "unknown key(s) ['bogus']"),
        ("profile: profile.npz\n", "'current' is required"),
        ("profile: ../profile.npz\ncurrent: ok/\n", "leaves the spec's folder"),
        ("profile: profile.npz\ncurrent: nowhere/\n", "does not exist"),
        (
            "profile: profile.npz\ncurrent: ok/\nthresholds: {a: {wasserstein: [0.3, 0.1]}}\n",
            "warn <= alert",
        ),
        ("profile: missing.npz\ncurrent: ok/\n", "does not exist"),
        ("profile: [unclosed\n", "while parsing"),
    ],
)
def test_bad_spec_exits_2_naming_the_problem(world, text, message):
    result = CliRunner().invoke(cli, ["monitor", _spec(world, "bad", text)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_crash_exits_3_with_a_traceback(world, monkeypatch):
    import uniml.monitoring._monitor as m

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(m, "_multivariate", boom)
    spec = _spec(world, "crash", "profile: profile.npz\ncurrent: ok/\n")
    result = CliRunner().invoke(cli, ["monitor", spec])
    assert result.exit_code == 3
    assert "the monitoring run crashed: RuntimeError: boom" in result.output


def test_json_report_is_the_html_content(world):
    profile = Profile.load(world / "profile.npz")
    rng = np.random.default_rng(1)
    cur = pd.DataFrame(
        {
            "a": rng.normal(size=800),
            "b": rng.normal(size=800),
            "c": rng.choice(["x", "y", "z"], 800),
            "prediction": rng.integers(0, 2, 800),
        }
    )
    report = monitor(profile, cur, emit=False)
    data = json.loads(report.to_json())
    assert data["level"] == report.level and data["drifted_columns"] == report.drifted_columns
    unseen = next(c for c in data["columns"] if c["name"] == "c")["statistics"]["unseen_categories"]
    assert list(unseen) == ["z"]

"""The ``uniml`` command: exit codes as the CI gate, readable errors with line numbers, catalog, lineage mount."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import uniml
from uniml.cli import EXIT_FAILED, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, cli
from uniml.evaluation.spec import SpecError, build_protocol, lineage_settings, parse_spec


@pytest.fixture(scope="module")
def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


@pytest.fixture()
def project(tmp_path, diabetes):
    """A folder with the diabetes data as CSV and a writer for specs next to it."""
    diabetes.to_csv(tmp_path / "diabetes.csv", index=False)

    def write(text: str, name: str = "spec.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    write.folder = tmp_path
    return write


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result


def _save_ridge(folder, alpha, diabetes):
    from sklearn.linear_model import Ridge

    X, y = diabetes.drop(columns="target"), diabetes["target"]
    model = uniml.make("sklearn.estimator", estimator=Ridge(alpha=alpha)).fit(X, y)
    return model.save(folder / f"ridge_{alpha:g}")


def _cv_rmse(alpha, diabetes, n_splits=5, seed=0):
    """Mean k-fold RMSE computed with scikit-learn alone (the harness's folds are scikit-learn's)."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, cross_val_score

    X, y = diabetes.drop(columns="target"), diabetes["target"]
    scores = cross_val_score(
        Ridge(alpha=alpha),
        X,
        y,
        cv=KFold(n_splits, shuffle=True, random_state=seed),
        scoring="neg_root_mean_squared_error",
    )
    return float(-scores.mean())


CHAMPION_SPEC = """
task: regression
data: {{path: diabetes.csv, target: target}}
candidates:
  - name: challenger
    adapter: sklearn.estimator
    params:
      estimator: {{class: sklearn.linear_model.Ridge, params: {{alpha: {alpha}}}}}
champion:
  model: {champion}
protocol: {{kind: kfold, n_splits: 5}}
metrics: [rmse, mae]
gates:
  - rmse not worse than champion by 1% at 95%
random_state: 0
n_jobs: 1
"""


def test_worse_candidate_fails_against_the_champion_with_exit_1(project, diabetes):
    champion = _save_ridge(project.folder, 0.01, diabetes)  # close to OLS: a good champion
    spec = project(
        CHAMPION_SPEC.format(alpha=1000.0, champion=champion.name)
    )  # shrunk to ~ the mean
    out = project.folder / "out"
    result = _run("eval", spec, "--report", out / "r.html", "--json", out / "r.json")
    assert result.exit_code == EXIT_FAILED, result.output
    assert (out / "r.html").exists() and (out / "r.json").exists()
    reason = [line for line in result.stderr.splitlines() if line.startswith("FAILED gate")]
    assert len(reason) == 1
    # the reason names the metric, both models' values (as scikit-learn computes them) and the interval
    text = reason[0]
    assert "rmse" in text and "challenger" in text and "champion" in text
    assert f"{_cv_rmse(1000.0, diabetes):.4g}" in text
    assert f"{_cv_rmse(0.01, diabetes):.4g}" in text
    assert "CI [" in text and "%" in text
    report = uniml.EvalReport.from_json((out / "r.json").read_text())
    gate = report.gates[0]
    assert (
        not gate.passed and gate.ci_low is not None and gate.ci_low > 0.01
    )  # clearly worse by > 1%


def test_better_candidate_passes_against_the_champion_with_exit_0(project, diabetes):
    champion = _save_ridge(project.folder, 1000.0, diabetes)
    spec = project(CHAMPION_SPEC.format(alpha=0.01, champion=champion.name))
    result = _run("eval", spec, "--report", project.folder / "r.html")
    assert result.exit_code == EXIT_OK, result.output
    assert "PASS rmse not worse than champion" in result.stdout
    assert "FAILED" not in result.stderr
    # the leaderboard printed the challenger's k-fold RMSE as scikit-learn computes it
    assert f"{_cv_rmse(0.01, diabetes):.4g}" in result.stdout


def test_json_output_round_trips_and_matches_the_printed_leaderboard(project):
    spec = project("""
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{name: ols, adapter: statsmodels.ols}]
        protocol: {kind: kfold, n_splits: 3}
        output: {html: reports/r.html, json: reports/r.json}
        """)
    result = _run("eval", spec)
    assert result.exit_code == EXIT_OK, result.output
    folder = project.folder / "reports"  # the spec's output paths, relative to the spec
    report = uniml.EvalReport.from_json((folder / "r.json").read_text())
    assert (folder / "r.html").exists()
    assert list(report.leaderboard.index) == ["ols", "dummy_mean"]
    assert f"{report.leaderboard.loc['ols', 'rmse_mean']:.4g}" in result.stdout


# --------------------------------------------------------------------------- exit code 2
BROKEN = {
    "unknown key": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        folds: 3
        """,
        4,
        "folds: unknown key",
    ),
    "misspelt nested key": (
        """
        task: regression
        data:
          path: diabetes.csv
          traget: target
        candidates: [{adapter: statsmodels.ols}]
        """,
        4,
        "data.traget: unknown key",
    ),
    "bad yaml": (
        """
        task: regression
        data: {path: diabetes.csv, target: target
        candidates: [{adapter: statsmodels.ols}]
        """,
        3,
        "invalid YAML",
    ),
    "missing data file": (
        """
        task: regression
        data:
          path: nowhere.csv
          target: target
        candidates: [{adapter: statsmodels.ols}]
        """,
        3,
        "data.path: no data file",
    ),
    "unknown adapter": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates:
          - name: gbm
            adapter: lightgbm.regresor
        """,
        5,
        "did you mean 'lightgbm.regressor'",
    ),
    "adapter of another task": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates:
          - adapter: prophet.forecaster
        """,
        4,
        "is a forecasting adapter",
    ),
    "missing column": (
        """
        task: regression
        data:
          path: diabetes.csv
          target: progression
        candidates: [{adapter: statsmodels.ols}]
        """,
        4,
        "column 'progression' is not in diabetes.csv",
    ),
    "bad gate": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        gates:
          - rmse <= 70
          - rmse is small
        """,
        6,
        "invalid gate 'rmse is small'",
    ),
    "metric of another task": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        metrics: [rmse, roc_auc]
        """,
        4,
        "roc_auc",
    ),
    "unknown protocol": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        protocol:
          kind: kfolds
        """,
        5,
        "unknown protocol 'kfolds'",
    ),
    "protocol argument": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        protocol:
          kind: kfold
          folds: 3
        """,
        6,
        "unknown key for protocol 'kfold'",
    ),
    "wrong type": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        n_jobs: two
        """,
        4,
        "n_jobs: Input should be a valid integer",
    ),
    "bad adapter params": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates:
          - adapter: sklearn.estimator
            params:
              estimator: {class: os.system, params: {command: ls}}
        """,
        6,
        "only scikit-learn estimator/transformer classes",
    ),
    "missing champion folder": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        champion:
          model: models/champion
        """,
        5,
        "no saved model folder",
    ),
    "gate about an absent champion": (
        """
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        gates: [rmse not worse than champion]
        """,
        4,
        "champion= was not given",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_invalid_spec_exits_2_with_file_line_and_field(case, project):
    text, line, fragment = BROKEN[case]
    spec = project(text)
    result = _run("eval", spec, "--report", project.folder / "r.html")
    assert result.exit_code == EXIT_INVALID, (case, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""  # nothing but the error, on stderr
    assert result.stderr.startswith("error: ")
    assert f"{spec}:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr
    assert not (project.folder / "r.html").exists()


def test_missing_spec_file_exits_2(tmp_path):
    result = _run("eval", tmp_path / "absent.yaml")
    assert result.exit_code == EXIT_INVALID
    assert "no such spec file" in result.stderr and "Traceback" not in result.output


def test_data_breaking_the_task_contract_exits_2(project, diabetes):
    frame = diabetes.copy()
    frame.loc[3, "target"] = np.nan
    frame.to_csv(project.folder / "holes.csv", index=False)
    spec = project("""
        task: regression
        data: {path: holes.csv, target: target}
        candidates: [{adapter: statsmodels.ols}]
        """)
    result = _run("eval", spec)
    assert result.exit_code == EXIT_INVALID, result.output
    assert f"{spec}:2: data:" in result.stderr and "target" in result.stderr


def test_a_model_failing_inside_its_library_exits_2_naming_model_and_fold(project):
    # a classifier on a continuous target: scikit-learn raises inside fit; that is not a gate verdict
    spec = project("""
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates:
          - name: wrong_kind
            adapter: sklearn.estimator
            params: {estimator: {class: sklearn.linear_model.LogisticRegression}}
        protocol: {kind: kfold, n_splits: 3}
        """)
    result = _run("eval", spec, "--report", project.folder / "r.html")
    assert result.exit_code == EXIT_INVALID, result.output
    assert "Traceback" not in result.output
    assert "wrong_kind" in result.stderr and "fold" in result.stderr


def test_exit_codes_of_exceptions():
    import yaml
    from pydantic import BaseModel, ValidationError

    from uniml.cli import _classify

    class Model(BaseModel):
        x: int

    try:
        Model(x="no")
    except ValidationError as exc:
        validation = exc
    assert _classify(validation)[0] == EXIT_INVALID
    assert _classify(yaml.YAMLError("bad"))[0] == EXIT_INVALID
    assert _classify(uniml.SchemaError("column 'a'"))[0] == EXIT_INVALID
    missing = _classify(FileNotFoundError(2, "No such file or directory", "x.csv"))
    assert missing == (EXIT_INVALID, "No such file or directory: x.csv")
    # anything else is a crash, never confused with a failed gate (1) or bad input (2)
    assert _classify(RuntimeError("boom")) == (EXIT_INTERNAL, "RuntimeError: boom")


# --------------------------------------------------------------------------- lineage
def test_spec_with_lineage_records_the_evaluation_in_mlflow(project):
    store = f"sqlite:///{project.folder / 'mlruns.db'}"
    spec = project(f"""
        task: regression
        data: {{path: diabetes.csv, target: target}}
        candidates:
          - {{name: ols, adapter: statsmodels.ols}}
          - name: ridge
            adapter: sklearn.estimator
            params: {{estimator: {{class: sklearn.linear_model.Ridge}}}}
        protocol: {{kind: kfold, n_splits: 3}}
        lineage: {{tracking_uri: "{store}", experiment: cli-test}}
        """)
    result = _run("eval", spec, "--report", project.folder / "r.html")
    assert result.exit_code == EXIT_OK, result.output
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("cli-test")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("uniml.kind") == "evaluate"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.tags["uniml.eval.passed"] == "true"
    children = {
        r.data.tags["uniml.model"]: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert set(children) == {"ols", "ridge", "dummy_mean"}  # one child run per leaderboard model
    report = uniml.EvalReport.from_json(
        client.download_artifacts(parent.info.run_id, "report.json", str(project.folder))
    )
    assert children["ols"].data.metrics["rmse_mean"] == pytest.approx(
        report.leaderboard.loc["ols", "rmse_mean"]
    )
    assert "report.html" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert uniml.lineage.enabled_sinks() == []  # the CLI switched lineage off again


# --------------------------------------------------------------------------- other commands
def test_adapters_lists_the_catalog():
    result = _run("adapters", "--all")
    assert result.exit_code == 0
    table = uniml.adapters()
    for name in table["name"]:
        assert name in result.stdout
    installed = _run("adapters")
    assert installed.exit_code == 0
    for name in table.loc[table["installed"], "name"]:
        assert name in installed.stdout
    # each row's install command, with its extra (not eaten as console markup)
    for extra in set(table["extra"]) - {"core"}:
        assert f"pip install 'uniml[{extra}]'" in result.stdout, extra


def test_version_and_help_are_fast_and_import_nothing_heavy():
    code = (
        "import sys\n"
        "from uniml.cli import main\n"
        "codes = [main(['--help']), main(['--version']), main(['eval', '--help'])]\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'mlflow', 'matplotlib', 'lightgbm') if m in sys.modules]\n"
        "print('RESULT', codes, heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "RESULT [0, 0, 0] []" in out
    assert f"uniml {uniml.__version__}" in out


def test_python_dash_m_uniml_is_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "uniml", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"uniml {uniml.__version__}"


def test_lineage_group_is_mounted_lazily():
    from uniml.cli import _LAZY

    assert "lineage" in _run("--help").stdout
    module, attr, _ = _LAZY["lineage"]
    import importlib

    group = getattr(importlib.import_module(module), attr)
    result = _run("lineage", "--help")
    assert result.exit_code == 0
    for name in group.commands:
        assert name in result.stdout


def test_unavailable_lazy_group_says_so_with_exit_2(monkeypatch):
    from uniml import cli as cli_module

    monkeypatch.setitem(
        cli_module._LAZY, "ghost", ("uniml.no_such_module", "ghost", "Not installed here.")
    )
    assert "ghost" in _run("--help").stdout
    result = _run("ghost", "anything")
    assert result.exit_code == EXIT_INVALID
    assert "'uniml ghost' is not available" in result.stderr


def test_json_flag_writes_a_parseable_report(project):
    spec = project("""
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{name: ols, adapter: statsmodels.ols}]
        protocol: {kind: kfold, n_splits: 3}
        gates: [rmse <= 1]
        """)
    out = project.folder / "r.json"
    result = _run("eval", spec, "--report", project.folder / "r.html", "--json", out, "--quiet")
    assert result.exit_code == EXIT_FAILED
    assert result.stdout == ""  # --quiet: the verdict's reasons only, on stderr
    assert "FAILED gate rmse <= 1: rmse: ols" in result.stderr
    data = json.loads(out.read_text())
    assert data["passed"] is False and data["task"] == "regression"
    frame = pd.DataFrame(
        dict(zip(data["fold_scores"]["columns"], data["fold_scores"]["data"], strict=True))
    )
    assert set(frame["model"]) == {"ols", "dummy_mean"}


def test_parquet_data(project, diabetes):
    diabetes.to_parquet(project.folder / "diabetes.parquet")
    spec = project("""
        task: regression
        data: {path: diabetes.parquet, target: target}
        candidates: [{name: ols, adapter: statsmodels.ols}]
        protocol: {kind: kfold, n_splits: 3}
        """)
    result = _run("eval", spec, "--report", project.folder / "r.html")
    assert result.exit_code == EXIT_OK, result.output
    assert "ols" in result.stdout


VALID = """task: regression
data:
  path: diabetes.csv
  target: target
candidates:
  - name: ols
    adapter: statsmodels.ols
protocol:
  kind: kfold
  n_splits: 3
gates:
  - rmse <= 70
"""


@settings(max_examples=40, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=VALID.count("\n") - 1),
    key=st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True),
)
def test_an_unknown_key_anywhere_is_reported_at_its_own_line(position, key):
    """Insert ``key: 1`` after any line of a valid spec, indented like that line's mapping keys."""
    from uniml.evaluation.spec import SpecError, parse_spec

    lines = VALID.splitlines()
    anchor = lines[position]
    assume(not anchor.endswith(":"))  # after a block opener the new key would be its (only) child
    indent = len(anchor) - len(anchor.lstrip(" -"))
    if (
        anchor.lstrip().startswith("- ") and ":" not in anchor
    ):  # a list item of strings: no mapping here
        indent = 0
    text = (
        "\n".join(lines[: position + 1] + [" " * indent + f"{key}: 1"] + lines[position + 1 :])
        + "\n"
    )
    try:
        spec = parse_spec(text, source="s.yaml")
    except SpecError as exc:
        message = str(exc)
    else:  # the key happened to be a real, optional field at that level: nothing to report
        assert (
            key in type(spec).model_fields
            or key in type(spec.data).model_fields
            or key in ("name", "params", "model", "trusted", "adapter")
            or key in spec.protocol
        )
        return
    # the problem about the inserted key is reported at the line it was inserted on
    assert any(
        line.startswith(f"s.yaml:{position + 2}:") and key in line for line in message.splitlines()
    ), (text, message)


def test_model_names_are_printed_literally(project):
    spec = project("""
        task: regression
        data: {path: diabetes.csv, target: target}
        candidates: [{name: "[bold]ols[/bold]", adapter: statsmodels.ols}]
        protocol: {kind: kfold, n_splits: 3}
        """)
    result = _run("eval", spec, "--report", project.folder / "[r].html")
    assert result.exit_code == EXIT_OK, result.output
    assert "[bold]ols[/bold]" in result.stdout and "[r].html" in result.stdout


_MINIMAL_SPEC = (
    "task: regression\ndata: {path: d.csv, target: y}\ncandidates: [{adapter: statsmodels.ols}]\n"
)


def test_build_protocol_knows_every_protocol_kind():
    with pytest.raises(SpecError) as info:
        build_protocol(parse_spec(_MINIMAL_SPEC + "protocol: {kind: bootstrap}\n"))
    assert str(info.value).endswith(
        "one of group_kfold, kfold, leave_out, rolling_origin, stratified_kfold, time_series_split"
    )
    spec = parse_spec(_MINIMAL_SPEC + "protocol: {kind: time_series_split, n_splits: 2}\n")
    assert build_protocol(spec).kind == "time_series_split"


def test_lineage_settings_default_tracking_uri():
    spec = parse_spec(_MINIMAL_SPEC + "lineage: true\n")
    assert lineage_settings(spec).tracking_uri is None

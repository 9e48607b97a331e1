"""The MLflow sink: one run per fit (and per evaluation), logged off the training thread.

On ``fit_end`` the training thread does only what must see the model *as it
was fitted*: it saves the adapter to a private folder (so a refit right after
``fit`` returns cannot change what is logged), keeps a copy-on-write view of
the training frame, and queues a job. A single worker thread then computes
the fingerprint, in-sample metrics and explanation summary, builds the pyfunc
model and the model card into a *record* folder (see :mod:`._spool`) and
sends it to MLflow. When MLflow fails, the record moves to the spool and a
:class:`~uniml.UnimlWarning` says where; :func:`sync` replays it later.

This module imports MLflow only inside the worker, never on the training thread.
"""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import getpass
import json
import os
import platform
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from uniml.core.errors import UnimlWarning
from uniml.lineage._hooks import hookimpl

__all__ = [
    "MlflowSink",
    "RunRef",
    "flush",
    "last_run",
    "resolve_tracking_uri",
    "send_record",
    "sync",
]

LINEAGE_TAG = "uniml.lineage_id"
DEFAULT_EXPERIMENT = "uniml"
#: in-sample metrics and explanations look at this many training rows at most (cheap by design)
METRIC_ROWS = 100_000
EXPLAIN_ROWS = 200
#: causal explanations (SHAP over the effect model) cost far more per row
CAUSAL_EXPLAIN_ROWS = 50
RECOMMEND_USERS = 500
#: MLflow's HTTP client retries for minutes by default; a dead server must not stall flush()
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",  # an int for MLflow
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


@dataclass
class RunRef:
    """Where the lineage of one fit (or evaluation) went.

    Attributes
    ----------
    lineage_id : str
        Client-side id, also the ``uniml.lineage_id`` tag of the run.
    run_id, experiment_id : str or None
        None while only in the spool.
    model_uri : str or None
        ``runs:/<run_id>/model`` (None for evaluations, or while spooled).
    spooled : bool
        True when MLflow was unreachable and the record waits in the spool.
    spool_path : str or None
    tracking_uri : str
    error : str or None
        Why the record was spooled (or quarantined, or not built).
    child_run_ids : dict
        Child runs by record key (an evaluation's per-model runs).
    kind : str or None
        ``"fit"`` or ``"evaluate"``.

    Examples
    --------
    >>> RunRef("abc", "r1", "0", "runs:/r1/model")["model_uri"]
    'runs:/r1/model'
    """

    lineage_id: str
    run_id: str | None = None
    experiment_id: str | None = None
    model_uri: str | None = None
    spooled: bool = False
    spool_path: str | None = None
    tracking_uri: str | None = None
    error: str | None = None
    child_run_ids: dict = field(default_factory=dict)
    kind: str | None = None

    def __getitem__(self, key):  # dict-style access too: last_run()["run_id"]
        return getattr(self, key)


# ------------------------------------------------------------------ the worker thread
WORKER_THREAD = "uniml-lineage"


class _QuietWorker:
    """Logging filter: drop MLflow's INFO/WARNING chatter emitted on the lineage thread.

    Logging a model makes MLflow announce, per run, that it validates the input
    example and how the python model is serialized; on a background thread those
    lines interleave with the user's own output. Errors still pass, and records
    from the user's own threads are untouched.
    """

    def filter(self, record) -> bool:
        import logging

        return record.threadName != WORKER_THREAD or record.levelno >= logging.ERROR


_QUIET = _QuietWorker()


def _quiet_mlflow_logging() -> None:
    """Attach :class:`_QuietWorker` to the handlers MLflow's records reach (idempotent)."""
    import logging

    for logger in (logging.getLogger("mlflow"), logging.getLogger()):
        for handler in logger.handlers:
            if _QUIET not in handler.filters:
                handler.addFilter(_QUIET)


class _Worker:
    """One daemon thread running lineage jobs in submission order."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._pending: set[concurrent.futures.Future] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.spool_only = False  # set at interpreter exit: no network any more, spool everything

    def submit(self, fn, *args) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._pending.add(future)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=WORKER_THREAD, daemon=True)
                self._thread.start()
        future.add_done_callback(self._done)
        self._queue.put((future, fn, args))
        return future

    def _done(self, future):
        with self._lock:
            self._pending.discard(future)

    def _run(self):
        from uniml.core import events

        while True:
            future, fn, args = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with events.muted():  # our own predict/explain calls are not lineage
                    result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def pending(self) -> list[concurrent.futures.Future]:
        with self._lock:
            return list(self._pending)

    def wait(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pending = self.pending()
            if not pending:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            concurrent.futures.wait(pending, timeout=left)
            if deadline is not None and time.monotonic() >= deadline:
                return not self.pending()

    def drain_unstarted(self) -> list:
        """Take the jobs that have not started (used at exit to spool them on the main thread)."""
        jobs = []
        while True:
            try:
                jobs.append(self._queue.get_nowait())
            except queue.Empty:
                return jobs


_WORKER = _Worker()
_last_fit: concurrent.futures.Future | None = None
_exit_hook_installed = False


def flush(timeout: float | None = None) -> None:
    """Wait until every queued lineage job has been written (to MLflow or to the spool).

    Raises
    ------
    LineageTimeoutError
        ``timeout`` seconds passed with jobs still running.
    """
    from uniml.lineage._errors import LineageTimeoutError

    if not _WORKER.wait(timeout):
        raise LineageTimeoutError(
            f"lineage still writing after {timeout} s ({len(_WORKER.pending())} job(s) left); "
            f"call flush() again to keep waiting"
        )


def last_run(timeout: float | None = None) -> RunRef | None:
    """The :class:`RunRef` of the most recent fit, waiting for it to be written; None if none yet."""
    if _last_fit is None:
        return None
    return _last_fit.result(timeout=timeout)


def _flush_at_exit() -> None:
    """Bounded flush at interpreter exit; whatever is left goes to the spool."""
    timeout = float(os.environ.get("UNIML_LINEAGE_EXIT_TIMEOUT", "30"))
    if _WORKER.wait(timeout):
        return
    _WORKER.spool_only = True
    for future, fn, args in _WORKER.drain_unstarted():
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)
    _WORKER.wait(5.0)


def _install_exit_hook() -> None:
    global _exit_hook_installed
    if _exit_hook_installed:
        return
    _exit_hook_installed = True
    # threading's exit hooks run before concurrent.futures refuses new work (which MLflow's
    # artifact uploads need); plain atexit runs after that. Fall back to atexit if absent.
    import concurrent.futures.thread  # noqa: F401  (registers its own exit hook first, so ours runs before it)

    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(_flush_at_exit)
    else:
        import atexit

        atexit.register(_flush_at_exit)


# ------------------------------------------------------------------ environment facts
def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """The tracking URI lineage uses: the argument, ``MLFLOW_TRACKING_URI``, one set with
    ``mlflow.set_tracking_uri``, else ``sqlite:///<cwd>/mlruns.db``.

    Examples
    --------
    >>> resolve_tracking_uri("sqlite:////tmp/x.db")
    'sqlite:////tmp/x.db'
    """
    if tracking_uri:
        return str(tracking_uri)
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    mlflow = sys.modules.get("mlflow")
    if mlflow is not None:
        from mlflow.tracking._tracking_service.utils import _tracking_uri

        if _tracking_uri:  # set explicitly by the user with mlflow.set_tracking_uri
            return str(_tracking_uri)
    return f"sqlite:///{Path.cwd() / 'mlruns.db'}"


def _git_info(directory: str) -> dict[str, str]:
    # not cached: in a long session (a notebook) the code's commit moves on
    def git(*args):
        return subprocess.run(
            ["git", "-C", directory, *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {
        "mlflow.source.git.commit": commit,
        "uniml.git.dirty": str(dirty).lower(),
        "uniml.git.root": git("rev-parse", "--show-toplevel"),
    }


def _caller() -> tuple[str, str]:
    """(source name, directory) of the calling code: ``__main__``'s file, else the cwd."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        path = os.path.abspath(path)
        return path, os.path.dirname(path)
    return "<interactive>", os.getcwd()


def _base_tags(source: str, directory: str) -> dict[str, str]:
    from uniml._version import __version__

    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return {
        "uniml.version": __version__,
        "uniml.python_version": platform.python_version(),
        "mlflow.user": user,
        "uniml.host": socket.gethostname(),
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
        **_git_info(directory),
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


# ------------------------------------------------------------------ building fit records
def _in_sample_metrics(model, X, y) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    task = str(model.task_kind)
    if task in ("regression", "classification"):
        n = min(len(y), METRIC_ROWS)
        Xs = X.iloc[:n] if isinstance(X, pd.DataFrame) else X[:n]
        ys = y.iloc[:n] if isinstance(y, pd.Series) else np.asarray(y)[:n]
        if task == "regression":
            pred = np.asarray(model.predict(Xs), dtype=float)
            truth = np.asarray(ys, dtype=float)
            err = truth - pred
            ss = float(np.sum((truth - truth.mean()) ** 2))
            out = {
                "train_rmse": float(np.sqrt(np.mean(err**2))),
                "train_mae": float(np.mean(np.abs(err))),
            }
            if ss > 0:
                out["train_r2"] = 1.0 - float(np.sum(err**2)) / ss
            return out
        from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

        truth = np.asarray(ys)
        out = {"train_accuracy": float(accuracy_score(truth, np.asarray(model.predict(Xs))))}
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(Xs)
            classes = list(proba.columns)
            values = proba.to_numpy(dtype=float)
            # float32 probabilities (XGBoost) miss a float64 sum of one by ~1e-7, which
            # scikit-learn warns about; renormalising moves the log loss by less than that
            values = values / values.sum(axis=1, keepdims=True)
            out["train_log_loss"] = float(log_loss(truth, values, labels=classes))
            if len(set(truth.tolist())) > 1:
                if len(classes) == 2:
                    out["train_roc_auc"] = float(roc_auc_score(truth == classes[1], values[:, 1]))
                else:
                    out["train_roc_auc"] = float(
                        roc_auc_score(truth, values, labels=classes, multi_class="ovr")
                    )
        return out
    if task == "causal":
        summary = model.effect_summary()
        # named after the estimand the model was fitted for ("ate", or "att" / "atc")
        target = summary.get("target", "ate")
        return {
            target: summary["effect"] if "effect" in summary else summary["ate"],
            f"{target}_lower": summary["lower"],
            f"{target}_upper": summary["upper"],
        }
    if task == "recommendation":
        user_col, item_col = list(model.schema_.names)[:2]
        truth = X[[user_col, item_col]]
        users = truth[user_col].drop_duplicates().head(RECOMMEND_USERS)
        recs = model.predict(users.tolist(), k=10, exclude_seen=False)
        seen = set(zip(truth[user_col], truth[item_col], strict=True))
        hits = sum((u, i) in seen for u, i in zip(recs["user"], recs["item"], strict=True))
        return {"train_precision_at_10": hits / (10 * len(users))}
    if task == "forecasting":
        return {
            "n_series": float(len(model.models_)),
            "n_failed_series": float(len(model.failures_)),
        }
    return {}


def _explanation_summary(model, X, rows: int = EXPLAIN_ROWS) -> dict:
    import pandas as pd

    task = str(model.task_kind)
    if rows <= 0:
        return {"error": "explanation summary switched off (explain_rows=0)"}
    try:
        if task in ("regression", "classification"):
            sample = X.iloc[:rows] if isinstance(X, pd.DataFrame) else X[:rows]
            exp = model.explain(sample)
        elif task == "forecasting":
            if model.exog_:
                return {"error": "a forecaster with regressors is explained on future data only"}
            exp = model.explain(horizon=7)
        elif task == "causal":
            rows = min(rows, CAUSAL_EXPLAIN_ROWS)
            exp = model.explain(X.head(rows))
        elif task == "recommendation":
            exp = model.explain(X[list(model.schema_.names)[:2]].head(rows))
        else:
            return {}
    except Exception as exc:  # the card says why instead of losing the whole run
        return {"error": f"{type(exc).__name__}: {exc}"}
    from uniml.lineage._card import top_drivers

    return {"kind": exp.kind, "n_rows": rows, "top_drivers": top_drivers(exp)}


def _dataset_entry(model, X, y) -> dict:
    from uniml.lineage._fingerprint import fingerprint, to_frame

    tabular = str(model.task_kind) in ("regression", "classification")
    frame = to_frame(X, y if tabular else None)
    digest = fingerprint(frame)
    attrs = getattr(X, "attrs", {}) or {}
    source = attrs.get("source") or attrs.get("uniml_source")
    schema = model.schema_.to_dict()
    if tabular:
        schema = {
            **schema,
            "target": {
                "name": getattr(y, "name", None) or "__target__",
                "dtype": str(getattr(y, "dtype", frame.iloc[:, -1].dtype)),
            },
        }
    return {
        "name": str(attrs.get("name") or f"{model.name}-training"),
        "digest": digest[
            :32
        ],  # MLflow's dataset digest column is short; the full hash is in the profile
        "source_type": "local" if source else "code",
        "source": json.dumps(
            {"uri": str(source)} if source else {"tags": {"mlflow.source.name": _caller()[0]}}
        ),
        "schema": json.dumps({"uniml_schema": schema}, default=str),
        "profile": json.dumps(
            {
                "num_rows": int(frame.shape[0]),
                "num_columns": int(frame.shape[1]),
                "fingerprint": digest,
                "row_index_invariant": True,
            }
        ),
        "context": "training",
        "fingerprint": digest,
        "n_rows": int(frame.shape[0]),
        "n_columns": int(frame.shape[1]),
        "source_uri": str(source) if source else None,
        "uniml_schema": schema,
    }


def _keys(values: dict, kind) -> dict:
    """Names mapped for MLflow (the one mapping, :mod:`uniml.lineage._names`), values cast."""
    from uniml.lineage._names import mlflow_key

    return {mlflow_key(str(k)): kind(v) for k, v in values.items()}


def _build_fit_record(job: dict) -> Path:
    """Turn a queued fit snapshot into a record folder (in ``job['stage']``)."""
    from uniml.core.dependencies import distribution_version
    from uniml.core.persistence import load
    from uniml.lineage._params import mlflow_params
    from uniml.lineage._pyfunc import example_frame, save_pyfunc

    _quiet_mlflow_logging()  # MLflow is imported now: its handlers exist
    # uniml's schema (not MLflow's inferred one) guards a model's inputs; MLflow's hint about
    # integer columns in the inferred signature is noise for the user
    warnings.filterwarnings(
        "ignore", message="Hint: Inferred schema contains integer column", category=UserWarning
    )
    from uniml.lineage._spool import write_record

    stage: Path = job["stage"]
    snapshot = stage / "uniml_model"
    model = job.get("model_obj")
    if model is None:
        try:
            model = load(snapshot, trusted=True)  # our own folder, written a moment ago
        except Exception as exc:  # saved but not reloadable (a lambda in a pipeline): no model
            job["save_error"] = f"saved but could not reload: {type(exc).__name__}: {exc}"[:5000]
            model = job["adapter"]  # the live object: right unless refit since
    cls = type(model)
    X, y = job["X"], job["y"]
    dataset = _dataset_entry(model, X, y)
    metrics = {"fit_duration_s": float(job["duration"])}
    errors = {"uniml.model_error": job["save_error"]} if job.get("save_error") else {}
    try:
        metrics.update(_in_sample_metrics(model, X, y))
    except Exception as exc:
        errors["uniml.metrics_error"] = f"{type(exc).__name__}: {exc}"[:5000]
    explanation = _explanation_summary(model, X, job["explain_rows"])
    artifacts = []
    if job["log_model"] and not job.get("save_error"):
        try:
            example = example_frame(model, X)
            save_pyfunc(model, snapshot, stage / "model", example, cls.extra)
            artifacts.append({"path": "model", "dest": "model"})
        except Exception as exc:
            errors["uniml.model_error"] = f"{type(exc).__name__}: {exc}"[:5000]
    shutil.rmtree(snapshot, ignore_errors=True)
    source, directory = _caller()
    tags = {
        **_base_tags(source, directory),
        "uniml.kind": "fit",
        "uniml.adapter": cls.name,
        "uniml.task": str(model.task_kind),
        "uniml.library": cls.library,
        "uniml.library_version": str(distribution_version(cls.library)),
        "uniml.extra": cls.extra or "",
        "uniml.dataset_fingerprint": dataset["fingerprint"],
        "uniml.fit_params": ",".join(sorted(job["fit_param_names"])),
        "uniml.artifact_digest": job.get("artifact_digest", ""),  # registry (issue 16)
        **errors,
        **job["user_tags"],
    }
    if job["intended_use"]:
        tags["uniml.intended_use"] = str(job["intended_use"])[:5000]
    params = job["params"]
    card = {
        "model_details": {
            "adapter": cls.name,
            "adapter_class": f"{cls.__module__}.{cls.__qualname__}",
            "task": str(model.task_kind),
            "library": cls.library,
            "library_version": tags["uniml.library_version"],
            "uniml_version": tags["uniml.version"],
            "python_version": tags["uniml.python_version"],
            "trained_utc": _dt.datetime.fromtimestamp(
                job["end_ms"] / 1000, _dt.timezone.utc
            ).isoformat(timespec="seconds"),
            "fit_duration_s": round(float(job["duration"]), 4),
        },
        "intended_use": job["intended_use"],
        "limitations": job["limitations"],
        "training_data": {k: dataset[k] for k in ("fingerprint", "n_rows", "n_columns")}
        | {
            "source": dataset["source_uri"],
            "schema": dataset["uniml_schema"],
            "fingerprint_definition": "sha256 over column names, dtypes and values in row order; "
            "row index labels excluded (uniml.lineage fingerprint)",
        },
        "parameters": params,
        "metrics": metrics,
        "explanation": explanation,
        "lineage": {
            "lineage_id": job["lineage_id"],
            "git_commit": tags.get("mlflow.source.git.commit"),
            "git_dirty": tags.get("uniml.git.dirty"),
            "source": source,
        },
    }
    (stage / "model_card.json").write_text(json.dumps(card, indent=2, default=str))
    dataset_entity = {
        k: dataset[k]
        for k in ("name", "digest", "source_type", "source", "schema", "profile", "context")
    }
    write_record(
        stage,
        _fit_record(
            job,
            params=mlflow_params(params),
            tags=tags,
            metrics=_keys(metrics, float),
            datasets=[dataset_entity],
            artifacts=artifacts,
            card="model_card.json",
        ),
    )
    return stage


def _build_eval_record(job: dict) -> Path:
    import numpy as np

    from uniml.lineage._params import flatten_params, mlflow_params
    from uniml.lineage._spool import write_record

    report, stage = job["report"], job["stage"]
    (stage / "report.json").write_text(report.to_json())
    artifacts = [{"path": "report.json", "dest": ""}]
    tags = {
        **_base_tags(*_caller()),
        **job["user_tags"],
        "uniml.kind": "evaluate",
        "uniml.task": str(report.task),
        "uniml.eval.passed": str(bool(report.passed)).lower(),
    }
    try:
        report.to_html(stage / "report.html")
        artifacts.append({"path": "report.html", "dest": ""})
    except Exception as exc:
        tags["uniml.report_html_error"] = f"{type(exc).__name__}: {exc}"[:5000]
    gates = [
        {"name": str(g.name), "passed": bool(g.passed), "reason": str(g.reason)}
        for g in report.gates
    ]
    (stage / "gates.json").write_text(json.dumps(gates, indent=2))
    artifacts.append({"path": "gates.json", "dest": ""})
    for g in gates:
        tags[f"uniml.gate.{g['name']}"] = (
            "passed" if g["passed"] else f"failed: {g['reason']}"[:5000]
        )
    spec = job["spec"]
    if spec is not None:
        dump = getattr(spec, "model_dump", None)
        text = json.dumps(dump(mode="json") if dump else spec, indent=2, default=str)
        (stage / "spec.json").write_text(text)
        artifacts.append({"path": "spec.json", "dest": ""})
    protocol = (
        report.protocol if isinstance(report.protocol, dict) else {"protocol": report.protocol}
    )
    runs = [
        {
            "key": "eval",
            "parent": None,
            "name": job["run_name"],
            "start_ms": job["start_ms"],
            "end_ms": job["start_ms"],
            "params": mlflow_params(flatten_params({"protocol": protocol})),
            "tags": _keys(tags, str),
            "metrics": {},
            "datasets": [],
            "artifacts": artifacts,
            "card": None,
        }
    ]
    board = report.leaderboard
    params = report.params or {}
    for name, row in board.iterrows():
        metrics = {}
        for col, value in row.items():
            if col == "role":
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if np.isfinite(number):
                metrics[str(col)] = number
        child_tags = {
            "uniml.kind": "evaluate-model",
            "uniml.model": str(name),
            "uniml.role": str(row.get("role", "candidate")),
            "uniml.task": str(report.task),
            "uniml.eval.passed": str(bool(report.passed)).lower(),
        }
        runs.append(
            {
                "key": f"model:{name}",
                "parent": "eval",
                "name": str(name),
                "start_ms": job["start_ms"],
                "end_ms": job["start_ms"],
                "params": mlflow_params(flatten_params(dict(params.get(name, {}) or {}))),
                "tags": _keys(child_tags, str),
                "metrics": _keys(metrics, float),
                "datasets": [],
                "artifacts": [],
                "card": None,
            }
        )
    write_record(
        stage,
        {
            "lineage_id": job["lineage_id"],
            "kind": "evaluate",
            "tracking_uri": job["tracking_uri"],
            "experiment": job["experiment"],
            "artifact_location": job["artifact_location"],
            "parent_run_id": job["parent_run_id"],
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "runs": runs,
        },
    )
    return stage


# ------------------------------------------------------------------ sending records
def _client(tracking_uri: str):
    from mlflow import MlflowClient

    if tracking_uri.startswith(("http://", "https://")):
        for key, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
    # MLflow's artifact download bar would reach the user's terminal from our thread
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return MlflowClient(tracking_uri=tracking_uri)


def _experiment_id(client, record: dict) -> str:
    parent = record.get("parent_run_id")
    if parent:
        try:
            return client.get_run(parent).info.experiment_id
        except Exception:  # the parent lives in another store: log at top level instead
            record["parent_run_id"] = None
    name = record.get("experiment") or DEFAULT_EXPERIMENT
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=record.get("artifact_location"))
    except Exception:  # created concurrently by another process
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def _log_card(client, run_id: str, folder: Path, card_name: str, lineage: dict) -> None:
    from uniml.lineage._card import dumps, render_markdown

    card = json.loads((folder / card_name).read_text())
    card["lineage"] = {**card.get("lineage", {}), **lineage}
    with tempfile.TemporaryDirectory(prefix="uniml-card-") as tmp:
        (Path(tmp) / "model_card.json").write_text(dumps(card))
        (Path(tmp) / "model_card.md").write_text(render_markdown(card))
        client.log_artifacts(run_id, tmp)


def _mapped_names(record: dict) -> None:
    """Records written before names were mapped (format 1): map the names MLflow would refuse."""
    from uniml.lineage._names import is_valid, mlflow_key

    if int(record.get("format", 1)) >= 2:
        return
    for spec in record["runs"]:
        for part in ("params", "metrics", "tags"):
            spec[part] = {(k if is_valid(k) else mlflow_key(k)): v for k, v in spec[part].items()}


def _create_run(client, folder, experiment_id, spec, tags, uri) -> tuple[str, str | None]:
    """Create one run and log everything but its end; returns (run_id, model_uri)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    parent = tags.get("mlflow.parentRunId")
    run = client.create_run(
        experiment_id, start_time=spec["start_ms"], tags=tags, run_name=spec["name"]
    )
    run_id = run.info.run_id
    try:
        params = [Param(k, v) for k, v in spec["params"].items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            client.log_batch(run_id, params=params[i : i + 100])
        now = _now_ms()
        metrics = [Metric(k, float(v), now, 0) for k, v in spec["metrics"].items()]
        for i in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[i : i + 1000])
        if spec["datasets"]:
            inputs = [
                DatasetInput(
                    Dataset(
                        d["name"],
                        d["digest"],
                        d["source_type"],
                        d["source"],
                        d["schema"],
                        d["profile"],
                    ),
                    [InputTag("mlflow.data.context", d["context"])],
                )
                for d in spec["datasets"]
            ]
            client.log_inputs(run_id, datasets=inputs)
        for art in spec["artifacts"]:
            path = folder / art["path"]
            if path.is_dir():
                client.log_artifacts(run_id, str(path), art["dest"] or None)
            else:
                client.log_artifact(run_id, str(path), art["dest"] or None)
        model_uri = (
            f"runs:/{run_id}/model"
            if any(a["dest"] == "model" for a in spec["artifacts"])
            else None
        )
        if spec.get("card"):
            _log_card(
                client,
                run_id,
                folder,
                spec["card"],
                {
                    "run_id": run_id,
                    "experiment_id": experiment_id,
                    "model_uri": model_uri,
                    "tracking_uri": uri,
                    "parent_run_id": parent,
                },
            )
        if model_uri:
            client.log_batch(run_id, tags=[RunTag("uniml.model_uri", model_uri)])
    except BaseException:
        _end_failed(client, run_id)
        raise
    return run_id, model_uri


def _end_failed(client, run_id: str) -> None:
    """Never leave a run RUNNING: a run whose logging failed ends FAILED (best effort)."""
    try:
        client.set_terminated(run_id, "FAILED")
    except Exception:  # the store is gone: the replay deletes and recreates the run anyway
        return


def send_record(folder: Path, tracking_uri: str | None = None) -> RunRef:
    """Log one record folder to MLflow, idempotently (runs already in are not created again).

    Every run of the record ends FINISHED only once all of the record's runs are
    logged (a parent never reads FINISHED with a child missing); when anything
    fails, the runs created so far end FAILED, and a replay replaces them.

    Parameters
    ----------
    folder : Path
        A record folder (staged or spooled).
    tracking_uri : str, optional
        Overrides the record's tracking URI.

    Returns
    -------
    RunRef
    """
    from mlflow.entities import ViewType

    from uniml.lineage._spool import read_record

    folder = Path(folder)
    record = read_record(folder)
    _mapped_names(record)
    uri = tracking_uri or record["tracking_uri"]
    client = _client(uri)
    experiment_id = _experiment_id(client, record)
    lineage_id = record["lineage_id"]
    run_ids: dict[str, str] = {}
    recreated: set[str] = set()
    to_finish: list[tuple[str, int]] = []
    try:
        for spec in record["runs"]:
            tag_value = f"{lineage_id}:{spec['key']}"
            existing = client.search_runs(
                [experiment_id],
                filter_string=f"tags.`{LINEAGE_TAG}` = '{tag_value}'",
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=10,
            )
            finished = [r for r in existing if r.info.status == "FINISHED"]
            if finished and spec["parent"] not in recreated:
                run_ids[spec["key"]] = finished[0].info.run_id
                continue
            for old in existing:  # an earlier attempt died half-way: replace it, never duplicate
                client.delete_run(old.info.run_id)
            tags = {**spec["tags"], LINEAGE_TAG: tag_value}
            parent = run_ids.get(spec["parent"]) if spec["parent"] else record.get("parent_run_id")
            if parent:
                tags["mlflow.parentRunId"] = parent
            run_id, _ = _create_run(client, folder, experiment_id, spec, tags, uri)
            run_ids[spec["key"]] = run_id
            recreated.add(spec["key"])
            to_finish.append((run_id, max(spec["end_ms"], spec["start_ms"])))
        for run_id, end_ms in reversed(to_finish):  # children first, the parent last
            client.set_terminated(run_id, "FINISHED", end_time=end_ms)
            to_finish.pop()
    except BaseException:
        for run_id, _ in to_finish:
            _end_failed(client, run_id)
        raise
    first = record["runs"][0]["key"] if record["runs"] else None
    main = run_ids.get(first) if first is not None else None
    has_model = bool(record["runs"]) and any(
        a["dest"] == "model" for a in record["runs"][0]["artifacts"]
    )
    return RunRef(
        lineage_id,
        main,
        experiment_id,
        f"runs:/{main}/model" if has_model and main else None,
        tracking_uri=uri,
        child_run_ids={k: v for k, v in run_ids.items() if k != first},
    )


#: MLflow error codes that mean "the store answered and refused this record"
_REJECTED_CODES = frozenset(
    {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST", "INVALID_STATE"}
)


def rejected(exc: BaseException) -> bool:
    """Whether ``exc`` means the tracking store refused the record (a retry cannot help),
    as opposed to not being reachable.

    Examples
    --------
    >>> from uniml.lineage._errors import LineageError
    >>> rejected(LineageError("bad name")), rejected(ConnectionError("refused"))
    (True, False)
    """
    from uniml.lineage._errors import LineageError

    if isinstance(exc, LineageError):
        return True
    return str(getattr(exc, "error_code", "")) in _REJECTED_CODES


def _describe_record(record: dict | None, lineage_id: str) -> str:
    if not record:
        return f"lineage record {lineage_id}"
    runs = record.get("runs") or [{}]
    what = runs[0].get("tags", {}).get("uniml.adapter") or runs[0].get("name") or "?"
    return f"the {record.get('kind', 'lineage')} record {lineage_id} ({what})"


def _deliver(stage: Path, lineage_id: str, tracking_uri: str, spool: Path) -> RunRef:
    """Send a staged record; on failure spool it (unreachable) or quarantine it (rejected)."""
    from uniml.lineage._spool import quarantine, read_record, spool_record, validate_record

    error = "interpreter exiting: no time left to reach the tracking server"
    record = None
    try:
        record = read_record(stage)
        validate_record(record)
    except Exception as exc:
        is_rejected = True
        error = f"{type(exc).__name__}: {exc}"
    else:
        is_rejected = False
        if not _WORKER.spool_only:
            try:
                ref = send_record(stage, tracking_uri)
            except Exception as exc:
                is_rejected = rejected(exc)
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            else:
                shutil.rmtree(stage, ignore_errors=True)
                return ref
    what = _describe_record(record, lineage_id)
    if is_rejected:
        dest, fallback = quarantine(stage, spool, lineage_id, error)
        message = (
            f"uniml lineage: MLflow at {tracking_uri} rejected {what} ({error[:300]}); it cannot be "
            f"replayed as is and was quarantined in {dest} (`uniml lineage sync` lists it)"
        )
    else:
        dest, fallback = spool_record(stage, spool, lineage_id)
        message = (
            f"uniml lineage could not reach MLflow at {tracking_uri} ({error[:300]}); {what} was "
            f"written to {dest} — replay it with `uniml lineage sync"
            f"{'' if fallback is None else f' --spool {dest.parent}'}` or uniml.lineage.sync()"
        )
    if fallback is not None:
        message += f" [the spool {spool} is unusable ({fallback}); used this fallback location]"
    warnings.warn(message, UnimlWarning, stacklevel=2)
    return RunRef(
        lineage_id, spooled=True, spool_path=str(dest), tracking_uri=tracking_uri, error=error
    )


def _fit_record(
    job: dict,
    *,
    params: dict,
    tags: dict,
    metrics: dict,
    datasets: list,
    artifacts: list,
    card: str | None,
) -> dict:
    """The spool record of one fit run: the job's identity and timing around what was recorded."""
    return {
        "lineage_id": job["lineage_id"],
        "kind": "fit",
        "tracking_uri": job["tracking_uri"],
        "experiment": job["experiment"],
        "artifact_location": job["artifact_location"],
        "parent_run_id": job["parent_run_id"],
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "runs": [
            {
                "key": "fit",
                "parent": None,
                "name": job["run_name"],
                "start_ms": job["start_ms"],
                "end_ms": job["end_ms"],
                "params": params,
                "tags": _keys(tags, str),
                "metrics": metrics,
                "datasets": datasets,
                "artifacts": artifacts,
                "card": card,
            }
        ],
    }


def _minimal_fit_record(job: dict, exc: BaseException) -> Path:
    """When the full record cannot be built: a run with what can be recorded, and why."""
    from uniml.lineage._params import mlflow_params
    from uniml.lineage._spool import write_record

    stage: Path = job["stage"]
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    tags = {
        **_base_tags(*_caller()),
        "uniml.kind": "fit",
        "uniml.adapter": job["adapter_name"],
        "uniml.record_error": f"{type(exc).__name__}: {exc}"[:5000],
        **job["user_tags"],
    }
    try:
        params = mlflow_params(job["params"])
    except Exception:
        params = {}
    write_record(
        stage,
        _fit_record(
            job,
            params=params,
            tags=tags,
            metrics={"fit_duration_s": float(job["duration"])},
            datasets=[],
            artifacts=[],
            card=None,
        ),
    )
    return stage


def _fit_job(job: dict) -> RunRef:
    try:
        stage = _build_fit_record(job)
    except Exception as exc:
        warnings.warn(
            f"uniml lineage could not record all of the fit of {job['adapter_name']} ({exc!r}); "
            f"logging its parameters and tags only",
            UnimlWarning,
            stacklevel=2,
        )
        try:
            stage = _minimal_fit_record(job, exc)
        except Exception as again:
            shutil.rmtree(job["stage"], ignore_errors=True)
            return RunRef(
                job["lineage_id"], tracking_uri=job["tracking_uri"], error=repr(again), kind="fit"
            )
    ref = _deliver(stage, job["lineage_id"], job["tracking_uri"], job["spool"])
    ref.kind = "fit"
    return ref


def _eval_job(job: dict) -> RunRef:
    try:
        stage = _build_eval_record(job)
    except Exception as exc:
        shutil.rmtree(job["stage"], ignore_errors=True)
        warnings.warn(
            f"uniml lineage could not record the evaluation: {exc!r}", UnimlWarning, stacklevel=2
        )
        return RunRef(
            job["lineage_id"], tracking_uri=job["tracking_uri"], error=repr(exc), kind="evaluate"
        )
    ref = _deliver(stage, job["lineage_id"], job["tracking_uri"], job["spool"])
    ref.kind = "evaluate"
    return ref


def _warm_up(tracking_uri: str) -> None:
    """Import MLflow and open the store while the user's code is still busy (errors ignored)."""
    try:
        _client(tracking_uri).search_experiments(max_results=1)
    except Exception:
        return


@dataclass
class SyncResult:
    """One spool record seen by :func:`sync`.

    ``status`` is ``"replayed"``, ``"failed"`` (the store could not be reached: kept
    for the next sync), ``"quarantined"`` (the store refused it now: moved out of the
    replay queue) or ``"quarantined-earlier"`` (listed, never retried).
    """

    lineage_id: str
    status: str
    run_id: str | None = None
    error: str | None = None
    folder: str | None = None


def sync(tracking_uri: str | None = None, spool: str | Path | None = None) -> list[SyncResult]:
    """Replay every spooled record into MLflow; remove each only after it is fully in.

    Idempotent: replaying a record whose runs are already in creates nothing. A
    record the store refuses (an invalid name or value) is quarantined with its
    reason instead of being retried forever; quarantined records are reported on
    every sync.

    Parameters
    ----------
    tracking_uri : str, optional
        Default: each record's own tracking URI.
    spool : str or Path, optional
        Default: ``$UNIML_LINEAGE_SPOOL`` or ``./.uniml-spool``.

    Returns
    -------
    list of SyncResult
    """
    from uniml.lineage._spool import (
        default_spool,
        pending,
        quarantine,
        quarantined,
        validate_record,
    )

    root = Path(spool) if spool else default_spool()
    results = [
        SyncResult(folder.name, "quarantined-earlier", error=reason, folder=str(folder))
        for folder, reason in quarantined(root)
    ]
    for folder, record in pending(root):
        lineage_id = record.get("lineage_id", folder.name)
        try:
            _mapped_names(record)
            validate_record(record)
            ref = send_record(folder, tracking_uri)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if rejected(exc):
                dest, _ = quarantine(folder, root, lineage_id, error)
                results.append(SyncResult(lineage_id, "quarantined", error=error, folder=str(dest)))
            else:
                results.append(SyncResult(lineage_id, "failed", error=error, folder=str(folder)))
            continue
        shutil.rmtree(folder, ignore_errors=True)
        results.append(SyncResult(lineage_id, "replayed", run_id=ref.run_id, folder=str(folder)))
    return results


# ------------------------------------------------------------------ the sink (pluggy plugin)
class MlflowSink:
    """The MLflow lineage sink; see :func:`uniml.lineage.enable` for the options."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        *,
        spool: str | Path | None = None,
        intended_use: str | None = None,
        limitations: str | None = None,
        tags: dict | None = None,
        artifact_location: str | None = None,
        log_model: bool = True,
        run_name: str | None = None,
        explain_rows: int = EXPLAIN_ROWS,
    ):
        from uniml.lineage._spool import default_spool

        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.experiment = (
            experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
        )
        self.spool = Path(spool).resolve() if spool else default_spool()
        self.intended_use = intended_use
        self.limitations = limitations
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self.artifact_location = artifact_location
        self.log_model = log_model
        self.run_name = run_name
        self.explain_rows = int(explain_rows)
        self._starts: dict[int, int] = {}
        self._last_fit: concurrent.futures.Future | None = None
        self._jobs: list[concurrent.futures.Future] = []
        _install_exit_hook()
        _WORKER.submit(_warm_up, self.tracking_uri)

    def __repr__(self) -> str:
        return f"MlflowSink(tracking_uri={self.tracking_uri!r}, experiment={self.experiment!r})"

    def _parent_run_id(self) -> str | None:
        mlflow = sys.modules.get("mlflow")
        active_run = getattr(mlflow, "active_run", None)
        # MLflow not imported (or only half-way, by our worker): no user run
        if mlflow is None or active_run is None:
            return None
        try:
            run = active_run()
        except Exception:
            return None
        if run is None:
            return None
        try:
            same_store = mlflow.get_tracking_uri() == self.tracking_uri
        except Exception:
            same_store = False
        return run.info.run_id if same_store else None

    def _common(self, prefix: str) -> dict:
        lineage_id = uuid.uuid4().hex
        return {
            "lineage_id": lineage_id,
            "stage": Path(tempfile.mkdtemp(prefix=f"uniml-{prefix}-{lineage_id[:8]}-")),
            "tracking_uri": self.tracking_uri,
            "experiment": self.experiment,
            "artifact_location": self.artifact_location,
            "spool": self.spool,
            "parent_run_id": self._parent_run_id(),
            "user_tags": dict(self.tags),
        }

    @hookimpl
    def uniml_fit_start(self, adapter):
        self._starts[id(adapter)] = _now_ms()

    @hookimpl
    def uniml_fit_end(self, adapter, X, y, fit_params, duration):
        global _last_fit
        import numpy as np

        from uniml.lineage._params import adapter_params

        end_ms = _now_ms()
        job = self._common("fit")
        # what must reflect the model *as fitted*, taken before fit returns: a refit of the
        # same object afterwards cannot change what is logged
        try:
            adapter.save(job["stage"] / "uniml_model")
            # registry (issue 16): the digest of this exact saved folder is the version identity;
            # kept on the model (the harness reports it) and tagged on the run
            from uniml.core.persistence import artifact_digest

            adapter.artifact_digest_ = job["artifact_digest"] = artifact_digest(
                job["stage"] / "uniml_model"
            )
        except (
            Exception
        ) as exc:  # still log params, tags, data and metrics; say why there is no model
            import copy

            job["model_obj"] = copy.deepcopy(adapter)
            job["save_error"] = f"{type(exc).__name__}: {exc}"[:5000]
        try:
            params = adapter_params(adapter)
        except Exception as exc:  # never break the user's fit; the run says what went wrong
            params = {"uniml.params_error": f"{type(exc).__name__}: {exc}"[:5000]}
        # pandas copy-on-write: a shallow copy is an immutable snapshot of the user's frame
        if hasattr(X, "columns"):
            X_snap = X.copy(deep=False)
        else:
            X_snap = X.copy() if hasattr(X, "toarray") else np.array(X, copy=True)
        y_snap = (
            None
            if y is None
            else (y.copy(deep=False) if hasattr(y, "index") else np.array(y, copy=True))
        )
        job.update(
            adapter=adapter,
            X=X_snap,
            y=y_snap,
            duration=float(duration or 0.0),
            adapter_name=adapter.name,
            params=params,
            fit_param_names=list(fit_params or {}),
            start_ms=self._starts.pop(id(adapter), end_ms - int(1000 * (duration or 0))),
            end_ms=end_ms,
            run_name=self.run_name or adapter.name,
            log_model=self.log_model,
            explain_rows=self.explain_rows,
            intended_use=self.intended_use,
            limitations=self.limitations,
        )
        _last_fit = self._last_fit = _WORKER.submit(_fit_job, job)
        self._jobs.append(self._last_fit)

    def last_run(self, timeout: float | None = None) -> RunRef | None:
        """This sink's most recent fit (see :func:`uniml.lineage.last_run`)."""
        return None if self._last_fit is None else self._last_fit.result(timeout=timeout)

    @hookimpl
    def uniml_evaluate(self, report, spec):
        job = self._common("eval")
        job.update(report=report, spec=spec, start_ms=_now_ms(), run_name="uniml-eval")
        self._jobs.append(_WORKER.submit(_eval_job, job))

    def runs(self, timeout: float | None = None) -> list[RunRef]:
        """Every fit and evaluation this sink logged, in order, waiting for them to be written.

        A :class:`RunRef` whose ``run_id`` is None did not reach the store
        (``spooled``, quarantined or not built: ``error`` says why).
        """
        return [f.result(timeout=timeout) for f in list(self._jobs)]

    def missing(self, timeout: float | None = None) -> list[str]:
        """What this sink logged that is not FINISHED in the store (empty when all is in).

        Checks every run and child run in the tracking store itself, so a run left
        RUNNING or a missing child is found, not only a spooled record.
        """
        problems: list[str] = []
        refs = self.runs(timeout)
        if not refs:
            return problems
        client = _client(self.tracking_uri)
        for ref in refs:
            if ref.run_id is None:
                where = f" (kept in {ref.spool_path})" if ref.spool_path else ""
                problems.append(
                    f"{ref.kind} {ref.lineage_id} is not in the store{where}: {ref.error}"
                )
                continue
            for key, run_id in {"main": ref.run_id, **ref.child_run_ids}.items():
                try:
                    status = client.get_run(run_id).info.status
                except Exception as exc:
                    status = f"unreadable ({type(exc).__name__}: {exc})"
                if status != "FINISHED":
                    problems.append(f"{ref.kind} {ref.lineage_id} run {key} ({run_id}) is {status}")
        return problems

    @hookimpl
    def uniml_register(self, model_uri, name, version, run_id):
        if run_id:
            _WORKER.submit(
                _tag_run, self.tracking_uri, run_id, f"uniml.registered.{name}", str(version)
            )

    @hookimpl
    def uniml_promote(self, name, version, alias, previous_version):
        _WORKER.submit(_tag_version, self.tracking_uri, name, version, "uniml.promoted_to", alias)


def _tag_run(tracking_uri, run_id, key, value):
    try:
        _client(tracking_uri).set_tag(run_id, key, value)
    except Exception as exc:
        warnings.warn(
            f"uniml lineage could not tag run {run_id}: {exc!r}", UnimlWarning, stacklevel=2
        )


def _tag_version(tracking_uri, name, version, key, value):
    try:
        _client(tracking_uri).set_model_version_tag(name, str(version), key, str(value))
    except Exception as exc:
        warnings.warn(
            f"uniml lineage could not tag {name} v{version}: {exc!r}", UnimlWarning, stacklevel=2
        )

"""The FastAPI scoring app: MLflow-compatible, Open Inference Protocol v2 and task routes."""

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from itertools import chain, count
from typing import Any, cast

from uniml.serving._model import ServedModel, alias_version, load_model

access_log = logging.getLogger("uniml.serving.access")


@dataclass
class ServeConfig:
    """Settings of one scoring service.

    Parameters
    ----------
    model_uri : str
        Folder, ``runs:/...``, ``models:/name/version`` or ``models:/name@alias``.
    tracking_uri : str, optional
    trusted : bool, default False
    follow : bool, default False
        Poll the alias of ``model_uri`` and swap to the version it points at.
    poll_seconds : float, default 10
    max_rows : int, default 10000
        More rows in one request: HTTP 413.
    max_bytes : int, default 16 MiB
        Larger body: HTTP 413.
    prediction_log : str, optional
        Folder of the prediction log (see docs/serving.md); off when None.
    access_log : bool, default True
        One JSON line per request on the ``uniml.serving.access`` logger.
    batch_max_rows, batch_max_wait_ms : int, float
        Micro-batching (off when ``batch_max_rows <= 1``).
    log_proba : bool, default False
        Binary classifiers: also compute the positive class's probability of every
        row scored through ``/invocations`` or ``/v2/.../infer`` and write it to the
        prediction log as ``proba`` (monitoring's CBPE performance estimate needs
        it); one ``predict_proba`` per request, after the answer is built.
        ``/predict`` logs it whenever it answers with two classes' probabilities.

    Examples
    --------
    >>> ServeConfig("m").max_rows
    10000
    """

    model_uri: str
    tracking_uri: str | None = None
    trusted: bool = False
    follow: bool = False
    poll_seconds: float = 10.0
    max_rows: int = 10_000
    max_bytes: int = 16 * 1024 * 1024
    prediction_log: str | None = None
    access_log: bool = True
    batch_max_rows: int = 0
    batch_max_wait_ms: float = 2.0
    log_proba: bool = False

    def to_env(self) -> str:
        """This config as JSON (how worker processes receive it).

        Returns
        -------
        str
        """
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str) -> "ServeConfig":
        """Inverse of :meth:`to_env`.

        Parameters
        ----------
        text : str

        Returns
        -------
        ServeConfig
        """
        return cls(**json.loads(text))


class HTTPProblem(Exception):
    """A 4xx answer: status, message and the offending column (if any)."""

    def __init__(self, status: int, message: str, column=None):
        super().__init__(message)
        self.status, self.message, self.column = status, message, column


class ModelSlot:
    """The model being served; replaced atomically (one attribute assignment) on a swap."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.current: ServedModel | None = None
        self.loading = False
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fast = None

    def load(self) -> None:
        self.loading = True
        try:
            model = load_model(
                self.config.model_uri,
                tracking_uri=self.config.tracking_uri,
                trusted=self.config.trusted,
            )
            fast = _fast_columns(model)
            self._fast = fast  # set before the model: a reader seeing the new model sees its plan
            self.current = model
        finally:
            self.loading = False

    def start_follow(self, on_swap) -> None:
        if not self.config.follow:
            return
        self._thread = threading.Thread(
            target=self._follow, args=(on_swap,), name="uniml-follow", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _follow(self, on_swap) -> None:
        while not self._stop.wait(self.config.poll_seconds):
            try:
                version = alias_version(self.config.model_uri, self.config.tracking_uri)
                current = self.current
                if current is not None and version == current.version:
                    continue
                name = current.name if current else "?"
                model = load_model(
                    f"models:/{name}/{version}" if current else self.config.model_uri,
                    tracking_uri=self.config.tracking_uri,
                    trusted=self.config.trusted,
                )
                model = ServedModel(
                    model.adapter,
                    model.name,
                    model.version,
                    model.run_id,
                    model.digest,
                    self.config.model_uri,
                )
                plan = _fast_columns(model)
                self._fast, self.current = plan, model
                self.error = ""
                on_swap(model)
            except Exception as exc:  # keep serving the loaded version; report on /health
                self.error = f"follow: {exc}"


def _fast_columns(model: ServedModel):
    """Column names when every schema column is float (rows can go through one float array)."""
    schema = getattr(model.adapter, "schema_", None)
    if schema is None or getattr(schema, "from_array", False):
        return None
    if all(c.kind == "float" for c in schema.columns):
        return _Fast(list(schema.names), schema.column_index)
    return None


class _Rows:
    """Rows of an all-float ``dataframe_split`` payload kept as one float64 array, for the
    micro-batcher: the DataFrame is built once per batch, not once per request."""

    def __init__(self, array, columns) -> None:
        self.rows_array, self.columns = array, columns
        self._frame = None

    def __len__(self) -> int:
        return len(self.rows_array)

    def frame(self):
        import pandas as pd

        if self._frame is None:
            self._frame = pd.DataFrame(self.rows_array, columns=self.columns, copy=False)
        return self._frame


def _as_frame(data):
    return data.frame() if isinstance(data, _Rows) else data


class _Fast(list):
    """The float schema's column names, plus its shared Index (frames built on it pass the
    schema's column check by identity)."""

    def __init__(self, names: list, index) -> None:
        super().__init__(names)
        self.frame_columns = index


_NUMBER = frozenset((int, float))  # exact types: bool (an int subclass) takes the slow path


def _frame(payload: Any, fast: list | None, max_rows: int, lazy: bool = False):
    """A DataFrame from an MLflow-style JSON payload (never coercing types)."""
    import numpy as np
    import pandas as pd

    if not isinstance(payload, dict):
        raise HTTPProblem(
            400,
            "the body must be a JSON object with one of the keys "
            "dataframe_split, dataframe_records, instances, inputs",
        )
    keys = [
        k for k in ("dataframe_split", "dataframe_records", "instances", "inputs") if k in payload
    ]
    if len(keys) != 1:
        raise HTTPProblem(
            400,
            "expected exactly one of dataframe_split, dataframe_records, instances, inputs; "
            f"got {sorted(payload)}",
        )
    key = keys[0]
    body = payload[key]
    if key == "dataframe_split":
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise HTTPProblem(400, "dataframe_split needs {'columns': [...], 'data': [[...], ...]}")
        columns, data = body.get("columns"), body["data"]
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise HTTPProblem(400, "dataframe_split.columns must be a list of column names")
        if len(data) > max_rows:
            raise HTTPProblem(413, f"{len(data)} rows exceed the limit of {max_rows} per request")
        width = len(columns)
        for i, row in enumerate(data):
            if not isinstance(row, list) or len(row) != width:
                raise HTTPProblem(400, f"dataframe_split.data row {i} does not have {width} values")
        if (
            fast is not None
            and columns == fast
            and set(map(type, chain.from_iterable(data))) <= _NUMBER
        ):
            array = np.array(data, dtype=np.float64).reshape(len(data), width)
            if lazy and isinstance(fast, _Fast):
                return _Rows(array, fast.frame_columns)
            return pd.DataFrame(
                array,
                columns=fast.frame_columns if isinstance(fast, _Fast) else columns,
                copy=False,
            )
        return pd.DataFrame(data, columns=columns)
    if (
        key == "inputs"
        and isinstance(body, list)
        and body
        and all(isinstance(t, dict) and "name" in t and "data" in t for t in body)
    ):  # Open Inference Protocol v2: one tensor per column
        body = {str(t["name"]): t["data"] for t in body}
    if key == "inputs" and isinstance(body, dict):  # columnar: {"col": [values]}
        lengths = {len(v) if isinstance(v, list) else 1 for v in body.values()}
        if max(lengths or {0}) > max_rows:
            raise HTTPProblem(413, f"rows exceed the limit of {max_rows} per request")
        if len(lengths) > 1:
            raise HTTPProblem(400, "inputs: columns of different lengths")
        return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in body.items()})
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise HTTPProblem(400, f"{key} must be a list of row objects {{column: value}}")
    if len(body) > max_rows:
        raise HTTPProblem(413, f"{len(body)} rows exceed the limit of {max_rows} per request")
    frame = pd.DataFrame.from_records(body)
    if fast is not None and list(frame.columns) != fast and set(frame.columns) == set(fast):
        frame = frame[fast]  # records carry no column order: order by the schema
    return frame


def _typed_from_text(model: ServedModel, frame):
    """JSON and CSV have no category or datetime type: give such schema columns their kind.

    A column fitted as ``category`` becomes categorical with the posted values as its levels
    (the schema check then names any level unseen at fit); one fitted as ``datetime`` is
    parsed as ISO 8601 (unparseable text is a 422 naming the column). Nothing else changes.
    """
    import pandas as pd

    schema = getattr(model.adapter, "schema_", None)
    if schema is None or getattr(schema, "from_array", False):
        return frame
    todo = [
        c
        for c in schema.columns
        if c.kind in ("category", "datetime")
        and c.name in frame.columns
        and not isinstance(frame[c.name].dtype, pd.CategoricalDtype)
        and not pd.api.types.is_datetime64_any_dtype(frame[c.name].dtype)
    ]
    if not todo:
        return frame
    frame = frame.copy(deep=False)
    for col in todo:
        if col.kind == "category":
            frame[col.name] = frame[col.name].astype("category")
            continue
        try:
            frame[col.name] = pd.to_datetime(frame[col.name], format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise HTTPProblem(
                422, f"column {col.name!r}: not an ISO 8601 datetime ({exc})", col.name
            ) from None
    return frame


def _jsonable(values):
    import numpy as np

    dtype = getattr(values, "dtype", None)
    if getattr(values, "ndim", 0) == 1 and getattr(dtype, "kind", "") in "fiub":
        return values.tolist()  # numpy or numeric pandas: plain Python numbers directly
    to_numpy = getattr(values, "to_numpy", None)  # a Series: skip pandas' __array__ protocol
    arr = to_numpy() if to_numpy is not None else np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.tolist()
    return [
        v.item() if hasattr(v, "item") else (v.isoformat() if hasattr(v, "isoformat") else v)
        for v in arr.tolist()
    ]


def _records(frame) -> list[dict]:
    """Rows as JSON-ready dicts at full float precision (NaN/NaT as null, datetimes ISO)."""
    import numpy as np
    import pandas as pd

    columns = {}
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            columns[str(col)] = [None if pd.isna(t) else t.isoformat() for t in values]
            continue
        plain = _jsonable(values)
        if values.dtype.kind == "f":
            missing = np.isnan(values.to_numpy(dtype=float, na_value=np.nan))
            plain = [None if m else v for v, m in zip(plain, missing, strict=True)]
        columns[str(col)] = plain
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _openapi_schema(model: ServedModel | None) -> dict:
    """A JSON schema of one row, from the model's recorded schema."""
    props: dict = {}
    schema = getattr(getattr(model, "adapter", None), "schema_", None)
    if schema is not None:
        types = {
            "float": "number",
            "integer": "integer",
            "bool": "boolean",
            "string": "string",
            "datetime": "string",
            "category": "string",
        }
        for col in schema.columns:
            prop: dict = {
                "type": types.get(col.kind, "string"),
                "description": f"dtype {col.dtype}",
            }
            if col.kind == "category" and col.categories:
                prop["enum"] = [str(c) for c in col.categories]
            props[str(col.name)] = prop
    row = {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "dataframe_records": {"type": "array", "items": row},
                            "dataframe_split": {
                                "type": "object",
                                "properties": {
                                    "columns": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "example": list(props),
                                    },
                                    "data": {"type": "array", "items": {"type": "array"}},
                                },
                            },
                            "instances": {"type": "array", "items": row},
                        },
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }


class _Metrics:
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiproc = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        # multiprocess mode: values go to PROMETHEUS_MULTIPROC_DIR, collected at /metrics
        reg: CollectorRegistry | None = None if self.multiproc else self.registry
        self.latency = Histogram(
            "uniml_request_seconds",
            "Request latency",
            ["route"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=reg,
        )
        self.requests = Counter(
            "uniml_requests", "Requests by route and status", ["route", "code"], registry=reg
        )
        self.rows = Counter("uniml_rows", "Rows scored", registry=reg)
        self.skew = Counter(
            "uniml_feature_skew",
            "Live feature values the training data never showed, by feature and kind "
            "(below_range/above_range: outside the fitted min..max; missing: NaN in a column "
            "that had none at fit)",
            ["feature", "kind"],
            registry=reg,
        )
        self._skew_counters: dict = {}
        self._skew_pending: list = []
        self._skew_rows = 0
        self._skew_since = 0.0
        self._children: dict = {}
        self.info = Gauge(
            "uniml_model_info",
            "Model being served (value 1)",
            ["name", "version", "run_id"],
            registry=reg,
            multiprocess_mode="liveall",
        )
        self._labels: tuple | None = None

    def child(self, metric, *labels):
        """``metric.labels(*labels)``, looked up once per label set."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    #: skew counting is deferred: rows are compared in stacks of this many (or at a scrape,
    #: or when the oldest pending row is older than SKEW_MAX_AGE seconds)
    SKEW_BATCH_ROWS = 256
    SKEW_MAX_AGE = 1.0

    def observe_skew(self, model: ServedModel, frame) -> None:
        """Queue ``frame``'s values for comparison with ``model``'s training schema."""
        entry = self._skew_counters.get(id(model))
        if entry is None or entry[0] is not model:
            from uniml.serving._skew import SkewCounter

            self.flush_skew()
            schema = getattr(model.adapter, "schema_", None)
            counter = SkewCounter(schema) if schema is not None else None
            entry = [model, counter if counter is not None and counter.names else None]
            if len(self._skew_counters) > 8:  # followed versions: keep the recent ones
                self._skew_counters.clear()
            self._skew_counters[id(model)] = entry
        if entry[1] is None or not len(frame):
            return
        if not self._skew_pending:
            self._skew_since = time.monotonic()
        counter = entry[1]
        rows = getattr(frame, "rows_array", None)  # the micro-batcher's array of float rows
        if rows is None or not counter.all_columns:
            rows = counter.values(frame.frame() if rows is not None else frame)
        self._skew_pending.append((counter, rows))
        self._skew_rows += len(frame)
        if (
            self._skew_rows >= self.SKEW_BATCH_ROWS
            or time.monotonic() - self._skew_since > self.SKEW_MAX_AGE
        ):
            self.flush_skew()

    def flush_skew(self) -> None:
        """Compare the queued rows and add what is skewed to ``uniml_feature_skew_total``."""
        import numpy as np

        pending, self._skew_pending, self._skew_rows = self._skew_pending, [], 0
        by_counter: dict = {}
        for counter, values in pending:
            by_counter.setdefault(id(counter), (counter, []))[1].append(values)
        for counter, arrays in by_counter.values():
            stacked = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
            for (feature, kind), n in counter.count_values(stacked).items():
                self.child(self.skew, str(feature), kind).inc(n)

    def set_model(self, model: ServedModel) -> None:
        if self._labels is not None:
            self.info.labels(*self._labels).set(0)
        self._labels = (model.name, model.version, model.run_id)
        self.info.labels(*self._labels).set(1)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        self.flush_skew()
        if self.multiproc:
            from prometheus_client import CollectorRegistry, multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


#: key of a handler result carrying the schema check's duration (popped before answering)
VALIDATE = "_validate_seconds"


def _predict(model: ServedModel, frame, *, with_proba: bool = False):
    adapter = model.adapter
    schema = getattr(adapter, "schema_", None)
    validate = None
    if (
        schema is not None
        and not schema.from_array
        and model.task in ("regression", "classification")
    ):
        # the schema check on its own, for Server-Timing's "validate"; the adapter's own
        # check of the frame it returns is then the identity fast path (or a no-op recode)
        started = time.perf_counter()
        frame = schema.enforce(frame, owner=type(adapter).__name__)
        validate = time.perf_counter() - started
    pred = adapter.predict(frame)
    out: dict[str, Any] = {"predictions": _jsonable(pred)}
    if with_proba and hasattr(adapter, "predict_proba"):
        proba = adapter.predict_proba(frame)
        out["probabilities"] = {str(c): _jsonable(proba[c]) for c in proba.columns}
    if validate is not None:
        out[VALIDATE] = validate
    return out


def create_app(config: ServeConfig | str, **kwargs):
    """Build the FastAPI app serving one model (see docs/serving.md for the routes).

    Parameters
    ----------
    config : ServeConfig or str
        A config, or a model URI (then ``kwargs`` are :class:`ServeConfig` fields).
    **kwargs
        :class:`ServeConfig` fields when ``config`` is a URI.

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, uniml
    >>> from fastapi.testclient import TestClient
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, min_child_samples=1, verbose=-1)
    >>> folder = m.fit(X, [1.0, 2.0, 3.0, 4.0]).save(tempfile.mkdtemp() + "/m")
    >>> with TestClient(create_app(str(folder), access_log=False)) as client:
    ...     r = client.post("/invocations", json={"dataframe_split": {"columns": ["a", "b"],
    ...                                                               "data": [[1.0, 0.0]]}})
    ...     bad = client.post("/invocations", json={"dataframe_records": [{"a": 1.0}]})
    >>> r.json()["predictions"] == m.predict(X.iloc[[1]]).tolist(), bad.status_code
    (True, 422)
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response

    from uniml.core.errors import SchemaError, UnimlError

    cfg = config if isinstance(config, ServeConfig) else ServeConfig(config, **kwargs)
    # request ids: a random per-process prefix and a counter (no urandom call per request)
    id_prefix, id_counter = uuid.uuid4().hex[:16], count()

    def new_request_id() -> str:
        return f"{id_prefix}{next(id_counter):016x}"

    slot = ModelSlot(cfg)
    metrics = _Metrics()
    plog = None
    batcher = None

    # the model is loaded before the app is built, so /docs is typed from its schema
    slot.load()
    metrics.set_model(slot.current)  # type: ignore[arg-type]

    @asynccontextmanager
    async def lifespan(app):
        nonlocal plog, batcher
        if cfg.prediction_log:
            from uniml.serving._log import PredictionLog

            plog = PredictionLog(cfg.prediction_log)
        if cfg.batch_max_rows > 1:
            from uniml.serving._batch import MicroBatcher

            batcher = MicroBatcher(slot, cfg.batch_max_rows, cfg.batch_max_wait_ms / 1000.0)
        slot.start_follow(metrics.set_model)
        try:
            yield
        finally:
            slot.stop()
            if batcher is not None:
                await batcher.close()
            if plog is not None:
                plog.close()
            metrics.flush_skew()

    app = _fast_app_class(FastAPI)(
        title=f"uniml: {slot.current.name}",  # type: ignore[union-attr]
        version=str(slot.current.version),  # type: ignore[union-attr]
        lifespan=lifespan,
    )
    app.state.slot = slot
    app.state.metrics = metrics
    nodebody = _openapi_schema(slot.current)

    def problem(status: int, message: str, column=None, model: ServedModel | None = None):
        body: dict[str, Any] = {"error": message}
        if column is not None:
            body["column"] = str(column)
        model = model or slot.current
        headers = model.headers() if model else {}
        if model:
            body["model"] = model.identity()
        return JSONResponse(body, status_code=status, headers=headers)

    def finish(route: str, status: int, started: float, rows: int, request_id: str, model):
        elapsed = time.perf_counter() - started
        metrics.child(metrics.latency, route).observe(elapsed)
        metrics.child(metrics.requests, route, str(status)).inc()
        if rows:
            metrics.rows.inc(rows)
        if cfg.access_log:
            access_log.info(
                json.dumps(
                    {
                        "ts": time.time(),
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 3),
                        "rows": rows,
                        "request_id": request_id,
                        "model_version": model.version if model else None,
                    }
                )
            )

    async def read_frame(request: Request | _BareRequest, fast, lazy: bool = False):
        import pandas as pd

        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > cfg.max_bytes:
            raise HTTPProblem(413, f"body of {length} bytes exceeds the limit of {cfg.max_bytes}")
        raw = await _bounded_body(request, cfg.max_bytes)
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if ctype in ("text/csv", "application/csv"):
            import io

            try:
                frame = pd.read_csv(io.BytesIO(raw))
            except Exception as exc:
                raise HTTPProblem(400, f"malformed CSV: {exc}") from None
            if len(frame) > cfg.max_rows:
                raise HTTPProblem(413, f"{len(frame)} rows exceed the limit of {cfg.max_rows}")
            return frame, None
        if ctype not in ("application/json", ""):
            raise HTTPProblem(
                415, f"unsupported content type {ctype!r}: use application/json or text/csv"
            )
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPProblem(400, f"malformed JSON: {exc}") from None
        return _frame(payload, fast, cfg.max_rows, lazy), payload

    async def score(request: Request | _BareRequest, route: str, handler):
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or new_request_id()
        model = cast(ServedModel, slot.current)
        fast = slot._fast
        rows = 0
        try:
            # one-row requests the micro-batcher will gather stay arrays until their batch
            lazy = batcher is not None and route == "/invocations"
            frame, payload = await read_frame(request, fast, lazy)
            if fast is None:
                frame = _typed_from_text(model, frame)
            t_parse = time.perf_counter()
            rows = len(frame)
            result = await handler(model, frame, payload)
            t_pred = time.perf_counter()
        except HTTPProblem as exc:
            finish(route, exc.status, started, 0, request_id, model)
            return problem(exc.status, exc.message, exc.column, model)
        except SchemaError as exc:
            finish(route, 422, started, 0, request_id, model)
            return problem(422, str(exc), exc.column, model)
        except (UnimlError, KeyError, ValueError, TypeError) as exc:
            finish(route, 422, started, 0, request_id, model)
            return problem(422, f"{type(exc).__name__}: {exc}", None, model)
        except Exception as exc:  # no traceback for a client; the log keeps the type
            logging.getLogger("uniml.serving").exception("scoring failed")
            finish(route, 500, started, 0, request_id, model)
            return problem(500, f"internal error ({type(exc).__name__})", None, model)
        validate = result.pop(VALIDATE, None)
        result["model"] = model.identity()
        body = json.dumps(result, allow_nan=True).encode()
        headers = model.headers()
        headers["x-request-id"] = request_id
        predict_ms = (t_pred - t_parse) * 1000
        timing = f"parse;dur={(t_parse - started) * 1000:.3f}"
        if validate is not None:
            timing += f", validate;dur={validate * 1000:.3f}"
            predict_ms -= validate * 1000
        headers["server-timing"] = f"{timing}, predict;dur={predict_ms:.3f}"
        if plog is not None and "predictions" in result:
            plog.append(
                model.identity(),
                request_id,
                _as_frame(frame),
                result["predictions"],
                _positive_proba(model, frame, result) if route != "/explain" else None,
            )
        if route != "/explain":
            try:
                metrics.observe_skew(model, frame)
            except Exception:  # counting must never fail a request that was answered
                logging.getLogger("uniml.serving").exception("skew counting failed")
        finish(route, 200, started, rows, request_id, model)
        return Response(body, media_type="application/json", headers=headers)

    def _positive_proba(model, frame, result):
        """A binary classifier's positive-class probabilities for the log, or None."""
        probs = result.get("probabilities")
        if isinstance(probs, dict):
            return list(probs.values())[1] if len(probs) == 2 else None
        if not cfg.log_proba or model.task != "classification":
            return None
        try:
            proba = model.adapter.predict_proba(_as_frame(frame))
        except Exception:  # the request was answered; the log row simply has no proba
            logging.getLogger("uniml.serving").exception("predict_proba for the log failed")
            return None
        return proba.iloc[:, 1].tolist() if proba.shape[1] == 2 else None

    async def tabular(model, frame, payload):
        if batcher is not None and len(frame) == 1 and model is slot.current:
            return {"predictions": await batcher.submit(model, frame)}
        return _predict(model, _as_frame(frame))

    @app.post("/invocations", openapi_extra=nodebody, summary="Score rows (MLflow-compatible)")
    async def invocations(request: Request):
        return await score(request, "/invocations", tabular)

    @app.post("/predict", openapi_extra=nodebody, summary="Score rows, with class probabilities")
    async def predict(request: Request):
        async def handler(model, frame, payload):
            return _predict(model, frame, with_proba=True)

        return await score(request, "/predict", handler)

    @app.post("/explain", openapi_extra=nodebody, summary="Per-row contributions")
    async def explain(request: Request):
        async def handler(model, frame, payload):
            exp = model.adapter.explain(frame)
            contrib = exp.contributions
            base = exp.base_value
            return {
                "kind": exp.kind,
                "base_value": base if isinstance(base, (int, float)) else _jsonable(base),
                "contributions": None
                if contrib is None
                else _records(
                    contrib.set_axis(
                        [
                            "/".join(map(str, c)) if isinstance(c, tuple) else str(c)
                            for c in contrib.columns
                        ],
                        axis=1,
                    )
                ),
            }

        return await score(request, "/explain", handler)

    @app.post("/effect", summary="Conditional average treatment effect with its interval")
    async def effect(request: Request):
        async def handler(model, frame, payload):
            alpha = payload.get("alpha") if isinstance(payload, dict) else None
            return {
                "effects": _records(
                    model.adapter.predict(frame, alpha=alpha).reset_index(drop=True)
                )
            }

        return await score(request, "/effect", handler)

    async def json_route(request: Request, route: str, handler):
        started = time.perf_counter()
        model = cast(ServedModel, slot.current)
        request_id = request.headers.get("x-request-id") or new_request_id()
        try:
            raw = await request.body()
            if len(raw) > cfg.max_bytes:
                raise HTTPProblem(413, f"body exceeds the limit of {cfg.max_bytes} bytes")
            try:
                payload = json.loads(raw or b"{}")
            except ValueError as exc:
                raise HTTPProblem(400, f"malformed JSON: {exc}") from None
            if not isinstance(payload, dict):
                raise HTTPProblem(400, "the body must be a JSON object")
            result = handler(model, payload)
        except HTTPProblem as exc:
            finish(route, exc.status, started, 0, request_id, model)
            return problem(exc.status, exc.message, exc.column, model)
        except SchemaError as exc:
            finish(route, 422, started, 0, request_id, model)
            return problem(422, str(exc), exc.column, model)
        except (UnimlError, KeyError, ValueError, TypeError) as exc:
            finish(route, 422, started, 0, request_id, model)
            return problem(422, f"{type(exc).__name__}: {exc}", None, model)
        except Exception as exc:
            logging.getLogger("uniml.serving").exception("scoring failed")
            finish(route, 500, started, 0, request_id, model)
            return problem(500, f"internal error ({type(exc).__name__})", None, model)
        result["model"] = model.identity()
        finish(route, 200, started, 0, request_id, model)
        return JSONResponse(result, headers={**model.headers(), "x-request-id": request_id})

    @app.post("/forecast", summary="Forecast: horizon, series ids, future exogenous rows")
    async def forecast(request: Request):
        def handler(model, payload):
            import pandas as pd

            horizon = payload.get("horizon")
            rows = payload.get("rows")
            if horizon is not None and (not isinstance(horizon, int) or horizon < 1):
                raise HTTPProblem(422, "horizon must be a positive integer", "horizon")
            if horizon is not None and horizon > cfg.max_rows:
                raise HTTPProblem(413, f"horizon {horizon} exceeds the limit of {cfg.max_rows}")
            future = None
            if rows is not None:
                if not isinstance(rows, list) or len(rows) > cfg.max_rows:
                    raise HTTPProblem(
                        400 if not isinstance(rows, list) else 413,
                        "rows must be a list of at most max_rows row objects",
                    )
                future = pd.DataFrame.from_records(rows)
                time_col = getattr(model.adapter, "time_col", None) or getattr(
                    getattr(model.adapter, "contract_", None), "time", None
                )
                if time_col and time_col in future:
                    future[time_col] = pd.to_datetime(future[time_col])
            out = model.adapter.predict(future, horizon=horizon)
            series = payload.get("series")
            if series is not None:
                ids = [
                    c
                    for c in out.columns
                    if c not in ("forecast",)
                    and not c.startswith(("lower_", "upper_"))
                    and not pd.api.types.is_datetime64_any_dtype(out[c])
                ]
                if ids:
                    out = out[out[ids[0]].astype(str).isin([str(s) for s in series])]
            return {"forecast": _records(out.reset_index(drop=True))}

        return await json_route(request, "/forecast", handler)

    @app.post("/recommend", summary="Top-k items per user")
    async def recommend(request: Request):
        def handler(model, payload):
            users = payload.get("users", payload.get("user"))
            if users is None:
                raise HTTPProblem(422, "missing 'users' (or 'user')", "users")
            users = users if isinstance(users, list) else [users]
            k = payload.get("k", 10)
            if not isinstance(k, int) or k < 1:
                raise HTTPProblem(422, "k must be a positive integer", "k")
            if len(users) * k > cfg.max_rows:
                raise HTTPProblem(
                    413, f"{len(users)} users x k={k} exceed the limit of {cfg.max_rows}"
                )
            out = model.adapter.predict(
                users, k=k, exclude_seen=bool(payload.get("exclude_seen", True))
            )
            return {"recommendations": _records(out.reset_index(drop=True))}

        return await json_route(request, "/recommend", handler)

    # ---------------------------------------------------------------- health & metadata
    def ready() -> bool:
        return slot.current is not None

    @app.get("/ping")
    async def ping():
        return Response(status_code=200 if ready() else 503)

    @app.get("/health")
    async def health():
        model = slot.current
        body = {
            "status": "ok" if model else "loading",
            "loading": slot.loading,
            "error": slot.error or None,
            "model": model.identity() if model else None,
        }
        return JSONResponse(
            body, status_code=200 if model else 503, headers=model.headers() if model else {}
        )

    @app.get("/version")
    async def version():
        import uniml

        model = slot.current
        return JSONResponse(
            {"uniml": uniml.__version__, "model": model.identity() if model else None},
            headers=model.headers() if model else {},
        )

    @app.get("/metrics")
    async def metrics_route():
        data, ctype = metrics.render()
        return Response(data, media_type=ctype)

    @app.get("/v2/health/live")
    async def v2_live():
        return JSONResponse({"live": True})

    @app.get("/v2/health/ready")
    async def v2_ready():
        return JSONResponse({"ready": ready()}, status_code=200 if ready() else 503)

    def v2_check(name: str):
        model = slot.current
        if model is None:
            raise HTTPProblem(503, "model loading")
        if name != model.name:
            raise HTTPProblem(404, f"unknown model {name!r}; this server serves {model.name!r}")
        return model

    @app.get("/v2/models/{name}")
    async def v2_metadata(name: str):
        try:
            model = v2_check(name)
        except HTTPProblem as exc:
            return problem(exc.status, exc.message)
        schema = model.adapter.schema_
        datatypes = {"float": "FP64", "integer": "INT64", "bool": "BOOL"}
        return JSONResponse(
            {
                "name": model.name,
                "versions": [model.version],
                "platform": "uniml",
                "inputs": [
                    {"name": str(c.name), "datatype": datatypes.get(c.kind, "BYTES"), "shape": [-1]}
                    for c in schema.columns
                ],
                "outputs": [{"name": "predictions", "datatype": "FP64", "shape": [-1]}],
            },
            headers=model.headers(),
        )

    @app.post("/v2/models/{name}/infer")
    async def v2_infer(name: str, request: Request):
        async def handler(model, frame, payload):
            out = _predict(model, frame)
            preds = out["predictions"]
            dtype = (
                "FP64"
                if all(isinstance(p, float) for p in preds)
                else ("INT64" if all(isinstance(p, int) for p in preds) else "BYTES")
            )
            return {
                "model_name": model.name,
                "model_version": model.version,
                "id": payload.get("id") if isinstance(payload, dict) else None,
                "outputs": [
                    {"name": "predictions", "shape": [len(preds)], "datatype": dtype, "data": preds}
                ],
                "predictions": preds,
            }

        try:
            v2_check(name)
        except HTTPProblem as exc:
            return problem(exc.status, exc.message)
        return await score(request, f"/v2/models/{name}/infer", handler)

    async def invocations_fast(scope, receive, send) -> None:
        response = await score(_BareRequest(scope, receive), "/invocations", tabular)
        await response(scope, receive, send)

    app.state.fast_invocations = invocations_fast
    return app


class _Headers(dict):
    """Request headers by lower-case name; the first of repeated headers wins (as Starlette's)."""

    def __init__(self, raw) -> None:
        super().__init__((k.decode("latin-1"), v.decode("latin-1")) for k, v in reversed(raw))


class _BareRequest:
    """What ``score`` reads of a request, straight from ASGI: its headers and its body as
    a stream of chunks (the part of Starlette's ``Request`` that ``_bounded_body`` uses)."""

    __slots__ = ("headers", "_receive")

    def __init__(self, scope, receive) -> None:
        self.headers = _Headers(scope["headers"])
        self._receive = receive

    async def stream(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise HTTPProblem(400, "the client disconnected before sending the whole body")
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return


async def _bounded_body(request: Any, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``max_bytes`` (a chunked
    upload carries no Content-Length to check first, so it is never read whole)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPProblem(413, f"body exceeds the limit of {max_bytes} bytes")
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _fast_app_class(fastapi_cls):
    """FastAPI, with ``POST /invocations`` answered before its middleware and router.

    The hot route needs none of them: ``score`` catches every error itself and the body is
    read bounded. Per request that saves FastAPI's telemetry check, the exception and
    exit-stack middleware, routing and the Request object (about a third of a worker's time
    at saturation, measured with py-spy). Everything else, and ``/invocations`` too when an
    OpenTelemetry provider is configured (so its spans are kept) or user middleware was
    added, goes through FastAPI as usual.
    """

    class ServingApp(fastapi_cls):  # type: ignore[valid-type,misc]
        # decided at the first request (see below); the name must not be one FastAPI uses
        # itself (FastAPI keeps its telemetry config in ``_telemetry``, always truthy)
        _uniml_telemetry_on: bool | None = None

        async def __call__(self, scope, receive, send) -> None:
            if (
                scope["type"] == "http"
                and scope["path"] == "/invocations"
                and scope["method"] == "POST"
                and not self.user_middleware
                and not scope.get("root_path")
                and not self._telemetry_on()
            ):
                await self.state.fast_invocations(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

        def _telemetry_on(self) -> bool:
            """Whether FastAPI's native OpenTelemetry (FastAPI >= 0.165) records requests;
            decided once: a provider is configured before the server starts."""
            if self._uniml_telemetry_on is None:
                native = getattr(self, "_native_telemetry", None)
                self._uniml_telemetry_on = bool(native is not None and native.enabled())
            return self._uniml_telemetry_on

    return ServingApp

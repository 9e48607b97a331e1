"""Benchmark: the scoring service against a bare FastAPI app and ``mlflow models serve``.

One run, one model (LightGBM regressor, 100 trees, 20 features), three servers with 2
workers each on 127.0.0.1, the same one-row ``dataframe_split`` request. The load
generator runs in a second process (10 keep-alive connections, a fixed duration) and
reports requests/s, p50/p99 latency and errors; each server is measured ``--repeats``
times (rotating servers) and summarised by medians. The generator is ``wrk`` when it is on
``PATH`` (Debian package ``wrk``: C, one thread, a few microseconds of CPU per request) and
otherwise a Python one (raw HTTP/1.1 sockets on asyncio), which takes a larger share of
the two cores from the servers the faster they answer; ``--client`` chooses.
Also: one request alone (sequential, one connection), micro-batching at saturation,
batch scoring 1M x 20 rows, and the in-process single-row predict against
``Booster.predict``.

Run: ``python benchmarks/bench_serving.py [--quick] [--repeats 3] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_FEATURES = 20


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ load generator
async def _connection(port: int, request: bytes, until: float, lat: list, errors: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0])
    finally:
        writer.close()


def load(port: int, connections: int, seconds: float, body: bytes) -> dict:
    """Hit ``port`` with ``connections`` keep-alive connections for ``seconds``."""
    request = (
        b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    lat: list = []
    errors: list = []

    async def main():
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(_connection(port, request, until, lat, errors) for _ in range(connections)),
            return_exceptions=False,
        )

    t0 = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - t0
    lat.sort()
    n = len(lat)
    return {
        "rps": n / elapsed,
        "p50_ms": lat[n // 2] * 1000 if n else float("nan"),
        "p99_ms": lat[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
        "errors": len(errors),
        "requests": n,
    }


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY_FILE"), "rb"):read("*a")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "\\nBENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, "
    .. "\\"p99_us\\": %d, \\"errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _load_wrk(port, connections, seconds, body) -> dict:
    """``wrk`` as the load generator: one thread, ``connections`` keep-alive connections."""
    with tempfile.TemporaryDirectory() as tmp:
        script, body_file = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(_WRK_SCRIPT)
        body_file.write_bytes(body)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/invocations",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
            env={**os.environ, "BENCH_BODY_FILE": str(body_file)},
        )
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    got = json.loads(line.split(" ", 1)[1])
    n = got["requests"]
    return {
        "rps": n / (got["duration_us"] / 1e6),
        "p50_ms": got["p50_us"] / 1000,
        "p99_ms": got["p99_us"] / 1000,
        "errors": got["errors"],
        "requests": n,
    }


CLIENT = "python"


def _load_subprocess(port, connections, seconds, body) -> dict:
    """The load generator in a second process (its own interpreter and GIL, or wrk)."""
    if CLIENT == "wrk":
        return _load_wrk(port, connections, seconds, body)
    out = subprocess.run(
        [sys.executable, __file__, "--load", str(port), str(connections), str(seconds)],
        input=body,
        capture_output=True,
        timeout=seconds + 60,
        check=True,
    )
    return json.loads(out.stdout)


# ------------------------------------------------------------------ servers
class Proc:
    def __init__(self, cmd, port, env=None, cwd=None):
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {cmd}: {Path(self.log.name).read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server not ready: {cmd}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--skip-mlflow", action="store_true")
    p.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when it is on PATH)",
    )
    args = p.parse_args()
    global CLIENT
    CLIENT = args.client
    if args.quick:
        args.repeats, args.seconds = 1, 2.0

    import numpy as np
    import pandas as pd

    import uniml

    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    rng = np.random.default_rng(0)
    cols = [f"f{i}" for i in range(N_FEATURES)]
    X = pd.DataFrame(rng.normal(size=(20_000, N_FEATURES)), columns=cols)
    y = X.to_numpy() @ rng.normal(size=N_FEATURES) + rng.normal(size=len(X))
    model = uniml.make("lightgbm.regressor", n_estimators=100, verbose=-1).fit(X, y)
    folder = model.save(tmp / "model")
    model_txt = tmp / "model.txt"
    model.booster_.save_model(str(model_txt))
    row = X.iloc[[0]]
    body = json.dumps(
        {"dataframe_split": {"columns": cols, "data": row.to_numpy().tolist()}}
    ).encode()
    results: dict = {}

    # ---------------------------------------------------------- servers under load
    servers = {}
    pu, pb = _port(), _port()
    common = ["--host", "127.0.0.1", "--workers", "2"]
    servers["uniml"] = (
        [
            sys.executable,
            "-m",
            "uniml",
            "serve",
            str(folder),
            "--port",
            str(pu),
            "--workers",
            "2",
            "--no-access-log",
        ],
        pu,
        {},
    )
    servers["bare"] = (
        [
            _bin("uvicorn"),
            "_serving_bare:app",
            *common,
            "--port",
            str(pb),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        pb,
        {"BENCH_MODEL_TXT": str(model_txt), "PYTHONPATH": str(HERE)},
    )
    if not args.skip_mlflow:
        import mlflow.lightgbm

        mlflow_dir = tmp / "mlflow_model"
        mlflow.lightgbm.save_model(model.booster_, str(mlflow_dir))
        mlflow_env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        }

        def mlflow_cmd(port: int, workers: int | None) -> list:
            cmd = [_bin("mlflow"), "models", "serve", "-m", str(mlflow_dir)]
            cmd += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
            return cmd + (["-w", str(workers)] if workers else [])

        pm, pm1 = _port(), _port()
        servers["mlflow"] = (mlflow_cmd(pm, 2), pm, mlflow_env)
        # context: mlflow as a user starts it, with its default of one worker
        servers["mlflow_1worker"] = (mlflow_cmd(pm1, None), pm1, mlflow_env)
    runs: dict = {k: [] for k in servers}
    alone: dict = {k: [] for k in servers}
    procs = {}
    try:
        for name, (cmd, port, env) in servers.items():
            procs[name] = Proc(cmd, port, env, cwd=str(HERE))
        for name in procs:  # warm-up
            _load_subprocess(procs[name].port, args.connections, 1.0, body)
        for r in range(args.repeats):
            order = list(procs) if r % 2 == 0 else list(reversed(procs))
            for name in order:
                runs[name].append(
                    _load_subprocess(procs[name].port, args.connections, args.seconds, body)
                )
                alone[name].append(
                    _load_subprocess(procs[name].port, 1, min(args.seconds, 2.0), body)
                )
    finally:
        for proc in procs.values():
            proc.stop()

    def med(xs, key):
        return statistics.median(x[key] for x in xs)

    for name in runs:
        results[name] = {
            "rps": med(runs[name], "rps"),
            "p50_ms": med(runs[name], "p50_ms"),
            "p99_ms": med(runs[name], "p99_ms"),
            "errors": sum(x["errors"] for x in runs[name]),
            "alone_p50_ms": med(alone[name], "p50_ms"),
        }

    # ---------------------------------------------------------- micro-batching at saturation
    pmb, pnb = _port(), _port()
    sat = 64
    mb = {"on": [], "off": []}
    p_on = Proc(
        [
            sys.executable,
            "-m",
            "uniml",
            "serve",
            str(folder),
            "--port",
            str(pmb),
            "--workers",
            "2",
            "--no-access-log",
            "--batch-max-rows",
            "32",
            "--batch-max-wait-ms",
            "2",
        ],
        pmb,
    )
    p_off = Proc(
        [
            sys.executable,
            "-m",
            "uniml",
            "serve",
            str(folder),
            "--port",
            str(pnb),
            "--workers",
            "2",
            "--no-access-log",
        ],
        pnb,
    )
    try:
        for r in range(args.repeats):
            for key, proc in (
                (("on", p_on), ("off", p_off)) if r % 2 == 0 else (("off", p_off), ("on", p_on))
            ):
                mb[key].append(_load_subprocess(proc.port, sat, args.seconds, body))
    finally:
        p_on.stop()
        p_off.stop()
    if not args.skip_mlflow:  # the competitor at the same saturation (2 workers, no batching)
        pms = _port()
        p_ml = Proc(mlflow_cmd(pms, 2), pms, mlflow_env)
        try:
            sat_ml = [_load_subprocess(pms, sat, args.seconds, body) for _ in range(args.repeats)]
        finally:
            p_ml.stop()
        results["microbatch_mlflow"] = {"rps": med(sat_ml, "rps"), "p99_ms": med(sat_ml, "p99_ms")}
    results["microbatch"] = {
        "connections": sat,
        "on_rps": med(mb["on"], "rps"),
        "on_p99_ms": med(mb["on"], "p99_ms"),
        "off_rps": med(mb["off"], "rps"),
        "off_p99_ms": med(mb["off"], "p99_ms"),
    }

    # ---------------------------------------------------------- batch scoring
    from uniml.serving import score_file

    n_batch = 200_000 if args.quick else 1_000_000
    big = pd.DataFrame(rng.normal(size=(n_batch, N_FEATURES)), columns=cols)
    big.to_parquet(tmp / "big.parquet")
    del big
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        score_file(model, tmp / "big.parquet", tmp / "out.parquet", chunk_rows=200_000)
        times.append(time.perf_counter() - t0)
    # the same rows through the raw Booster (all threads), in memory: the ceiling on this machine
    frame = pd.read_parquet(tmp / "big.parquet").to_numpy()
    raw = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model.booster_.predict(frame)
        raw.append(time.perf_counter() - t0)
    del frame
    results["batch"] = {
        "rows": n_batch,
        "rows_per_s": n_batch / statistics.median(times),
        "raw_booster_rows_per_s": n_batch / statistics.median(raw),
    }

    # ---------------------------------------------------------- in-process single row
    booster = model.booster_
    arr = row.to_numpy()
    ta, tb = [], []
    for _ in range(2000 if not args.quick else 300):
        t0 = time.perf_counter()
        model.predict(row)
        t1 = time.perf_counter()
        booster.predict(arr, num_threads=1)
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    results["in_process"] = {
        "adapter_us": statistics.median(ta) * 1e6,
        "booster_us": statistics.median(tb) * 1e6,
        "ratio": statistics.median(ta) / statistics.median(tb),
    }
    results["client"] = CLIENT
    try:
        results["load_avg"] = os.getloadavg()[0]
    except OSError:
        pass
    u, b = results["uniml"], results["bare"]
    results["ratios"] = {
        "p50_overhead_ms_vs_bare": u["p50_ms"] - b["p50_ms"],
        "rps_vs_bare": u["rps"] / b["rps"],
        "microbatch_speedup": results["microbatch"]["on_rps"] / results["microbatch"]["off_rps"],
    }
    if "mlflow" in results:
        results["ratios"]["rps_vs_mlflow"] = u["rps"] / results["mlflow"]["rps"]
        results["ratios"]["rps_vs_mlflow_1worker"] = u["rps"] / results["mlflow_1worker"]["rps"]
        results["ratios"]["microbatch_vs_mlflow_at_saturation"] = (
            results["microbatch"]["on_rps"] / results["microbatch_mlflow"]["rps"]
        )
    print(json.dumps(results, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        port, conns, secs = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        print(json.dumps(load(port, conns, secs, sys.stdin.buffer.read())))
    else:
        main()

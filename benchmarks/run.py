"""Run the uniml benchmark suite: adapter overhead measured against the raw libraries.

Usage::

    python benchmarks/run.py                  # full run (~15-20 min on 2 cores)
    python benchmarks/run.py --quick          # small sizes, n_jobs=1, < 2 min (nox -s benchmarks -- --quick)
    python benchmarks/run.py --n-jobs 1       # full sizes, one thread per side (busy machines)
    python benchmarks/run.py --only latency   # one benchmark (comma-separate several)
    python benchmarks/run.py --only explain --libs xgboost
    python benchmarks/run.py --only explain --merge   # re-run one benchmark, keep the other rows

Every benchmark runs in a fresh interpreter per library (LightGBM and
XGBoost each ship their own OpenMP runtime; sharing a process makes their
idle threads spin against each other and distorts timings). Results are
printed as a Markdown table and written to ``benchmarks/results.json``.
The exit status is 0 unless a benchmark crashed, or ``--strict`` is given
and a target was missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _common import LIBRARIES, RESULT_MARK, library_versions, machine_info, n_jobs  # noqa: E402

#: name -> (script, libraries it runs for)
BENCHMARKS = {
    "fit_predict": ("bench_fit_predict.py", LIBRARIES),
    "latency": ("bench_latency.py", LIBRARIES),
    "memory": ("bench_memory.py", LIBRARIES),
    "explain": ("bench_explain.py", LIBRARIES),
    "import": ("bench_import.py", ("uniml",)),
    "harness": ("bench_harness.py", ("lightgbm",)),
    "lineage": ("bench_lineage.py", ("lightgbm",)),
}


def _run_one(name: str, lib: str, quick: bool) -> tuple[list[dict], float, str | None]:
    script = BENCHMARKS[name][0]
    cmd = [sys.executable, os.path.join(HERE, script), lib] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=HERE)
    elapsed = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :]), elapsed, None
    return [], elapsed, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "abs":
        return f"{value:.1e}"
    if unit == "modules":
        return str(int(value))
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "µs":
        return f"{value:,.0f} µs"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:.4g} {unit}"


def _fmt_target(r: dict) -> str:
    if r["target"] is None:
        return "context"
    if r["unit"] == "modules":
        return "none imported"
    subject = "ratio" if r["ratio"] is not None else "value"
    if r["unit"] == "abs":
        return f"≤ {r['target']:.0e}"
    if r["unit"] == "s" and r["ratio"] is None:
        return f"≤ {r['target']} s"
    return f"{subject} {'≤' if r['op'] == '<=' else '≥'} {r['target']}"


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| benchmark | library | measure | adapter | raw | ratio [95% CI] | target | result |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        result = "—" if r["passed"] is None else ("PASS" if r["passed"] else "**FAIL**")
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.3f}"
        ci = r["detail"].get("ratio_ci95")
        if ci:
            ratio += f" [{ci[0]:.2f}–{ci[1]:.2f}]"
        lines.append(
            f"| {r['benchmark']} | {r['library']} | {r['measure']} | {_fmt(r['adapter'], r['unit'])} | "
            f"{_fmt(r['raw'], r['unit'])} | {ratio} | {_fmt_target(r)} | {result} |"
        )
    return "\n".join(lines)


def _merge(
    path: str, mode: str, rows: list[dict], runs: list[dict]
) -> tuple[list[dict], list[dict]]:
    """Rows of an earlier results file for the (benchmark, library) pairs not re-run now, plus ours."""
    try:
        with open(path) as fh:
            old = json.load(fh)
    except (OSError, ValueError):
        return rows, runs
    if old.get("mode") != mode:
        raise SystemExit(f"--merge: {path} holds a {old.get('mode')!r} run, this is a {mode!r} run")
    fresh = {(r["benchmark"], r["library"]) for r in rows}
    kept = [r for r in old.get("rows", []) if (r["benchmark"], r["library"]) not in fresh]
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    libs = {lib: i for i, lib in enumerate((*LIBRARIES, "uniml"))}
    merged = sorted(
        kept + rows, key=lambda r: (order.get(r["benchmark"], 99), libs.get(r["library"], 99))
    )
    return merged, old.get("runs", []) + runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (< 2 min), for CI smoke runs"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--libs", default="", help=f"comma-separated subset of {', '.join(LIBRARIES)}"
    )
    parser.add_argument(
        "--output", default=os.path.join(HERE, "results.json"), help="JSON results path"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="update only the re-run rows of an existing results file (same mode)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="threads for both sides (default: every core; 1 with --quick)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    libs = [lib.strip() for lib in args.libs.split(",") if lib.strip()] or list(LIBRARIES)

    if args.n_jobs is None and args.quick:
        # The quick run is a smoke test for shared CI runners: with 2 OpenMP threads on a busy
        # machine, wall times swing 2-4x (threads spin at barriers waiting for a descheduled peer).
        args.n_jobs = 1
    if args.n_jobs is not None:
        # inherited by every worker; OMP_NUM_THREADS caps the calls that take no thread count
        # (lightgbm.Booster.predict, hence shap's LightGBM path), so both sides use the same number
        os.environ["UNIML_BENCH_N_JOBS"] = str(args.n_jobs)
        os.environ["OMP_NUM_THREADS"] = str(args.n_jobs)
    mode = "quick" if args.quick else "full"
    machine = machine_info()
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    print(
        f"uniml benchmarks ({mode}) on {machine['cpu_model']}, {machine['nproc']} cores, "
        f"n_jobs={n_jobs()}, load {machine['loadavg']}",
        flush=True,
    )
    rows: list[dict] = []
    failures: list[str] = []
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    for name in names:
        for lib in BENCHMARKS[name][1]:
            if lib in LIBRARIES and lib not in libs:
                continue
            print(f"  {name:<12} {lib:<9} ...", end=" ", flush=True)
            load_before = os.getloadavg()[0]
            got, elapsed, error = _run_one(name, lib, args.quick)
            timings[f"{name}/{lib}"] = round(elapsed, 1)
            if error:
                failures.append(f"{name}/{lib}: {error}")
                print(f"ERROR after {elapsed:.0f} s", flush=True)
            else:
                print(f"{elapsed:.0f} s", flush=True)
            for r in got:
                r["run"] = {
                    "started_utc": started,
                    "mode": mode,
                    "n_jobs": n_jobs(),
                    "seconds": round(elapsed, 1),
                    "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
            rows.extend(got)
    total = time.perf_counter() - t_start
    machine_end = machine_info()
    runs = [
        {
            "started_utc": started,
            "mode": mode,
            "n_jobs": n_jobs(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "seconds": round(total, 1),
            "seconds_per_benchmark": timings,
            "loadavg_start": machine["loadavg"],
            "loadavg_end": machine_end["loadavg"],
            "argv": sys.argv[1:] if argv is None else argv,
            "errors": failures,
        }
    ]

    table = markdown_table(rows)
    print()
    print(table)
    print(f"\n{len(rows)} rows in {total:.0f} s; load average at end {machine_end['loadavg']}")
    missed = [r for r in rows if r["passed"] is False]
    if missed:
        print(
            f"{len(missed)} target(s) missed: "
            + "; ".join(f"{r['benchmark']}/{r['library']}: {r['measure']}" for r in missed)
        )
    for f in failures:
        print(f"\nERROR {f}", file=sys.stderr)

    all_rows = rows
    if args.merge:
        all_rows, runs = _merge(args.output, mode, rows, runs)
    payload = {
        "mode": mode,
        "machine": machine,
        "versions": library_versions(),
        "runs": runs,
        "rows": all_rows,
        "markdown": markdown_table(all_rows),
    }
    with open(args.output, "w") as fh:
        json.dump(payload, fh, indent=1, default=str)
        fh.write("\n")
    print(
        f"wrote {os.path.relpath(args.output)}"
        + (f" ({len(all_rows)} rows after merge)" if args.merge else "")
    )
    if failures:
        return 2
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())

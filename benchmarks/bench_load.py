"""What the security checks of ``uniml.load`` cost: sealed, staged load vs an unverified read.

For each model, the same saved folder is read two ways, alternated (A B, B A, ...):

* ``verified``: ``uniml.load(folder)``: manifest seal, path confinement, every
  artifact copied to a private folder while hashed, then read from the copy;
* ``unverified``: the manifest parsed with ``json`` and the adapter's own
  ``_from_folder`` on the folder itself (what a load without any check costs).

The ratio is the median over rounds of verified / unverified. Run::

    python benchmarks/bench_load.py [--quick]
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _models(quick: bool):
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    import uniml

    rng = np.random.default_rng(0)
    n = 2_000 if quick else 20_000
    X = pd.DataFrame(rng.normal(size=(n, 20)), columns=[f"x{i}" for i in range(20)])
    y = X["x0"] * 2.0 + rng.normal(size=n)
    trees = 30 if quick else 200
    yield (
        "lightgbm.regressor",
        uniml.make("lightgbm.regressor", n_estimators=trees, verbose=-1, n_jobs=1).fit(X, y),
    )
    yield (
        "sklearn RandomForest",
        uniml.make(
            "sklearn.estimator",
            estimator=RandomForestRegressor(n_estimators=trees // 5, max_depth=8, random_state=0),
        ).fit(X, y),
    )


def _unverified(folder: Path):
    from uniml.core.catalog import get_adapter_class

    manifest = json.loads((folder / "uniml.json").read_text())
    cls = get_adapter_class(manifest["adapter"])
    return cls._from_folder(folder, manifest, trusted=False)


def _time(fn, folder: Path) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(folder)
    return time.perf_counter() - start


def run(quick: bool = False) -> list[dict]:
    import uniml

    rounds = 7 if quick else 21
    rows = []
    for name, model in _models(quick):
        folder = model.save(Path(tempfile.mkdtemp()) / "m")
        size = sum(p.stat().st_size for p in folder.iterdir())
        uniml.load(folder), _unverified(folder)  # warm-up: imports, caches
        verified, plain, ratios = [], [], []
        for i in range(rounds):
            if i % 2 == 0:
                a, b = _time(uniml.load, folder), _time(_unverified, folder)
            else:
                b, a = _time(_unverified, folder), _time(uniml.load, folder)
            verified.append(a)
            plain.append(b)
            ratios.append(a / b)
        rows.append(
            {
                "model": name,
                "folder_bytes": size,
                "verified_ms": 1000 * statistics.median(verified),
                "unverified_ms": 1000 * statistics.median(plain),
                "ratio": statistics.median(ratios),
                "rounds": rounds,
            }
        )
    return rows


if __name__ == "__main__":
    results = run(quick="--quick" in sys.argv)
    print("| model | folder | verified load | unverified read | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['model']} | {r['folder_bytes'] / 1e6:.1f} MB | {r['verified_ms']:.1f} ms | "
            f"{r['unverified_ms']:.1f} ms | {r['ratio']:.2f} |"
        )
    print(json.dumps(results))

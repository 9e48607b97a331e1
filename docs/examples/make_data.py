"""Regenerate the small data files the example specs read (deterministic; run from anywhere).

    python docs/examples/make_data.py

* ``diabetes.csv`` — scikit-learn's bundled diabetes data (regression, 442 rows).
* ``breast_cancer.csv`` — scikit-learn's bundled breast-cancer data, the ten "mean" features
  (binary classification, 569 rows).
* ``macro.csv`` — statsmodels' bundled US macro data: real GDP, consumption and investment,
  quarterly 1959-2009, long format (forecasting, 3 series x 203 quarters).
* ``uplift.csv`` — a seeded simulation with a known per-row effect (``true_effect``) from
  :func:`uniml.testing.causal.make_causal_data` (causal, 1000 rows).
* ``interactions.csv`` — seeded interactions with planted user/item groups from
  :func:`uniml.testing.recommendation.make_interaction_data`, with a timestamp
  (recommendation, 150 users x 10 interactions).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _write(frame: pd.DataFrame, folder: Path, name: str) -> None:
    path = folder / name
    frame.to_csv(path, index=False, float_format="%.6g")
    print(f"{path.name}: {len(frame)} rows, {path.stat().st_size / 1024:.0f} KB")


def main(folder: Path = HERE) -> None:
    """Write every data file into ``folder`` (default: next to this script)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from statsmodels.datasets import macrodata

    from uniml.testing.causal import make_causal_data
    from uniml.testing.recommendation import make_interaction_data

    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    _write(X.assign(progression=y), folder, "diabetes.csv")

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X[[c for c in X.columns if c.startswith("mean ")]]
    X.columns = [c.removeprefix("mean ").replace(" ", "_") for c in X.columns]
    _write(X.assign(malignant=(y == 0).astype(int)), folder, "breast_cancer.csv")

    macro = macrodata.load_pandas().data
    quarter = pd.PeriodIndex.from_fields(
        year=macro["year"].astype(int), quarter=macro["quarter"].astype(int), freq="Q"
    ).to_timestamp()
    long = pd.concat(
        [
            pd.DataFrame({"series": name, "quarter": quarter, "value": macro[name].to_numpy()})
            for name in ("realgdp", "realcons", "realinv")
        ]
    ).sort_values(["quarter", "series"], kind="stable")
    _write(long, folder, "macro.csv")

    data, truth = make_causal_data(n=1000, seed=7, effect=1.0, heterogeneity=1.0)
    _write(
        data.frame.assign(true_effect=truth["cate"]).reset_index(drop=True), folder, "uplift.csv"
    )

    inter = make_interaction_data(n_users=150, n_items=60, n_groups=4, per_user=10, seed=3).frame
    rng = np.random.default_rng(3)
    inter["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 90, len(inter)), unit="D"
    )
    _write(inter.sort_values("day", kind="stable"), folder, "interactions.csv")


if __name__ == "__main__":
    main()

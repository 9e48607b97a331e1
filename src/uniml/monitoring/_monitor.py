"""``monitor(profile, current)``: drift, prediction drift and performance against a reference profile."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uniml.monitoring import _stats
from uniml.monitoring._alerts import Alert, DriftAlert, PerformanceAlert
from uniml.monitoring._errors import MonitoringError
from uniml.monitoring._profile import (
    OTHER,
    Profile,
    _as_float,
    _reconstruction_error,
    category_counts,
    encode_features,
)

__all__ = ["DEFAULT_THRESHOLDS", "ColumnDrift", "MonitorReport", "column_statistics", "monitor"]

#: (warn, alert) per statistic; None: shown, never decides
DEFAULT_THRESHOLDS: dict[str, tuple[float, float] | None] = {
    "wasserstein": (0.1, 0.2),  # normalised by the reference std
    "js": (0.1, 0.2),  # Jensen-Shannon distance, base 2, in [0, 1]
    "psi": None,  # shown; 0.1 / 0.25 are the usual rules of thumb
    "missing": (0.02, 0.05),  # absolute change of the missing rate
    "unseen": (0.005, 0.01),  # share of current rows with a category the reference never had
}
#: below this many current rows, a drift statistic also needs a BH-adjusted p-value < alpha
SMALL_SAMPLE = 2000
#: the multivariate check reads at most this many current rows (a seeded sample)
PCA_CURRENT_ROWS = 100_000
_LEVELS = {"ok": 0, "warn": 1, "alert": 2}
_DRIFT_STATS = ("wasserstein", "js")


def _worst(levels) -> str:
    return max(levels, key=_LEVELS.__getitem__, default="ok")


@dataclass
class ColumnDrift:
    """Drift of one column (a feature or the prediction) between the profile and the current data.

    Parameters
    ----------
    name : str
    kind : str
        ``"numeric"`` or ``"categorical"``.
    role : str
        ``"feature"`` or ``"prediction"``.
    level : str
        ``"ok"``, ``"warn"`` or ``"alert"``.
    statistics : dict
        ``n``, ``missing_rate``, ``missing`` (change), ``wasserstein``
        (normalised), ``ks``, ``js``, ``psi``, ``unseen`` (categorical),
        ``p_value`` and ``p_adjusted`` (small samples only).
    thresholds : dict
        Statistic -> ``(warn, alert)`` used, and ``source``
        (``"default"``, ``"override"``, ``"learned"``).
    reasons : list of str
        Why the level is not ``ok``.
    bins : dict
        ``labels``, ``reference`` and ``current`` shares (for plots).

    Examples
    --------
    >>> ColumnDrift("x", "numeric", "feature", "ok", {"wasserstein": 0.01}, {}, []).drifted
    False
    """

    name: str
    kind: str
    role: str
    level: str
    statistics: dict
    thresholds: dict
    reasons: list
    bins: dict = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        """Whether the column reached its alert level.

        Returns
        -------
        bool
        """
        return self.level == "alert"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content.

        Returns
        -------
        dict
        """
        return {
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "level": self.level,
            "statistics": _jsonable(self.statistics),
            "thresholds": _jsonable(self.thresholds),
            "reasons": list(self.reasons),
            "bins": _jsonable(self.bins),
        }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def column_statistics(col, values: pd.Series, *, small_sample: int = SMALL_SAMPLE) -> dict:
    """Every statistic of one current column against its profile (no decision).

    Parameters
    ----------
    col : NumericColumn or CategoricalColumn
        The column's profile.
    values : pandas.Series
        The current column.
    small_sample : int, default 2000
        Below this many non-missing values, a p-value is computed too
        (two-sample KS for numbers, chi-square for categories).

    Returns
    -------
    dict
        Statistics, plus ``_shares`` (current bin or category shares) and
        ``_labels`` for plots.

    Examples
    --------
    >>> from uniml.monitoring._profile import NumericColumn
    >>> col = NumericColumn.fit("x", pd.Series(np.arange(100.0)))
    >>> round(column_statistics(col, pd.Series(np.arange(100.0) + 10))["wasserstein"], 4)
    0.3464
    """
    n_all = len(values)
    out: dict[str, Any] = {}
    if col.kind == "numeric":
        x = _as_float(values, col.name)
        missing = np.isnan(x)
        xs = np.sort(x[~missing]) if missing.any() else np.sort(x)
        n = int(xs.size)
        out["n"] = n
        out["missing_rate"] = float(missing.mean()) if n_all else float("nan")
        if n == 0:
            out.update(wasserstein=float("nan"), ks=float("nan"), js=float("nan"), psi=float("nan"))
        else:
            out["wasserstein"] = _stats.wasserstein_sorted(xs, col.sketch) / col.scale
            out["ks"] = _stats.ks_sorted(xs, col.sketch, col.steps)
            shares = _stats.bin_counts(xs, col.edges) / n
            out["js"] = _stats.js_distance(col.shares, shares)
            out["psi"] = _stats.psi(col.shares, shares)
            out["_shares"] = shares
            if n < small_sample:
                from scipy.stats import ks_2samp

                out["p_value"] = float(ks_2samp(xs, col.sketch).pvalue)
        out["wasserstein_error"] = col.sketch_error / col.scale
        out["ks_error"] = col.ks_error
    else:
        counts = category_counts(values)
        n = int(counts.sum())
        out["n"] = n
        out["missing_rate"] = float(values.isna().mean()) if n_all else float("nan")
        known = set(col.categories)
        unseen = counts[[c not in known for c in counts.index]]
        pooled_other = OTHER in known
        ref_counts = col.shares
        cur = np.array([counts.get(c, 0) for c in col.categories], dtype=float)
        if pooled_other:
            # categories beyond the profile's top list are pooled, not unseen
            cur[col.categories.index(OTHER)] += unseen.sum()
            unseen = unseen.iloc[:0]
        if n == 0:
            out.update(js=float("nan"), psi=float("nan"), unseen=float("nan"))
        else:
            full_ref = np.concatenate([ref_counts, np.zeros(len(unseen))])
            full_cur = np.concatenate([cur, unseen.to_numpy(dtype=float)]) / n
            out["js"] = _stats.js_distance(full_ref, full_cur)
            out["psi"] = _stats.psi(full_ref, full_cur)
            out["unseen"] = float(unseen.sum() / n)
            out["unseen_categories"] = {str(k): float(v / n) for k, v in unseen.head(5).items()}
            out["_shares"] = full_cur
            out["_labels"] = list(col.categories) + [str(c) for c in unseen.index]
            if n < small_sample:
                from scipy.stats import chi2_contingency

                table = np.vstack([full_ref * col.n, full_cur * n])
                table = table[:, table.sum(axis=0) > 0]
                if table.shape[1] > 1:
                    out["p_value"] = float(chi2_contingency(table).pvalue)
    if not math.isnan(out["missing_rate"]):
        out["missing"] = abs(out["missing_rate"] - col.missing_rate)
    return out


def _thresholds_for(
    profile: Profile, name: str, overrides: dict | None, learned: bool
) -> tuple[dict, str]:
    used = dict(DEFAULT_THRESHOLDS)
    source = "default"
    if learned and name in profile.learned:
        for stat, s in profile.learned[name].items():
            if stat in ("wasserstein", "js", "missing") and s["std"] > 0:
                k = s["k"]
                used[stat] = (s["mean"] + (k - 1) * s["std"], s["mean"] + k * s["std"])
        source = "learned"
    if overrides:
        for key in ("*", name):
            for stat, pair in (overrides.get(key) or {}).items():
                if stat not in DEFAULT_THRESHOLDS:
                    raise MonitoringError(
                        f"thresholds for {key!r}: unknown statistic {stat!r}; "
                        f"known: {sorted(DEFAULT_THRESHOLDS)}"
                    )
                if pair is not None:
                    pair = tuple(float(v) for v in pair)
                    if len(pair) != 2 or pair[0] > pair[1]:
                        raise MonitoringError(
                            f"thresholds for {key!r}.{stat}: expected (warn, alert) with "
                            f"warn <= alert, got {pair}"
                        )
                used[stat] = pair
                source = "override"
    return used, source


def _decide(
    col, stats: dict, thresholds: dict, source: str, alpha: float
) -> tuple[str, list, dict]:
    levels = {}
    reasons = []
    gated = "p_adjusted" in stats and not math.isnan(stats["p_adjusted"])
    for stat, pair in thresholds.items():
        if pair is None or stat not in stats:
            continue
        value = stats[stat]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        warn, alert = pair
        level = "alert" if value >= alert else "warn" if value >= warn else "ok"
        if level != "ok" and stat in _DRIFT_STATS and gated and stats["p_adjusted"] >= alpha:
            reasons.append(
                f"{stat} {value:.3g} reached its {level} threshold but the change is not "
                f"significant on {stats['n']} rows (BH-adjusted p = {stats['p_adjusted']:.3g})"
            )
            level = "ok"
        levels[stat] = level
        if level != "ok":
            what = {
                "wasserstein": "normalised Wasserstein distance",
                "js": "Jensen-Shannon distance",
                "psi": "PSI",
                "missing": "missing-rate change",
                "unseen": "share of unseen categories",
            }[stat]
            extra = ""
            if stat == "unseen" and stats.get("unseen_categories"):
                extra = (
                    " ("
                    + ", ".join(f"{k!r} {v:.1%}" for k, v in stats["unseen_categories"].items())
                    + ")"
                )
            reasons.append(
                f"{what} {value:.3g} >= {level} threshold "
                f"{warn if level == 'warn' else alert:.3g} ({source}){extra}"
            )
    return _worst(levels.values()), reasons, levels


@dataclass
class MonitorReport:
    """The result of :func:`monitor`: per-column drift, multivariate drift, performance, alerts.

    Parameters
    ----------
    created : str
        ISO 8601 UTC time of the run.
    n_rows : int
        Current rows.
    columns : list of ColumnDrift
        Features then the prediction.
    multivariate : dict
        PCA reconstruction error (and the domain classifier's AUC when asked).
    performance : dict
        ``realised`` and ``estimated``: metric -> ``value``, ``reference``,
        ``threshold``, ``level`` (and ``interval``, ``method``, ``assumptions``
        for estimates).
    chunks : pandas.DataFrame
        One row per chunk when ``chunk`` was given: ``start``, ``end``, ``n``,
        ``drift_share`` and each column's main statistic, performance columns.
    alerts : list of Alert
    model : dict
        The profile's model identity.
    notes : list of str
        Caveats of this run (learned thresholds for another chunk size...).
    duration : float
        Seconds.
    settings : dict
        The run's settings (alpha, small-sample size, k, overrides, reference rows).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> profile = Profile.fit(pd.DataFrame({"x": rng.normal(size=2000)}))
    >>> report = monitor(profile, pd.DataFrame({"x": rng.normal(1.0, size=3000)}), emit=False)
    >>> report.level, report.drifted_columns
    ('alert', ['x'])
    """

    created: str
    n_rows: int
    columns: list
    multivariate: dict
    performance: dict
    chunks: pd.DataFrame
    alerts: list
    model: dict
    notes: list
    duration: float
    settings: dict = field(default_factory=dict)

    @property
    def level(self) -> str:
        """The worst level of any finding: ``"ok"``, ``"warn"`` or ``"alert"``.

        Returns
        -------
        str
        """
        levels = [c.level for c in self.columns]
        levels.append(self.multivariate.get("level", "ok"))
        for part in ("realised", "estimated"):
            levels += [m.get("level", "ok") for m in self.performance.get(part, {}).values()]
        return _worst(levels)

    @property
    def drifted_columns(self) -> list[str]:
        """Feature columns at alert level.

        Returns
        -------
        list of str
        """
        return [c.name for c in self.columns if c.role == "feature" and c.drifted]

    @property
    def drift_share(self) -> float:
        """Share of feature columns at alert level.

        Returns
        -------
        float
        """
        feats = [c for c in self.columns if c.role == "feature"]
        return sum(c.drifted for c in feats) / len(feats) if feats else 0.0

    def column(self, name: str) -> ColumnDrift:
        """The :class:`ColumnDrift` of ``name``.

        Parameters
        ----------
        name : str

        Returns
        -------
        ColumnDrift

        Raises
        ------
        KeyError
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def table(self) -> pd.DataFrame:
        """One row per column: level, statistics, reasons.

        Returns
        -------
        pandas.DataFrame
        """
        rows = []
        for c in self.columns:
            row = {"column": c.name, "role": c.role, "kind": c.kind, "level": c.level}
            for stat in ("wasserstein", "ks", "js", "psi", "missing", "unseen", "p_adjusted"):
                row[stat] = c.statistics.get(stat, np.nan)
            row["reasons"] = "; ".join(c.reasons)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content of the whole report (what the HTML shows).

        Returns
        -------
        dict
        """
        chunks = self.chunks.copy()
        for col in chunks.columns:
            if pd.api.types.is_datetime64_any_dtype(chunks[col]):
                chunks[col] = chunks[col].astype(str)
        return {
            "created": self.created,
            "n_rows": self.n_rows,
            "level": self.level,
            "drift_share": self.drift_share,
            "drifted_columns": self.drifted_columns,
            "model": self.model,
            "columns": [c.to_dict() for c in self.columns],
            "multivariate": _jsonable(self.multivariate),
            "performance": _jsonable(self.performance),
            "chunks": _jsonable(chunks.to_dict(orient="records")),
            "alerts": [_jsonable(a.to_dict()) for a in self.alerts],
            "notes": list(self.notes),
            "settings": _jsonable(self.settings),
            "duration": self.duration,
        }

    def to_json(self, path=None, **kwargs) -> str:
        """The report as JSON text; written to ``path`` when given.

        Parameters
        ----------
        path : str or Path, optional
        **kwargs
            Passed to :func:`json.dumps` (``indent=2``...).

        Returns
        -------
        str
        """
        text = json.dumps(self.to_dict(), **kwargs)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path) -> Path:
        """Write the self-contained HTML report (inline SVG plots, no script).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Path
        """
        from uniml.monitoring._html import render

        return render(self, path)

    def summary(self) -> str:
        """A few lines of text: level, drifted columns, performance, alerts.

        Returns
        -------
        str
        """
        lines = [
            f"monitoring {self.n_rows} rows: {self.level.upper()} "
            f"({len(self.drifted_columns)} of {sum(c.role == 'feature' for c in self.columns)} "
            f"features drifted) in {self.duration:.2f} s"
        ]
        lines += [f"  {a.level.upper()} {a.message}" for a in self.alerts]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"MonitorReport({self.n_rows} rows, level={self.level!r}, {len(self.alerts)} alerts)"


def _resolve_current(current) -> pd.DataFrame:
    if isinstance(current, pd.DataFrame):
        return current
    if isinstance(current, (str, os.PathLike)):
        from uniml.monitoring._io import read_current

        return read_current(current)
    raise MonitoringError(
        f"current: expected a DataFrame or a path to Parquet/JSONL/CSV data, got "
        f"{type(current).__name__}"
    )


def _actuals(current: pd.DataFrame, actuals) -> np.ndarray | None:
    if actuals is None:
        return None
    if isinstance(actuals, str):
        if actuals not in current.columns:
            raise MonitoringError(f"actuals column {actuals!r} is not in the current data")
        return current[actuals].to_numpy()
    values = np.asarray(actuals)
    if len(values) != len(current):
        raise MonitoringError(
            f"actuals: {len(values)} values for {len(current)} current rows "
            "(align them, or pass the name of a column of the current data)"
        )
    return values


def _drift_columns(
    profile, current, thresholds, learned, alpha, small_sample, n_jobs, progress
) -> list[ColumnDrift]:
    present = [n for n in profile.columns if n in current.columns]
    missing = [
        n for n, c in profile.columns.items() if c.role == "feature" and n not in current.columns
    ]
    if missing:
        raise MonitoringError(
            f"the current data lacks profiled column(s) {missing}; it has {list(current.columns)[:20]}"
        )
    done = [0]

    def one(name):
        stats = column_statistics(profile.columns[name], current[name], small_sample=small_sample)
        done[0] += 1
        if progress is not None:
            progress(done[0], len(present))
        return stats

    workers = n_jobs or min(os.cpu_count() or 1, 8)
    if workers > 1 and len(present) > 1:
        with ThreadPoolExecutor(workers) as pool:
            all_stats = list(pool.map(one, present))
    else:
        all_stats = [one(n) for n in present]
    # Benjamini-Hochberg across the columns that have a p-value (small samples only)
    pvals = [s.get("p_value", np.nan) for s in all_stats]
    adjusted = _stats.benjamini_hochberg(pvals)
    out = []
    for name, stats, p_adj in zip(present, all_stats, adjusted, strict=True):
        if not math.isnan(p_adj):
            stats["p_adjusted"] = float(p_adj)
        col = profile.columns[name]
        used, source = _thresholds_for(profile, name, thresholds, learned)
        level, reasons, levels = _decide(col, stats, used, source, alpha)
        shares = stats.pop("_shares", None)
        labels = stats.pop("_labels", None)
        bins: dict[str, Any] = {}
        if shares is not None:
            if col.kind == "numeric":
                edges = col.edges
                labels = [f"< {edges[0]:.3g}"] if len(edges) else ["all"]
                labels += [
                    f"[{a:.3g}, {b:.3g})" for a, b in zip(edges[:-1], edges[1:], strict=True)
                ]
                if len(edges):
                    labels.append(f">= {edges[-1]:.3g}")
                ref = col.shares
            else:
                ref = np.concatenate([col.shares, np.zeros(len(shares) - len(col.shares))])
            bins = {"labels": labels, "reference": ref, "current": shares}
        out.append(
            ColumnDrift(
                name=name,
                kind=col.kind,
                role=col.role,
                level=level,
                statistics={**stats, "levels": levels},
                thresholds={**{k: v for k, v in used.items() if v is not None}, "source": source},
                reasons=reasons,
                bins=bins,
            )
        )
    return out


def _multivariate(profile, current, k, domain_classifier, random_state) -> dict:
    pca = profile.pca
    out: dict[str, Any] = {"level": "ok"}
    if pca is not None and all(c in current.columns for c in pca["columns"]):
        rows = current
        if (
            len(current) > PCA_CURRENT_ROWS
        ):  # every k-th row: the noise of a sample is counted below
            rows = current.iloc[:: -(-len(current) // PCA_CURRENT_ROWS)]
        Z = rows[pca["columns"]].to_numpy(dtype=float, na_value=np.nan, copy=True)
        Z -= pca["center"]
        Z /= pca["scale"]
        np.nan_to_num(Z, copy=False, nan=0.0)
        errors = _reconstruction_error(Z, pca["mean"], pca["components"])
        n = errors.size
        ref, sd = pca["error_mean"], pca["error_std"]
        noise = sd * math.sqrt(1 / max(n, 1) + 1 / pca["n"])
        threshold = ref + k * noise
        rel = 0.05  # a joint change also has to move the error by 5 % (effect size)
        value = float(errors.mean()) if n else float("nan")
        level = "ok"
        if n and value > max(threshold, ref * (1 + rel)):
            level = "alert"
        elif n and value > max(ref + (k - 1) * noise, ref * (1 + rel / 2)):
            level = "warn"
        out["pca_error"] = {
            "value": value,
            "reference": ref,
            "threshold": max(threshold, ref * (1 + rel)),
            "level": level,
            "components": int(pca["components"].shape[0]),
            "columns": list(pca["columns"]),
            "explained": pca["variance"],
        }
        out["level"] = level
    if domain_classifier:
        out["domain_auc"] = _domain_auc(profile, current, random_state)
        out["level"] = _worst([out["level"], out["domain_auc"]["level"]])
    return out


def _domain_auc(profile, current, random_state, rows: int = 5000) -> dict:
    """Cross-validated AUC of a classifier telling reference sketch rows from current rows.

    Only numeric features with an exact reference (or their sketch) are used; a
    sketch is a sample of the marginal, not of the joint distribution, so this
    check needs the reference rows and uses marginal sketches only when the
    profile holds all reference values.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    cols = [
        n
        for n, c in profile.columns.items()
        if c.role == "feature" and c.kind == "numeric" and c.exact and n in current.columns
    ]
    if not cols or len({profile.columns[c].sketch.size for c in cols}) != 1:
        return {"value": float("nan"), "level": "ok", "note": "needs an exact numeric profile"}
    # exact profiles keep sorted columns: rows are no longer joint, so this measures marginals
    rng = np.random.default_rng(random_state)
    ref = np.column_stack([rng.permutation(profile.columns[c].sketch) for c in cols])
    cur = current[cols].to_numpy(dtype=float, na_value=np.nan)
    ref = ref[rng.permutation(len(ref))[:rows]]
    cur = cur[rng.permutation(len(cur))[:rows]]
    X = np.vstack([ref, cur])
    y = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        scores = cross_val_score(
            HistGradientBoostingClassifier(max_iter=50, random_state=random_state),
            X,
            y,
            cv=3,
            scoring="roc_auc",
        )
    auc = float(scores.mean())
    level = "alert" if auc >= 0.6 else "warn" if auc >= 0.55 else "ok"
    return {"value": auc, "threshold": 0.6, "level": level, "columns": cols}


def monitor(
    profile: Profile,
    current,
    actuals=None,
    *,
    thresholds: dict | None = None,
    learned_thresholds: bool = False,
    alpha: float = 0.05,
    small_sample: int = SMALL_SAMPLE,
    k: float = 3.0,
    domain_classifier: bool = False,
    chunk=None,
    timestamp: str = "timestamp",
    emit: bool = True,
    sinks=None,
    retrain=None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    random_state: int = 0,
) -> MonitorReport:
    """Compare current data (and predictions, and actuals when they arrive) with a reference profile.

    Parameters
    ----------
    profile : Profile
        From :meth:`Profile.fit` (or :meth:`Profile.load`).
    current : pandas.DataFrame or path
        Current rows: the profiled features, a ``prediction`` column (and
        ``proba`` for binary classifiers) when the profile has them; or a path to
        Parquet/JSONL/CSV files or a serving prediction log (see :func:`read_current`).
    actuals : array-like or str, optional
        Actual outcomes aligned with ``current`` (or the name of its column): the
        realised performance. Without them, performance is estimated (CBPE, DLE).
    thresholds : dict, optional
        ``{column or "*": {statistic: (warn, alert)}}`` overriding
        :data:`DEFAULT_THRESHOLDS`; ``None`` for a statistic switches it off.
    learned_thresholds : bool, default False
        Use the thresholds the profile learned from reference chunks.
    alpha : float, default 0.05
        Small samples: a drift statistic over its threshold must also have a
        Benjamini-Hochberg adjusted p-value below ``alpha``.
    small_sample : int, default 2000
        Below this many current rows, p-values are computed and gate drift.
    k : float, default 3
        Standard deviations of sampling noise for the multivariate and
        performance thresholds.
    domain_classifier : bool, default False
        Also train a classifier to tell reference from current (AUC; exact
        numeric profiles only).
    chunk : int or str, optional
        Also compute drift and performance per chunk: a row count, or a pandas
        frequency (``"1D"``) over the ``timestamp`` column (for the report's
        "over time" plots).
    timestamp : str, default "timestamp"
    emit : bool, default True
        Send the ``monitor`` event and one ``alert`` event per alert to the
        enabled sinks (:func:`uniml.lineage.enable`).
    sinks : list, optional
        Sinks to enable for this run only (``WebhookSink(...)``, ``FileSink(...)``...).
    retrain : RetrainPolicy, optional
        Counts this run's breach; may emit a :class:`RetrainRequested`.
    n_jobs : int, optional
        Threads over columns (default: the CPU count, at most 8).
    progress : callable, optional
        ``progress(done, total)`` after each column.
    random_state : int, default 0

    Returns
    -------
    MonitorReport

    Raises
    ------
    MonitoringError
        A profiled column is missing, the actuals do not align, a threshold is
        malformed, or a file cannot be read.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["a", "b"], 1000)})
    >>> profile = Profile.fit(ref)
    >>> cur = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    >>> monitor(profile, cur, emit=False).level
    'ok'
    """
    started = time.perf_counter()
    if not isinstance(profile, Profile):
        raise MonitoringError(f"profile: expected a Profile, got {type(profile).__name__}")
    current = _resolve_current(current)
    y_true = _actuals(current, actuals)
    columns = _drift_columns(
        profile, current, thresholds, learned_thresholds, alpha, small_sample, n_jobs, progress
    )
    notes = []
    if learned_thresholds:
        if not profile.learned:
            raise MonitoringError(
                "learned_thresholds=True but the profile learned none: "
                "Profile.fit(..., learn_thresholds=True)"
            )
        size = next(iter(next(iter(profile.learned.values())).values()))["chunk_size"]
        if not size / 2 <= len(current) <= size * 2:
            notes.append(
                f"thresholds were learned on reference chunks of {size} rows; this run has "
                f"{len(current)} rows, so sampling noise differs (thresholds are "
                f"{'loose' if len(current) > size else 'tight'})"
            )
    multivariate = _multivariate(profile, current, k, domain_classifier, random_state)
    from uniml.monitoring._performance import performance

    perf = performance(profile, current, y_true, k=k, random_state=random_state)
    chunks = (
        _chunks(profile, current, y_true, chunk, timestamp, thresholds, learned_thresholds, k)
        if chunk is not None
        else pd.DataFrame()
    )
    model = dict(profile.meta.get("model", {}))
    alerts = _alerts(columns, multivariate, perf, model)
    for c in profile.columns.values():
        if not c.role == "feature" and c.name not in current.columns:
            notes.append(f"no {c.name!r} column in the current data: {c.name} drift not measured")
    report = MonitorReport(
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        n_rows=len(current),
        columns=columns,
        multivariate=multivariate,
        performance=perf,
        chunks=chunks,
        alerts=alerts,
        model=model,
        notes=notes,
        duration=0.0,
        settings={
            "alpha": alpha,
            "small_sample": small_sample,
            "k": k,
            "learned_thresholds": learned_thresholds,
            "overrides": thresholds or {},
            "reference_rows": profile.n_rows,
        },
    )
    report.duration = time.perf_counter() - started
    if emit or sinks:
        _dispatch(report, sinks, retrain)
    elif retrain is not None:
        retrain.observe(report, emit=False)
    return report


def _dispatch(report, sinks, retrain) -> None:
    import contextlib

    from uniml.core import events

    with contextlib.ExitStack() as stack:
        if sinks:
            import uniml.lineage

            for sink in sinks:
                stack.enter_context(uniml.lineage.enable(sink))
        events.emit("monitor", report=report)
        for alert in report.alerts:
            events.emit("alert", alert=alert)
        if retrain is not None:
            retrain.observe(report, emit=True)


def _alerts(columns, multivariate, perf, model) -> list[Alert]:
    alerts: list[Alert] = []
    for c in columns:
        if c.level != "alert":
            continue
        stat = next(s for s, lv in c.statistics["levels"].items() if lv == "alert")
        what = f"{'prediction' if c.role == 'prediction' else 'column'} {c.name!r}"
        alerts.append(
            DriftAlert(
                f"{what} drifted: " + "; ".join(c.reasons),
                model=model,
                column=c.name,
                role=c.role,
                statistic=stat,
                value=float(c.statistics[stat]),
                threshold=float(c.thresholds[stat][1]),
            )
        )
    for stat in ("pca_error", "domain_auc"):
        entry = multivariate.get(stat)
        if entry and entry.get("level") == "alert":
            alerts.append(
                DriftAlert(
                    f"multivariate drift: {stat} {entry['value']:.4g} > {entry['threshold']:.4g}",
                    model=model,
                    column="<multivariate>",
                    role="multivariate",
                    statistic=stat,
                    value=float(entry["value"]),
                    threshold=float(entry["threshold"]),
                )
            )
    for part in ("realised", "estimated"):
        for metric, entry in perf.get(part, {}).items():
            if entry.get("level") != "alert":
                continue
            label = "estimated " if part == "estimated" else ""
            alerts.append(
                PerformanceAlert(
                    f"{label}{metric} {entry['value']:.4g} is worse than the threshold "
                    f"{entry['threshold']:.4g} (reference {entry['reference']:.4g})",
                    model=model,
                    metric=metric,
                    value=float(entry["value"]),
                    reference=float(entry["reference"]),
                    threshold=float(entry["threshold"]),
                    estimated=part == "estimated",
                )
            )
    return alerts


def _chunks(profile, current, y_true, chunk, timestamp, thresholds, learned, k) -> pd.DataFrame:
    from uniml.monitoring._performance import performance

    if isinstance(chunk, int) and not isinstance(chunk, bool):
        if chunk < 1:
            raise MonitoringError(f"chunk: expected a positive row count, got {chunk}")
        groups = [
            (i // chunk, np.arange(i, min(i + chunk, len(current))))
            for i in range(0, len(current), chunk)
        ]
        starts = {g: (int(ix[0]), int(ix[-1])) for g, ix in groups}
    else:
        if timestamp not in current.columns:
            raise MonitoringError(
                f"chunk={chunk!r} needs a {timestamp!r} column; pass chunk=<rows> instead"
            )
        ts = pd.to_datetime(current[timestamp], utc=True, format="ISO8601")
        try:
            keys = ts.dt.floor(chunk)
        except ValueError as exc:
            raise MonitoringError(f"chunk={chunk!r} is not a pandas frequency: {exc}") from None
        groups = [(key, np.flatnonzero((keys == key).to_numpy())) for key in sorted(keys.unique())]
        starts = {g: (g, g + pd.tseries.frequencies.to_offset(chunk)) for g, _ in groups}
    rows = []
    for key, ix in groups:
        part = current.iloc[ix]
        cols = _drift_columns(profile, part, thresholds, learned, 0.05, SMALL_SAMPLE, 1, None)
        feats = [c for c in cols if c.role == "feature"]
        row: dict[str, Any] = {
            "start": starts[key][0],
            "end": starts[key][1],
            "n": len(ix),
            "drift_share": sum(c.drifted for c in feats) / len(feats) if feats else 0.0,
        }
        for c in cols:
            row[c.name] = c.statistics.get("wasserstein" if c.kind == "numeric" else "js")
        perf = performance(profile, part, None if y_true is None else y_true[ix], k=k)
        for part_name in ("realised", "estimated"):
            for metric, entry in perf.get(part_name, {}).items():
                row[f"{part_name}_{metric}"] = entry["value"]
                if "interval" in entry:
                    row[f"{part_name}_{metric}_low"] = entry["interval"][0]
                    row[f"{part_name}_{metric}_high"] = entry["interval"][1]
        rows.append(row)
    return pd.DataFrame(rows)


def _encode_current(profile, current) -> np.ndarray:
    feats = {n: c for n, c in profile.columns.items() if c.role == "feature"}
    return encode_features(current, feats)

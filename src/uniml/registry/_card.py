"""The model card a registered version carries (after Mitchell et al., "Model Cards for Model
Reporting", extended with harness metrics, data fingerprint and schema, code and library versions)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["REQUIRED_FIELDS", "UNKNOWN", "ModelCard"]

#: The one list of fields a card must fill before its version may hold a guarded alias
#: (dotted paths into the card's JSON).
REQUIRED_FIELDS: tuple[str, ...] = (
    "owner",
    "intended_use",
    "out_of_scope_use",
    "limitations",
    "ethical_considerations",
    "metrics",
    "training_data.fingerprint",
    "training_data.schema",
    "code_version",
    "library_versions",
)

#: The value legacy imports put in fields nobody recorded; it counts as missing.
UNKNOWN = "unknown (legacy import)"


def _get(data: dict, dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class ModelCard(dict):
    """A model card: a JSON-able dict with a completeness check and a canonical hash.

    Built like a ``dict``; see :data:`REQUIRED_FIELDS` for what must be filled.

    Examples
    --------
    >>> card = ModelCard(owner="ann", intended_use="weekly demand")
    >>> "limitations" in card.missing()
    True
    >>> len(card.sha256())
    64
    """

    def missing(self) -> list[str]:
        """The required fields that are absent, empty or marked unknown.

        Returns
        -------
        list of str

        Examples
        --------
        >>> ModelCard(owner=UNKNOWN).missing()[0]
        'owner'
        """
        out = []
        for field in REQUIRED_FIELDS:
            value = _get(self, field)
            if value is None or value == UNKNOWN or (hasattr(value, "__len__") and len(value) == 0):
                out.append(field)
        return out

    def complete(self) -> bool:
        """True when :meth:`missing` is empty.

        Returns
        -------
        bool

        Examples
        --------
        >>> ModelCard().complete()
        False
        """
        return not self.missing()

    def to_json(self) -> str:
        """Canonical JSON (sorted keys).

        Returns
        -------
        str

        Examples
        --------
        >>> ModelCard(b=1, a=2).to_json()
        '{"a": 2, "b": 1}'
        """
        return json.dumps(self, sort_keys=True, default=str)

    def sha256(self) -> str:
        """sha256 of :meth:`to_json`: the ``uniml.card_sha256`` tag of a version.

        Returns
        -------
        str
            64 hexadecimal characters.

        Examples
        --------
        >>> ModelCard(a=1).sha256() == ModelCard(a=1).sha256()
        True
        """
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def report_metrics(report, candidate: str) -> dict:
    """Mean, std and the interval vs the baseline of each metric of ``candidate`` in a report."""
    board = report.leaderboard
    out: dict = {}
    if candidate not in board.index:
        return out
    comp = report.comparisons
    for metric in report.metrics:
        entry: dict[str, Any] = {
            "mean": float(board.loc[candidate, f"{metric}_mean"]),
            "std": float(board.loc[candidate, f"{metric}_std"]),
        }
        rows = comp[(comp["model"] == candidate) & (comp["metric"] == metric)]
        if len(rows):
            row = rows.iloc[0]
            entry["vs"] = str(row["reference"])
            entry["diff"] = float(row["diff"])
            entry["ci"] = [float(row["ci_low"]), float(row["ci_high"])]
        out[metric] = entry
    return out


def build_card(
    lineage_card: dict | None, user: dict | None, report=None, candidate=None, tags=None
):
    """Merge what lineage recorded at fit, the harness metrics and the user's fields."""
    lc = lineage_card or {}
    tags = tags or {}
    details = lc.get("model_details", {})
    card = ModelCard(
        model_details=details,
        training_data=lc.get("training_data", {}),
        code_version=(lc.get("lineage") or {}).get("git_commit")
        or tags.get("mlflow.source.git.commit"),
        library_versions={
            k: v
            for k, v in {
                details.get("library", "library"): details.get("library_version"),
                "uniml": details.get("uniml_version"),
                "python": details.get("python_version"),
            }.items()
            if v
        },
        intended_use=lc.get("intended_use"),
        limitations=lc.get("limitations"),
        metrics=report_metrics(report, candidate) if report is not None and candidate else {},
    )
    for key, value in (user or {}).items():
        card[key] = value
    return card

"""Recommendation: the :class:`InteractionData` contract.

Examples
--------
>>> import pandas as pd
>>> InteractionData(pd.DataFrame({"u": [1, 2], "i": ["a", "a"]}), user="u", item="i").n_items
1
"""

from __future__ import annotations

import pandas as pd

from uniml.core.errors import DataContractError
from uniml.core.tasks import Dataset, Task

__all__ = ["InteractionData"]


class InteractionData(Dataset):
    """Data contract of recommendation: one row per user-item interaction.

    Parameters
    ----------
    frame : pandas.DataFrame
    user, item : str
        Id columns (any hashable values).
    weight : str, optional
        Interaction strength / rating (numeric).
    timestamp : str, optional
        Interaction time (datetime or numeric), for temporal splits.
    user_features, item_features : pandas.DataFrame, optional
        Feature frames indexed by user id / item id.

    Raises
    ------
    DataContractError
        Missing ids, non-numeric weights, feature frames with duplicated ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": ["a", "a", "b"], "i": [1, 2, 1]})
    >>> InteractionData(df, user="u", item="i").n_users
    2
    """

    _single_roles = ("user", "item", "weight", "timestamp", "user_features", "item_features")
    _required_roles = ("user", "item")
    task = Task.RECOMMENDATION

    def __init__(self, frame, user, item, weight=None, timestamp=None, user_features=None, item_features=None):
        super().__init__(
            frame,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            user_features=user_features,
            item_features=item_features,
        )

    def validate(self) -> None:
        self._require_no_missing("user", [self.user])
        self._require_no_missing("item", [self.item])
        if self.weight is not None:
            self._require_numeric("weight", self.weight)
            self._require_no_missing("weight", [self.weight])
        for role in ("user_features", "item_features"):
            feats = getattr(self, role)
            if feats is None:
                continue
            if not isinstance(feats, pd.DataFrame):
                raise DataContractError(f"role {role!r}: expected a DataFrame indexed by id")
            if feats.index.has_duplicates:
                dup = feats.index[feats.index.duplicated()][0]
                raise DataContractError(f"role {role!r}: id {dup!r} appears more than once")

    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return int(self.frame[self.user].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(self.frame[self.item].nunique())

"""Training/serving skew: per-feature counts of live values the training data never showed."""

from __future__ import annotations

#: the ``kind`` label values of ``uniml_feature_skew_total``
KINDS = ("below_range", "above_range", "missing")


class SkewCounter:
    """Count, per feature, live values outside the training range or missing where none were.

    Built from the model's recorded schema (``Column.range`` and ``Column.missing``,
    captured at ``fit``), so the comparison uses exactly what training saw. A value
    below the fitted minimum counts as ``below_range``, above the maximum as
    ``above_range``; a missing value in a column that had none at fit as ``missing``.

    Parameters
    ----------
    schema : uniml.core.schema.Schema

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.core.schema import Schema
    >>> schema = Schema.capture(pd.DataFrame({"a": [0.0, 10.0], "b": [1.0, 2.0]}))
    >>> SkewCounter(schema).count(pd.DataFrame({"a": [-1.0, 5.0, 11.0], "b": [None, 1.5, 2.0]}))
    {('a', 'below_range'): 1, ('a', 'above_range'): 1, ('b', 'missing'): 1}
    """

    def __init__(self, schema) -> None:
        import numpy as np

        cols = [
            c
            for c in schema.columns
            if c.kind in ("float", "integer") and (c.range is not None or c.missing is False)
        ]
        self.names = [c.name for c in cols]
        self.all_columns = list(schema.names) == self.names
        inf = float("inf")
        self.low = np.array([c.range[0] if c.range else -inf for c in cols], dtype=float)
        self.high = np.array([c.range[1] if c.range else inf for c in cols], dtype=float)
        self.no_missing = np.array([c.missing is False for c in cols], dtype=bool)

    def values(self, frame):
        """The tracked columns of ``frame`` as one float array (rows x tracked features).

        Parameters
        ----------
        frame : pandas.DataFrame
            A schema-valid frame.

        Returns
        -------
        numpy.ndarray
        """
        import numpy as np

        if self.all_columns:  # a schema-valid frame: exactly these columns, in this order
            arr = frame.to_numpy()
            if arr.dtype.kind != "f":
                arr = frame.to_numpy(dtype=float, na_value=np.nan)
            return arr
        return np.column_stack(
            [frame[n].to_numpy(dtype=float, na_value=np.nan) for n in self.names]
        )

    def count(self, frame) -> dict[tuple, int]:
        """Skewed values in ``frame`` (a schema-valid DataFrame), by (feature, kind).

        Parameters
        ----------
        frame : pandas.DataFrame

        Returns
        -------
        dict
            ``{(feature, kind): count}``, only non-zero counts.
        """

        if not self.names or not len(frame):
            return {}
        return self.count_values(self.values(frame))

    def count_values(self, arr) -> dict[tuple, int]:
        """Like :meth:`count`, for what :meth:`values` returned (one or several, stacked).

        Parameters
        ----------
        arr : numpy.ndarray

        Returns
        -------
        dict
        """
        import numpy as np

        if not self.names or not len(arr):
            return {}
        # the common case first: nothing skewed (NaN fails both comparisons)
        if ((arr >= self.low) & (arr <= self.high)).all():
            return {}
        with np.errstate(invalid="ignore"):
            below = (arr < self.low).sum(axis=0)
            above = (arr > self.high).sum(axis=0)
        missing = np.isnan(arr).sum(axis=0) * self.no_missing
        out: dict[tuple, int] = {}
        for kind, counts in zip(KINDS, (below, above, missing), strict=True):
            for j in np.flatnonzero(counts):
                out[(self.names[j], kind)] = int(counts[j])
        return out

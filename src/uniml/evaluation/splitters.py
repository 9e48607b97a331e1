"""Evaluation protocols: how a dataset is cut into train / test folds.

Each protocol is a small object with ``split(...)`` returning a list of
:class:`Fold` (positional row indices into the data's frame) and
``describe()`` returning the json-able dict stored in ``EvalReport.protocol``.

======================  ==============================================  ====================
protocol                folds                                           default for
======================  ==============================================  ====================
:class:`KFold`          shuffled k-fold (scikit-learn's ``KFold``)      regression, causal
:class:`StratifiedKFold` class-stratified k-fold                        classification
:class:`GroupKFold`     no group in two folds                           —
:class:`TimeSeriesSplit` time-ordered, train strictly before test       —
:class:`RollingOrigin`  rolling-origin backtest over the time axis      forecasting
:class:`LeaveOut`       random or temporal hold-out of interactions     recommendation
======================  ==============================================  ====================

The tabular protocols delegate to scikit-learn's splitters, so their folds
are exactly scikit-learn's for the same seed.

Examples
--------
>>> import numpy as np
>>> folds = KFold(n_splits=2, shuffle=False).split_arrays(np.zeros((4, 1)), np.zeros(4))
>>> [f.test.tolist() for f in folds]
[[0, 1], [2, 3]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from uniml.core.errors import DataContractError, UnimlError

__all__ = [
    "Fold",
    "GroupKFold",
    "KFold",
    "LeaveOut",
    "ProtocolError",
    "RollingOrigin",
    "StratifiedKFold",
    "TimeSeriesSplit",
]


class ProtocolError(UnimlError, ValueError):
    """A protocol's settings do not fit the data or the task (too few rows, wrong kind...).

    Examples
    --------
    >>> issubclass(ProtocolError, ValueError)
    True
    """


@dataclass
class Fold:
    """One train / test cut.

    Parameters
    ----------
    id : int
        Fold (or origin) number, from 0.
    train, test : numpy.ndarray of int
        Positional row indices into the data's frame.
    info : dict
        Json-able details (a backtest's origin and test window...).

    Examples
    --------
    >>> Fold(0, np.array([0, 1]), np.array([2])).test.tolist()
    [2]
    """

    id: int
    train: np.ndarray
    test: np.ndarray
    info: dict = field(default_factory=dict)


class _Protocol:
    kind = ""
    tasks: tuple[str, ...] = ()

    def describe(self) -> dict:
        """The protocol's settings as a json-able dict (``kind`` first).

        Examples
        --------
        >>> KFold(n_splits=3).describe()["n_splits"]
        3
        """
        out: dict[str, Any] = {"kind": self.kind}
        out.update(
            {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in vars(self).items()
                if not k.startswith("_")
            }
        )
        return out

    def check_task(self, task: str) -> None:
        """Raise :class:`ProtocolError` when this protocol cannot evaluate ``task``.

        Examples
        --------
        >>> RollingOrigin().check_task("regression")
        Traceback (most recent call last):
        ...
        uniml.evaluation.splitters.ProtocolError: protocol 'rolling_origin' evaluates forecasting, not regression
        """
        if task not in self.tasks:
            raise ProtocolError(
                f"protocol {self.kind!r} evaluates {' or '.join(self.tasks)}, not {task}"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "kind")
        return f"{type(self).__name__}({args})"


def _folds_from(pairs) -> list[Fold]:
    return [
        Fold(i, np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64))
        for i, (tr, te) in enumerate(pairs)
    ]


class _SklearnSplit(_Protocol):
    tasks: tuple[str, ...] = ("regression", "classification", "causal")

    def _splitter(self, random_state):
        raise TypeError  # replaced by every subclass

    def split_arrays(self, X, y, groups=None, random_state=None) -> list[Fold]:
        """Folds for a feature matrix and target (positional indices).

        Parameters
        ----------
        X : array-like
        y : array-like
        groups : array-like, optional
        random_state : int, optional
            Seed used when the protocol's own ``random_state`` is None.

        Returns
        -------
        list of Fold

        Raises
        ------
        ProtocolError
            More folds than rows (or classes / groups) allow.

        Examples
        --------
        >>> len(KFold(n_splits=3).split_arrays(np.zeros((6, 1)), np.zeros(6), random_state=0))
        3
        """
        own = getattr(self, "random_state", None)  # KFold's; GroupKFold has none
        seed = own if own is not None else random_state
        try:
            return _folds_from(self._splitter(seed).split(X, y, groups))
        except ValueError as exc:
            raise ProtocolError(f"protocol {self.kind!r} cannot split this data: {exc}") from exc


class KFold(_SklearnSplit):
    """K-fold cross-validation (scikit-learn's ``KFold``).

    Parameters
    ----------
    n_splits : int, default 5
    shuffle : bool, default True
    random_state : int, optional
        Seed of the shuffle; default the ``random_state`` given to ``evaluate``.

    Examples
    --------
    >>> KFold(n_splits=4).describe()
    {'kind': 'kfold', 'n_splits': 4, 'shuffle': True, 'random_state': None}
    """

    kind = "kfold"

    def __init__(self, n_splits: int = 5, shuffle: bool = True, random_state: int | None = None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _splitter(self, random_state):
        from sklearn.model_selection import KFold as _K

        return _K(
            self.n_splits, shuffle=self.shuffle, random_state=random_state if self.shuffle else None
        )


class StratifiedKFold(KFold):
    """K-fold keeping each class's share in every fold (scikit-learn's ``StratifiedKFold``).

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds; each class needs at least this many rows.
    shuffle : bool, default True
        Shuffle each class's rows before cutting them into folds.
    random_state : int, optional
        Seed of the shuffle; default the ``random_state`` given to ``evaluate``.

    Examples
    --------
    >>> folds = StratifiedKFold(n_splits=2).split_arrays(np.zeros((4, 1)), [0, 0, 1, 1], random_state=0)
    >>> sorted(np.asarray([0, 0, 1, 1])[folds[0].test].tolist())
    [0, 1]
    """

    kind = "stratified_kfold"
    tasks = ("classification",)

    def _splitter(self, random_state):
        from sklearn.model_selection import StratifiedKFold as _S

        return _S(
            self.n_splits, shuffle=self.shuffle, random_state=random_state if self.shuffle else None
        )


class GroupKFold(_SklearnSplit):
    """K-fold where all rows of a group land in the same fold (scikit-learn's ``GroupKFold``).

    Parameters
    ----------
    groups : str or array-like
        A column of the data's frame, or one group label per row.
    n_splits : int, default 5

    Examples
    --------
    >>> folds = GroupKFold(groups=[1, 1, 2, 2], n_splits=2).split_arrays(np.zeros((4, 1)), np.zeros(4))
    >>> sorted(f.test.tolist() for f in folds)
    [[0, 1], [2, 3]]
    """

    kind = "group_kfold"

    def __init__(self, groups, n_splits: int = 5):
        self.groups = groups
        self.n_splits = n_splits

    def describe(self) -> dict:
        """The protocol's settings as a json-able dict; group labels given as an array show as ``"<array>"``.

        Returns
        -------
        dict
            ``kind``, ``groups`` (the column name or ``"<array>"``) and ``n_splits``.

        Examples
        --------
        >>> GroupKFold(groups=[1, 1, 2], n_splits=2).describe()
        {'kind': 'group_kfold', 'groups': '<array>', 'n_splits': 2}
        """
        groups = self.groups if isinstance(self.groups, str) else "<array>"
        return {"kind": self.kind, "groups": groups, "n_splits": self.n_splits}

    def _splitter(self, random_state):
        from sklearn.model_selection import GroupKFold as _G

        return _G(self.n_splits)

    def split_arrays(self, X, y, groups=None, random_state=None) -> list[Fold]:
        """Folds for a feature matrix and target, keeping each group in one fold.

        Parameters
        ----------
        X : array-like
            Feature matrix (only its length matters).
        y : array-like
            Target, one value per row.
        groups : array-like, optional
            Group label of every row; default the labels given to the
            constructor (a column name must have been resolved to labels).
        random_state : int, optional
            Unused: group k-fold does not shuffle.

        Returns
        -------
        list of Fold

        Raises
        ------
        ProtocolError
            Unresolved group column, one label per row missing, or more folds than groups.

        Examples
        --------
        >>> folds = GroupKFold(groups="g", n_splits=2).split_arrays(
        ...     np.zeros((4, 1)), np.zeros(4), groups=["a", "b", "a", "b"])
        >>> sorted(f.test.tolist() for f in folds)
        [[0, 2], [1, 3]]
        """
        if groups is None:
            if isinstance(self.groups, str):
                raise ProtocolError(
                    f"group column {self.groups!r} was not resolved against the data"
                )
            groups = np.asarray(self.groups)
        if len(groups) != len(y):
            raise ProtocolError(f"GroupKFold: {len(groups)} group labels for {len(y)} rows")
        return super().split_arrays(X, y, groups, random_state)


class TimeSeriesSplit(_SklearnSplit):
    """Time-ordered CV (scikit-learn's ``TimeSeriesSplit``): every test fold follows its training rows.

    Rows are taken in the order of ``time`` (a column of the frame; stable
    sort) or, without it, in the frame's order.

    Parameters
    ----------
    n_splits : int, default 5
    time : str, optional
        Column to order rows by.
    gap : int, default 0
        Rows left out between train and test.
    test_size : int, optional
    max_train_size : int, optional
        Sliding window of at most this many training rows.

    Examples
    --------
    >>> folds = TimeSeriesSplit(n_splits=2).split_arrays(np.zeros((6, 1)), np.zeros(6))
    >>> [(int(f.train.max()), int(f.test.min())) for f in folds]
    [(1, 2), (3, 4)]
    """

    kind = "time_series_split"
    tasks = ("regression", "classification")

    def __init__(
        self,
        n_splits: int = 5,
        time: str | None = None,
        gap: int = 0,
        test_size: int | None = None,
        max_train_size: int | None = None,
    ):
        self.n_splits = n_splits
        self.time = time
        self.gap = gap
        self.test_size = test_size
        self.max_train_size = max_train_size

    def _splitter(self, random_state):
        from sklearn.model_selection import TimeSeriesSplit as _T

        return _T(
            self.n_splits,
            gap=self.gap,
            test_size=self.test_size,
            max_train_size=self.max_train_size,
        )

    def split_arrays(self, X, y, groups=None, random_state=None, order=None) -> list[Fold]:
        """Time-ordered folds for rows given in time order.

        Parameters
        ----------
        X : array-like
            Feature matrix, rows in time order.
        y : array-like
            Target, one value per row.
        groups : array-like, optional
            Ignored.
        random_state : int, optional
            Ignored: the folds are deterministic.
        order : array-like of int, optional
            Frame position of each row of ``X`` (a stable argsort of the time
            column): the folds then index the frame instead of ``X``.

        Returns
        -------
        list of Fold

        Raises
        ------
        ProtocolError
            Too few rows for ``n_splits`` (and ``test_size``, ``gap``).

        Examples
        --------
        >>> order = np.array([3, 0, 4, 1, 5, 2])  # frame rows sorted by time
        >>> folds = TimeSeriesSplit(n_splits=2).split_arrays(np.zeros((6, 1)), np.zeros(6), order=order)
        >>> folds[0].train.tolist(), folds[0].test.tolist()
        ([3, 0], [4, 1])
        """
        folds = super().split_arrays(X, y, None, random_state)
        if order is not None:  # positions in time order -> positions in the frame
            order = np.asarray(order)
            folds = [Fold(f.id, order[f.train], order[f.test]) for f in folds]
        return folds


class RollingOrigin(_Protocol):
    """Rolling-origin backtest for forecasting.

    The distinct timestamps of the data (all series together), sorted, are the
    time axis. The last origin is ``horizon`` steps before the end; earlier
    origins step back by ``step``. At each origin the models are trained on
    the times up to and including it (``window="expanding"``), or on the last
    ``window_size`` of them (``"sliding"``), and forecast the next
    ``horizon`` times.

    Parameters
    ----------
    horizon : int, default 7
        Steps forecast at each origin.
    step : int, default ``horizon``
        Steps between consecutive origins.
    n_origins : int, default 3
    window : {"expanding", "sliding"}, default "expanding"
    window_size : int, optional
        Training length of a sliding window (default: the first origin's training length).
    refit : {True, "update"}, default True
        Refit every model at each origin, or fit once at the first origin and
        ``update()`` it with the observations up to each next origin (the
        model's ``update`` method; baselines are cheap and always refit).

    Examples
    --------
    >>> import pandas as pd
    >>> times = pd.date_range("2024-01-01", periods=10, freq="D")
    >>> folds = RollingOrigin(horizon=2, n_origins=2).split_times(times)
    >>> [(str(f.info["origin"])[:10], len(f.train), f.test.tolist()) for f in folds]
    [('2024-01-06', 6, [6, 7]), ('2024-01-08', 8, [8, 9])]
    """

    kind = "rolling_origin"
    tasks = ("forecasting",)

    def __init__(
        self,
        horizon: int = 7,
        step: int | None = None,
        n_origins: int = 3,
        window: str = "expanding",
        window_size: int | None = None,
        refit=True,
    ):
        self.horizon = horizon
        self.step = step
        self.n_origins = n_origins
        self.window = window
        self.window_size = window_size
        self.refit = refit

    def _check(self) -> None:
        for name in ("horizon", "n_origins"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ProtocolError(
                    f"RollingOrigin: {name} must be a positive integer, got {value!r}"
                )
        if self.step is not None and (
            not isinstance(self.step, (int, np.integer)) or self.step < 1
        ):
            raise ProtocolError(
                f"RollingOrigin: step must be a positive integer, got {self.step!r}"
            )
        if self.window not in ("expanding", "sliding"):
            raise ProtocolError(
                f"RollingOrigin: window must be 'expanding' or 'sliding', got {self.window!r}"
            )
        if self.refit not in (True, "update"):
            raise ProtocolError(
                f"RollingOrigin: refit must be True or 'update', got {self.refit!r}"
            )

    def split_times(self, times) -> list[Fold]:
        """Folds over a sorted axis of distinct times; ``train``/``test`` index that axis.

        Parameters
        ----------
        times : array-like of datetime
            Distinct, sorted timestamps.

        Returns
        -------
        list of Fold
            ``info`` holds ``origin``, ``test_start``, ``test_end`` (timestamps)
            and ``horizon``.

        Raises
        ------
        ProtocolError
            The series is too short for the requested origins.
        """
        import pandas as pd

        self._check()
        times = pd.DatetimeIndex(times)
        step = self.step or self.horizon
        n = len(times)
        last = n - self.horizon - 1
        first = last - step * (self.n_origins - 1)
        if first < 1:
            raise ProtocolError(
                f"RollingOrigin(horizon={self.horizon}, step={step}, n_origins={self.n_origins}) needs at "
                f"least {self.horizon + step * (self.n_origins - 1) + 2} time points, the data has {n}"
            )
        size = self.window_size or (first + 1)
        folds = []
        for i, origin in enumerate(range(first, last + 1, step)):
            start = 0 if self.window == "expanding" else max(0, origin + 1 - size)
            train = np.arange(start, origin + 1)
            test = np.arange(origin + 1, origin + 1 + self.horizon)
            folds.append(
                Fold(
                    i,
                    train,
                    test,
                    {
                        "origin": times[origin],
                        "train_start": times[start],
                        "test_start": times[test[0]],
                        "test_end": times[test[-1]],
                        "horizon": int(self.horizon),
                    },
                )
            )
        return folds

    def split_frame(self, data) -> list[Fold]:
        """Folds over a :class:`~uniml.ForecastData` (row positions into its frame).

        The time axis is the frame's distinct timestamps over all series
        (see :meth:`split_times`); each fold takes every row whose timestamp
        falls in its train or test window.

        Parameters
        ----------
        data : ForecastData
            The series to backtest.

        Returns
        -------
        list of Fold
            ``train``/``test`` are row positions into ``data.frame``; ``info``
            as for :meth:`split_times`.

        Raises
        ------
        ProtocolError
            The series is too short for the requested origins.

        Examples
        --------
        >>> import pandas as pd
        >>> from uniml.core.forecasting import ForecastData
        >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=8), "y": np.arange(8.0)})
        >>> f = RollingOrigin(horizon=3, n_origins=1).split_frame(ForecastData(df, "ds", "y"))[0]
        >>> f.train.tolist(), f.test.tolist()
        ([0, 1, 2, 3, 4], [5, 6, 7])
        """
        import pandas as pd

        t = pd.DatetimeIndex(data.frame[data.time])
        axis = t.unique().sort_values()
        folds = self.split_times(axis)
        pos = axis.get_indexer(t)
        out = []
        for f in folds:
            train = np.flatnonzero((pos >= f.train[0]) & (pos <= f.train[-1]))
            test = np.flatnonzero((pos >= f.test[0]) & (pos <= f.test[-1]))
            out.append(Fold(f.id, train, test, f.info))
        return out

    def describe(self) -> dict:
        """The protocol's settings as a json-able dict, with the effective ``step``.

        Returns
        -------
        dict
            ``kind`` and the constructor's settings; ``step`` is ``horizon``
            when it was not given.

        Examples
        --------
        >>> RollingOrigin(horizon=5).describe()["step"]
        5
        """
        out = super().describe()
        out["step"] = self.step or self.horizon
        return out


class LeaveOut(_Protocol):
    """Hold out interactions for recommendation: at random, or the latest ones.

    ``split="random"`` draws ``test_size`` of the interactions ``n_splits``
    times (independent seeded draws); ``split="temporal"`` holds out the
    latest ``test_size`` share of the interactions by timestamp, with every
    interaction tied with the earliest held-out one (one fold). Held-out rows whose user or item is absent from the training
    rows are dropped (no model can rank an item it never saw).

    Parameters
    ----------
    split : {"random", "temporal"}, default "random"
    test_size : float, default 0.2
    n_splits : int, default 3
        Random draws (ignored for ``"temporal"``).
    k : int, default 10
        Cut-off of the ranking metrics.

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.core.recommendation import InteractionData
    >>> df = pd.DataFrame({"u": [1, 1, 1, 2, 2, 2], "i": [1, 2, 3, 1, 2, 3],
    ...                    "ts": pd.date_range("2024-01-01", periods=6)})
    >>> fold = LeaveOut("temporal", test_size=0.2).split_frame(InteractionData(df, "u", "i", timestamp="ts"))[0]
    >>> fold.test.tolist()
    [5]
    """

    kind = "leave_out"
    tasks = ("recommendation",)

    def __init__(
        self, split: str = "random", test_size: float = 0.2, n_splits: int = 3, k: int = 10
    ):
        self.split = split
        self.test_size = test_size
        self.n_splits = n_splits
        self.k = k

    def describe(self) -> dict:
        """The protocol's settings as a json-able dict (a temporal split has one fold).

        Returns
        -------
        dict
            ``kind``, ``split``, ``test_size``, ``n_splits`` (1 for
            ``"temporal"``) and ``k``.

        Examples
        --------
        >>> LeaveOut("temporal", n_splits=5).describe()["n_splits"]
        1
        """
        return {
            "kind": self.kind,
            "split": self.split,
            "test_size": self.test_size,
            "n_splits": 1 if self.split == "temporal" else self.n_splits,
            "k": self.k,
        }

    def split_frame(self, data, random_state=None) -> list[Fold]:
        """Folds over an :class:`~uniml.InteractionData` (row positions into its frame).

        Parameters
        ----------
        data : InteractionData
            The interactions to split.
        random_state : int, optional
            Seed of the random draws (draw ``i`` uses the seed ``[random_state, i]``;
            None counts as 0). Unused by ``"temporal"``.

        Returns
        -------
        list of Fold
            ``train``/``test`` are row positions into ``data.frame``; ``info``
            holds ``dropped_unknown``, the held-out rows dropped because their
            user or item is not in the training rows.

        Raises
        ------
        ProtocolError
            Unknown kind, a temporal split without a timestamp, or an empty test set.
        """
        if self.split not in ("random", "temporal"):
            raise ProtocolError(
                f"LeaveOut: split must be 'random' or 'temporal', got {self.split!r}"
            )
        if not 0.0 < self.test_size < 1.0:
            raise ProtocolError(f"LeaveOut: test_size must be in (0, 1), got {self.test_size!r}")
        frame = data.frame
        n = len(frame)
        masks = []
        if self.split == "temporal":
            if data.timestamp is None:
                raise ProtocolError("LeaveOut('temporal') needs InteractionData(timestamp=...)")
            ts = frame[data.timestamp]
            cut = ts.sort_values(kind="stable").iloc[n - max(1, int(round(self.test_size * n)))]
            masks.append((ts >= cut).to_numpy())
        else:
            for i in range(self.n_splits):
                rng = np.random.default_rng([0 if random_state is None else random_state, i])
                m = np.zeros(n, dtype=bool)
                m[rng.choice(n, size=max(1, int(round(self.test_size * n))), replace=False)] = True
                masks.append(m)
        folds = []
        users, items = frame[data.user].to_numpy(), frame[data.item].to_numpy()
        for i, m in enumerate(masks):
            train = np.flatnonzero(~m)
            known = np.isin(users, users[train]) & np.isin(items, items[train])
            test = np.flatnonzero(m & known)
            if not len(test):
                raise ProtocolError(
                    f"LeaveOut: fold {i} has no held-out interaction of a known user and item"
                )
            folds.append(Fold(i, train, test, {"dropped_unknown": int(m.sum() - len(test))}))
        return folds


def default_protocol(task: str):
    """The protocol :func:`uniml.evaluate` uses when none is given.

    Examples
    --------
    >>> default_protocol("classification")
    StratifiedKFold(n_splits=5, shuffle=True, random_state=None)
    """
    if task == "classification":
        return StratifiedKFold()
    if task == "forecasting":
        return RollingOrigin()
    if task == "recommendation":
        return LeaveOut()
    if task in ("regression", "causal"):
        return KFold()
    raise DataContractError(f"unknown task {task!r}")

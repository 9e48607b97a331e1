"""The uniml error hierarchy.

Every error uniml raises on purpose derives from :class:`UnimlError`, so a
caller can catch "anything uniml refused" in one ``except`` clause, and each
subclass also derives from the built-in exception a Python user would expect
(``ValueError``, ``KeyError``, ``ImportError``...), so generic handlers keep
working.

This module imports nothing heavy: ``import uniml`` loads it eagerly.
"""

from __future__ import annotations

__all__ = [
    "AdapterNotFoundError",
    "DataContractError",
    "FolderExistsError",
    "IntegrityError",
    "MissingDependencyError",
    "NotFittedError",
    "ParameterError",
    "SchemaError",
    "UnimlError",
    "UnimlWarning",
    "UnknownParameterError",
    "UntrustedArtifactError",
    "VersionMismatchWarning",
]


class UnimlError(Exception):
    """Base class of every error uniml raises deliberately.

    Examples
    --------
    >>> import uniml
    >>> issubclass(uniml.SchemaError, uniml.UnimlError)
    True
    """


class UnimlWarning(UserWarning):
    """Base class of uniml's warnings.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", UnimlWarning)  # turn uniml's warnings into errors
    ...     issubclass(VersionMismatchWarning, UnimlWarning)
    True
    """


class VersionMismatchWarning(UnimlWarning):
    """A model is loaded under a library version other than the one that saved it.

    Examples
    --------
    >>> issubclass(VersionMismatchWarning, UserWarning)
    True
    """


class SchemaError(UnimlError, ValueError):
    """Input does not match the schema recorded at ``fit``.

    Parameters
    ----------
    message : str
        Human-readable description; always names the column.
    column : str or None
        The offending column.
    expected, got : object
        What the schema expected and what the input had.

    Examples
    --------
    >>> err = SchemaError("column 'age': expected float, got string", column="age")
    >>> err.column
    'age'
    """

    def __init__(self, message: str, *, column=None, expected=None, got=None):
        super().__init__(message)
        self.column = column
        self.expected = expected
        self.got = got


class DataContractError(UnimlError, ValueError):
    """A dataset does not satisfy its task's data contract (roles, types, values).

    Examples
    --------
    >>> raise DataContractError("role 'target': column 'y' is not in the frame")
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: role 'target': column 'y' is not in the frame
    """


class NotFittedError(UnimlError, ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``.

    Derives from ``ValueError`` and ``AttributeError`` like scikit-learn's own
    ``NotFittedError``, so scikit-learn utilities treat it the same way.

    Examples
    --------
    >>> issubclass(NotFittedError, AttributeError)
    True
    """


class UntrustedArtifactError(UnimlError):
    """Loading would execute pickle (or another untrusted format) without ``trusted=True``.

    Examples
    --------
    >>> issubclass(UntrustedArtifactError, UnimlError)
    True
    """


class IntegrityError(UnimlError):
    """A saved model folder is incomplete or its files do not match their recorded hashes.

    Examples
    --------
    >>> issubclass(IntegrityError, UnimlError)
    True
    """


class AdapterNotFoundError(UnimlError, KeyError):
    """No adapter is registered under the requested name.

    The message lists the closest registered names.

    Examples
    --------
    >>> issubclass(AdapterNotFoundError, KeyError)
    True
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(UnimlError, ImportError):
    """An optional library needed by an adapter is not installed.

    Parameters
    ----------
    package : str
        The importable module that is missing (``"lightgbm"``).
    extra : str
        The uniml extra that installs it (``"lightgbm"``).
    purpose : str, optional
        What needed it (``"adapter 'lightgbm.regressor'"``).

    Examples
    --------
    >>> err = MissingDependencyError("lightgbm", "lightgbm", purpose="adapter 'lightgbm.regressor'")
    >>> err.install_command
    "pip install 'uniml[lightgbm]'"
    """

    def __init__(self, package: str, extra: str, purpose: str | None = None):
        self.package = package
        self.extra = extra
        self.install_command = f"pip install 'uniml[{extra}]'"
        what = f"{purpose} needs" if purpose else "uniml needs"
        super().__init__(
            f"{what} the optional package {package!r}, which is not installed; "
            f"install it with: {self.install_command}",
            name=package,
        )


class ParameterError(UnimlError, ValueError):
    """A constructor or method argument has an unusable name or value.

    Parameters
    ----------
    message : str
        Human-readable description; always names the argument.
    parameter : str or None
        The offending argument.

    Examples
    --------
    >>> err = ParameterError("horizon must be a positive integer, got 2.5", parameter="horizon")
    >>> err.parameter, isinstance(err, ValueError)
    ('horizon', True)
    """

    def __init__(self, message: str, *, parameter=None):
        super().__init__(message)
        self.parameter = parameter


class UnknownParameterError(ParameterError, TypeError):
    """A hyperparameter name the wrapped library does not know (usually a typo).

    Also a ``TypeError``, what Python raises for an unexpected keyword. The
    message lists the closest known names; ``suggestions`` holds them.

    Parameters
    ----------
    message : str
        Human-readable description.
    parameter : str or None
        The unknown name.
    suggestions : list of str
        Close known names (may be empty).

    Examples
    --------
    >>> import uniml
    >>> try:
    ...     uniml.make("lightgbm.regressor", num_leafs=7).fit([[0.0], [1.0]], [0.0, 1.0])
    ... except UnknownParameterError as err:
    ...     err.parameter, "num_leaves" in err.suggestions
    ('num_leafs', True)
    """

    def __init__(self, message: str, *, parameter=None, suggestions=()):
        super().__init__(message, parameter=parameter)
        self.suggestions = list(suggestions)


class FolderExistsError(UnimlError, FileExistsError):
    """``save`` would write over a file, or over files uniml did not write.

    Examples
    --------
    >>> issubclass(FolderExistsError, FileExistsError)
    True
    """


__all__ += ["DataQualityWarning"]


class DataQualityWarning(UnimlWarning):
    """Input passes the schema but looks broken (e.g. a column entirely missing).

    Raised as a warning, not an error: the model can still predict (LightGBM and
    XGBoost route missing values), but the predictions are rarely what was meant.
    ``warnings.simplefilter("error", DataQualityWarning)`` makes it fatal.

    Parameters
    ----------
    message : str
        Human-readable description; names the column.
    column : str or None
        The offending column.

    Examples
    --------
    >>> w = DataQualityWarning("column 'age' is entirely missing", column="age")
    >>> w.column, issubclass(DataQualityWarning, UnimlWarning)
    ('age', True)
    """

    def __init__(self, message: str, *, column=None):
        super().__init__(message)
        self.column = column

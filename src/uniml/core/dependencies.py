"""Soft dependencies: wrapped libraries are imported only when first used.

Examples
--------
>>> from uniml.core.dependencies import is_installed
>>> is_installed("numpy")
True
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from functools import cache
from types import ModuleType

from uniml.core.errors import MissingDependencyError

__all__ = ["distribution_version", "import_optional", "is_installed"]

# The distribution that installs an importable module, where the names differ.
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "lightfm": "rectools-lightfm",
}


def is_installed(module: str) -> bool:
    """Tell whether ``module`` can be imported, without importing it.

    Parameters
    ----------
    module : str
        Top-level module name.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_installed("surely_not_a_module_name")
    False
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@cache
def distribution_version(module: str) -> str | None:
    """Installed version of the distribution providing ``module``, or ``None``.

    Reads package metadata only; the module itself is not imported.

    Parameters
    ----------
    module : str
        Top-level module name (``"sklearn"`` finds ``scikit-learn``).

    Returns
    -------
    str or None
        The version string, or None when no such distribution is installed.

    Examples
    --------
    >>> distribution_version("numpy") is not None
    True
    """
    names = [_DISTRIBUTIONS.get(module, module), module]
    if module == "lightfm":
        names.append("lightfm")
    if module == "xgboost":
        names.append("xgboost-cpu")  # the CPU-only wheel installs the same module
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def import_optional(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """Import an optional dependency or raise :class:`MissingDependencyError`.

    Parameters
    ----------
    module : str
        Module to import (``"lightgbm"``).
    extra : str
        The uniml extra that installs it, named in the error.
    purpose : str, optional
        What needs it, named in the error.

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported.

    Examples
    --------
    >>> np = import_optional("numpy", "core")
    >>> np.__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # exc.name differs from `module` when the library is there but one of
        # its own dependencies is not; the extra installs both.
        missing = (exc.name or module).split(".")[0]
        raise MissingDependencyError(missing, extra, purpose) from exc

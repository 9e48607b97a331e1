"""The installed version of uniml, single-sourced from ``pyproject.toml`` via package metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uniml")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

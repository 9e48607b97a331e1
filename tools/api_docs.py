"""Is every public name documented, in its docstring and in the built API reference?

Two checks over the same list of public objects (`public_api()`):

- ``docstring_errors()``: numpydoc validation of every public class and function and
  of the public methods and properties those classes define. Classes and functions
  need a summary, every parameter documented (library parameters forwarded through
  ``**params`` belong under "Other Parameters"), a Returns section when they return
  something, and an Examples section. Run by ``tests/test_api_docs.py``.
- ``missing_from_inventory(site)``: after ``mkdocs build``, every public class and
  function must appear in the site's ``objects.inv`` (the inventory mkdocstrings
  writes for every object it rendered), under the name it is exported as or the
  one it is defined under. Run by ``nox -s docs``::

      python -m tools.api_docs build/site
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

# modules whose ``__all__`` is public API; the per-task modules of uniml.core,
# uniml.testing and uniml.evaluation.metrics are added by `public_modules()`
TOP_MODULES = [
    "uniml",
    "uniml.lineage",
    "uniml.evaluation",
    "uniml.registry",
    "uniml.monitoring",
    "uniml.serving",
    "uniml.spark",
    "uniml.scaffold",
]
PACKAGES = ["uniml.core", "uniml.testing", "uniml.evaluation.metrics"]

# numpydoc codes checked, by kind of object
#   GL08 no docstring, SS01 no summary, PR01 parameter not documented,
#   PR02 documented parameter not in the signature, RT01 no Returns section,
#   EX01 no Examples section
CHECKS_TOP = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
CHECKS_MEMBER = {"GL08", "SS01", "PR01", "PR02", "RT01"}


@dataclass(frozen=True)
class Public:
    """One public object: the name it is exported as and the name it is defined under."""

    exported: str
    defined: str
    obj: object

    @property
    def kind(self) -> str:
        return "class" if inspect.isclass(self.obj) else "function"


def public_modules() -> list[str]:
    names = list(TOP_MODULES)
    for package in PACKAGES:
        names.append(package)
        module = importlib.import_module(package)
        for info in pkgutil.iter_modules(module.__path__):
            if not info.name.startswith("_"):
                names.append(f"{package}.{info.name}")
    return names


def _defined_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def public_api() -> list[Public]:
    """Every public class and function: modules' ``__all__`` plus the catalog's adapters."""
    from uniml.core.catalog import _ensure_loaded, _registry

    seen: dict[str, Public] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(inspect.unwrap(obj))):
                continue  # constants, markers and modules are described in prose
            if not getattr(obj, "__module__", "").startswith("uniml"):
                continue
            defined = _defined_name(obj)
            seen.setdefault(defined, Public(f"{module_name}.{name}", defined, obj))
    _ensure_loaded()
    for cls in _registry.values():
        if cls.__module__.startswith("uniml."):
            defined = _defined_name(cls)
            seen.setdefault(defined, Public(defined, defined, cls))
    return sorted(seen.values(), key=lambda p: p.defined)


def _members(cls) -> list[tuple[str, object]]:
    """Public methods and properties the class itself defines (not inherited ones)."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if isinstance(func, property) or inspect.isfunction(func):
            out.append((name, value))
    return out


def _validate(path: str, checks: set[str], var_keyword: bool) -> list[str]:
    from numpydoc.validate import validate

    errors = []
    for code, message in validate(path)["errors"]:
        if code not in checks:
            continue
        if code == "PR02" and var_keyword:
            continue  # library parameters forwarded through **params, under "Other Parameters"
        errors.append(f"{path}: {code} {message}")
    return errors


def _has_var_keyword(func) -> bool:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())


def _returns_nothing(func) -> bool:
    # numpydoc's RT01 fires for any function with a `return value` statement;
    # `-> None` functions only return early
    return inspect.signature(func).return_annotation in (None, "None")


def docstring_errors(api: list[Public] | None = None) -> list[str]:
    """numpydoc problems of every public object, one line each."""
    errors: list[str] = []
    for public in api if api is not None else public_api():
        obj = public.obj
        init = obj.__init__ if inspect.isclass(obj) else obj
        errors += _validate(public.defined, CHECKS_TOP, _has_var_keyword(init))
        if not inspect.isclass(obj):
            continue
        for name, value in _members(obj):
            func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            checks = set(CHECKS_MEMBER)
            if isinstance(func, property) or _returns_nothing(func):
                checks.discard("RT01")
            var_keyword = not isinstance(func, property) and _has_var_keyword(func)
            errors += _validate(f"{public.defined}.{name}", checks, var_keyword)
    return errors


def read_inventory(path: Path) -> set[str]:
    """The object names in a Sphinx-format ``objects.inv`` (what mkdocstrings writes)."""
    raw = Path(path).read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    if not raw.startswith(b"# Sphinx inventory version 2"):
        raise ValueError(f"{path}: not a version 2 Sphinx inventory")
    body = zlib.decompress(raw[header_end:]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines() if line.strip()}


def missing_from_inventory(site: Path, api: list[Public] | None = None) -> list[str]:
    """Public classes and functions the built site's API reference does not render."""
    names = read_inventory(Path(site) / "objects.inv")
    return [
        f"{p.exported} ({p.kind}, defined as {p.defined}) is not in the API reference"
        for p in (api if api is not None else public_api())
        if p.exported not in names and p.defined not in names
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.api_docs SITE_DIR", file=sys.stderr)
        return 2
    api = public_api()
    problems = missing_from_inventory(Path(argv[0]), api) + docstring_errors(api)
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(api)} public classes and functions; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

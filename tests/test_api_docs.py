"""Every public class and function has a numpydoc docstring, and the API-reference check works.

`tools/api_docs.py` is what `nox -s docs` runs against the built site; here its
docstring half runs over the real package, and its inventory half over inventories
written by the test, so that a name missing from the reference is shown to fail.
"""

import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.api_docs import (  # noqa: E402
    Public,
    docstring_errors,
    main,
    missing_from_inventory,
    public_api,
    read_inventory,
)

API = public_api()


def write_inventory(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{name} py:class 1 api/#{name} -\n" for name in names)
    header = (
        b"# Sphinx inventory version 2\n# Project: uniml\n# Version: 0\n"
        b"# The remainder of this file is compressed using zlib.\n"
    )
    (folder / "objects.inv").write_bytes(header + zlib.compress(body.encode("utf-8")))
    return folder


def test_public_api_covers_the_documented_entry_points_and_every_adapter():
    import uniml

    exported = {p.exported for p in API}
    defined = {p.defined for p in API}
    for name in ("make", "load", "evaluate", "Explanation", "ForecastData", "SchemaError"):
        assert f"uniml.{name}" in exported or any(d.endswith(f".{name}") for d in defined), name
    for name in ("enable", "sync", "register_model", "load_adapter"):
        assert f"uniml.lineage.{name}" in exported, name
    for adapter in uniml.adapters()["name"]:
        cls = uniml.core.catalog.get_adapter_class(adapter)
        assert f"{cls.__module__}.{cls.__qualname__}" in defined, adapter


def test_every_public_object_has_a_complete_numpydoc_docstring():
    errors = docstring_errors(API)
    assert not errors, "\n".join(errors)


def test_docstring_check_catches_an_undocumented_parameter_and_a_missing_example(monkeypatch):
    import tools.api_docs as api_docs

    def scale(values, factor):
        """Multiply values by a factor.

        Parameters
        ----------
        values : list of float
            The values.

        Returns
        -------
        list of float
            The scaled values.
        """
        return [v * factor for v in values]

    monkeypatch.setattr(api_docs, "__scale_for_test", scale, raising=False)
    scale.__module__, scale.__qualname__ = "tools.api_docs", "__scale_for_test"
    errors = docstring_errors([Public("x.scale", "tools.api_docs.__scale_for_test", scale)])
    assert any("PR01" in e and "factor" in e for e in errors), errors
    assert any("EX01" in e for e in errors), errors


def test_inventory_round_trip(tmp_path):
    site = write_inventory(tmp_path, ["uniml.make", "uniml.core.catalog.load"])
    assert read_inventory(site / "objects.inv") == {"uniml.make", "uniml.core.catalog.load"}


def test_inventory_check_names_what_the_reference_does_not_render(tmp_path):
    everything = [p.defined for p in API]
    assert missing_from_inventory(write_inventory(tmp_path / "all", everything), API) == []

    dropped = next(p for p in API if p.defined.endswith("catalog.make"))
    partial = write_inventory(tmp_path / "partial", [d for d in everything if d != dropped.defined])
    missing = missing_from_inventory(partial, API)
    assert len(missing) == 1 and dropped.exported in missing[0], missing


def test_an_exported_name_also_counts(tmp_path):
    target = API[0]
    site = write_inventory(tmp_path, [target.exported])
    assert all(target.defined not in line for line in missing_from_inventory(site, [target]))


def test_command_line_exit_status(tmp_path, capsys):
    assert main([]) == 2
    site = write_inventory(tmp_path, [])
    assert main([str(site)]) == 1
    assert "is not in the API reference" in capsys.readouterr().err


def test_not_a_sphinx_inventory_is_refused(tmp_path):
    (tmp_path / "objects.inv").write_bytes(b"hello\n\n\n\nworld")
    with pytest.raises(ValueError, match="not a version 2 Sphinx inventory"):
        read_inventory(tmp_path / "objects.inv")


def test_every_name_in_a_public_all_resolves():
    """Lazy exports (``uniml``, ``uniml.lineage``, ``uniml.testing``) resolve to real objects."""
    import importlib

    from tools.api_docs import public_modules

    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            assert getattr(module, name) is not None, f"{module_name}.{name}"
    from uniml.testing import make_forecast_data
    from uniml.testing.forecasting import make_forecast_data as defined

    assert make_forecast_data is defined

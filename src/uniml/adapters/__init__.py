"""Built-in adapters, one module per wrapped library.

Importing this package imports every module in it, and each module registers
its adapters in the catalog. It does not import the wrapped libraries: each
adapter imports its library on first use (``fit`` or ``uniml.load``).

The package is also callable: ``uniml.adapters()`` lists the catalog (the
folder and the function share the name DESIGN.md gives them both).

Examples
--------
>>> import uniml
>>> table = uniml.adapters()
>>> table.loc[table["name"] == "xgboost.regressor", "task"].item()
'regression'
"""

import importlib
import pkgutil
import sys
import types

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")  # registration side effect


class _CatalogModule(types.ModuleType):
    def __call__(self):
        from uniml.core.catalog import adapters

        return adapters()


sys.modules[__name__].__class__ = _CatalogModule

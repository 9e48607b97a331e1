"""Built-in adapters, one module per wrapped library.

Each module registers its adapters in the catalog when it is imported, and the
catalog imports them through the ``uniml.adapters`` entry-point group declared
in uniml's ``pyproject.toml``, the same path a third-party adapter package
takes. Importing this package imports no adapter module and no wrapped
library; each adapter imports its library on first use (``fit`` or
``uniml.load``).

For compatibility the package is also callable: ``uniml.adapters()`` is
:func:`uniml.catalog`.

Examples
--------
>>> import uniml
>>> table = uniml.catalog()
>>> table.loc[table["name"] == "xgboost.regressor", "task"].item()
'regression'
>>> uniml.adapters().equals(table)
True
"""

import sys
import types


class _CatalogModule(types.ModuleType):
    # `import uniml.adapters.x` binds the package to `uniml.adapters`, so the package itself
    # must answer the call that `uniml.adapters()` makes
    def __call__(self):
        from uniml.core.catalog import catalog

        return catalog()


sys.modules[__name__].__class__ = _CatalogModule

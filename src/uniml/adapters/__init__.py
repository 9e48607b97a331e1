"""Built-in adapters, one module per wrapped library.

Importing this package registers every built-in adapter in the catalog. It
does not import the wrapped libraries: each adapter imports its library on
first use (``fit`` or ``uniml.load``).
"""

from uniml.adapters import lightgbm, sklearn, xgboost  # noqa: F401  (registration side effect)

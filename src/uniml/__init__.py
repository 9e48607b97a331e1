"""uniml: one fit / predict / explain / save / load interface over classical ML libraries.

``import uniml`` is cheap: it loads only the error classes. Everything else
(pandas, scikit-learn, and each wrapped library) is imported on first use.

Examples
--------
>>> import uniml
>>> from sklearn.datasets import load_diabetes
>>> X, y = load_diabetes(return_X_y=True, as_frame=True)
>>> model = uniml.make("lightgbm.regressor", n_estimators=20, verbose=-1).fit(X, y)
>>> model.predict(X.head(3)).index.equals(X.head(3).index)
True
>>> explanation = model.explain(X.head(3))
>>> explanation.additivity_error() < 1e-6
True
"""

from __future__ import annotations

import importlib

from uniml.core.errors import (
    AdapterNotFoundError,
    DataContractError,
    FolderExistsError,
    IntegrityError,
    MissingDependencyError,
    NotFittedError,
    ParameterError,
    SchemaError,
    UnimlError,
    UnimlWarning,
    UnknownParameterError,
    UntrustedArtifactError,
    VersionMismatchWarning,
)

# public name -> "module:attribute", resolved lazily (PEP 562)
_LAZY = {
    "__version__": "uniml._version:__version__",
    "make": "uniml.core.catalog:make",
    "catalog": "uniml.core.catalog:catalog",
    "adapters": "uniml.adapters",  # the callable package: uniml.adapters() is uniml.catalog()
    "register": "uniml.core.catalog:register",
    "load": "uniml.core.persistence:load",
    "Adapter": "uniml.core.adapter:Adapter",
    "Explanation": "uniml.core.explanation:Explanation",
    "Schema": "uniml.core.schema:Schema",
    "Task": "uniml.core.tasks:Task",
    "TabularData": "uniml.core.tasks:TabularData",
    "ForecastData": "uniml.core.forecasting:ForecastData",
    "CausalData": "uniml.core.causal:CausalData",
    "InteractionData": "uniml.core.recommendation:InteractionData",
    "evaluate": "uniml.evaluation:evaluate",
    "EvalReport": "uniml.evaluation:EvalReport",
    "lineage": "uniml.lineage",
}

__all__ = [
    "Adapter",
    "AdapterNotFoundError",
    "CausalData",
    "DataContractError",
    "EvalReport",
    "Explanation",
    "FolderExistsError",
    "ForecastData",
    "IntegrityError",
    "InteractionData",
    "MissingDependencyError",
    "NotFittedError",
    "ParameterError",
    "Schema",
    "SchemaError",
    "TabularData",
    "Task",
    "UnimlError",
    "UnimlWarning",
    "UnknownParameterError",
    "UntrustedArtifactError",
    "VersionMismatchWarning",
    "__version__",
    "adapters",
    "catalog",
    "evaluate",
    "lineage",
    "load",
    "make",
    "register",
]


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'uniml' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# UNIML_LINEAGE=mlflow: subscribe a tiny listener now; the sink (and MLflow) load on the first event
if __import__("os").environ.get("UNIML_LINEAGE"):
    from uniml.lineage._env import install as _install_lineage

    _install_lineage()

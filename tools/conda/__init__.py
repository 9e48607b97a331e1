"""Conda distribution tooling for uniml: the recipe checker and the offline package builder.

``tools.conda.recipe`` renders the repository's ``meta.yaml`` the way conda-build does and
checks it against ``pyproject.toml`` (``nox -s conda_recipe``). ``tools.conda.package``
converts the rendered recipe to a rattler-build v1 recipe and builds, tests, indexes and
installs the noarch package offline against a local stand-in channel
(``nox -s conda_package``). Neither is part of the ``uniml`` wheel.
"""

"""`import uniml` stays fast and imports no wrapped library."""

import json
import subprocess
import sys

HEAVY = [
    "xgboost",
    "lightgbm",
    "prophet",
    "statsmodels",
    "dowhy",
    "econml",
    "lightfm",
    "shap",
    "mlflow",
]


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_uniml_loads_no_wrapped_library():
    out = _fresh(
        f"import sys, json, uniml\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(out) == []


def test_import_uniml_does_not_import_pandas_or_sklearn():
    # pandas (~0.5 s) and scikit-learn (~1.8 s) load on first real use, not at import
    out = _fresh(
        "import sys, uniml; print(json.dumps([m for m in ('pandas', 'sklearn') if m in sys.modules]))".replace(
            "import sys,", "import sys, json,"
        )
    )
    assert json.loads(out) == []


def test_catalog_listing_imports_no_wrapped_library():
    out = _fresh(
        "import sys, json, uniml\n"
        "uniml.adapters(); uniml.make('lightgbm.regressor')\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(out) == []


def test_wrapped_library_is_imported_on_first_fit():
    out = _fresh(
        "import sys, numpy as np, uniml\n"
        "m = uniml.make('lightgbm.regressor', n_estimators=2)\n"
        "before = 'lightgbm' in sys.modules\n"
        "m.fit(np.random.default_rng(0).normal(size=(30, 2)), np.arange(30.0))\n"
        "print(before, 'lightgbm' in sys.modules)"
    )
    assert out.split() == ["False", "True"]


def test_public_names_resolve():
    import uniml

    for name in uniml.__all__:
        assert getattr(uniml, name) is not None
    assert uniml.__version__ != "0+unknown"

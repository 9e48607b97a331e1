"""Conformance checks of causal adapters, and synthetic data with a known effect.

:func:`checks` is what :func:`uniml.testing.check_adapter` runs for an
adapter whose task is ``"causal"``: effect shape and index alignment, interval
ordering, the ATE summary, schema errors naming the effect modifier, data
contract errors, explanations, save/load round-trip with refusal of untrusted
pickles and tamper detection, clone, pickling, determinism under a seed and
not-fitted errors.

Examples
--------
>>> from uniml.testing.causal import make_causal_data
>>> data, truth = make_causal_data(n=200, seed=0)
>>> data.roles()["effect_modifiers"], round(truth["ate"], 2)
(('x1', 'x2'), 1.01)
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.testing import _expect, _fail

__all__ = ["checks", "make_causal_data"]


def make_causal_data(
    n: int = 500,
    seed: int = 0,
    treatment: str = "binary",
    effect: float = 1.0,
    heterogeneity: float = 0.5,
    confounding: float = 1.0,
    noise: float = 1.0,
    curvature: float = 0.5,
):
    """Confounded data whose true treatment effect is known.

    ``tau(x) = effect + heterogeneity * x1`` (linear in the effect modifier
    ``x1``; ``x2`` modifies nothing), ``w1`` and ``w2`` confound treatment and
    outcome, and ``y = tau(x) * t + w1 + 0.5 w2 + x2 + noise``.

    Parameters
    ----------
    n : int
    seed : int
    treatment : {"binary", "continuous", "multi"}
        A 0/1 treatment with propensity ``sigmoid(confounding * w1 + 0.5 x1)``;
        a continuous dose ``confounding * w1 + 0.5 x1 + N(0, 1)`` (the effect is
        then per unit of dose); or three arms ``t in {0, 1, 2}`` drawn with
        probabilities ``softmax(0, s, 2 s)``, ``s = confounding * w1 + 0.5 x1``,
        where arm ``k`` has effect ``tau_k(x) = k * tau(x) + curvature * k (k - 1) / 2``
        against arm 0 (so arm 2 is not simply twice arm 1 unless ``curvature=0``).
    effect, heterogeneity, confounding, noise : float
    curvature : float
        Extra effect of arm 2 (``treatment="multi"`` only).

    Returns
    -------
    data : CausalData
        Roles outcome ``y``, treatment ``t``, effect modifiers ``x1, x2``,
        confounders ``w1, w2``; a shuffled string index.
    truth : dict
        ``ate`` (the sample average of ``tau``), ``cate`` (a Series indexed
        like the frame) and ``naive`` (difference in means, biased by the
        confounding; binary only). With ``treatment="multi"``, ``ate`` and
        ``cate`` are arm 2's against arm 0, and ``levels`` maps each arm
        ``k = 1, 2`` to its own ``{"ate": ..., "cate": ...}``.

    Examples
    --------
    >>> data, truth = make_causal_data(n=50, treatment="continuous", seed=1)
    >>> data.treatment_type, truth["cate"].index.equals(data.frame.index)
    ('continuous', True)
    """
    from uniml.core.causal import CausalData

    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(-1, 1, size=n)
    w1, w2 = rng.normal(size=n), rng.normal(size=n)
    score = confounding * w1 + 0.5 * x1
    t: np.ndarray  # int64 levels, or float doses for "continuous"
    if treatment == "binary":
        t = (rng.uniform(size=n) < 1 / (1 + np.exp(-score))).astype(np.int64)
    elif treatment == "continuous":
        t = score + rng.normal(size=n)
    elif treatment == "multi":
        logits = np.column_stack([np.zeros(n), score, 2 * score])
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        t = (rng.uniform(size=(n, 1)) > np.cumsum(prob, axis=1)[:, :2]).sum(axis=1).astype(np.int64)
    else:
        raise ValueError(f"treatment must be 'binary', 'continuous' or 'multi', got {treatment!r}")
    tau = effect + heterogeneity * x1
    if treatment == "multi":
        arm = {k: k * tau + curvature * k * (k - 1) / 2 for k in (1, 2)}
        y = (
            np.select([t == 1, t == 2], [arm[1], arm[2]], 0.0)
            + w1
            + 0.5 * w2
            + x2
            + noise * rng.normal(size=n)
        )
        tau = arm[2]
    else:
        y = tau * t + w1 + 0.5 * w2 + x2 + noise * rng.normal(size=n)
    index = pd.Index([f"u{i}" for i in rng.permutation(n)], name="unit")
    frame = pd.DataFrame({"y": y, "t": t, "x1": x1, "x2": x2, "w1": w1, "w2": w2}, index=index)
    data = CausalData(
        frame, outcome="y", treatment="t", effect_modifiers=["x1", "x2"], confounders=["w1", "w2"]
    )
    truth = {"ate": float(tau.mean()), "cate": pd.Series(tau, index=index, name="cate")}
    if treatment == "binary":
        truth["naive"] = float(y[t == 1].mean() - y[t == 0].mean())
    if treatment == "multi":
        truth["levels"] = {
            k: {"ate": float(arm[k].mean()), "cate": pd.Series(arm[k], index=index, name="cate")}
            for k in (1, 2)
        }
    return data, truth


# --------------------------------------------------------------------- checks
def _same(check: str, a: pd.DataFrame, b: pd.DataFrame, what: str):
    if not np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True):
        diff = float(np.nanmax(np.abs(a.to_numpy() - b.to_numpy())))
        _fail(check, f"{what}: effects differ (max abs diff {diff:.3g})")


def checks(adapter, n: int = 300) -> list[tuple[str, str, Callable[[], None]]]:
    """Causal conformance checks for one adapter instance.

    Parameters
    ----------
    adapter : CausalAdapter
        Unfitted.
    n : int
        Rows of the synthetic data.

    Returns
    -------
    list of (dataset, check, callable)
        Calling the callable raises ``AssertionError`` when the check fails.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> m = uniml.make("econml.dml", model_y=LinearRegression(), model_t=LogisticRegression(), random_state=0)
    >>> names = [name for _, name, _ in checks(m)]
    >>> "interval_ordering" in names and "save_load_roundtrip" in names
    True
    """
    from sklearn.base import clone

    from uniml.core.causal import EFFECT_COLUMNS, CausalData
    from uniml.core.errors import (
        DataContractError,
        NotFittedError,
        ParameterError,
        SchemaError,
    )
    from uniml.core.explanation import Explanation
    from uniml.core.persistence import MANIFEST_NAME, load
    from uniml.testing import (
        _check_clone_unfitted,
        _check_manifest_shape,
        _check_metadata,
        _check_save_onto_file,
        _check_tamper_detected,
        _check_unknown_param,
        _check_untrusted_refusal,
    )

    cls = type(adapter)
    data, _ = make_causal_data(n=n, seed=0)
    frame = data.frame
    new = frame.iloc[::-1].head(25)  # new order and subset: alignment must follow the index
    state: dict = {}

    def fitted():
        if "model" not in state:
            state["model"] = clone(adapter).fit(data)
        return state["model"]

    def predict_cols(model):
        return list(model.schema_.names)

    def metadata():
        _check_metadata(cls, "causal")

    def not_fitted():
        fresh = clone(adapter)
        for method in ("predict", "explain"):
            _expect(
                NotFittedError, "not_fitted", f"{method} before fit", getattr(fresh, method), frame
            )
        _expect(NotFittedError, "not_fitted", "effect_summary before fit", fresh.effect_summary)
        _expect(NotFittedError, "not_fitted", "save before fit", fresh.save, tempfile.mkdtemp())

    def fit_does_not_modify_input():
        copy = frame.copy(deep=True)
        clone(adapter).fit(data)
        pd.testing.assert_frame_equal(frame, copy, check_exact=True)

    def fit_predict_shapes():
        model = clone(adapter)
        if model.fit(data) is not model:
            _fail("fit_predict_shapes", "fit must return self")
        pred = model.predict(new)
        if not isinstance(pred, pd.DataFrame):
            _fail(
                "fit_predict_shapes", f"predict must return a DataFrame, got {type(pred).__name__}"
            )
        if tuple(pred.columns) != EFFECT_COLUMNS:
            _fail(
                "fit_predict_shapes",
                f"predict columns must be {EFFECT_COLUMNS}, got {tuple(pred.columns)}",
            )
        if not pred.index.equals(new.index):
            _fail("fit_predict_shapes", "predict's index is not the input's index")
        if not np.all(np.isfinite(pred.to_numpy(dtype=float))):
            _fail("fit_predict_shapes", "non-finite effects or bounds")
        # the modifiers alone, in the frame's own order, give the same effects
        _same(
            "fit_predict_shapes",
            pred,
            model.predict(new[predict_cols(model)]),
            "modifier-only frame",
        )
        # a frame from the roles keyword form gives the same model
        again = clone(adapter).fit(frame, **{k: v for k, v in data.roles().items()})
        _same(
            "fit_predict_shapes", pred, again.predict(new), "fit(frame, roles) vs fit(CausalData)"
        )

    def interval_ordering():
        model = fitted()
        pred = model.predict(new)
        if not (
            (pred["lower"] <= pred["effect"] + 1e-9) & (pred["effect"] <= pred["upper"] + 1e-9)
        ).all():
            _fail("interval_ordering", "lower <= effect <= upper does not hold on every row")
        wide, narrow = model.predict(new, alpha=0.01), model.predict(new, alpha=0.3)
        if not (
            (wide["upper"] - wide["lower"]) >= (narrow["upper"] - narrow["lower"]) - 1e-9
        ).all():
            _fail("interval_ordering", "a 99% interval is narrower than a 70% one")
        s = model.effect_summary()
        for key in ("ate", "effect", "target", "lower", "upper", "alpha", "method", "n"):
            if key not in s:
                _fail("interval_ordering", f"effect_summary lacks {key!r}")
        if not s["lower"] <= s["ate"] <= s["upper"]:
            _fail(
                "interval_ordering",
                f"ATE {s['ate']} outside its interval [{s['lower']}, {s['upper']}]",
            )

    def schema_errors():
        model = fitted()
        cols = predict_cols(model)
        first = cols[0]
        cases = [
            ("missing effect modifier", new.drop(columns=[first]), first),
            ("dtype change", new.assign(**{first: new[first].astype(str)}), first),
        ]
        for what, bad, column in cases:
            for method in ("predict", "explain"):
                _expect(
                    SchemaError,
                    "schema_errors",
                    f"{what} in {method}",
                    getattr(model, method),
                    bad,
                    column=column,
                )
        _expect(SchemaError, "schema_errors", "array input", model.predict, new[cols].to_numpy())

    def data_contract():
        fresh = clone(adapter)
        _expect(DataContractError, "data_contract", "no roles", fresh.fit, frame)
        _expect(
            DataContractError,
            "data_contract",
            "column in two roles",
            fresh.fit,
            frame,
            outcome="y",
            treatment="t",
            effect_modifiers=["x1"],
            confounders=["x1"],
        )
        bad = frame.assign(t=0)
        _expect(
            DataContractError,
            "data_contract",
            "constant treatment",
            CausalData,
            bad,
            outcome="y",
            treatment="t",
        )
        bad = frame.assign(w1=frame["w1"].where(frame["w1"] > -2))
        _expect(
            DataContractError,
            "data_contract",
            "missing confounder values",
            CausalData,
            bad,
            outcome="y",
            treatment="t",
            confounders=["w1"],
        )

    def explanation():
        model = fitted()
        rows = new.head(10)  # model-agnostic SHAP is costly per row; ten rows test the contract
        exp = model.explain(rows)
        if not isinstance(exp, Explanation):
            _fail("explanation", f"explain must return an Explanation, got {type(exp).__name__}")
        if cls.explanation_kind != "depends" and exp.kind != cls.explanation_kind:
            _fail("explanation", f"class declares kind {cls.explanation_kind!r}, got {exp.kind!r}")
        if cls.additive is not None and exp.additive != cls.additive:
            _fail(
                "explanation",
                f"class declares additive={cls.additive} but the explanation says {exp.additive}",
            )
        if exp.importance is None or len(exp.importance) == 0:
            _fail("explanation", "no global importance")
        if exp.contributions is not None and not exp.contributions.index.equals(rows.index):
            _fail("explanation", "contributions are not indexed like the input")
        if exp.additive:
            effect = model.predict(rows)["effect"]
            gap = float(np.max(np.abs(np.asarray(exp.reconstruction()) - effect.to_numpy())))
            if not gap <= 1e-6:
                _fail("explanation", f"base + sum(contributions) misses the effect by {gap:.3g}")

    def save_load_roundtrip():
        import json

        model = fitted()
        folder = Path(tempfile.mkdtemp()) / "model"
        model.save(folder)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        if manifest["adapter"] != cls.name or manifest["task"] != "causal":
            _fail("save_load_roundtrip", "manifest names another adapter or task")
        pickled = _check_untrusted_refusal(cls, folder, manifest)
        loaded = load(folder, trusted=pickled)
        if type(loaded) is not cls:
            _fail("save_load_roundtrip", f"load returned {type(loaded).__name__}")
        _same("save_load_roundtrip", model.predict(new), loaded.predict(new), "after load")
        if model.effect_summary() != loaded.effect_summary():
            _fail("save_load_roundtrip", "effect_summary differs after load")
        if set(loaded.get_params(deep=False)) != set(model.get_params(deep=False)):
            _fail("save_load_roundtrip", "parameters were not restored")
        col = predict_cols(model)[0]
        _expect(
            SchemaError,
            "save_load_roundtrip",
            "schema after load",
            loaded.predict,
            new.drop(columns=[col]),
            column=col,
        )
        _check_tamper_detected(folder, manifest)

    def clone_unfitted():
        _check_clone_unfitted(fitted())

    def determinism():
        if not cls.deterministic:
            return
        a, b = clone(adapter).fit(data), clone(adapter).fit(data)
        _same("determinism", a.predict(new), b.predict(new), "two fits with the same seed")
        if a.effect_summary() != b.effect_summary():
            _fail("determinism", "effect_summary differs between two fits with the same seed")

    def pickling():
        model = fitted()
        again = pickle.loads(pickle.dumps(model))
        _same("pickling", model.predict(new), again.predict(new), "after pickle round-trip")

    def bad_input():
        """Typed errors for an infinite outcome, an unknown summary target, an unknown keyword,
        a save onto a file and a malformed manifest; the ATT is a valid summary of the treated."""
        model = fitted()
        roles = {k: v for k, v in data.roles().items() if v is not None}
        holed = frame.copy()
        holed.iloc[1, holed.columns.get_loc(data.outcome)] = np.inf
        _expect(
            DataContractError,
            "bad_input",
            "inf in the outcome",
            clone(adapter).fit,
            holed,
            mention=data.outcome,
            **roles,
        )
        _expect(
            ParameterError,
            "bad_input",
            "an unknown effect_summary target",
            model.effect_summary,
            target="not_a_target",
            mention="target",
        )
        att = model.effect_summary(target="att")
        if att.get("target") != "att" or not att["lower"] <= att["effect"] <= att["upper"]:
            _fail("bad_input", f"effect_summary(target='att') is not an ordered summary: {att}")
        if att["n"] != int((frame[data.treatment] == model.treated_).sum()):
            _fail("bad_input", "the ATT must average over the treated training rows")
        _check_unknown_param(adapter, lambda m: m.fit(data))
        _check_save_onto_file(model)
        _check_manifest_shape(model.save(Path(tempfile.mkdtemp()) / "model"))

    return [
        ("causal", name, func)
        for name, func in [
            ("metadata", metadata),
            ("bad_input", bad_input),
            ("not_fitted", not_fitted),
            ("fit_does_not_modify_input", fit_does_not_modify_input),
            ("fit_predict_shapes", fit_predict_shapes),
            ("interval_ordering", interval_ordering),
            ("schema_errors", schema_errors),
            ("data_contract", data_contract),
            ("explanation", explanation),
            ("save_load_roundtrip", save_load_roundtrip),
            ("clone", clone_unfitted),
            ("determinism", determinism),
            ("pickling", pickling),
        ]
    ]

"""The evaluation spec: one YAML file that says what ``uniml eval`` evaluates, and how.

A spec names the data file (CSV or Parquet, relative to the spec), the column
roles of the task, the candidates (a catalog adapter with parameters, or a
saved model folder / MLflow model URI), the protocol, metrics, champion, gates,
seed, parallelism and lineage. It is validated by pydantic models that forbid
unknown keys; every error names the field and the line of the YAML file it
came from, e.g.::

    spec.yaml:7: candidates[0].adapter: no adapter named 'lightgbm.regresor'; did you mean 'lightgbm.regressor'?

A minimal regression spec::

    task: regression
    data: {path: diabetes.csv, target: progression}
    candidates:
      - {name: lgbm, adapter: lightgbm.regressor, params: {n_estimators: 100}}
    protocol: {kind: kfold, n_splits: 5}
    metrics: [rmse, mae]
    gates: ["rmse <= 60"]

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "d.csv").write_text("x,y\\n1,2\\n2,4\\n3,6\\n")
>>> _ = (folder / "spec.yaml").write_text(
...     "task: regression\\ndata: {path: d.csv, target: y}\\n"
...     "candidates:\\n  - {name: ols, adapter: statsmodels.ols}\\n")
>>> spec = load_spec(folder / "spec.yaml")
>>> spec.task, spec.candidates[0].adapter
('regression', 'statsmodels.ols')
>>> _ = (folder / "bad.yaml").write_text("task: regression\\ndata: {path: d.csv, target: y}\\nfolds: 3\\n")
>>> load_spec(folder / "bad.yaml")
Traceback (most recent call last):
uniml.evaluation.spec.SpecError: ...bad.yaml:3: folds: unknown key (allowed: ...)
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from uniml.core.errors import UnimlError

__all__ = [
    "CandidateSpec",
    "ChampionSpec",
    "EvalSpec",
    "LineageSpec",
    "SpecError",
    "build_data",
    "build_gates",
    "build_metrics",
    "build_model",
    "build_protocol",
    "lineage_settings",
    "load_spec",
    "output_paths",
    "parse_spec",
    "read_frame",
    "run_spec",
]

TASKS = ("regression", "classification", "forecasting", "causal", "recommendation")
_URI_SCHEMES = ("models:/", "runs:/", "mlflow-artifacts:/")


class SpecError(UnimlError, ValueError):
    """An evaluation spec (or the data it names) is invalid.

    Parameters
    ----------
    message : str
        All problems, one per line, each as ``file:line: field: what is wrong``.
    problems : list of (int or None, str, str)
        ``(line, field, message)`` per problem.
    source : str, optional
        The spec file.

    Examples
    --------
    >>> err = SpecError.single("data.path: no file 'x.csv'", line=3, field="data.path", source="s.yaml")
    >>> str(err), err.problems[0][0]
    ("s.yaml:3: data.path: no file 'x.csv'", 3)
    """

    def __init__(self, message: str, problems=(), source=None):
        super().__init__(message)
        self.problems = list(problems)
        self.source = source

    @classmethod
    def single(cls, message: str, *, line=None, field=None, source=None) -> SpecError:
        """One problem, formatted ``source:line: message``.

        Examples
        --------
        >>> str(SpecError.single("bad", line=2, source="a.yaml"))
        'a.yaml:2: bad'
        """
        return cls(_where(source, line) + message, [(line, field, message)], source)


def _where(source, line) -> str:
    if source is None:
        return "" if line is None else f"line {line}: "
    return f"{source}:{line}: " if line is not None else f"{source}: "


# -- YAML with line numbers ---------------------------------------------------
class _Lines:
    """Maps a path of keys/indices in the YAML document to the line (1-based) it is on."""

    def __init__(self, root):
        self.lines: dict[tuple, int] = {}
        self.duplicates: list[tuple[tuple, int]] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node, path):
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
                if name in seen:
                    self.duplicates.append((path + (name,), key.start_mark.line + 1))
                seen.add(name)
                # the key's line, not the value's: "name: value" reads best at the key
                self.lines[path + (name,)] = key.start_mark.line + 1
                self._walk(value, path + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, path + (i,))

    def line(self, path) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _field(path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


# -- the spec models ------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DataSpec(_Strict):
    path: str = Field(description="CSV or Parquet file, relative to the spec file")
    format: Literal["csv", "parquet"] | None = Field(
        None, description="default: from the file suffix"
    )

    def role_columns(self) -> dict[str, list[str]]:
        """Role -> column names, for every role set (used to check the columns exist)."""
        out = {}
        for name, value in self:
            if name in ("path", "format") or value is None:
                continue
            out[name] = [value] if isinstance(value, str) else list(value)
        return out


class TabularDataSpec(_DataSpec):
    """Data of a regression or classification spec."""

    target: str
    features: list[str] | None = None
    weight: str | None = None


class ForecastDataSpec(_DataSpec):
    """Data of a forecasting spec (long format: one row per series and time)."""

    time: str
    target: str
    series_id: str | None = None
    exog: list[str] = []


class CausalDataSpec(_DataSpec):
    """Data of a causal spec."""

    outcome: str
    treatment: str
    effect_modifiers: list[str] = []
    confounders: list[str] = []
    instruments: list[str] = []
    true_effect: str | None = Field(
        None, description="column of known per-row effects (simulated data)"
    )


class InteractionDataSpec(_DataSpec):
    """Data of a recommendation spec."""

    user: str
    item: str
    weight: str | None = None
    timestamp: str | None = None


_DATA = {
    "regression": TabularDataSpec,
    "classification": TabularDataSpec,
    "forecasting": ForecastDataSpec,
    "causal": CausalDataSpec,
    "recommendation": InteractionDataSpec,
}


class CandidateSpec(_Strict):
    """One model to evaluate: a catalog adapter with parameters, or a saved model.

    Exactly one of ``adapter`` and ``model`` is given. ``model`` is a saved
    uniml folder (relative to the spec file) or an MLflow model URI
    (``models:/name@champion``, ``runs:/<id>/model``).

    For ``sklearn.estimator``, ``params.estimator`` names a scikit-learn class
    and its parameters: ``{class: sklearn.linear_model.Ridge, params: {alpha: 1.0}}``.
    """

    name: str | None = None
    adapter: str | None = None
    params: dict[str, Any] = {}
    model: str | None = None
    trusted: bool = Field(
        False,
        description="ask to load this saved model with trusted=True (pickle-based formats); "
        "honoured only when whoever runs the spec grants trust too (uniml eval --trusted, "
        "run_spec(trusted=True)): a spec cannot grant trust to itself",
    )
    digest: str | None = Field(
        None, description="the artifact digest a saved model folder must have (sha256)"
    )

    @model_validator(mode="after")
    def _one_source(self):
        if (self.adapter is None) == (self.model is None):
            raise ValueError(
                "give exactly one of 'adapter' (a catalog name) or 'model' (a saved folder or "
                "MLflow model URI)"
            )
        if self.digest is not None and (self.model is None or self.is_uri()):
            raise ValueError("'digest' applies to a saved model folder ('model: path')")
        if self.model is not None and self.params:
            raise ValueError(
                "'params' applies to 'adapter' candidates only; a saved model keeps its own"
            )
        return self

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, name):
        if name is None:
            return name
        from uniml.core.catalog import get_adapter_class
        from uniml.core.errors import AdapterNotFoundError

        try:
            get_adapter_class(name)
        except AdapterNotFoundError as exc:  # a KeyError, which pydantic would not catch
            raise ValueError(str(exc)) from None  # the message lists the close matches
        return name

    @property
    def label(self) -> str:
        """The name shown in the report (``name``, else the adapter or model)."""
        return self.name or self.adapter or Path(str(self.model)).name or str(self.model)

    def is_uri(self) -> bool:
        """True when ``model`` is an MLflow URI rather than a folder."""
        return self.model is not None and self.model.startswith(_URI_SCHEMES)


class ChampionSpec(CandidateSpec):
    """The current champion: like a candidate (its report name is always ``champion``).

    ``refit: false`` scores the saved model as it is instead of refitting a
    clone on every fold (optimistic when its training rows overlap the folds).
    """

    refit: bool = True
    if_missing: Literal["fail", "skip"] = Field(
        "fail",
        description="'skip': when the champion folder does not exist yet (a project's first "
        "run), evaluate without it and drop the gates that compare with the champion",
    )

    @model_validator(mode="after")
    def _skip_needs_folder(self):
        if self.if_missing == "skip" and (self.model is None or self.is_uri()):
            raise ValueError(
                "'if_missing: skip' applies to a saved champion folder ('model: <folder>'); "
                "download a registry champion into a folder first"
            )
        return self

    @field_validator("name")
    @classmethod
    def _no_name(cls, name):
        if name is not None:
            raise ValueError("the champion is always reported as 'champion'; remove 'name'")
        return name


class LineageSpec(_Strict):
    """Lineage settings: log the evaluation to MLflow."""

    enabled: bool = True
    tracking_uri: str | None = Field(default=None, description="default: the embedded SQLite store")
    experiment: str | None = None


class OutputSpec(_Strict):
    """Where to write the reports (relative to the spec file; the CLI options win)."""

    html: str | None = None
    json_: str | None = Field(None, alias="json")


class EvalSpec(_Strict):
    """A validated evaluation spec (the fields every task shares; :func:`load_spec` builds one).

    ``data`` is task specific (:class:`TabularDataSpec`, :class:`ForecastDataSpec`,
    :class:`CausalDataSpec`, :class:`InteractionDataSpec`); relative paths
    resolve against the spec file's folder; :meth:`error` builds a
    :class:`SpecError` pointing at a field's line.

    Examples
    --------
    >>> spec = parse_spec("task: causal\\ndata: {path: d.csv, outcome: y, treatment: t}\\n"
    ...                   "candidates: [{adapter: econml.dml}]\\n")
    >>> spec.error("column 'y' is not in d.csv", "data", "outcome")
    SpecError("line 2: data.outcome: column 'y' is not in d.csv")
    """

    task: Literal["regression", "classification", "forecasting", "causal", "recommendation"]
    candidates: list[CandidateSpec] = Field(min_length=1)
    protocol: dict[str, Any] | None = None
    metrics: list[str] | None = None
    baselines: list[CandidateSpec] = Field(
        [], description="extra baselines (the task's own always run)"
    )
    champion: ChampionSpec | None = None
    gates: list[str | dict[str, Any]] = []
    confidence: float = Field(0.95, gt=0, lt=1, description="level of the comparison intervals")
    n_boot: int = Field(2000, ge=100, description="bootstrap draws")
    random_state: int | None = 0
    n_jobs: int = 1
    lineage: LineageSpec | bool = False
    output: OutputSpec | None = None

    _source: Path | None = PrivateAttr(None)
    _lines: _Lines | None = PrivateAttr(None)

    @field_validator("candidates")
    @classmethod
    def _unique_names(cls, candidates):
        seen: dict[str, int] = {}
        for i, c in enumerate(candidates):
            if c.label in seen:
                raise ValueError(
                    f"candidates [{seen[c.label]}] and [{i}] are both named {c.label!r}; "
                    "give each a distinct 'name'"
                )
            seen[c.label] = i
        return candidates

    @property
    def source(self) -> Path | None:
        """The spec file (None for text parsed without one)."""
        return self._source

    @property
    def folder(self) -> Path:
        """The folder relative paths in the spec are resolved against."""
        return self._source.parent if self._source is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path from the spec, resolved against the spec's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.folder / path

    def line(self, *path) -> int | None:
        """The YAML line of a field (or of its nearest parent present in the file)."""
        return self._lines.line(path) if self._lines is not None else None

    def error(self, message: str, *path) -> SpecError:
        """A :class:`SpecError` about the field at ``path``, with its line."""
        field = _field(path)
        return SpecError.single(
            f"{field}: {message}",
            line=self.line(*path),
            field=field,
            source=str(self._source) if self._source is not None else None,
        )


def _spec_class(task: str) -> type[EvalSpec]:
    return create_model(
        f"{task.title()}Spec", __base__=EvalSpec, __module__=__name__, data=(_DATA[task], ...)
    )


_SPEC_CLASSES = {task: _spec_class(task) for task in TASKS}


def _format_errors(exc: ValidationError, raw, lines: _Lines, source, model) -> SpecError:
    problems = []
    for err in exc.errors():
        kind = err["type"]
        clean = _data_path(tuple(err["loc"]), raw, kind)
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, clean[:-1])
            msg = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif kind == "missing":
            msg = "required field is missing"
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            ctx = err.get("ctx") or {}
            if kind in ("assertion_error", "value_error") and "error" in ctx:
                msg = str(ctx["error"])
        problems.append((clean, msg))
    # a union reports every member that failed: when one member failed deeper inside the value
    # (an unknown key in a mapping), the user meant that member; drop the others' complaints
    paths = [p for p, _ in problems]
    located = [
        (lines.line(p), _field(p), msg)
        for p, msg in problems
        if not any(len(q) > len(p) and q[: len(p)] == p for q in paths)
    ]
    # one line per field (a union reports once per member), in file order
    merged: dict[tuple, list[str]] = {}
    for line, field, msg in located:
        merged.setdefault((line, field), [])
        if msg not in merged[(line, field)]:
            merged[(line, field)].append(msg)
    unique = sorted(
        ((line, field, "; or: ".join(msgs)) for (line, field), msgs in merged.items()),
        key=lambda p: (p[0] is None, p[0] or 0),
    )
    text = "\n".join(f"{_where(source, line)}{field}: {msg}" for line, field, msg in unique)
    return SpecError(text, unique, source)


def _data_path(loc: tuple, raw, kind: str) -> tuple:
    """The part of a pydantic error location that is a path in the document.

    Pydantic inserts the member of a union it tried (``'str'``, ``'LineageSpec'``...) into the
    location; those parts name no key of the data, so they are dropped. For a missing field the
    last part is kept although the data lacks it: it is the field.
    """
    out, node = [], raw
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1 and kind == "missing":
            out.append(part)
    return tuple(out)


def _allowed_keys(model, path) -> list[str]:
    """Field names (aliases) of the pydantic model found at ``path`` below ``model``."""
    cls = model
    for part in path:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(part) if hasattr(cls, "model_fields") else None
        if field is None:
            return []
        cls = _model_in(field.annotation)
        if cls is None:
            return []
    return sorted((f.alias or name) for name, f in cls.model_fields.items())


def _model_in(annotation):
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def parse_spec(text: str, source=None):
    """Validate spec text; see :func:`load_spec`.

    Parameters
    ----------
    text : str
        YAML.
    source : str or Path, optional
        The file it came from (for messages; relative paths resolve against
        its folder, else against the working directory).

    Returns
    -------
    EvalSpec

    Raises
    ------
    SpecError

    Examples
    --------
    >>> parse_spec("task: forecasting\\ndata: {path: x.csv, time: t, target: y}\\n"
    ...            "candidates: [{adapter: statsmodels.ets}]\\n").data.time
    't'
    >>> parse_spec("task: regression\\ndata: {path: x.csv, target: y}\\n"
    ...            "candidates: [{adapter: nope.model}]\\n")
    Traceback (most recent call last):
    uniml.evaluation.spec.SpecError: line 3: candidates[0].adapter: no adapter named 'nope.model'; ...
    """
    name = str(source) if source is not None else None
    from uniml.core.safe_yaml import YAMLInputError, load_yaml

    try:
        raw, root = load_yaml(text, with_node=True)
    except YAMLInputError as exc:
        raise SpecError.single(exc.problem, line=exc.line, source=name) from None
    lines = _Lines(root)
    if lines.duplicates:
        path, line = lines.duplicates[0]
        raise SpecError.single(
            f"{_field(path)}: duplicate key (each key may appear once)",
            line=line,
            field=_field(path),
            source=name,
        )
    if not isinstance(raw, dict):
        raise SpecError.single(
            "the spec must be a YAML mapping (task:, data:, candidates:, ...)",
            line=lines.line(()),
            source=name,
        )
    task = raw.get("task")
    if task not in TASKS:
        what = "required field is missing" if task is None else f"unknown task {task!r}"
        raise SpecError.single(
            f"task: {what}; one of {', '.join(TASKS)}",
            line=lines.line(("task",)),
            field="task",
            source=name,
        )
    model = _SPEC_CLASSES[task]
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise _format_errors(exc, raw, lines, name, model) from None
    spec._source = Path(source) if source is not None else None
    spec._lines = lines
    _check_tasks(spec)
    _check_objects(spec)
    _check_outputs(spec)
    return spec


def _check_tasks(spec) -> None:
    """Each adapter must serve the spec's task."""
    from uniml.core.catalog import get_adapter_class

    entries: list[tuple[tuple[str | int, ...], Any]] = [
        (("candidates", i), c) for i, c in enumerate(spec.candidates)
    ]
    entries += [(("baselines", i), c) for i, c in enumerate(spec.baselines)]
    if spec.champion is not None:
        entries.append((("champion",), spec.champion))
    for path, cand in entries:
        if cand.adapter is None:
            continue
        tasks = str(get_adapter_class(cand.adapter).info()["task"]).split("|")
        if spec.task not in tasks:
            raise spec.error(
                f"{cand.adapter!r} is a {' / '.join(tasks)} adapter, but the spec's task is "
                f"{spec.task!r}",
                *path,
                "adapter",
            )


def load_spec(path):
    """Read and validate an evaluation spec file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    EvalSpec
        A frozen pydantic model for the spec's task, with ``source`` and
        ``lines`` set; relative paths in it resolve against the file's folder.

    Raises
    ------
    SpecError
        The file is missing, is not valid YAML, or breaks the schema; the
        message names each field and its line.

    Examples
    --------
    >>> load_spec("no/such/spec.yaml")
    Traceback (most recent call last):
    uniml.evaluation.spec.SpecError: no/such/spec.yaml: no such spec file
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError.single("no such spec file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError.single(f"cannot read the spec: {exc}", source=str(path)) from None
    return parse_spec(text, source=path)


#: classes a spec may construct besides scikit-learn's estimator and transformer classes
#: (``sklearn.utils.all_estimators()``): scikit-learn's splitters and the wrapped libraries'
#: scikit-learn-style estimators (for nuisance models). Never functions, never modules.
SPEC_EXTRA_CLASSES = (
    "sklearn.model_selection.KFold",
    "sklearn.model_selection.StratifiedKFold",
    "sklearn.model_selection.GroupKFold",
    "sklearn.model_selection.TimeSeriesSplit",
    "sklearn.model_selection.ShuffleSplit",
    "sklearn.model_selection.StratifiedShuffleSplit",
    "sklearn.model_selection.RepeatedKFold",
    "sklearn.model_selection.RepeatedStratifiedKFold",
    "lightgbm.LGBMRegressor",
    "lightgbm.LGBMClassifier",
    "xgboost.XGBRegressor",
    "xgboost.XGBClassifier",
)

#: DoWhy estimation methods a spec may name (DoWhy imports other method names as modules)
DOWHY_METHODS = (
    "backdoor.linear_regression",
    "backdoor.generalized_linear_model",
    "backdoor.propensity_score_matching",
    "backdoor.propensity_score_stratification",
    "backdoor.propensity_score_weighting",
    "backdoor.distance_matching",
    "iv.instrumental_variable",
    "iv.regression_discontinuity",
    "frontdoor.two_stage_regression",
)
#: DoWhy identification methods a spec may name
DOWHY_IDENTIFY_METHODS = (
    "default",
    "maximal-adjustment",
    "minimal-adjustment",
    "exhaustive-search",
)

_DOTTED = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")


@functools.lru_cache(maxsize=1)
def _estimator_names() -> dict[str, type]:
    from sklearn.utils import all_estimators

    return dict(all_estimators())


def _check_class_name(dotted) -> str | None:
    """Why ``dotted`` may not be constructed by a spec (None: it may). Imports nothing."""
    allowed = (
        "only scikit-learn estimator/transformer classes (sklearn.utils.all_estimators) and "
        "the documented extra classes may be named in a spec"
    )
    if not isinstance(dotted, str) or not _DOTTED.fullmatch(dotted):
        return f"class {dotted!r} is not a dotted class name; {allowed}"
    if dotted in SPEC_EXTRA_CLASSES:
        return None
    module, _, attr = dotted.rpartition(".")
    if module.split(".")[0] != "sklearn" or attr not in _estimator_names():
        return f"class {dotted!r} is not allowed; {allowed}"
    return None


def _import_allowed_class(dotted: str) -> type:
    """The class ``dotted`` names, after :func:`_check_class_name` accepted it."""
    problem = _check_class_name(dotted)
    if problem is not None:
        raise ValueError(problem)
    module, _, attr = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ValueError(f"estimator class {dotted!r} does not exist") from None
    if dotted not in SPEC_EXTRA_CLASSES and obj is not _estimator_names().get(attr):
        raise ValueError(f"class {dotted!r} is not a scikit-learn estimator class")
    if not isinstance(obj, type):
        raise ValueError(f"{dotted!r} is not a class")
    return obj


def _check_objects(spec) -> None:
    """Validate every nested object and restricted name of the spec, before anything is built."""
    entries: list[tuple[tuple, Any]] = [
        (("candidates", i), c) for i, c in enumerate(spec.candidates)
    ]
    entries += [(("baselines", i), c) for i, c in enumerate(spec.baselines)]
    if spec.champion is not None:
        entries.append((("champion",), spec.champion))
    for path, cand in entries:
        if cand.adapter is not None and cand.adapter.startswith("dowhy."):
            for key, allowed in (
                ("method", DOWHY_METHODS),
                ("identify_method", DOWHY_IDENTIFY_METHODS),
            ):
                value = cand.params.get(key)
                if value is not None and value not in allowed:
                    raise spec.error(
                        f"DoWhy {key} {value!r} is not allowed in a spec; one of "
                        f"{', '.join(allowed)}",
                        *path,
                        "params",
                        key,
                    )
        for key, value in cand.params.items():
            _check_value(spec, value, (*path, "params", key))


def _check_value(spec, value, path) -> None:
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(spec, v, (*path, i))
        return
    if not isinstance(value, dict):
        return
    if "class" in value:
        problem = _check_class_name(value["class"])
        if problem is not None:
            raise spec.error(problem, *path, "class")
    elif "adapter" in value:
        from uniml.core.catalog import get_adapter_class
        from uniml.core.errors import AdapterNotFoundError

        try:
            get_adapter_class(str(value["adapter"]))
        except AdapterNotFoundError as exc:
            raise spec.error(str(exc), *path, "adapter") from None
    for key, v in value.items():
        if key not in ("class", "adapter"):
            _check_value(spec, v, (*path, key))


def _check_outputs(spec) -> None:
    """Report paths in a spec stay inside the spec's folder (the CLI's --out options may not)."""
    if spec.output is None:
        return
    base = spec.folder.resolve()
    for key, value in (("html", spec.output.html), ("json", spec.output.json_)):
        if value is None:
            continue
        relative = Path(value)
        inside = not relative.is_absolute() and not str(value).startswith("~")
        if inside:
            try:
                (base / relative).resolve().relative_to(base)
            except ValueError:
                inside = False
        if not inside:
            raise spec.error(
                f"{value!r} is outside the spec's folder; a spec may only write reports "
                f"below its own folder (use the CLI's --report/--json to write elsewhere)",
                "output",
                key,
            )


# -- from a validated spec to an evaluation ----------------------------------------
def _instantiate(spec, value, path):
    """Spec parameter values -> Python objects: ``{class: sklearn..., params: {...}}`` builds an
    estimator, ``{adapter: name, params: {...}}`` a uniml adapter; everything else is kept."""
    if isinstance(value, list):
        return [_instantiate(spec, v, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    keys = set(value)
    if "class" in keys or "adapter" in keys:
        kind = "class" if "class" in keys else "adapter"
        extra = keys - {kind, "params"}
        if extra or ("class" in keys and "adapter" in keys):
            raise spec.error(
                f"an object is given as {{{kind}: ..., params: {{...}}}}; unexpected "
                f"{sorted(extra | ({'adapter'} if kind == 'class' and 'adapter' in keys else set()))}",
                *path,
            )
        params = value.get("params") or {}
        if not isinstance(params, dict):
            raise spec.error("'params' must be a mapping", *path, "params")
        params = {k: _instantiate(spec, v, (*path, "params", k)) for k, v in params.items()}
        try:
            if kind == "class":
                return _import_allowed_class(str(value["class"]))(**params)
            from uniml.core.catalog import make

            return make(str(value["adapter"]), **params)
        except (ValueError, TypeError, UnimlError) as exc:
            raise spec.error(str(exc), *path, kind) from None
    return {k: _instantiate(spec, v, (*path, k)) for k, v in value.items()}


def build_model(spec, candidate: CandidateSpec, path: tuple, *, trusted: bool = False):
    """The adapter a candidate (or the champion) of ``spec`` describes.

    Parameters
    ----------
    spec : EvalSpec
    candidate : CandidateSpec
    path : tuple
        Its field path in the spec (for error lines), e.g. ``("candidates", 0)``.
    trusted : bool, default False
        The caller's grant of trust. A saved model is loaded with ``trusted=True``
        only when the caller grants it *and* the spec marks that model
        ``trusted: true``; the spec's mark alone grants nothing, since a spec may
        come from someone else (a pull request).

    Returns
    -------
    Adapter
        Unfitted (``adapter`` + ``params``) or as saved (``model``).

    Raises
    ------
    SpecError
        Invalid parameters, a missing folder, a model that cannot be loaded.

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\ncandidates:\\n"
    ...                   "  - adapter: sklearn.estimator\\n"
    ...                   "    params: {estimator: {class: sklearn.linear_model.Ridge, params: {alpha: 2.0}}}\\n")
    >>> build_model(spec, spec.candidates[0], ("candidates", 0)).estimator
    Ridge(alpha=2.0)
    """
    if candidate.adapter is not None:
        from uniml.core.catalog import make

        params = {
            k: _instantiate(spec, v, (*path, "params", k)) for k, v in candidate.params.items()
        }
        try:
            return make(candidate.adapter, **params)
        except TypeError as exc:  # an unknown constructor argument
            raise spec.error(
                f"invalid params for {candidate.adapter!r}: {exc}", *path, "params"
            ) from None
        except UnimlError as exc:
            raise spec.error(str(exc), *path, "adapter") from None
    grant = trusted is True and candidate.trusted
    if candidate.model is not None and candidate.is_uri():
        try:
            from uniml.lineage import load_adapter
        except ImportError as exc:
            raise spec.error(
                f"loading {candidate.model!r} needs uniml.lineage: {exc}", *path, "model"
            ) from None
        lineage = lineage_settings(spec)
        try:
            return load_adapter(
                candidate.model,
                trusted=grant,
                tracking_uri=lineage.tracking_uri if lineage is not None else None,
            )
        except (
            Exception
        ) as exc:  # MLflow raises its own exception types for a missing model / server
            raise spec.error(f"cannot load {candidate.model!r}: {exc}", *path, "model") from None
    from uniml.core.persistence import load

    folder = spec.resolve(candidate.model)
    if not folder.is_dir():
        raise spec.error(f"no saved model folder {str(folder)!r}", *path, "model")
    try:
        return load(folder, trusted=grant, expected_digest=candidate.digest)
    except UnimlError as exc:
        raise spec.error(f"{exc}{_trust_hint(exc, candidate, trusted)}", *path, "model") from None


def _trust_hint(exc, candidate: CandidateSpec, trusted: bool) -> str:
    """What to do about a refused untrusted load: trust needs the spec's mark and the caller's grant."""
    from uniml.core.errors import UntrustedArtifactError

    if not isinstance(exc, UntrustedArtifactError):
        return ""
    if candidate.trusted and trusted is not True:
        return (
            " (the spec marks it 'trusted: true', but a spec cannot grant trust to itself: if you "
            "would run this folder's code, run 'uniml eval --trusted' or run_spec(..., trusted=True))"
        )
    if not candidate.trusted:
        return (
            " (if you would run this folder's code, mark it 'trusted: true' in the spec and run "
            "'uniml eval --trusted')"
        )
    return ""


def read_frame(spec):
    """Read the spec's data file into a DataFrame (CSV or Parquet), checking every role's columns.

    Datetime roles (forecasting ``time``, recommendation ``timestamp``) are
    parsed as dates when the file stores them as text.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SpecError
        Missing or unreadable file, or a role naming a column the file lacks.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "d.csv").write_text("x,y\\n1,2\\n")
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: z}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\n", source=folder / "s.yaml")
    >>> read_frame(spec)
    Traceback (most recent call last):
    uniml.evaluation.spec.SpecError: ...s.yaml:2: data.target: column 'z' is not in d.csv; its columns are x, y
    """
    import pandas as pd

    data = spec.data
    path = spec.resolve(data.path)
    fmt = data.format or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if not path.is_file():
        raise spec.error(f"no data file {str(path)!r}", "data", "path")
    try:
        if fmt == "parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError as exc:
                from uniml.core.errors import MissingDependencyError

                raise MissingDependencyError(
                    "pyarrow", "parquet", purpose="reading Parquet data"
                ) from exc
        else:
            frame = pd.read_csv(path)
    except UnimlError as exc:
        raise spec.error(str(exc), "data", "path") from None
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        raise spec.error(f"cannot read {path.name} as {fmt}: {exc}", "data", "path") from None
    columns = [str(c) for c in frame.columns]
    for role, names in data.role_columns().items():
        for i, name in enumerate(names):
            if name not in frame.columns:
                where = (
                    ("data", role, i) if isinstance(getattr(data, role), list) else ("data", role)
                )
                raise spec.error(
                    f"column {name!r} is not in {path.name}; its columns are {', '.join(columns)}",
                    *where,
                )
    for role in ("time", "timestamp"):
        name = getattr(data, role, None)
        if (
            name is not None
            and not pd.api.types.is_datetime64_any_dtype(frame[name])
            and not pd.api.types.is_numeric_dtype(frame[name])
        ):
            try:
                frame[name] = pd.to_datetime(frame[name])
            except (ValueError, TypeError) as exc:
                raise spec.error(
                    f"column {name!r} holds values that are not dates: {exc}", "data", role
                ) from None
    return frame


def build_data(spec, frame):
    """The task's data contract over ``frame`` (``TabularData``, ``ForecastData``, ...).

    Raises
    ------
    SpecError
        The data breaks the task's contract (message from the contract, line of ``data``).

    Examples
    --------
    >>> import pandas as pd
    >>> spec = parse_spec("task: recommendation\\ndata: {path: d.csv, user: u, item: i}\\n"
    ...                   "candidates: [{adapter: lightfm.recommender}]\\n")
    >>> build_data(spec, pd.DataFrame({"u": [1, 2], "i": [3, 4]})).n_users
    2
    """
    d = spec.data
    try:
        if spec.task in ("regression", "classification"):
            from uniml.core.tasks import TabularData

            return TabularData(frame, target=d.target, features=d.features, weight=d.weight)
        if spec.task == "forecasting":
            from uniml.core.forecasting import ForecastData

            return ForecastData(
                frame, time=d.time, target=d.target, series_id=d.series_id, exog=d.exog or None
            )
        if spec.task == "causal":
            from uniml.core.causal import CausalData

            return CausalData(
                frame,
                outcome=d.outcome,
                treatment=d.treatment,
                effect_modifiers=d.effect_modifiers or None,
                confounders=d.confounders or None,
                instruments=d.instruments or None,
            )
        from uniml.core.recommendation import InteractionData

        return InteractionData(
            frame, user=d.user, item=d.item, weight=d.weight, timestamp=d.timestamp
        )
    except UnimlError as exc:
        raise spec.error(str(exc), "data") from None


def build_protocol(spec):
    """The protocol object the spec's ``protocol`` mapping names (None: the task's default).

    Raises
    ------
    SpecError
        Unknown ``kind`` or an argument the protocol does not take.

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\nprotocol: {kind: kfold, n_splits: 3}\\n")
    >>> build_protocol(spec)
    KFold(n_splits=3, shuffle=True, random_state=None)
    """
    if spec.protocol is None:
        return None
    import inspect

    from uniml.evaluation import splitters

    kinds = {
        cls.kind: cls
        for cls in (getattr(splitters, n) for n in splitters.__all__)
        if isinstance(cls, type) and issubclass(cls, splitters._Protocol) and cls.kind
    }
    settings = dict(spec.protocol)
    kind = settings.pop("kind", None)
    if kind not in kinds:
        what = "required field is missing" if kind is None else f"unknown protocol {kind!r}"
        raise spec.error(f"{what}; one of {', '.join(sorted(kinds))}", "protocol", "kind")
    cls = kinds[kind]
    accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
    for key in settings:
        if key not in accepted:
            raise spec.error(
                f"unknown key for protocol {kind!r} (allowed: kind, {', '.join(accepted)})",
                "protocol",
                key,
            )
    try:
        protocol = cls(**settings)
        protocol.check_task(spec.task)
    except UnimlError as exc:
        raise spec.error(str(exc), "protocol") from None
    return protocol


def build_gates(spec) -> list:
    """The spec's gates, parsed (each error on its own line).

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\ngates:\\n  - rmse <= 3\\n  - rmse is low\\n")
    >>> build_gates(spec)
    Traceback (most recent call last):
    uniml.evaluation.spec.SpecError: line 6: gates[1]: invalid gate 'rmse is low': ...
    """
    from uniml.evaluation.gates import parse_gate

    gates = []
    for i, text in enumerate(spec.gates):
        try:
            gates.append(parse_gate(text))
        except UnimlError as exc:
            raise spec.error(str(exc), "gates", i) from None
    return gates


def build_metrics(spec):
    """The spec's metric names, each checked against the task (None: the task's defaults).

    Examples
    --------
    >>> spec = parse_spec("task: classification\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.logit}]\\nmetrics: [roc_auc, rmse]\\n")
    >>> build_metrics(spec)
    Traceback (most recent call last):
    uniml.evaluation.spec.SpecError: line 4: metrics[1]: ...rmse...
    """
    if spec.metrics is None:
        return None
    from uniml.evaluation.metrics import get_metric

    for i, name in enumerate(spec.metrics):
        try:
            get_metric(spec.task, name)
        except UnimlError as exc:
            raise spec.error(str(exc), "metrics", i) from None
    return list(spec.metrics)


def output_paths(spec, html=None, json_path=None) -> tuple[Path, Path | None]:
    """Where the reports go: the CLI's options, else the spec's ``output``, else ``<spec>-report.html``.

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\noutput: {json: out/r.json}\\n",
    ...                   source="/specs/s.yaml")
    >>> [str(p) for p in output_paths(spec)]
    ['s-report.html', '/specs/out/r.json']
    """
    out = spec.output
    if html is None:
        html = (
            spec.resolve(out.html)
            if out is not None and out.html
            else Path(f"{spec.source.stem if spec.source is not None else 'uniml'}-report.html")
        )
    if json_path is None and out is not None and out.json_:
        json_path = spec.resolve(out.json_)
    return Path(html), (Path(json_path) if json_path is not None else None)


def lineage_settings(spec) -> LineageSpec | None:
    """The lineage settings (None when lineage is off).

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\nlineage: true\\n")
    >>> lineage_settings(spec).enabled, lineage_settings(spec).tracking_uri
    (True, None)
    """
    value = spec.lineage
    if value is True:
        return LineageSpec()
    if value is False or not value.enabled:
        return None
    return value


def _champion_missing(spec) -> bool:
    """True when the spec's champion is ``if_missing: skip`` and its folder does not exist.

    Examples
    --------
    >>> spec = parse_spec("task: regression\\ndata: {path: d.csv, target: y}\\n"
    ...                   "candidates: [{adapter: statsmodels.ols}]\\n"
    ...                   "champion: {model: /no/such/champion, if_missing: skip}\\n")
    >>> _champion_missing(spec)
    True
    """
    champion = spec.champion
    if champion is None or champion.if_missing != "skip" or champion.model is None:
        return False
    return not spec.resolve(champion.model).exists()


def _column_refs(spec, frame) -> None:
    """Protocol settings that name a column (``groups``, ``time``) must name one of the data."""
    for key in ("groups", "time"):
        name = (spec.protocol or {}).get(key)
        if isinstance(name, str) and name not in frame.columns:
            raise spec.error(
                f"column {name!r} is not in {Path(spec.data.path).name}", "protocol", key
            )


#: harness errors -> the spec section they are about (for the line number)
_SECTIONS = {
    "GateError": "gates",
    "MetricError": "metrics",
    "ProtocolError": "protocol",
    "DataContractError": "data",
    "SchemaError": "data",
}


def run_spec(spec, progress=None, *, trusted: bool = False):
    """Evaluate what ``spec`` describes and return the report.

    Parameters
    ----------
    spec : EvalSpec
        From :func:`load_spec` / :func:`parse_spec`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each (model, fold) job of
        the harness (e.g. to drive a progress bar).
    trusted : bool, default False
        Grant trust to the saved models the spec marks ``trusted: true`` (see
        :func:`build_model`); without it such models load untrusted, and a
        pickle-based one is refused.

    Returns
    -------
    EvalReport

    Raises
    ------
    SpecError
        Anything wrong with the spec or its data, located at the section it
        concerns (a bad gate at its line, a protocol the data cannot satisfy
        at ``protocol``...).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn.datasets import load_diabetes
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> load_diabetes(as_frame=True).frame.to_csv(folder / "d.csv", index=False)
    >>> _ = (folder / "s.yaml").write_text(
    ...     "task: regression\\ndata: {path: d.csv, target: target}\\n"
    ...     "candidates: [{name: ols, adapter: statsmodels.ols}]\\n"
    ...     "protocol: {kind: kfold, n_splits: 3}\\ngates: [rmse better than baseline]\\n")
    >>> report = run_spec(load_spec(folder / "s.yaml"))
    >>> report.passed, list(report.roles)
    (True, ['ols', 'dummy_mean'])
    """
    import contextlib

    from uniml.evaluation import evaluate

    frame = read_frame(spec)
    data = build_data(spec, frame)
    protocol = build_protocol(spec)
    _column_refs(spec, frame)
    metrics = build_metrics(spec)
    gates = build_gates(spec)
    candidates = {
        c.label: build_model(spec, c, ("candidates", i), trusted=trusted)
        for i, c in enumerate(spec.candidates)
    }
    baselines = {
        c.label: build_model(spec, c, ("baselines", i), trusted=trusted)
        for i, c in enumerate(spec.baselines)
    }
    champion_spec = spec.champion
    if champion_spec is not None and _champion_missing(spec):
        import warnings

        gates = [g for g in gates if getattr(g, "reference", None) != "champion"]
        warnings.warn(
            f"no champion at {str(spec.resolve(str(champion_spec.model)))!r} "
            "(champion.if_missing: skip): evaluating without it and without its gates",
            UserWarning,
            stacklevel=2,
        )
        champion_spec = None
    champion = (
        build_model(spec, champion_spec, ("champion",), trusted=trusted)
        if champion_spec is not None
        else None
    )
    lineage = lineage_settings(spec)
    with contextlib.ExitStack() as stack:
        if lineage is not None:
            import uniml.lineage

            stack.enter_context(
                uniml.lineage.enable(
                    tracking_uri=lineage.tracking_uri, experiment=lineage.experiment
                )
            )
        try:
            report = evaluate(
                candidates,
                data,
                protocol=protocol,
                metrics=metrics,
                baselines=baselines or "auto",
                champion=champion,
                gates=gates,
                n_jobs=spec.n_jobs,
                random_state=spec.random_state,
                spec=spec.model_dump(mode="json", by_alias=True),
                true_effect=getattr(spec.data, "true_effect", None),
                champion_refit=spec.champion.refit if spec.champion is not None else True,
                confidence=spec.confidence,
                n_boot=spec.n_boot,
                progress=progress,
            )
        except UnimlError as exc:
            section = next(
                (
                    s
                    for cls, s in _SECTIONS.items()
                    if any(k.__name__ == cls for k in type(exc).__mro__)
                ),
                None,
            )
            if section is None or isinstance(exc, SpecError):
                raise
            raise spec.error(str(exc), section) from None
        if lineage is not None:
            import uniml.lineage

            uniml.lineage.flush()
    return report

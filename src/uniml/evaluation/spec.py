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
...
uniml.evaluation.spec.SpecError: ...bad.yaml:3: folds: unknown key (allowed: ...)
"""

from __future__ import annotations

import importlib
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
    "EvalSpec",
    "LineageSpec",
    "SpecError",
    "load_spec",
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
                self.lines[path + (name,)] = key.start_mark.line + 1
                self._walk(value, path + (name,))
                # the key's line, not the value's: "name: value" reads best at the key
                self.lines[path + (name,)] = key.start_mark.line + 1
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
    format: Literal["csv", "parquet"] | None = Field(None, description="default: from the file suffix")

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
    groups: str | None = Field(None, description="column of group labels, for grouped cross-validation")
    time: str | None = Field(None, description="column that orders rows, for time-ordered cross-validation")


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
    true_effect: str | None = Field(None, description="column of known per-row effects (simulated data)")


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
    trusted: bool = Field(False, description="allow pickle-based saved models")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.adapter is None) == (self.model is None):
            raise ValueError("give exactly one of 'adapter' (a catalog name) or 'model' (a saved folder or "
                             "MLflow model URI)")
        if self.model is not None and self.params:
            raise ValueError("'params' applies to 'adapter' candidates only; a saved model keeps its own")
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


class LineageSpec(_Strict):
    """Lineage settings: log the evaluation to MLflow."""

    enabled: bool = True
    tracking_uri: str | None = Field(None, description="default: the embedded SQLite store")
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
    baselines: Literal["auto", "none"] | list[str] = "auto"
    champion: CandidateSpec | None = None
    gates: list[str | dict[str, Any]] = []
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
                raise ValueError(f"candidates [{seen[c.label]}] and [{i}] are both named {c.label!r}; "
                                 "give each a distinct 'name'")
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
        return SpecError.single(f"{field}: {message}", line=self.line(*path), field=field,
                                source=str(self._source) if self._source is not None else None)


def _spec_class(task: str) -> type:
    return create_model(f"{task.title()}Spec", __base__=EvalSpec, __module__=__name__, data=(_DATA[task], ...))


_SPEC_CLASSES = {task: _spec_class(task) for task in TASKS}


def _format_errors(exc: ValidationError, lines: _Lines, source, model) -> SpecError:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            msg = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif kind == "missing":
            msg = "required field is missing"
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            ctx = err.get("ctx") or {}
            if kind in ("assertion_error", "value_error") and "error" in ctx:
                msg = str(ctx["error"])
        # pydantic reports union members as extra path parts ("str", "dict[str,any]", "function-after[...]")
        clean = tuple(p for p in loc if isinstance(p, int) or not _is_type_tag(p))
        problems.append((lines.line(clean), _field(clean), msg))
    # one line per field (a union reports once per member), in file order
    merged: dict[tuple, list[str]] = {}
    for line, field, msg in problems:
        merged.setdefault((line, field), [])
        if msg not in merged[(line, field)]:
            merged[(line, field)].append(msg)
    unique = sorted(((line, field, "; or: ".join(msgs)) for (line, field), msgs in merged.items()),
                    key=lambda p: (p[0] is None, p[0] or 0))
    text = "\n".join(f"{_where(source, line)}{field}: {msg}" for line, field, msg in unique)
    return SpecError(text, unique, source)


def _is_type_tag(part: str) -> bool:
    return any(mark in part for mark in ("[", "(")) or part in (
        "str", "int", "bool", "float", "dict", "list", "none", "literal['auto','none']", "LineageSpec",
        "OutputSpec", "CandidateSpec")


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
    ...
    uniml.evaluation.spec.SpecError: line 3: candidates[0].adapter: no adapter named 'nope.model'; ...
    """
    name = str(source) if source is not None else None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        msg = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        raise SpecError.single(msg, line=line, source=name) from None
    lines = _Lines(root)
    if lines.duplicates:
        path, line = lines.duplicates[0]
        raise SpecError.single(f"{_field(path)}: duplicate key (each key may appear once)", line=line,
                               field=_field(path), source=name)
    if not isinstance(raw, dict):
        raise SpecError.single("the spec must be a YAML mapping (task:, data:, candidates:, ...)",
                               line=lines.line(()), source=name)
    task = raw.get("task")
    if task not in TASKS:
        what = "required field is missing" if task is None else f"unknown task {task!r}"
        raise SpecError.single(f"task: {what}; one of {', '.join(TASKS)}", line=lines.line(("task",)),
                               field="task", source=name)
    model = _SPEC_CLASSES[task]
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise _format_errors(exc, lines, name, model) from None
    spec._source = Path(source) if source is not None else None
    spec._lines = lines
    _check_tasks(spec)
    return spec


def _check_tasks(spec) -> None:
    """Each adapter must serve the spec's task."""
    from uniml.core.catalog import get_adapter_class

    entries = [(("candidates", i), c) for i, c in enumerate(spec.candidates)]
    if spec.champion is not None:
        entries.append((("champion",), spec.champion))
    for path, cand in entries:
        if cand.adapter is None:
            continue
        tasks = str(get_adapter_class(cand.adapter).info()["task"]).split("|")
        if spec.task not in tasks:
            raise spec.error(f"{cand.adapter!r} is a {' / '.join(tasks)} adapter, but the spec's task is "
                             f"{spec.task!r}", *path, "adapter")


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
    ...
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


def _import_sklearn_class(dotted: str):
    if not dotted.startswith("sklearn."):
        raise ValueError(f"estimator class {dotted!r}: only scikit-learn classes (sklearn.*) may be named in "
                         "a spec")
    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ValueError(f"estimator class {dotted!r} does not exist") from None

"""The one YAML parser of uniml: safe types only, with limits on size, aliases and depth.

PyYAML's ``safe_load`` refuses Python tags but not an alias bomb (a few lines
whose aliases expand to billions of nodes) nor a self-referencing alias (a
cycle that crashes a recursive walk). Every YAML document uniml reads goes
through :func:`load_yaml`, which composes the document once, checks it, and
only then builds Python values.

Examples
--------
>>> load_yaml("a: 1\\nb: [x, y]\\n")
{'a': 1, 'b': ['x', 'y']}
>>> load_yaml("a: &x [1]\\nb: *x\\n")
{'a': [1], 'b': [1]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uniml.core.errors import UnimlError

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YAMLInputError",
    "load_yaml",
    "read_yaml",
]

#: largest document accepted, in characters
MAX_BYTES = 4 * 1024 * 1024
#: most alias references (``*name``) in one document
MAX_ALIASES = 256
#: deepest nesting of mappings/sequences
MAX_DEPTH = 64
#: most nodes once every alias is expanded
MAX_NODES = 200_000


class YAMLInputError(UnimlError, ValueError):
    """A YAML document is invalid or exceeds uniml's limits (size, aliases, depth, cycles).

    The CLI exits with code 2 for it, like every invalid input.

    Parameters
    ----------
    message : str
        What is wrong.
    source : str, optional
        The file (or other source) of the document.
    line : int, optional
        The 1-based line of the problem, when known.

    Examples
    --------
    >>> try:
    ...     load_yaml("a: [1, 2", source="s.yaml")
    ... except YAMLInputError as err:
    ...     err.source, err.line is not None
    ('s.yaml', True)
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        if source is None:
            where = f"line {line}: " if line else ""
        else:
            where = f"{source}:{line}: " if line else f"{source}: "
        super().__init__(where + message)
        self.problem = message
        self.source = source
        self.line = line


def _loader_class():
    import yaml

    class _CountingLoader(yaml.SafeLoader):
        """SafeLoader that stops composing after too many alias references."""

        aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    mark = self.peek_event().start_mark
                    raise _Limit(f"more than {MAX_ALIASES} alias references (*name)", mark.line + 1)
            return super().compose_node(parent, index)

    return _CountingLoader


class _Limit(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _check_graph(root) -> None:
    """Depth, cycles and expanded size of a composed node graph (each node visited once)."""
    import yaml

    expanded: dict[int, int] = {}
    active: set[int] = set()
    # iterative post-order walk: (node, depth, children done)
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            expanded[key] = 1
            continue
        children = (
            [v for pair in node.value for v in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if done:
            active.discard(key)
            total = 1 + sum(expanded[id(c)] for c in children)
            if total > MAX_NODES:
                raise _Limit(
                    f"the document expands to more than {MAX_NODES} nodes (alias expansion)",
                    node.start_mark.line + 1,
                )
            expanded[key] = total
            continue
        if key in expanded:
            continue
        if key in active:
            raise _Limit("an alias refers to a node that contains it (a cycle)", None)
        if depth > MAX_DEPTH:
            raise _Limit(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        active.add(key)
        stack.append((node, depth, True))
        for child in children:
            if id(child) in active:
                raise _Limit(
                    "an alias refers to a node that contains it (a cycle)",
                    child.start_mark.line + 1,
                )
            if id(child) not in expanded:
                stack.append((child, depth + 1, False))


def load_yaml(text: str, source: str | Path | None = None, *, with_node: bool = False) -> Any:
    """Parse a YAML document with safe types only, within uniml's limits.

    Parameters
    ----------
    text : str
        The document.
    source : str or Path, optional
        Where it came from (for messages).
    with_node : bool, default False
        Also return PyYAML's composed root node (for line numbers).

    Returns
    -------
    object or (object, yaml.Node or None)
        The parsed value (None for an empty document).

    Raises
    ------
    YAMLInputError
        Invalid YAML, a Python tag, a document over :data:`MAX_BYTES`, more than
        :data:`MAX_ALIASES` aliases, deeper than :data:`MAX_DEPTH`, expanding to
        more than :data:`MAX_NODES` nodes, or a self-referencing alias.

    Examples
    --------
    >>> lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    >>> lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 8)]
    >>> load_yaml("\\n".join(lines))
    Traceback (most recent call last):
    ...
    uniml.core.safe_yaml.YAMLInputError: line ...: the document expands to more than 200000 nodes (alias expansion)
    >>> load_yaml("a: &a [*a]\\n", source="s.yaml")
    Traceback (most recent call last):
    ...
    uniml.core.safe_yaml.YAMLInputError: s.yaml:1: an alias refers to a node that contains it (a cycle)
    """
    import yaml

    name = None if source is None else str(source)
    if len(text) > MAX_BYTES:
        raise YAMLInputError(
            f"the document is {len(text)} characters; the limit is {MAX_BYTES}", source=name
        )
    loader = _loader_class()(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_graph(root)
            value = loader.construct_document(root)
        else:
            value = None
    except _Limit as exc:
        raise YAMLInputError(str(exc), source=name, line=exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise YAMLInputError(
            f"invalid YAML: {problem}" + (f" ({context})" if context else ""),
            source=name,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except RecursionError:
        raise YAMLInputError("the document nests too deeply", source=name) from None
    finally:
        loader.dispose()
    return (value, root) if with_node else value


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file through :func:`load_yaml` (UTF-8).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    YAMLInputError
        Also when the file is larger than :data:`MAX_BYTES` (checked before reading).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.yaml"
    >>> _ = p.write_text("k: v\\n")
    >>> read_yaml(p)
    {'k': 'v'}
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YAMLInputError(
            f"the file is {size} bytes; the limit is {MAX_BYTES}", source=str(path)
        )
    return load_yaml(path.read_text(encoding="utf-8"), source=path)

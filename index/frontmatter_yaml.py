"""A strict, inert YAML front-matter handler for python-frontmatter.

python-frontmatter's default handler uses PyYAML's safe loader, which still turns
``NO`` into ``False``, ``0123`` into ``83`` and ``10:00`` into ``600``, silently drops
list or scalar front matter, and expands alias bombs. This handler keeps every scalar
as the string the author wrote (we normalise dates, tags and titles ourselves),
refuses aliases, custom tags, deep nesting and oversized front matter, and reports duplicate keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

try:  # libyaml is much faster; fall back to the pure-Python parser where it is missing.
    from yaml import CBaseLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 32
#: Front matter is a few lines of metadata; these bounds keep a hostile one from costing seconds and
#: hundreds of megabytes to parse (unbounded, a 2-million-item list would take 15 s and 885 MB).
MAX_FRONT_MATTER_CHARS = 256 * 1024
MAX_NODES = 10_000
_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)

#: Tags an author may legitimately write; their values are still kept as strings.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map", "int", "float", "bool", "null", "timestamp")
}


class FrontMatterError(ValueError):
    """Front matter that cannot be used, with the line and column where known (1-based)."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


@dataclass
class StrictYAMLHandler(YAMLHandler):
    """Parse front matter inertly; ``warnings`` collects what was accepted but odd."""

    warnings: list[str] = field(default_factory=list)
    #: File lines before the first line of the ``fm`` string (the opening ``---`` line is where
    #: ``fm`` starts, so 0 when the file starts with ``---``); used to report file line numbers.
    line_offset: int = 0

    def _where(self, mark: Any) -> tuple[int | None, int | None]:
        """A YAML mark (0-based, within ``fm``; PyYAML's or libyaml's) as a 1-based (line, column) in the file."""
        if mark is None:
            return None, None
        return mark.line + 1 + self.line_offset, mark.column + 1

    def load(self, fm: str, **kwargs: object) -> dict[str, Any]:
        if len(fm) > MAX_FRONT_MATTER_CHARS:
            reason = f"front matter too large ({len(fm):,} characters; the limit is {MAX_FRONT_MATTER_CHARS:,})"
            raise FrontMatterError(reason, self.line_offset + 1)
        self._check_shape(fm)
        loader = _Loader(fm)
        try:
            try:
                node = loader.get_single_node()
            except yaml.MarkedYAMLError as error:
                where = self._where(error.problem_mark or error.context_mark)
                raise FrontMatterError(f"malformed YAML: {error.problem}", *where) from error
            except yaml.YAMLError as error:
                raise self._unmarked("malformed YAML", error, fm) from error
            if node is None:
                return {}
            self._check(node)
            if not isinstance(node, yaml.MappingNode):
                kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
                raise FrontMatterError(f"front matter is {kind}, not a mapping of keys", *self._where(node.start_mark))
            try:
                data = loader.construct_document(node)
            except yaml.MarkedYAMLError as error:
                where = self._where(error.problem_mark or error.context_mark)
                raise FrontMatterError(f"unusable YAML: {error.problem}", *where) from error
            except yaml.YAMLError as error:
                raise self._unmarked("unusable YAML", error, fm) from error
        finally:
            loader.dispose()
        return data if isinstance(data, dict) else {}

    def _unmarked(self, what: str, error: yaml.YAMLError, fm: str) -> FrontMatterError:
        """An error without a mark as one line (PyYAML's text has a second, "in <unicode string>" line); a
        character libyaml refuses is located from its position."""
        reason = f"{what}: {(str(error).splitlines() or [type(error).__name__])[0]}"
        position = getattr(error, "position", None)
        if not isinstance(position, int):
            return FrontMatterError(reason)
        line = fm.count("\n", 0, position)
        column = position - (fm.rfind("\n", 0, position) + 1)
        return FrontMatterError(reason, line + 1 + self.line_offset, column + 1)

    def _check_shape(self, fm: str) -> None:
        """Refuse too many values or too deep nesting from the event stream, before a node is built.

        A YAML error here is left for the composing pass, which reports it with its location.
        """
        loader = _Loader(fm)
        nodes = depth = 0
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, _NODE_EVENTS):
                    nodes += 1
                    if nodes > MAX_NODES:
                        reason = f"front matter has more than {MAX_NODES:,} values"
                        raise FrontMatterError(reason, *self._where(event.start_mark))
                    if depth + 1 > MAX_DEPTH:
                        reason = f"front matter nested deeper than {MAX_DEPTH} levels"
                        raise FrontMatterError(reason, *self._where(event.start_mark))
                if isinstance(event, _OPEN_EVENTS):
                    depth += 1
                elif isinstance(event, _CLOSE_EVENTS):
                    depth -= 1
        except yaml.YAMLError:
            return
        finally:
            loader.dispose()

    def _check(self, root: yaml.Node) -> None:
        """Refuse aliases and custom tags before anything is constructed."""
        seen: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, True)]  # (node, at the top level)
        while stack:
            node, top = stack.pop()
            where = self._where(node.start_mark)
            if id(node) in seen:
                raise FrontMatterError("YAML aliases are not allowed in front matter", *where)
            seen.add(id(node))
            if node.tag not in _PLAIN_TAGS:
                raise FrontMatterError(f"YAML tag {node.tag!r} is not allowed", *where)
            if isinstance(node, yaml.MappingNode):
                keys: set[str] = set()
                for key, value in node.value:
                    if not isinstance(key, yaml.ScalarNode):  # `? [a, b]: c` cannot be a dict key
                        reason = "a front-matter key is a list or mapping, not text"
                        raise FrontMatterError(reason, *self._where(key.start_mark))
                    if top and key.value in keys:
                        self.warnings.append(
                            f"duplicate key {key.value!r} on line {self._where(key.start_mark)[0]};"
                            " the last value is used"
                        )
                    keys.add(key.value)
                    stack.append((key, False))
                    stack.append((value, False))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((child, False) for child in node.value)

"""Reading YAML files with the line and column of every key, for located error messages.

Files are parsed with ruamel's C-accelerated safe loader (ruamel.yaml.clib), about ten times
faster than its pure-Python round-trip loader. Positions are only needed to report a problem or
a warning, so a file is composed again (its node tree, with the position of every node, by the
same C parser) only when something in it must be located; the round-trip loader reads a file
only when it does not parse (its error messages are the ones worded for campaign writers below).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from pipeline.errors import Problem


class _Constructor(RoundTripConstructor):
    """Round-trip constructor (keeps positions) that leaves timestamps as strings.

    Times are interpreted later, in the campaign's zone; YAML's own timestamp type would turn
    `2022-10-08 16:00:00` into a naive datetime and `...Z` into a different type altogether.
    """


class _FastConstructor(SafeConstructor):
    """Safe constructor (plain dicts and lists, no positions), timestamps kept as strings too."""


for _kind in (_Constructor, _FastConstructor):
    _kind.add_constructor("tag:yaml.org,2002:timestamp", _kind.construct_yaml_str)


@dataclass
class Document:
    """A parsed YAML file: its data, and the position of every key in it when asked."""

    path: str  # as shown to the user (relative to the repository root)
    data: Any
    text: str | None = None  # the source, for locating; None when `data` has positions
    nodes: Any = None  # the file's node tree, composed when a position is first asked for

    def locate(self, loc: tuple[Any, ...]) -> tuple[int, int]:
        """1-based (line, column) of the deepest key of `loc` that exists in the file."""
        if self.text is not None:  # compose only now that a position is needed
            # Should the two parsers ever disagree, locate at 1:1 rather than fail.
            with suppress(YAMLError):
                self.nodes = YAML(typ="safe").compose(self.text)
            self.text = None
        if self.nodes is not None:
            return _locate_node(self.nodes, loc)
        node, line, col = self.data, 0, 0
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
                node = node[part]
            else:
                break
        return line + 1, col + 1

    def problem(self, loc: tuple[Any, ...], message: str) -> Problem:
        """A problem pointing at `loc` in this document."""
        line, col = self.locate(loc)
        return Problem(self.path, line, col, message)


_KEY_TAGS = {str: ("str", "timestamp"), int: ("int",)}  # timestamps are read as strings


def _locate_node(node: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    """`Document.locate` in a node tree: the same positions the round-trip loader records (a
    key's start, a list item's start)."""
    line = col = 0
    for part in loc:
        if isinstance(node, MappingNode):
            tags = _KEY_TAGS.get(type(part), ())
            key = str(part)
            found = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, ScalarNode)
                    and k.value == key
                    and k.tag.rsplit(":")[-1] in tags
                ),
                None,
            )
            if found is None:
                break
            line, col = found[0].start_mark.line, found[0].start_mark.column
            node = found[1]
        elif (
            isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line, col = node.start_mark.line, node.start_mark.column
        else:
            break
    return line + 1, col + 1


def _parse(text: str, fast: bool) -> Any:
    if fast:
        yaml = YAML(typ="safe")  # the C parser when ruamel.yaml.clib is installed
        yaml.Constructor = _FastConstructor
    else:
        yaml = YAML(typ="rt")
        yaml.Constructor = _Constructor
    return yaml.load(text)


def read_yaml(path: Path, shown_as: str) -> Document | Problem:
    """Parse one YAML file, or return the problem that stops it from parsing."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return utf8_problem(raw, exc, shown_as)
    except OSError as exc:
        return Problem(shown_as, 1, 1, f"cannot read the file: {exc.strerror}")
    try:
        return Document(shown_as, _parse(text, fast=True), text)
    except YAMLError:
        pass  # parse again below for a position and message worded for people
    try:
        data = _parse(text, fast=False)
    except MarkedYAMLError as exc:
        mark, what = _yaml_error(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Problem(shown_as, line, col, f"YAML syntax: {what}")
    except YAMLError as exc:  # errors without a position (e.g. bad characters)
        return Problem(shown_as, 1, 1, f"YAML syntax: {exc}")
    return Document(shown_as, data)


def utf8_problem(raw: bytes, exc: UnicodeDecodeError, shown_as: str) -> Problem:
    """The problem of a file that is not UTF-8, located at its first bad byte."""
    start = exc.start if exc.object == raw else raw.find(exc.object[exc.start : exc.end])
    start = max(start, 0)
    line = raw.count(b"\n", 0, start) + 1
    before = raw[raw.rfind(b"\n", 0, start) + 1 : start]
    col = len(before.decode("utf-8", errors="replace")) + 1
    return Problem(
        shown_as,
        line,
        col,
        f"not UTF-8 text (byte 0x{raw[start]:02x} here): save the file as UTF-8",
    )


#: ruamel's context -> the brackets of an unclosed flow collection
_BRACKETS = {"while parsing a flow sequence": "[]", "while parsing a flow mapping": "{}"}


def _yaml_error(exc: MarkedYAMLError) -> tuple[Any, str]:
    """Where a YAML error is and what it means, in words a campaign writer can act on."""
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    start = exc.context_mark
    if "duplicate key" in what:
        what = what.split(" with value")[0] + " (a key may appear only once in a mapping)"
    elif "'\\t'" in what:
        what = "a tab character: indent with spaces (YAML does not allow tabs)"
    elif "but found '<block mapping start>'" in what:
        what = (
            "the indentation does not match the lines above "
            "(the keys of one mapping must start in the same column)"
        )
    elif what == "mapping values are not allowed here":
        what = "unexpected ': ' (put a value that contains ': ' in quotes)"
    elif exc.context == "while scanning a quoted scalar" and start:
        mark, what = start, "this quoted text is never closed (a quote is missing)"
    elif exc.context in _BRACKETS and start:
        opening, closing = _BRACKETS[exc.context]
        what += (
            f" (is a {closing!r} missing? The {opening!r} at line {start.line + 1}, "
            f"column {start.column + 1} is not closed)"
        )
    return mark, what

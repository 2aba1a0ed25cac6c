"""YAML loading: fast (libyaml) parse, with source positions recovered only when reporting.

Refuses what a config tool must not guess at: non-UTF-8 bytes, duplicate keys, alias bombs,
deep nesting, oversized files. Every refusal is a Problem with a position.
"""

from __future__ import annotations

import contextlib
import json
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import InventoryError, Located, Path, Problem

MAX_BYTES = 10 * 1024 * 1024  # documented limit: 10 MiB of YAML
MAX_NODES = 1_000_000  # expanded nodes (aliases counted every time they are used)
MAX_DEPTH = 32
MAX_ITEMS = 10_000  # entries of one list or mapping: the schema's largest maxItems (azure.vnets... are far below)
MAX_DIGITS = 4_300  # digits of a number: Python's own limit for int() (sys.int_info.default_max_str_digits)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate keys instead of silently keeping the last one."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[yaml.Node] = []
        self._tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    # The C parser calls these three for every node; an inventory repeats its keys and enum values
    # thousands of times, so the implicit tag of a scalar is looked up once per distinct text.
    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    if not _BaseLoader.yaml_path_resolvers:  # the safe loaders have none: tracking the path is moot

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                self.duplicates.append(key_node)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass
class Document:
    """A loaded inventory: its data, and how to find where a path came from."""

    path: FsPath
    display: str
    text: str
    data: Any
    _root: yaml.Node | None = field(default=None, repr=False)

    def locate(self, problem: Problem) -> Located:
        line, column = self.position(problem.path, problem.at_key)
        return Located(self.display, line, column, problem)

    def fail(self, problems: list[Problem]) -> InventoryError:
        return InventoryError([self.locate(p) for p in problems])

    def position(self, path: Path, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of `path` (the deepest existing node on it)."""
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=_BaseLoader)
        node = self._root
        if node is None:
            return 1, 1
        mark = node.start_mark
        for part in path:
            child_key, child = _child(node, part)
            if child is None:
                break
            mark = child_key.start_mark if (at_key and part == path[-1] and child_key is not None) else child.start_mark
            node = child
        return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return key_node, value_node
        for key_node, value_node in node.value:  # merged mappings (<<: *anchor)
            if key_node.tag == "tag:yaml.org,2002:merge":
                found = _child(value_node, part)
                if found[1] is not None:
                    return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None, None


def _read_bounded(path: FsPath) -> bytes | None:
    """The file's bytes, or None once it holds more than MAX_BYTES (it grew since stat)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    return data if len(data) <= MAX_BYTES else None


def _bad(display: str, line: int, column: int, message: str, rule: str) -> InventoryError:
    return InventoryError([Located(display, line, column, Problem((), message, rule))])


def load(path: FsPath, display: str | None = None) -> Document:
    """Read and parse an inventory; raise InventoryError with positions on any problem."""
    display = display or str(path)
    try:
        info = path.stat()  # the size is checked before a byte is read (issue 17: refuse early)
        if stat.S_ISDIR(info.st_mode):
            raise _bad(display, 0, 0, "is a folder; give the inventory file", "inventory-unreadable")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would be read without end
            raise _bad(display, 0, 0, "is not a regular file; give the inventory file", "inventory-unreadable")
        raw = _read_bounded(path) if info.st_size <= MAX_BYTES else None
    except FileNotFoundError:
        raise _bad(
            display, 0, 0, "no such file; check the path (or start with gen init)", "inventory-unreadable"
        ) from None
    except OSError as exc:
        raise _bad(display, 0, 0, f"cannot read the inventory: {exc.strerror}", "inventory-unreadable") from None
    if raw is None:
        raise _bad(
            display,
            0,
            0,
            f"the inventory is larger than {MAX_BYTES // (1024 * 1024)} MiB; split it",
            "inventory-too-large",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _bad(
            display, line, column, f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8", "yaml-encoding"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = _Loader(text)
    try:
        _scan(text, display)
        root = loader.get_single_node()
        data = _construct(loader, root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" in str(exc.problem) and mark is not None:
            # libyaml 0.2.5+ (PyYAML 6.0.4) stops at its own depth limit while looking ahead, before
            # _scan sees the events: scan the text up to there to report our limit, where it was crossed.
            _scan_prefix(text[: mark.index], display)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if exc.context_mark is not None and "end of stream" in str(exc.problem):
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opened
            message += " (opened here)"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            message = "a tab character; YAML indents with spaces only"
        else:
            message += _hint(str(exc.problem))
        where = _path_before(text[: mark.index]) if mark is not None else ()
        raise InventoryError(
            [Located(display, line, column, Problem(where, f"invalid YAML: {message}", "yaml-syntax"))]
        ) from None
    except yaml.reader.ReaderError as exc:  # control characters: position is a character offset
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise _bad(
            display,
            line,
            column,
            f"invalid YAML: control character U+{_code(exc.character):04X} is not allowed; remove it",
            "yaml-syntax",
        ) from None
    except yaml.YAMLError as exc:
        raise _bad(display, 1, 1, f"invalid YAML: {exc}", "yaml-syntax") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        paths = _key_paths(root, {id(n) for n in loader.duplicates})
        raise InventoryError(
            [
                Located(
                    display,
                    n.start_mark.line + 1,
                    n.start_mark.column + 1,
                    Problem(
                        paths.get(id(n), ()),
                        f"duplicate key {json.dumps(n.value)}: YAML keeps only the last one; remove or rename one",
                        "yaml-duplicate-key",
                    ),
                )
                for n in loader.duplicates
            ]
        )
    if data is None:
        raise _bad(display, 1, 1, "the inventory is empty; start from inventories/minimal.yaml", "inventory-empty")
    return Document(path=path, display=display, text=text, data=data, _root=root)


class _Unusual(Exception):
    """The document needs PyYAML's general constructor."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float")}


def _construct(loader: _Loader, root: yaml.Node | None) -> Any:
    """The document's data, like loader.construct_document(root) but about twice as fast.

    Same order as PyYAML's constructor (breadth first: containers are made empty, then filled), so
    aliases share one object and duplicate keys are recorded in the same order. Anything beyond
    plain mappings, sequences and JSON-like scalars (merge keys, tags, complex keys) goes to
    PyYAML's own constructor.
    """
    if root is None:
        return None
    try:
        return _construct_plain(loader, root)
    except _Unusual:
        loader.duplicates.clear()
        return loader.construct_document(root)


def _construct_plain(loader: _Loader, root: yaml.Node) -> Any:
    constructors = loader.yaml_constructors
    made: dict[int, Any] = {}
    queue: deque[tuple[yaml.Node, Any]] = deque()

    def value(node: yaml.Node) -> Any:
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag == _STR:
                return node.value
            if tag in _SCALARS:
                return constructors[tag](loader, node)
            raise _Unusual
        found = made.get(id(node))
        if found is not None:
            return found
        if tag == _MAP:
            container: Any = {}
        elif tag == _SEQ:
            container = []
        else:
            raise _Unusual
        made[id(node)] = container
        queue.append((node, container))
        return container

    data = value(root)
    while queue:
        node, container = queue.popleft()
        if isinstance(container, list):
            container.extend([value(item) for item in node.value])
            continue
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unusual
            key = key_node.value
            if key in seen:
                loader.duplicates.append(key_node)
            seen.add(key)
            container[value(key_node)] = value(value_node)
    return data


def _code(character: int | str) -> int:
    return character if isinstance(character, int) else ord(character)


def _key_paths(root: yaml.Node | None, wanted: set[int]) -> dict[int, Path]:
    """Path of each wanted mapping-key node (by identity), walking the composed tree iteratively."""
    found: dict[int, Path] = {}
    stack: list[tuple[yaml.Node, Path]] = [(root, ())] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, where = stack.pop()
        if id(node) in seen:  # aliases share nodes
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                part = key.value if isinstance(key, yaml.ScalarNode) else "?"
                if id(key) in wanted:
                    found[id(key)] = where + (part,)
                stack.append((value, where + (part,)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, where + (i,)) for i, child in enumerate(node.value))
    return found


class _Frame:
    """One open mapping or sequence while walking events: the key or index being read, items so far."""

    __slots__ = ("mapping", "want_key", "part", "items")

    def __init__(self, mapping: bool):
        self.mapping, self.want_key, self.items = mapping, True, 0
        self.part: str | int = "?" if mapping else -1

    def enter(self, event: yaml.Event) -> None:
        """A node starts inside this container: a mapping key (or its value), or the next list item."""
        if self.mapping:
            if self.want_key:
                self.part = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                self.items += 1
            self.want_key = not self.want_key
        else:
            self.part = int(self.part) + 1
            self.items += 1


_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _walk(text: str) -> Iterator[tuple[yaml.Event, list[_Frame]]]:
    """The parser's events, each with the containers open around it (their `part` says where it is).

    A container's own start event comes before its frame is pushed, its end event after it is popped.
    No tree is built: the one walk both depth/alias limits and error paths use.
    """
    frames: list[_Frame] = []
    for event in yaml.parse(text, Loader=_BaseLoader):
        kind = type(event)
        if kind in _CLOSE_EVENTS:
            if frames:
                frames.pop()
        elif frames and kind in _NODE_EVENTS:
            frames[-1].enter(event)
        yield event, frames
        if kind in _OPEN_EVENTS:
            frames.append(_Frame(kind is yaml.MappingStartEvent))


def _is_number(event: yaml.ScalarEvent) -> bool:
    """A plain scalar YAML reads as an int or a float (which Python converts through int or str)."""
    if event.style or not event.implicit[0]:  # quoted or tagged: not resolved as a number
        return False
    tag = _BaseLoader.resolve(_BaseLoader, yaml.ScalarNode, event.value, (True, False))
    return tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


_HINTS = (  # what libyaml says -> what to look at
    (
        "mapping values are not allowed",
        "; a ': ' inside a plain value (quote the value) or a key indented too far (check the indentation of the line above)",
    ),
    (
        "did not find expected key",
        "; check the indentation of this line and the line above (a key lines up with its siblings)",
    ),
    (
        "did not find expected '-' indicator",
        "; check the indentation of this line and the line above (list items line up with their siblings)",
    ),
    ("expected <block end>", "; check the indentation of this line and the line above"),
    ("could not find expected ':'", "; a key without ':' or an unclosed quote on the line above"),
)


def _hint(problem: str) -> str:
    return next((hint for words, hint in _HINTS if words in problem), "")


def _path_before(text: str) -> Path:
    """The path of the item being read where the YAML broke at the end of `text`: the parser's events
    up to there. The key of the last value read counts only if it is on the broken line itself."""
    last: tuple[Path, Path, int] = ((), (), -1)  # (container path, with its current key, line)
    error_line = text.count("\n")
    with contextlib.suppress(yaml.YAMLError):
        for event, frames in _walk(text):
            if isinstance(event, _NODE_EVENTS):
                path = tuple(f.part for f in frames)
                inner = path[:-1] if frames and frames[-1].mapping else path
                last = (inner, path, event.start_mark.line)
                if isinstance(event, _OPEN_EVENTS) and len(frames) >= MAX_DEPTH:
                    break
    inner, path, line = last
    return path if line == error_line else inner


def _scan_prefix(text: str, display: str) -> None:
    """_scan on the start of a document: raises at our depth or alias limit; other errors don't matter."""
    with contextlib.suppress(yaml.YAMLError):
        _scan(text, display)


def _scan(text: str, display: str) -> None:
    """Walk the YAML events (no tree built) and refuse deep nesting and alias bombs, with a position.

    libyaml's composer recurses in C (a few thousand levels crash the interpreter) and aliases can
    expand a small file into billions of values, so both are bounded here, before composing.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    opened: list[tuple[str | None, int]] = []  # (anchor, count at its start) per open container
    count = 0
    frames: list[_Frame] = []

    def refuse(event: yaml.Event, message: str, rule: str) -> InventoryError:
        path = tuple(f.part for f in frames)
        mark = event.start_mark
        return InventoryError([Located(display, mark.line + 1, mark.column + 1, Problem(path, message, rule))])

    open_anchors: set[str] = set()
    for event, frames in _walk(text):
        if isinstance(event, _NODE_EVENTS):
            parent = frames[-1] if frames else None
            if parent is not None and parent.items > MAX_ITEMS:
                raise refuse(
                    event,
                    f"more than {MAX_ITEMS:,} entries in one {'mapping' if parent.mapping else 'list'}; no field takes that many",
                    "yaml-too-many-items",
                )
            if isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
                raise refuse(
                    event,
                    f"alias *{event.anchor} refers to the item that contains it (a cycle); write the value out",
                    "yaml-alias-recursive",
                )
            if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_DIGITS and _is_number(event):
                raise refuse(
                    event,
                    f"a number with {len(event.value):,} characters; no field takes more than a few digits",
                    "yaml-number-too-long",
                )
            count += sizes.get(event.anchor, 1) if isinstance(event, yaml.AliasEvent) else 1
            if count > MAX_NODES:
                raise refuse(
                    event,
                    f"the inventory expands to more than {MAX_NODES:,} values (YAML aliases?); remove the aliases",
                    "yaml-alias-bomb",
                )
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
            if isinstance(event, _OPEN_EVENTS):
                if len(frames) >= MAX_DEPTH:
                    raise refuse(
                        event, f"the YAML is nested deeper than {MAX_DEPTH} levels; flatten it", "yaml-too-deep"
                    )
                opened.append((event.anchor, count - 1))
                if event.anchor:
                    open_anchors.add(event.anchor)
        elif isinstance(event, _CLOSE_EVENTS) and opened:
            anchor, start = opened.pop()
            if anchor:
                sizes[anchor] = count - start
                open_anchors.discard(anchor)

"""A JSON parser that keeps the line and column of every value, with bounded size and depth.

Used for files Azure or gen wrote (state files, exports) so that each refusal can say
`FILE:LINE:COL`. It never recurses deeper than MAX_DEPTH (no RecursionError on hostile nesting)
and refuses numbers longer than MAX_NUMBER characters (no int-conversion limit errors).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER = 40
JsonPath = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class JsonPositionError(ValueError):
    """A syntax, depth or size problem at a position (1-based line and column)."""

    def __init__(self, message: str, line: int, column: int, rule: str = "state-file", path: JsonPath = ()):
        super().__init__(message)
        self.message, self.line, self.column, self.rule, self.path = message, line, column, rule, path


@dataclass(frozen=True)
class Parsed:
    """The parsed value and where each value (by JSON path) starts."""

    value: Any
    positions: dict[JsonPath, tuple[int, int]]

    def at(self, path: JsonPath) -> tuple[int, int]:
        """Position of the value at `path`, or of its nearest ancestor that has one."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))


def parse(text: str) -> Parsed:
    """Parse JSON text; raise JsonPositionError with the position of the first problem."""
    return _Parser(text).document()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.lines = [m.end() for m in re.finditer("\n", text)]
        self.positions: dict[JsonPath, tuple[int, int]] = {}
        self.path: JsonPath = ()  # the value being read, for error messages

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.lines, offset)
        start = self.lines[line - 1] if line else 0
        return line + 1, offset - start + 1

    def fail(self, message: str, offset: int, rule: str = "state-file") -> JsonPositionError:
        return JsonPositionError(message, *self.where(offset), rule=rule, path=self.path)

    def skip(self, offset: int) -> int:
        return _WS.match(self.text, offset).end()

    def document(self) -> Parsed:
        offset = self.skip(1 if self.text.startswith("\ufeff") else 0)
        if offset >= len(self.text):
            raise self.fail("empty file, expected a JSON value", offset)
        value, offset = self.value(offset, (), 0)
        offset = self.skip(offset)
        if offset < len(self.text):
            raise self.fail("extra data after the JSON value", offset)
        return Parsed(value, self.positions)

    def value(self, offset: int, path: JsonPath, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", offset, "state-size")
        self.positions[path] = self.where(offset)
        self.path = path
        char = self.text[offset : offset + 1]
        if char == "{":
            return self.object(offset + 1, path, depth)
        if char == "[":
            return self.array(offset + 1, path, depth)
        if char == '"':
            return self.string(offset)
        number = _NUMBER.match(self.text, offset)
        if number:
            token = number.group()
            if len(token) > MAX_NUMBER:
                raise self.fail(f"number longer than {MAX_NUMBER} characters", offset, "state-size")
            return json.loads(token), number.end()
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, offset):
                return literal, offset + len(word)
        if not char:
            raise self.fail("unexpected end of file (truncated JSON?)", offset)
        raise self.fail(f"unexpected {char!r}, expected a JSON value", offset)

    def string(self, offset: int) -> tuple[str, int]:
        try:
            return json.decoder.scanstring(self.text, offset + 1, True)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos) from None

    def object(self, offset: int, path: JsonPath, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        offset = self.skip(offset)
        if self.text.startswith("}", offset):
            return result, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.fail("expected a quoted member name", offset)
            key, offset = self.string(offset)
            if key in result:
                raise self.fail(f"duplicate member {key!r}", offset)
            offset = self.skip(offset)
            if not self.text.startswith(":", offset):
                raise self.fail("expected ':' after the member name", offset)
            result[key], offset = self.value(self.skip(offset + 1), path + (key,), depth + 1)
            self.path = path
            offset = self.skip(offset)
            if self.text.startswith("}", offset):
                return result, offset + 1
            if not self.text.startswith(",", offset):
                raise self.fail("expected ',' or '}'", offset)
            offset = self.skip(offset + 1)

    def array(self, offset: int, path: JsonPath, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        offset = self.skip(offset)
        if self.text.startswith("]", offset):
            return result, offset + 1
        while True:
            item, offset = self.value(offset, path + (len(result),), depth + 1)
            result.append(item)
            self.path = path
            offset = self.skip(offset)
            if self.text.startswith("]", offset):
                return result, offset + 1
            if not self.text.startswith(",", offset):
                raise self.fail("expected ',' or ']'", offset)
            offset = self.skip(offset + 1)

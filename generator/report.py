"""Problems as JSON objects for `--format json`: file, line, column, path, rule, severity, message."""

from __future__ import annotations

import re
from typing import Any

from .errors import GenError, InventoryError, Located, format_path

# `FILE:LINE:COL: path: message (rule id)` or `FILE: message (rule id)`, as every GenError line reads
_LINE = re.compile(
    r"^(?P<file>.+?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?: (?:(?P<warning>warning: ))?"
    r"(?:(?P<path>(?:\$|[A-Za-z_][\w.\[\]\"-]*\]?)): )?(?P<message>.*?)(?: \(rule (?P<rule>[a-z0-9*-]+)\))?$"
)


def located_object(item: Located) -> dict[str, Any]:
    p = item.problem
    return {
        "file": item.file,
        "line": item.line or None,
        "column": item.column or None,
        "path": format_path(p.path) if item.line else None,
        "rule": p.rule,
        "severity": p.severity,
        "message": p.message,
    }


def line_object(line: str) -> dict[str, Any]:
    """A printed problem line back as an object (for errors raised as text: rendering, writing)."""
    m = _LINE.match(line)
    if m is None:  # pragma: no cover - every GenError line follows the format
        return {
            "file": None,
            "line": None,
            "column": None,
            "path": None,
            "rule": None,
            "severity": "error",
            "message": line,
        }
    return {
        "file": m["file"],
        "line": int(m["line"]) if m["line"] else None,
        "column": int(m["column"]) if m["column"] else None,
        "path": m["path"] if m["line"] else None,
        "rule": m["rule"],
        "severity": "warning" if m["warning"] else "error",
        "message": m["message"],
    }


def problems_of(error: GenError) -> list[dict[str, Any]]:
    if isinstance(error, InventoryError):
        return [located_object(item) for item in error.located]
    return [line_object(line) for line in error.lines]

"""Problems found in an inventory, and the one exception type that carries them to the CLI."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

Path = tuple[str | int, ...]
Severity = Literal["error", "warning"]


def format_path(path: Path) -> str:
    """('azure', 'vnets', 1, 'name') -> 'azure.vnets[1].name' ('$' for the document root)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.match(str(part)):  # a key with spaces, quotes or newlines stays on one line
            text += "[" + json.dumps(str(part)).replace(" ", "\\u0020") + "]"
        else:
            text += f".{part}" if text else str(part)
    return text or "$"


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: where (a path into the inventory), what to change, and which rule found it."""

    path: Path
    message: str
    rule: str
    severity: Severity = "error"
    at_key: bool = False  # point at the mapping key rather than its value (unknown fields)


@dataclass(frozen=True, slots=True)
class Located:
    """A problem with its source position, ready to print."""

    file: str
    line: int
    column: int
    problem: Problem

    def __str__(self) -> str:
        """`FILE:LINE:COL: path: message (rule id)`, or `FILE: message (rule id)` without a position (line 0)."""
        p = self.problem
        kind = "" if p.severity == "error" else "warning: "
        if self.line == 0:
            return f"{self.file}: {kind}{p.message} (rule {p.rule})"
        return f"{self.file}:{self.line}:{self.column}: {kind}{format_path(p.path)}: {p.message} (rule {p.rule})"


def file_problem(file: str, message: str, rule: str) -> Located:
    """A problem of a whole file or option, where no position exists: printed `FILE: message (rule id)`."""
    return Located(file, 0, 0, Problem((), message, rule))


class GenError(Exception):
    """A failure the user can fix; the CLI prints it and exits with code 2, writing nothing."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


class InventoryError(GenError):
    """The inventory has errors (schema or rules); every one is reported at once."""

    def __init__(self, located: list[Located]):
        super().__init__([str(item) for item in located])
        self.located = located

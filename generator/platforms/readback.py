"""Reading indented configuration text back (IOS-style: a top-level line and its indented children).

Shared by the read-back parsers of platforms whose configuration has that shape; it knows no platform.
"""

from __future__ import annotations

from collections.abc import Iterable


def indented_blocks(text: str) -> dict[str, list[str]]:
    """Top-level line -> its children, stripped, nested children included in order; `!` lines skipped."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("!"):
            continue
        if line[0] != " ":
            current = blocks.setdefault(line.strip(), [])
        elif current is not None and line.strip() != "!":
            current.append(line.strip())
    return blocks


def first_after(lines: Iterable[str], prefix: str) -> str:
    """What follows `prefix` on the first line that starts with it, or ''."""
    return next((line[len(prefix) :].strip() for line in lines if line.startswith(prefix)), "")


def mask_length(mask: str) -> int:
    """Prefix length of a dotted netmask (255.255.255.252 -> 30)."""
    return sum(bin(int(part)).count("1") for part in mask.split("."))

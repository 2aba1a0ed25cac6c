"""A small block-style YAML writer that keeps end-of-line comments (gen import's inventories).

Scalars are written by PyYAML (quoting as YAML needs); mappings and lists in block style, short
flat mappings of scalars in flow style as the example inventories write them.
"""

from __future__ import annotations

from typing import Any

import yaml


def scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
    return text.removesuffix("\n...\n").removesuffix("\n")


def _flow(value: Any) -> str | None:
    """One-line form of a short mapping or list of scalars, else None."""
    if isinstance(value, dict) and value and all(not isinstance(v, (dict, list)) for v in value.values()):
        text = "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        text = "[" + ", ".join(scalar(v) for v in value) + "]"
    else:
        return None
    return text if len(text) <= 100 else None


def dump(value: Any, comments: dict[tuple, str] | None = None) -> str:
    """YAML text of `value`; comments[path] is written after the line of the value at `path`."""
    comments = comments or {}
    lines: list[str] = []

    def note(path: tuple) -> str:
        return f"  # {comments[path]}" if path in comments else ""

    def emit(node: Any, indent: int, path: tuple, first_prefix: str | None = None) -> None:
        pad = " " * indent
        if isinstance(node, dict):
            for i, (key, item) in enumerate(node.items()):
                lead = first_prefix if (i == 0 and first_prefix is not None) else pad
                here = path + (key,)
                inner = any(p[: len(here)] == here and p != here for p in comments)
                flow = (
                    None if inner or isinstance(item, list) and any(isinstance(v, dict) for v in item) else _flow(item)
                )
                if not isinstance(item, (dict, list)):
                    lines.append(f"{lead}{scalar(key)}: {scalar(item)}{note(here)}")
                elif flow is not None:
                    lines.append(f"{lead}{scalar(key)}: {flow}{note(here)}")
                elif isinstance(item, list) and not item:
                    lines.append(f"{lead}{scalar(key)}: []{note(here)}")
                else:
                    lines.append(f"{lead}{scalar(key)}:{note(here)}")
                    emit(item, indent + 2, here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                here = path + (i,)
                inner = any(p[: len(here)] == here and p != here for p in comments)
                if isinstance(item, dict) and item and (inner or _flow(item) is None):
                    emit(item, indent + 2, here, first_prefix=pad + "- ")
                else:
                    lines.append(f"{pad}- {_flow(item) or scalar(item)}{note(here)}")
        else:
            lines.append(f"{pad}{scalar(node)}")

    emit(value, 0, ())
    return "\n".join(lines) + "\n"

"""Real Bicep parsers on rendered files: tree-sitter-bicep and pycep-parser (both must accept).

`check_files(files)` takes {relative path: text} and returns one line per problem (empty when
every `.bicep` and `.bicepparam` file passes). Neither parser reads `.bicepparam` files, so a
parameters file is checked by shape: one `using` line naming a `.bicep` file beside it, then
`param NAME = EXPRESSION` lines whose expressions tree-sitter parses (as `var` declarations),
assigning exactly the parameters of that file that have no default.
"""

from __future__ import annotations

import re
from functools import lru_cache
from posixpath import dirname, join
from typing import Any

_USING = re.compile(r"^using '([^'\\]+)'$")
_PARAM = re.compile(r"^param ([A-Za-z_][A-Za-z0-9_]*) = (.+)$")


@lru_cache(maxsize=1)
def _tree_sitter():
    import tree_sitter_bicep
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bicep.language()))


@lru_cache(maxsize=1)
def _pycep():
    from pycep import BicepParser

    return BicepParser()


def tree_sitter_problems(text: str) -> list[str]:
    """`line:col: ERROR|MISSING ...` for every error node tree-sitter-bicep reports."""
    root = _tree_sitter().parse(text.encode("utf-8")).root_node
    if not root.has_error:
        return []
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            what = f"MISSING {node.type}" if node.is_missing else "syntax error"
            found.append(f"{row + 1}:{col + 1}: tree-sitter-bicep: {what}")
        stack.extend(reversed(node.children))
    return found or ["tree-sitter-bicep: syntax error"]


@lru_cache(maxsize=256)
def parse_bicep(text: str) -> dict[str, Any]:
    """pycep's JSON for a Bicep file (raises on a syntax error); cached, so do not modify it."""
    return _pycep().parse(text=text)


def pycep_problems(text: str) -> list[str]:
    try:
        parse_bicep(text)
    except Exception as exc:  # lark raises several kinds; each is a parse failure
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [f"pycep: {first}"]
    return []


def required_parameters(parsed: dict[str, Any]) -> set[str]:
    """Parameters of a parsed Bicep file that have no default value."""
    return {name for name, p in parsed.get("parameters", {}).items() if p.get("default") is None}


def bicepparam_problems(path: str, text: str, files: dict[str, str]) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("//")]
    if not lines or not _USING.match(lines[0]):
        return [f"{path}: first statement is not `using '<file>.bicep'`"]
    target = join(dirname(path), _USING.match(lines[0]).group(1))
    problems = []
    if target not in files:
        return [f"{path}: `using` names {target}, which was not rendered"]
    assigned: list[str] = []
    for line in lines[1:]:
        match = _PARAM.match(line)
        if not match:
            problems.append(f"{path}: not a `param NAME = EXPRESSION` line: {line}")
            continue
        assigned.append(match.group(1))
        problems += [f"{path}: {p}" for p in tree_sitter_problems(f"var {match.group(1)} = {match.group(2)}\n")]
    try:
        parsed = parse_bicep(files[target])
    except Exception:
        return problems  # reported for the .bicep file itself
    declared = set(parsed.get("parameters", {}))
    required = required_parameters(parsed)
    if len(assigned) != len(set(assigned)):
        problems.append(f"{path}: a parameter is assigned twice")
    if unknown := sorted(set(assigned) - declared):
        problems.append(f"{path}: assigns parameters {target} does not declare: {unknown}")
    if missing := sorted(required - set(assigned)):
        problems.append(f"{path}: does not assign required parameters of {target}: {missing}")
    return problems


def check_files(files: dict[str, str]) -> list[str]:
    """Parse every .bicep with tree-sitter-bicep and pycep; check every .bicepparam against its file."""
    problems = []
    for path, text in sorted(files.items()):
        if path.endswith(".bicep"):
            problems += [f"{path}:{p}" if p[0].isdigit() else f"{path}: {p}" for p in tree_sitter_problems(text)]
            problems += [f"{path}: {p}" for p in pycep_problems(text)]
        elif path.endswith(".bicepparam"):
            problems += bicepparam_problems(path, text, files)
    return problems

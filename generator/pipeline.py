"""The callable core: inventory -> model -> rules -> rendered files. The CLI is a thin layer on it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import GenError, Located
from .loader import Document, load
from .model import Model


@dataclass
class Result:
    model: Model
    document: Document
    warnings: list[Located] = field(default_factory=list)


def build_model(inventory: Path, state_files: tuple[Path, ...] = (), display: str | None = None) -> Result:
    """Load, validate and resolve; raise InventoryError with every error (warnings are returned)."""
    from . import rulebook, schema
    from .resolve import Unresolvable, resolve
    from .state import read_state

    document = load(inventory, display)
    problems = schema.validate(document.data)
    if problems:
        raise document.fail(problems + _rules_despite(document.data, problems, document.display))
    state = read_state(state_files, document.data)
    try:
        model = resolve(document.data, document.display, state)
    except Unresolvable as exc:
        raise document.fail(exc.problems) from None
    found = rulebook.check(model)
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise document.fail(errors)
    warnings = [document.locate(p) for p in found if p.severity == "warning"]
    return Result(replace(model, warnings=tuple(warnings)), document, warnings)


# Top-level lists whose items can be set aside when one of them breaks the schema.
_COLLECTIONS = (
    ("azure", "vnets"),
    ("azure", "vnet_links"),
    ("azure", "peerings"),
    ("azure", "load_balancers"),
    ("onprem", "sites"),
    ("onprem", "connections"),
)


def _rules_despite(data, problems: list, source: str) -> list:
    """The rule errors of the items the schema accepts, so one round reports both (issue 17).

    Every list item with a schema problem is set aside; if the rest is schema-valid, it is resolved
    and checked, and each rule error is mapped back to the item's place in the inventory. Errors
    about a set-aside item (a reference to it, its absence) are dropped: they are the schema
    problem's echo. Nothing is reported when the schema problems are outside those items.
    """
    import copy

    from . import rulebook, schema
    from .errors import Problem
    from .resolve import Unresolvable, resolve

    broken: dict[tuple[str, str], set[int]] = {}
    for problem in problems:
        key = tuple(problem.path[:2])
        if key not in _COLLECTIONS or len(problem.path) < 3 or not isinstance(problem.path[2], int):
            return []
        broken.setdefault(key, set()).add(problem.path[2])
    names: set[str] = set()  # VNets and sites set aside: items naming them go too
    for (section, name), indexes in broken.items():
        if name in ("vnets", "sites"):
            items = data[section][name]
            names |= {str(items[i].get("name")) for i in indexes if isinstance(items[i], dict) and "name" in items[i]}
    for key in _COLLECTIONS:
        items = (data.get(key[0]) or {}).get(key[1]) if isinstance(data.get(key[0]), dict) else None
        if key[1] in ("vnets", "sites") or not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict) and names & set(_named(item)):
                broken.setdefault(key, set()).add(i)
    pruned = copy.deepcopy(data)
    kept: dict[tuple[str, str], list[int]] = {}
    for (section, name), indexes in broken.items():
        items = pruned[section][name]
        kept[(section, name)] = [i for i in range(len(items)) if i not in indexes]
        pruned[section][name] = [items[i] for i in kept[(section, name)]]
    if schema.validate(pruned):
        return []
    try:
        found = rulebook.check(resolve(pruned, source))
    except Unresolvable as exc:  # the pruned inventory is schema-valid: the resolver must not crash on it
        found = exc.problems

    def original(path: tuple) -> tuple:
        key = tuple(path[:2])
        if key in kept and len(path) > 2 and isinstance(path[2], int):
            return (*path[:2], kept[key][path[2]], *path[3:])
        return path

    return [
        Problem(original(p.path), p.message, p.rule, p.severity, p.at_key)
        for p in found
        if p.severity == "error" and not any(f"'{name}'" in p.message for name in names)
    ]


def _named(item: dict) -> list[str]:
    """The VNet and site names an item refers to (links, peerings, load balancers, connections)."""
    found = []
    for key in ("vnet", "site", "transit_via", "pair", "full_mesh", "vnets"):
        value = item.get(key)
        found += [str(v) for v in value] if isinstance(value, list) else [str(value)] if value is not None else []
    return found


def render_all(
    model: Model,
    *,
    targets: tuple[str, ...] | None = None,
    templates: str | None = None,
    secrets: dict[str, str] | None = None,
    svg: bool = False,
    output: str | None = None,
):
    """Every output file of the selected targets, verified; raise GenError if a check fails.

    `svg` also draws topology.svg through Graphviz when `dot` is installed (the CLI asks for it;
    golden tests do not, so they do not depend on Graphviz).
    """
    from .render import environment
    from .targets import TARGETS, Options

    env = environment(templates)
    options = Options(secrets=secrets, svg=svg, output=output)
    files = []
    problems = []
    for key, target in TARGETS.items():
        if targets and key not in targets:
            continue
        rendered = [_marked(f) for f in target.render(model, env, options)]
        problems += target.verify(rendered)
        files += rendered
    lines = [f"{line} (rule verify-output)" for line in problems]
    if not problems:
        from .crosscheck import cross_check

        lines += [f"{line} (rule cross-check)" for line in cross_check(model, files, secrets)]
    if lines:
        raise GenError(lines)
    return files


def _marked(f):
    """The file without the key markers of psk_text; secret when it held any (marked at render time)."""
    from .secrets import unmark

    text, holds_key = unmark(f.text)
    return replace(f, text=text, secret=True) if holds_key else f


def schema_text() -> str:
    from .schema import schema

    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"

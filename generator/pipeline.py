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
        raise document.fail(problems)
    state = read_state(state_files)
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


def render_all(
    model: Model,
    *,
    targets: tuple[str, ...] | None = None,
    templates: str | None = None,
    secrets: dict[str, str] | None = None,
    svg: bool = False,
):
    """Every output file of the selected targets, verified; raise GenError if a check fails.

    `svg` also draws topology.svg through Graphviz when `dot` is installed (the CLI asks for it;
    golden tests do not, so they do not depend on Graphviz).
    """
    from .render import environment
    from .targets import TARGETS, Options

    env = environment(templates)
    options = Options(secrets=secrets, svg=svg)
    files = []
    problems = []
    for key, target in TARGETS.items():
        if targets and key not in targets:
            continue
        rendered = target.render(model, env, options)
        problems += target.verify(rendered)
        files += rendered
    lines = [f"{line} (rule verify-output)" for line in problems]
    if not problems:
        from .crosscheck import cross_check

        lines += [f"{line} (rule cross-check)" for line in cross_check(model, files, secrets)]
    if lines:
        raise GenError(lines)
    return files


def schema_text() -> str:
    from .schema import schema

    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"

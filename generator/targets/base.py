"""The shape every target shares: a key, the files it writes from the model, a check of its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import jinja2

from ..model import Model


@dataclass(frozen=True, slots=True)
class Options:
    """Render options that change output (not where it goes)."""

    secrets: dict[str, str] | None = None  # parameter -> key, only with --secrets
    svg: bool = False  # draw topology.svg through Graphviz when `dot` is installed (not in goldens)
    output: str | None = None  # the output folder as given to -o (the runbook's commands name it)


@dataclass(frozen=True, slots=True)
class OutputFile:
    path: str  # relative to the output folder, '/'-separated
    text: str
    secret: bool = False  # holds real pre-shared keys: written with mode 0600


class Target(Protocol):
    key: str
    description: str

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        """Every file of this family, rendered from the model."""
        ...

    def verify(self, files: list[OutputFile]) -> list[str]:
        """Parse each rendered file back; one readable line per problem (empty when fine)."""
        ...

"""The registry of output families: one row per target, in the order they render."""

from __future__ import annotations

from .arm import ArmTarget
from .base import Options, OutputFile, Target
from .runbook import RunbookTarget

TARGETS: dict[str, Target] = {
    "arm": ArmTarget(),
    "runbook": RunbookTarget(),
}

__all__ = ["TARGETS", "Options", "OutputFile", "Target"]

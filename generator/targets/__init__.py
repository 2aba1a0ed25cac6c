"""The registry of output families: one row per target, in the order they render."""

from __future__ import annotations

from .arm import ArmTarget
from .base import Options, OutputFile, Target
from .bicep import BicepTarget
from .onprem import OnpremTarget
from .powershell import PowerShellTarget
from .runbook import RunbookTarget

TARGETS: dict[str, Target] = {
    "arm": ArmTarget(),
    "bicep": BicepTarget(),
    "powershell": PowerShellTarget(),
    "onprem": OnpremTarget(),
    "runbook": RunbookTarget(),
}

__all__ = ["TARGETS", "Options", "OutputFile", "Target"]

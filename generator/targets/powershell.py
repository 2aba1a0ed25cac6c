"""PowerShell deployment scripts: `azure/powershell/deploy.azurerm.ps1` and `deploy.az.ps1`.

One template set (templates/powershell/) renders both; `m` (a psmodules.PsModule row) gives the
cmdlet prefix and which parameters the module has. The script is for an Azure admin: safe to run
twice (look up, create when missing), `-WhatIf` aware, keys as SecureString parameters, and it
ends by writing the Azure state file that `gen render --azure-state` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..azure_kinds import KINDS, PsStep
from ..durations import GATEWAY_TIME
from ..model import Model, ResourceRef
from ..psmodules import MODULES, limitations
from ..render import render
from .base import Options, OutputFile


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    key: str  # template under powershell/steps/
    title: str


FIRST = PsStep(0, "resource_groups", "Resource groups")
LAST = PsStep(100, "state", "Azure state file and verification commands")


def resource_path(ref: ResourceRef) -> str:
    """The part of a resource id after the subscription: /resourceGroups/rg/providers/Microsoft.Network/..."""
    namespace, *types = ref.type.split("/")
    segments = [f"{kind}/{name}" for kind, name in zip(types, ref.names, strict=True)]
    return f"/resourceGroups/{ref.resource_group}/providers/{namespace}/" + "/".join(segments)


def with_bom_if_needed(text: str) -> str:
    """Windows PowerShell 5.1 (the only host AzureRM runs on) reads a .ps1 without a BOM as ANSI:
    give scripts holding non-ASCII text (a description, a location) a UTF-8 byte order mark."""
    return text if text.isascii() else "\ufeff" + text


def steps(model: Model) -> list[Step]:
    """The numbered steps this inventory needs, in the order that works in Azure."""
    wanted: dict[str, PsStep] = {}
    for kind in KINDS:
        if kind.ps_needed(model):
            wanted.setdefault(kind.ps_step.key, kind.ps_step)
    ordered = [FIRST, *sorted(wanted.values(), key=lambda s: s.order), LAST]
    return [Step(i, s.key, s.title) for i, s in enumerate(ordered, start=1)]


class PowerShellTarget:
    key = "powershell"
    description = "PowerShell deployment scripts, AzureRM (as asked) and Az"

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        plan = steps(model)
        files = []
        for m in MODULES:
            found = limitations(model, m)
            text = render(
                env,
                "powershell/deploy.ps1.j2",
                model=model,
                m=m,
                steps=plan,
                stops=[x for x in found if x.stops],
                fallbacks=[x for x in found if not x.stops],
                resource_path=resource_path,
                gateway_time=GATEWAY_TIME,
            )
            files.append(OutputFile(f"azure/powershell/deploy.{m.key}.ps1", with_bom_if_needed(text)))
        return files

    def verify(self, files: list[OutputFile]) -> list[str]:
        """Cheap structural checks (the tree-sitter parse and cmdlet catalog checks run in tests)."""
        problems = []
        for f in files:
            if "[CmdletBinding(SupportsShouldProcess" not in f.text:
                problems.append(f"{f.path}: no [CmdletBinding(SupportsShouldProcess)]")
            if "ConvertTo-SecureString" in f.text:
                problems.append(
                    f"{f.path}: keys must come in as SecureString parameters, not be converted in the script"
                )
        return problems

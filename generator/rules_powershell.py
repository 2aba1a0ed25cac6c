"""Warnings for the AzureRM script: what this inventory needs that AzureRM 6.13 cannot do.

The same `psmodules.limitations` list drives the script's preflight section, so `gen validate`
warns about exactly what the script will refuse (azurerm-unsupported) or approximate
(azurerm-fallback). The Az script has none of these gaps.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import Problem
from .model import Model
from .psmodules import AZURERM, limitations
from .rulebook import rule


@rule(
    "azurerm-unsupported",
    "The AzureRM 6.13 script cannot deploy something the inventory needs and stops before changing anything (warning).",
    "warning",
)
def _azurerm_unsupported(model: Model) -> Iterator[Problem]:
    for x in limitations(model, AZURERM):
        if x.stops:
            yield Problem(
                x.path,
                f"{x.message}: deploy.azurerm.ps1 stops before changing anything; use deploy.az.ps1 or change this value",
                "",
            )


@rule(
    "azurerm-fallback",
    "The AzureRM 6.13 script uses the closest form it has for something the inventory asks (warning).",
    "warning",
)
def _azurerm_fallback(model: Model) -> Iterator[Problem]:
    for x in limitations(model, AZURERM):
        if not x.stops:
            yield Problem(x.path, f"{x.message}; deploy.azurerm.ps1 uses {x.fallback} (deploy.az.ps1 does not)", "")

"""Rules for what Azure refuses (or silently changes) at deployment although the schemas accept it.

Regions and zones, gateway SKUs Azure still creates, peerings, address ranges, brownfield
gateways. Each rule cites its source; facts-2026-12 is the shared, verified facts sheet.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import regions
from .errors import Problem
from .model import Model
from .rulebook import rule


def _p(path, message: str) -> Problem:
    return Problem(path, message, "")


# ---------------------------------------------------------------- regions (facts-2026-12 §1)
@rule("region-unknown", "A region a typo away from an Azure region is refused, with 'did you mean'.")
def _region_unknown(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        close = regions.typo_of(vnet.region)
        if close is not None:
            yield _p(
                vnet.path + ("region",),
                f"'{vnet.region}' is not an Azure region; did you mean '{close}' ({regions.REGIONS[close].display_name})?",
            )


@rule(
    "region-unlisted",
    "A region missing from Azure's public list (restricted, new, sovereign) is rendered without zones (warning).",
    "warning",
)
def _region_unlisted(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        if vnet.region not in regions.REGIONS and regions.typo_of(vnet.region) is None:
            yield _p(
                vnet.path + ("region",),
                f"'{vnet.region}' is not in Azure's public region list (https://learn.microsoft.com/azure/reliability/regions-list); "
                "gen renders its public IPs without zones; check the name with 'Get-AzLocation'",
            )

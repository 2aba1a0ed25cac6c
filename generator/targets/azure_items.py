"""What one resource-group deployment declares, in order, with explicit dependencies.

Shared by the ARM and Bicep targets so both declare the same resources in the same order; each
kind's mapping lives in its unit under generator/azure_kinds/.
"""

from __future__ import annotations

from ..azure_kinds import KINDS, Created, Item
from ..model import ResourceGroup

__all__ = ["STAGE_SUFFIXES", "Item", "stage1", "stage2", "stage3", "stage_items"]

# Deployment stage -> file name suffix: <rg>.json, <rg>.links.json, <rg>.transit.json (and .bicep).
STAGE_SUFFIXES = {1: "", 2: ".links", 3: ".transit"}


def stage_items(rg: ResourceGroup, stage: int) -> list[Item]:
    created = Created.of(rg)
    items = []
    for kind in KINDS:
        if stage in (kind.stages or (kind.stage,)):
            items += [i for i in kind.items(rg, created) if (i.stage or kind.stage) == stage]
    return items


def stage1(rg: ResourceGroup) -> list[Item]:
    """VNets, gateway public IPs, gateways, local network gateways, S2S connections, load balancers."""
    return stage_items(rg, 1)


def stage2(rg: ResourceGroup) -> list[Item]:
    """VNet-to-VNet connections and peerings: they need other groups' gateways and VNets."""
    return stage_items(rg, 2)


def stage3(rg: ResourceGroup) -> list[Item]:
    """Peerings that use a remote gateway whose transit-side peering another group's stage 2 creates."""
    return stage_items(rg, 3)

"""What one resource-group deployment declares, in order, with explicit dependencies.

Shared by the ARM and Bicep targets so both declare the same resources in the same order; each
kind's mapping lives in its unit under generator/azure_kinds/.
"""

from __future__ import annotations

from ..azure_kinds import KINDS, Created, Item
from ..model import ResourceGroup

__all__ = ["Item", "stage1", "stage2"]


def _stage(rg: ResourceGroup, stage: int) -> list[Item]:
    created = Created.of(rg)
    return [item for kind in KINDS if kind.stage == stage for item in kind.items(rg, created)]


def stage1(rg: ResourceGroup) -> list[Item]:
    """VNets, gateway public IPs, gateways, local network gateways, S2S connections, load balancers."""
    return _stage(rg, 1)


def stage2(rg: ResourceGroup) -> list[Item]:
    """VNet-to-VNet connections and peerings: they need other groups' gateways and VNets."""
    return _stage(rg, 2)

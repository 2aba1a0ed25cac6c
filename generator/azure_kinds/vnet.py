"""Virtual networks with their subnets (stage 1), after the NSGs and route tables their subnets use."""

from __future__ import annotations

from typing import Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep


def attached(vnet: Any) -> list[Any]:
    """The NSGs and route tables of the VNet's subnets, each once, in subnet order."""
    found: dict[ResourceRef, Any] = {}
    for subnet in vnet.subnets:
        for x in (subnet.nsg, subnet.route_table):
            if x is not None:
                found.setdefault(x.ref, x)
    return list(found.values())


class VnetKind(Kind):
    key = "vnet"
    label = "virtual networks"
    resource_type = "Microsoft.Network/virtualNetworks"
    bicep_suffix = "Vnet"
    stage = 1
    ps_step = PsStep(10, "vnets", "Virtual networks and subnets")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, v, tuple(x.ref for x in attached(v) if not x.existing)) for v in created.vnets.values()]

    def ps_needed(self, model: Model) -> bool:
        return any(not v.existing for v in model.vnets)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        return tuple(x.ref for x in attached(obj) if x.existing)

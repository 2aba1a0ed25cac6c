"""Virtual networks with their subnets (stage 1)."""

from __future__ import annotations

from ..model import Model, ResourceGroup
from .base import Created, Item, Kind, PsStep


class VnetKind(Kind):
    key = "vnet"
    label = "virtual networks"
    resource_type = "Microsoft.Network/virtualNetworks"
    bicep_suffix = "Vnet"
    stage = 1
    ps_step = PsStep(10, "vnets", "Virtual networks and subnets")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, v) for v in created.vnets.values()]

    def ps_needed(self, model: Model) -> bool:
        return any(not v.existing for v in model.vnets)

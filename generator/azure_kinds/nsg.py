"""Network security groups of subnets (stage 1, before the VNets whose subnets use them)."""

from __future__ import annotations

from ..model import Model, ResourceGroup
from .base import Created, Item, Kind, PsStep


class NsgKind(Kind):
    key = "nsg"
    label = "network security groups"
    resource_type = "Microsoft.Network/networkSecurityGroups"
    bicep_suffix = "Nsg"
    stage = 1
    ps_step = PsStep(6, "nsgs", "Network security groups")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, nsg) for nsg in rg.nsgs]

    def ps_needed(self, model: Model) -> bool:
        return any(rg.nsgs for rg in model.resource_groups)

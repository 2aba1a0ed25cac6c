"""VNet peerings, one per direction (stage 2: they need the remote VNet)."""

from __future__ import annotations

from typing import Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep


class PeeringKind(Kind):
    key = "peering"
    label = "peerings"
    resource_type = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
    bicep_suffix = "Peering"
    stage = 2
    stages = (2, 3)  # stage 3: a use-remote-gateways peering waiting for another group's transit peering
    ps_step = PsStep(60, "peerings", "VNet peerings")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [
            Item(self.key, p, (p.waits_for,) if p.waits_for and not p.late else (), 3 if p.late else 2)
            for p in rg.peerings
        ]

    def ps_needed(self, model: Model) -> bool:
        return bool(model.peerings)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        # The local VNet is the parent of the peering.
        return (ResourceRef("Microsoft.Network/virtualNetworks", (obj.vnet,), rg.name), obj.remote.ref)

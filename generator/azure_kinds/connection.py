"""Site-to-site connections (stage 1): after their gateway and local network gateway."""

from __future__ import annotations

from typing import Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep

# One PowerShell step creates site-to-site and VNet-to-VNet connections (vnet_link.py shares it).
CONNECTIONS_STEP = PsStep(50, "connections", "Site-to-site and VNet-to-VNet connections")


class ConnectionKind(Kind):
    key = "connection"
    label = "site-to-site connections"
    resource_type = "Microsoft.Network/connections"
    bicep_suffix = "Connection"
    stage = 1
    ps_step = CONNECTIONS_STEP

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        items = []
        for c in rg.connections:
            depends = (c.gateway.ref, c.lng_ref) if c.gateway.name in created.gateways else (c.lng_ref,)
            items.append(Item(self.key, c, depends))
        return items

    def ps_needed(self, model: Model) -> bool:
        return bool(model.connections)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        return (obj.gateway.ref,)

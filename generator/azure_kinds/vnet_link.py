"""VNet-to-VNet connections, one per direction (stage 2: they need the remote gateway)."""

from __future__ import annotations

from typing import Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind
from .connection import CONNECTIONS_STEP


class VnetLinkKind(Kind):
    key = "vnet_link"
    label = "VNet-to-VNet connections"
    resource_type = "Microsoft.Network/connections"
    bicep_suffix = "Connection"
    stage = 2
    ps_step = CONNECTIONS_STEP

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, link) for link in rg.links]

    def ps_needed(self, model: Model) -> bool:
        return bool(model.links)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        return (obj.local.ref, obj.remote.ref)

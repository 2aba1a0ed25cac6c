"""VPN gateways (stage 1): after their VNet and public IPs."""

from __future__ import annotations

from typing import Any

from ..durations import GATEWAY_TIME
from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep


class GatewayKind(Kind):
    key = "gateway"
    label = "VPN gateways"
    resource_type = "Microsoft.Network/virtualNetworkGateways"
    bicep_suffix = "Gateway"
    stage = 1
    ps_step = PsStep(30, "gateways", f"VPN gateways ({GATEWAY_TIME} each, in parallel)")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        items = []
        for gw in rg.gateways:
            depends = tuple(inst.public_ip_ref for inst in gw.instances)
            if gw.vnet in created.vnets:
                depends = (created.vnets[gw.vnet].ref, *depends)
            items.append(Item(self.key, gw, depends))
        return items

    def ps_needed(self, model: Model) -> bool:
        return bool(model.gateways)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        return tuple(v.ref for v in rg.vnets if v.name == obj.vnet)[:1]

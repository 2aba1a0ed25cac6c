"""What one resource-group deployment declares, in order, with explicit dependencies.

Shared by the ARM and Bicep targets so both declare the same resources in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import ResourceGroup, ResourceRef


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # template name under arm/resources/ and bicep/resources/
    obj: Any
    depends: tuple[ResourceRef, ...] = ()


def stage1(rg: ResourceGroup) -> list[Item]:
    """VNets, gateway public IPs, gateways, local network gateways, S2S connections, load balancers."""
    created_vnets = {v.name: v for v in rg.vnets if not v.existing}
    items = [Item("vnet", v) for v in created_vnets.values()]
    for gw in rg.gateways:
        items += [Item("public_ip", (gw, inst)) for inst in gw.instances]
    for gw in rg.gateways:
        depends = tuple(inst.public_ip_ref for inst in gw.instances)
        if gw.vnet in created_vnets:
            depends = (created_vnets[gw.vnet].ref, *depends)
        items.append(Item("gateway", gw, depends))
    items += [Item("local_gateway", c) for c in rg.connections]
    created_gateways = {gw.name for gw in rg.gateways}
    for c in rg.connections:
        depends = (c.gateway.ref, c.lng_ref) if c.gateway.name in created_gateways else (c.lng_ref,)
        items.append(Item("connection", c, depends))
    for lb in rg.load_balancers:
        items.append(Item("load_balancer", lb, (lb.vnet.ref,) if lb.vnet.name in created_vnets else ()))
    return items


def stage2(rg: ResourceGroup) -> list[Item]:
    """VNet-to-VNet connections and peerings: they need other groups' gateways and VNets."""
    return [Item("vnet_link", link) for link in rg.links] + [Item("peering", p) for p in rg.peerings]

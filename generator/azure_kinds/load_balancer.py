"""Internal load balancers (stage 1): after their VNet."""

from __future__ import annotations

from typing import Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep


class LoadBalancerKind(Kind):
    key = "load_balancer"
    label = "load balancers"
    resource_type = "Microsoft.Network/loadBalancers"
    bicep_suffix = "Lb"
    stage = 1
    ps_step = PsStep(70, "load_balancers", "Internal load balancers")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, lb, (lb.vnet.ref,) if lb.vnet.name in created.vnets else ()) for lb in rg.load_balancers]

    def ps_needed(self, model: Model) -> bool:
        return bool(model.load_balancers)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> tuple[ResourceRef, ...]:
        return (obj.vnet.ref,)

"""Gateway public IP addresses, one per gateway instance (stage 1; Bicep loops them per gateway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import naming
from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep

if TYPE_CHECKING:
    from ..targets.bicep import Symbols


class PublicIpKind(Kind):
    key = "public_ip"
    label = "public IPs"
    resource_type = "Microsoft.Network/publicIPAddresses"
    bicep_suffix = "Pips"
    stage = 1
    ps_step = PsStep(20, "public_ips", "Gateway public IP addresses")

    @property
    def bicep_key(self) -> str:
        return "public_ips"

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, (gw, inst)) for gw in rg.gateways for inst in gw.instances]

    def ps_needed(self, model: Model) -> bool:
        return any(not g.existing for g in model.gateways)

    def bicep_object(self, obj: Any) -> Any:
        return obj[0]  # the gateway: one looped declaration for its instances

    def bicep_declare(self, obj: Any, symbols: Symbols) -> None:
        collection = symbols.add(
            ResourceRef("public_ips", (obj.name,), obj.resource_group),
            naming.bicep_public_ips(obj.name),
            self.resource_type,
        )
        symbols.pips[obj.name] = collection
        for inst in obj.instances:
            symbols.by_ref[inst.public_ip_ref] = f"{collection}[{inst.index}]"

    def bicep_declares(self, obj: Any) -> tuple[ResourceRef, ...]:
        return tuple(inst.public_ip_ref for inst in obj.instances)

"""Local network gateways, one per on-prem device and connection (stage 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Model, ResourceGroup, ResourceRef
from .base import Created, Item, Kind, PsStep

if TYPE_CHECKING:
    from ..targets.bicep import Symbols


class LocalGatewayKind(Kind):
    key = "local_gateway"
    label = "local network gateways"
    resource_type = "Microsoft.Network/localNetworkGateways"
    bicep_suffix = "Lng"
    stage = 1
    ps_step = PsStep(40, "local_gateways", "Local network gateways")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, c) for c in rg.connections]

    def ps_needed(self, model: Model) -> bool:
        return bool(model.connections)

    def bicep_declare(self, obj: Any, symbols: Symbols) -> None:
        symbols.add(obj.lng_ref, obj.lng_name)

    def bicep_declares(self, obj: Any) -> tuple[ResourceRef, ...]:
        return (obj.lng_ref,)

"""Route tables of subnets (stage 1, before the VNets whose subnets use them)."""

from __future__ import annotations

from ..model import Model, ResourceGroup
from .base import Created, Item, Kind, PsStep


class RouteTableKind(Kind):
    key = "route_table"
    label = "route tables"
    resource_type = "Microsoft.Network/routeTables"
    bicep_suffix = "Rt"
    stage = 1
    ps_step = PsStep(8, "route_tables", "Route tables")

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        return [Item(self.key, table) for table in rg.route_tables]

    def ps_needed(self, model: Model) -> bool:
        return any(rg.route_tables for rg in model.resource_groups)

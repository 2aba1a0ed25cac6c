"""Azure resource kinds as units: one module per kind, listed once in KINDS.

A kind holds its model-to-item mapping (which items a resource group's deployment declares, with
their dependencies), the names of its ARM and Bicep templates, its PowerShell step and its Bicep
symbols. The ARM, Bicep and PowerShell targets, `gen plan` and the docs iterate over KINDS; adding
a kind (as NSGs and route tables were) is a module here, one line below and its templates.
"""

from __future__ import annotations

from .base import Created, Item, Kind, PsStep
from .connection import ConnectionKind
from .gateway import GatewayKind
from .load_balancer import LoadBalancerKind
from .local_gateway import LocalGatewayKind
from .nsg import NsgKind
from .peering import PeeringKind
from .public_ip import PublicIpKind
from .route_table import RouteTableKind
from .vnet import VnetKind
from .vnet_link import VnetLinkKind

# Declaration order within a stage (ARM and Bicep declare resources in this order).
KINDS: tuple[Kind, ...] = (
    NsgKind(),
    RouteTableKind(),
    VnetKind(),
    PublicIpKind(),
    GatewayKind(),
    LocalGatewayKind(),
    ConnectionKind(),
    LoadBalancerKind(),
    VnetLinkKind(),
    PeeringKind(),
)
BY_KEY: dict[str, Kind] = {k.key: k for k in KINDS}
BY_BICEP_KEY: dict[str, Kind] = {k.bicep_key: k for k in KINDS}

__all__ = ["BY_BICEP_KEY", "BY_KEY", "KINDS", "Created", "Item", "Kind", "PsStep"]

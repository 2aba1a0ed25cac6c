"""Azure public regions (ARM `location` names) and which of them have availability zones.

Data: generator/data/regions.csv, the 57 regions of Learn "Azure regions list"
(https://learn.microsoft.com/azure/reliability/regions-list, programmatic names; 39 with zones,
cross-checked with https://learn.microsoft.com/azure/reliability/availability-zones-overview;
shared facts-2026-12 §1). ARM knows more names than the public list (restricted, partner and
canary regions such as swedensouth or eastus2euap), so an unlisted name is only warned about;
a name a typo away from a listed one is refused with "did you mean".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Region:
    name: str  # ARM location, e.g. westeurope
    display_name: str
    geography: str
    zones: bool  # has availability zones


def _load() -> dict[str, Region]:
    text = files(__package__).joinpath("data", "regions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {
        r["name"]: Region(r["name"], r["display_name"], r["geography"], r["availability_zones"] == "yes") for r in rows
    }


REGIONS: dict[str, Region] = _load()

# Zone-redundant public IPs in a region with zones (facts-2026-12 §2.4: an AZ gateway SKU's public
# IPs must have zones there, VmssVpnGatewayPublicIpsMustHaveZonesConfigured; in a region without
# zones they must have none, LocationNotSupportAvailabilityZones).
ZONE_REDUNDANT = ("1", "2", "3")
TYPO_DISTANCE = 2  # at most this many edits from a listed region: a typo, refused


def has_zones(name: str) -> bool:
    """Whether the region has availability zones (an unlisted region: assume not, the safe side)."""
    region = REGIONS.get(name)
    return region is not None and region.zones


def public_ip_zones(region: str, gateway_sku: str) -> tuple[str, ...]:
    """Zones of a gateway's public IPs: zone-redundant for an AZ SKU in a region with zones, else none.

    Non-AZ SKUs' public IPs cannot have zones (facts-2026-12 §2.4, Azure/Azure-Landing-Zones#1728).
    """
    return ZONE_REDUNDANT if gateway_sku.endswith("AZ") and has_zones(region) else ()


def lb_frontend_zones(region: str, lb_sku: str) -> tuple[str, ...]:
    """Zones of an internal load balancer's frontend: zone-redundant for a Standard load balancer in a
    region with zones, else none (regional, "no-zone").

    The zones sit on each frontendIPConfigurations entry (ARM schema FrontendIPConfiguration.zones,
    Microsoft.Network 2024-05-01); a Standard frontend with zones 1, 2, 3 in a zone region is
    zone-redundant, one without is non-zonal, and Basic has no zones:
    https://learn.microsoft.com/azure/load-balancer/load-balancer-standard-availability-zones and
    https://learn.microsoft.com/azure/templates/microsoft.network/loadbalancers (frontendIPConfigurations
    zones). A frontend's zones cannot be changed once it exists
    (https://learn.microsoft.com/azure/reliability/migrate-load-balancer).
    """
    return ZONE_REDUNDANT if lb_sku == "Standard" and has_zones(region) else ()


def _distance(a: str, b: str) -> int:
    """Levenshtein edit distance."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def typo_of(name: str) -> str | None:
    """The listed region an unlisted name is a typo of (closest within TYPO_DISTANCE), if any."""
    if name in REGIONS:
        return None
    scored = sorted((_distance(name, r), r) for r in REGIONS)
    distance, closest = scored[0]
    return closest if distance <= TYPO_DISTANCE else None

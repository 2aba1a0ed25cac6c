"""The router platform registry: one line per platform module; everything else asks it.

Adding a platform = its module here (a `Platform` subclass), one line in `_MODULES`, and its
template folder templates/onprem/<key>/ (docs/new-platform.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import (
    FQDN_IDENTITY,
    IBGP_PAIR,
    NO_BGP_WITH_SELECTORS,
    ONE_TUNNEL_PER_GATEWAY,
    PLATFORM_DEVICE_FIELDS,
    POLICY_BASED_SELECTORS,
    RESPONDER_ONLY,
    STATEFUL_FIREWALL,
    DeviceFacts,
    Platform,
    TunnelFacts,
    Vendor,
)
from .cisco_asa import CiscoAsa
from .cisco_iosxe import CiscoIosXe
from .fortigate import Fortigate
from .juniper_srx import JuniperSrx
from .paloalto_panos import PaloaltoPanos
from .strongswan_frr import StrongswanFrr
from .vyos import Vyos

PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        CiscoIosXe(),
        CiscoAsa(),
        Fortigate(),
        JuniperSrx(),
        PaloaltoPanos(),
        StrongswanFrr(),
        Vyos(),
    )
}


def get(key: str) -> Platform:
    return PLATFORMS[key]


def with_capability(capability: str) -> tuple[Platform, ...]:
    return tuple(p for p in PLATFORMS.values() if p.can(capability))


def lab_platforms() -> tuple[Platform, ...]:
    """Platforms whose rendered files `gen lab` runs unchanged (the others are emulated)."""
    return tuple(p for p in PLATFORMS.values() if p.lab_files)


def template_filters() -> dict[str, Callable[..., Any]]:
    """Every platform's template filters; two platforms may not define the same name."""
    found: dict[str, Callable[..., Any]] = {}
    for platform in PLATFORMS.values():
        for name, function in platform.filters.items():
            assert name not in found, f"filter {name} defined twice"
            found[name] = function
    return found


__all__ = [
    "NO_BGP_WITH_SELECTORS",
    "ONE_TUNNEL_PER_GATEWAY",
    "PLATFORMS",
    "PLATFORM_DEVICE_FIELDS",
    "FQDN_IDENTITY",
    "IBGP_PAIR",
    "POLICY_BASED_SELECTORS",
    "RESPONDER_ONLY",
    "STATEFUL_FIREWALL",
    "DeviceFacts",
    "Platform",
    "TunnelFacts",
    "Vendor",
    "get",
    "lab_platforms",
    "template_filters",
    "with_capability",
]

"""Azure facts the rules and targets rely on, each with its source in shared docs.

Sources (docs/azure-facts.md of the project brief): SKU table S1/S2, legacy SKUs S5/S6,
reserved ASNs S4/S17/S19, APIPA range S16/S20, GatewaySubnet S4/S25, default IPsec S33.
"""

from __future__ import annotations

import ipaddress

API_VERSION = "2024-05-01"  # Microsoft.Network apiVersion pinned for ARM and Bicep

# SKU -> (allowed generations, max S2S + VNet-to-VNet connections, bgp, active-active)
GATEWAY_SKUS: dict[str, tuple[frozenset[str], int, bool, bool]] = {
    "Basic": (frozenset({"Generation1"}), 10, False, False),
    "Standard": (frozenset({"Generation1"}), 10, True, False),
    "HighPerformance": (frozenset({"Generation1"}), 30, True, True),
    "VpnGw1": (frozenset({"Generation1"}), 30, True, True),
    "VpnGw2": (frozenset({"Generation1", "Generation2"}), 30, True, True),
    "VpnGw3": (frozenset({"Generation1", "Generation2"}), 30, True, True),
    "VpnGw4": (frozenset({"Generation2"}), 100, True, True),
    "VpnGw5": (frozenset({"Generation2"}), 100, True, True),
    "VpnGw1AZ": (frozenset({"Generation1"}), 30, True, True),
    "VpnGw2AZ": (frozenset({"Generation1", "Generation2"}), 30, True, True),
    "VpnGw3AZ": (frozenset({"Generation1", "Generation2"}), 30, True, True),
    "VpnGw4AZ": (frozenset({"Generation2"}), 100, True, True),
    "VpnGw5AZ": (frozenset({"Generation2"}), 100, True, True),
}
LEGACY_SKUS = frozenset({"Standard", "HighPerformance"})  # retired June 2026 (S10, S4)
NON_AZ_SKUS = frozenset({"VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5"})  # migration to AZ, Sep 2026 (S10, S11)
# What Azure migrated the retired SKUs to (facts-2026-12 §2.1, FAQ
# https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq): Standard -> VpnGw1AZ, HighPerformance -> VpnGw2AZ.
LEGACY_MIGRATED_TO = {"Standard": "VpnGw1AZ", "HighPerformance": "VpnGw2AZ"}
AZURERM_SKUS = frozenset(
    {"Basic", "Standard", "HighPerformance", "VpnGw1", "VpnGw2", "VpnGw3", "VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ"}
)  # AzureRM 6.13 -GatewaySku (S39)


def default_generation(sku: str) -> str:
    """Generation2 where the SKU allows it, else Generation1."""
    return "Generation2" if "Generation2" in GATEWAY_SKUS[sku][0] else "Generation1"


AZURE_DEFAULT_ASN = 65515
# Reserved for every ASN (S4, S17; 8076 from the older list S19, kept conservatively).
RESERVED_ASNS: frozenset[int] = frozenset(
    {8074, 8075, 8076, 12076, 65517, 65518, 65519, 65520, 23456, 4294967295}
    | set(range(64496, 64512))
    | set(range(65535, 65552))
)
# 65515 is the gateway's default: valid on the gateway, reserved for on-premises peers (S16).
RESERVED_ONPREM_ASNS: frozenset[int] = RESERVED_ASNS | {AZURE_DEFAULT_ASN}

APIPA_AZURE_RANGE = (ipaddress.IPv4Address("169.254.21.0"), ipaddress.IPv4Address("169.254.22.255"))
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")

GATEWAY_SUBNET = "GatewaySubnet"
GATEWAY_SUBNET_MIN_PREFIX = 29  # a shorter prefix is larger; /29 is the minimum (S4)
GATEWAY_SUBNET_RECOMMENDED_PREFIX = 27

IKE_SA_LIFETIME_SECONDS = 28800  # fixed on Azure (S4)
DEFAULT_CHILD_SA_LIFETIME_SECONDS = 27000
DEFAULT_CHILD_SA_KILOBYTES = 102400000
DEFAULT_DPD_TIMEOUT_SECONDS = 45
TCP_MSS = 1350  # Azure requires MSS clamping at 1350 (S4, S33)
BGP_MAX_PREFIXES = 4000  # Azure drops the BGP session beyond this (facts-2026-12 §5)
# Azure's fixed BGP timers (facts-2026-12 §5, FAQ "BGP and routing"): every device writes them explicitly.
BGP_KEEPALIVE_SECONDS = 60
BGP_HOLD_SECONDS = 180

# Azure's default route-based proposals (S33): the device offers one that Azure accepts both as
# initiator and responder: IKE AES256/SHA256/DH group 2; ESP AES256/SHA256 without PFS.
DEFAULT_POLICY = {
    "ike_encryption": "AES256",
    "ike_integrity": "SHA256",
    "dh_group": "DHGroup2",
    "ipsec_encryption": "AES256",
    "ipsec_integrity": "SHA256",
    "pfs_group": "None",
    "sa_lifetime_seconds": DEFAULT_CHILD_SA_LIFETIME_SECONDS,
    "sa_datasize_kilobytes": DEFAULT_CHILD_SA_KILOBYTES,
}

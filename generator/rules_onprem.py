"""Rules for the on-prem device snippets (router-facts.md section 9) and platform capabilities.

A platform that cannot do what the inventory asks is refused here, with what to change, rather
than rendered without it. Rules satisfied by construction (any-to-any selectors for route-based
tunnels, lifetimes below Azure's, MSS 1350, multihop + /32 routes, no passive BGP on APIPA) are
pinned by tests of the rendered snippets instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import crypto
from .errors import Problem
from .model import Model
from .platforms import FQDN_IDENTITY, PLATFORMS, POLICY_BASED_SELECTORS, with_capability
from .rulebook import rule

DPD_RECOMMENDED = (30, 45)  # seconds (router-facts R5)


def _p(path, message: str) -> Problem:
    return Problem(tuple(path), message, "")


@rule(
    "onprem-platform-crypto",
    "Every device can do its connection's IKE/IPsec algorithms (one vendor table per platform, generator/platforms/).",
)
def _platform_crypto(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        platform = PLATFORMS[conn.device.platform]
        for name, _value, message in platform.unsupported(conn.policy):
            path = conn.path + ("ipsec_policy", name) if conn.policy.custom else conn.path
            yield _p(path, f"device '{conn.device.name}' ({platform.key}) {message}")


@rule("onprem-ike-version", "Device snippets are IKEv2 (route-based VTI); IKEv1 connections are refused.")
def _ike_version(model: Model) -> Iterator[Problem]:
    for conn in model.site_connections:
        if conn.ike_version != "IKEv2":
            yield _p(
                conn.path + ("ike_version",),
                f"the device snippets use IKEv2 only; set ike_version: IKEv2 (site '{conn.site.name}')",
            )


@rule(
    "onprem-policy-based-platform",
    "Policy-based traffic selectors need a platform that renders one selector per prefix pair "
    f"({', '.join(p.key for p in with_capability(POLICY_BASED_SELECTORS))}).",
)
def _policy_based_platform(model: Model) -> Iterator[Problem]:
    able = " / ".join(p.key for p in with_capability(POLICY_BASED_SELECTORS))
    for conn in model.connections:
        platform = PLATFORMS[conn.device.platform]
        if conn.policy_based_traffic_selectors and not platform.can(POLICY_BASED_SELECTORS):
            yield _p(
                conn.path + ("policy_based_traffic_selectors",),
                f"device '{conn.device.name}' ({platform.key}) is rendered as a route-based VTI with any-to-any "
                f"selectors; remove policy_based_traffic_selectors or use {able}",
            )


@rule("onprem-dpd-recommended", "DPD timeout is within the recommended 30-45 seconds (warning).", "warning")
def _dpd(model: Model) -> Iterator[Problem]:
    low, high = DPD_RECOMMENDED
    for conn in model.site_connections:
        if not low <= conn.dpd_timeout_seconds <= high:
            yield _p(
                conn.path + ("dpd_timeout_seconds",),
                f"DPD timeout {conn.dpd_timeout_seconds} s is outside the recommended {low}-{high} s; devices probe every "
                f"{crypto.dpd_interval(conn.dpd_timeout_seconds)} s",
            )


@rule(
    "onprem-interface-name",
    "Interface names are ones the device's platform can take (Junos: a logical unit, ge-0/0/0.0).",
)
def _interface_names(model: Model) -> Iterator[Problem]:
    for d in model.devices:
        for field, message in PLATFORMS[d.platform].device_problems(d):
            yield _p(d.path + (field,), message)


# A device without a fixed public IP is given by DNS name: Azure's local network gateway takes an
# FQDN instead of an IP address ("Create a local network gateway", IP address or FQDN endpoint:
# https://learn.microsoft.com/en-us/azure/vpn-gateway/vpn-gateway-modify-local-network-gateway-portal ;
# ARM localNetworkGateways properties.fqdn). Microsoft documents no IKE identity for such a device (no
# source found in Microsoft Learn, the VPN FAQ or Azure-vpn-config-samples). gen chooses the FQDN: an
# IP-type identity would go stale whenever the address changes, the FQDN is what the LNG names, and
# each platform writes it with its own FQDN identity type (capability FQDN_IDENTITY). Unverified
# against a real Azure gateway.
#
# A DNS host name (RFC 1123 section 2.1, RFC 1035 section 2.3.4): letters, digits and hyphens in
# labels of 1-63 characters that neither start nor end with a hyphen, 253 characters at most, and a
# top-level label that is not all digits (so an IP address is no fqdn).
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def fqdn_problem(name: str) -> str | None:
    """Why `name` is not a DNS name Azure can resolve for a local network gateway, or None."""
    labels = name.removesuffix(".").split(".")
    if len(name.removesuffix(".")) > 253:
        return "is longer than 253 characters"
    if len(labels) < 2:
        return "has a single label; give the fully qualified name (e.g. vpn.example.com)"
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        return (
            f"has the label {bad!r}: labels are 1-63 letters, digits or hyphens, not starting or ending with a hyphen"
        )
    if labels[-1].isdigit():
        return "ends in a numeric label (an IP address goes in public_ip)"
    return None


@rule(
    "device-fqdn",
    "A device's fqdn is a DNS host name (labels of letters, digits, hyphens; at most 253 characters), "
    "no other device has it, and the device's platform can present it as its IKE identity "
    f"({', '.join(p.key for p in with_capability(FQDN_IDENTITY))}).",
)
def _device_fqdn(model: Model) -> Iterator[Problem]:
    able = " / ".join(p.key for p in with_capability(FQDN_IDENTITY))
    seen: dict[str, str] = {}
    for d in model.devices:
        if d.fqdn is None:
            continue
        path = d.path + ("fqdn",)
        platform = PLATFORMS[d.platform]
        if (why := fqdn_problem(d.fqdn)) is not None:
            yield _p(path, f"{d.fqdn!r} {why}")
        elif d.fqdn.lower() in seen:
            yield _p(
                path, f"{d.fqdn} is already the fqdn of device '{seen[d.fqdn.lower()]}'; each device has its own name"
            )
        elif not platform.can(FQDN_IDENTITY):
            yield _p(
                path,
                f"device '{d.name}' ({platform.key}) cannot present an FQDN as its IKE identity; "
                f"remove fqdn (give public_ip only) or use {able}",
            )
        seen.setdefault(d.fqdn.lower(), d.name)

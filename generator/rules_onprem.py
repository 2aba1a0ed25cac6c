"""Rules for the on-prem device snippets (router-facts.md section 9) and platform capabilities.

A platform that cannot do what the inventory asks is refused here, with what to change, rather
than rendered without it. Rules satisfied by construction (any-to-any selectors for route-based
tunnels, lifetimes below Azure's, MSS 1350, multihop + /32 routes, no passive BGP on APIPA) are
pinned by tests of the rendered snippets instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import IPv4Address

from . import crypto, facts
from .errors import Problem
from .model import IpsecPolicy, Model
from .platforms import (
    FQDN_IDENTITY,
    NO_BGP_WITH_SELECTORS,
    ONE_TUNNEL_PER_GATEWAY,
    PLATFORM_DEVICE_FIELDS,
    PLATFORMS,
    POLICY_BASED_SELECTORS,
    with_capability,
)
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
        if not conn.policy.custom:
            continue  # Azure's default proposals: rule onprem-default-policy-refused
        platform = PLATFORMS[conn.device.platform]
        for name, _value, message in platform.unsupported(conn.policy):
            yield _p(conn.path + ("ipsec_policy", name), f"device '{conn.device.name}' ({platform.key}) {message}")


def suggested_policy(platforms) -> dict[str, str] | None:
    """The first of crypto.SUGGESTED_POLICIES every platform accepts (Azure takes each of them)."""
    for values in crypto.SUGGESTED_POLICIES:
        policy = IpsecPolicy(custom=True, sa_lifetime_seconds=0, sa_datasize_kilobytes=0, **values)
        if all(p.accepts(policy) for p in platforms):
            return values
    return None


@rule(
    "onprem-default-policy-refused",
    "A device that refuses part of Azure's default proposals (DH group 2: IOS-XE 17.11+ per Cisco FN72510, "
    "strongSwan's weak list) needs a custom ipsec_policy on its connection.",
)
def _default_policy_refused(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.policy.custom:
            continue
        platform = PLATFORMS[conn.device.platform]
        refused = [(name, value) for name, value, _message in platform.unsupported(conn.policy)]
        if not refused:
            continue
        what = "; ".join(
            f"{name} {value}: {platform.refused.get(name, {}).get(value, 'not supported')}" for name, value in refused
        )
        suggestion = suggested_policy([platform])
        hint = (
            "add ipsec_policy: {"
            + ", ".join(f"{k}: {v}" for k, v in suggestion.items())
            + f", sa_lifetime_seconds: {facts.DEFAULT_CHILD_SA_LIFETIME_SECONDS}"
            + f", sa_datasize_kilobytes: {facts.DEFAULT_CHILD_SA_KILOBYTES}}} to the connection"
            if suggestion
            else "add an ipsec_policy the device accepts to the connection"
        )
        yield _p(
            conn.path,
            f"device '{conn.device.name}' ({platform.key}) does not take Azure's default proposals ({what}); "
            f"{hint} (Azure then sends and accepts only that policy)",
        )


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


@rule(
    "onprem-policy-based-bgp",
    "Policy-based traffic selectors with BGP: the selectors cover both BGP addresses (the device's in the "
    "site prefixes, Azure's in the VNet), and the platform can run BGP over selectors "
    f"(not {', '.join(p.key for p in with_capability(NO_BGP_WITH_SELECTORS))}).",
)
def _policy_based_bgp(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if not (conn.policy_based_traffic_selectors and conn.bgp):
            continue
        platform = PLATFORMS[conn.device.platform]
        path = conn.path + ("policy_based_traffic_selectors",)
        if platform.can(NO_BGP_WITH_SELECTORS):
            yield _p(
                path,
                f"device '{conn.device.name}' ({platform.key}) cannot run BGP over an st0 interface with traffic "
                "selectors; remove policy_based_traffic_selectors or set bgp: false on the connection",
            )
            continue
        local = conn.device.bgp_ip
        if local is not None and not any(local in p for p in conn.tunnels[0].local_prefixes):
            yield _p(
                path,
                f"the device's BGP address {local} is outside the site prefixes, so no selector carries BGP; "
                "add it to the site's prefixes, or remove policy_based_traffic_selectors",
            )
        for t in conn.tunnels:
            known = t.azure_bgp_ip is not None and t.azure_bgp_ip.known
            if known and not any(IPv4Address(str(t.azure_bgp_ip)) in p for p in t.remote_prefixes):
                yield _p(
                    path,
                    f"Azure's BGP address {t.azure_bgp_ip} (instance {t.instance}) is outside the VNet's address "
                    "space, so no selector carries BGP (custom APIPA addresses are); use the default BGP "
                    "addresses, or remove policy_based_traffic_selectors",
                )
                break


@rule(
    "onprem-active-active-platform",
    "A device whose platform terminates one tunnel per Azure gateway "
    f"({', '.join(p.key for p in with_capability(ONE_TUNNEL_PER_GATEWAY))}: BGP sourced from the tunnel's own "
    "address, a local network gateway holds one BGP address) connects only to active-standby gateways.",
)
def _active_active_platform(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        platform = PLATFORMS[conn.device.platform]
        if conn.gateway.active_active and platform.can(ONE_TUNNEL_PER_GATEWAY):
            yield _p(
                conn.path,
                f"device '{conn.device.name}' ({platform.key}) cannot terminate both instances of the active-active "
                f"gateway {conn.gateway.name}: its BGP source is each tunnel's own address and a local network "
                "gateway holds one BGP address, and its connections are bound to one tunnel interface; set "
                "active_active: false on the gateway (one tunnel per device; put two devices in the site for "
                "redundancy), or use a platform with a loopback BGP source",
            )


@rule(
    "onprem-bgp-source-tunnel",
    "A device whose platform sources BGP from the tunnel's own address "
    f"({', '.join(p.key for p in with_capability(ONE_TUNNEL_PER_GATEWAY))}) has at most one BGP connection: "
    "its bgp_ip can sit on one tunnel interface only.",
)
def _bgp_source_tunnel(model: Model) -> Iterator[Problem]:
    for device in model.devices:
        platform = PLATFORMS[device.platform]
        if not platform.can(ONE_TUNNEL_PER_GATEWAY):
            continue
        bgp = [c for c in model.connections if c.device.name == device.name and c.bgp and not c.gateway.active_active]
        for conn in bgp[1:]:
            yield _p(
                conn.path,
                f"device '{device.name}' ({platform.key}) already peers BGP with {bgp[0].gateway.name} from its "
                f"bgp_ip {device.bgp_ip} on that tunnel interface, and one address sits on one interface only; set "
                f"bgp: false on this connection (static routes), or connect {conn.gateway.name} from another device",
            )


@rule(
    "device-field-platform",
    "A device sets only the platform-specific fields its platform takes ("
    + "; ".join(
        f"{f}: {', '.join(p.key for p in PLATFORMS.values() if f in p.device_fields)}" for f in PLATFORM_DEVICE_FIELDS
    )
    + ").",
)
def _device_field_platform(model: Model) -> Iterator[Problem]:
    for d in model.devices:
        platform = PLATFORMS[d.platform]
        for name in PLATFORM_DEVICE_FIELDS:
            if getattr(d, name) is not None and name not in platform.device_fields:
                able = ", ".join(p.key for p in PLATFORMS.values() if name in p.device_fields)
                yield _p(d.path + (name,), f"{platform.key} devices take no {name} (only {able}); remove it")


@rule(
    "onprem-tunnel-numbers",
    "A device's tunnel interfaces (numbered from its tunnel_base) are not interfaces it already names "
    "(outside_interface, loopback_interface) and stay below 10000.",
)
def _tunnel_numbers(model: Model) -> Iterator[Problem]:
    for d in model.devices:
        platform = PLATFORMS[d.platform]
        numbers = [t.device_index for t in model.device_tunnels.get(d.name, ())]
        names = {platform.tunnel_interface.format(n=n): n for n in numbers}
        for field in ("outside_interface", "loopback_interface"):
            value = getattr(d, field)
            if value in names:
                yield _p(
                    d.path + ("tunnel_base",) if d.tunnel_base != 1 else d.path + (field,),
                    f"tunnel {names[value]} of device '{d.name}' would be {value}, its {field}; "
                    f"set tunnel_base to a number whose tunnels the device does not use yet",
                )
        if numbers and max(numbers) > 9999:
            yield _p(
                d.path + ("tunnel_base",),
                f"device '{d.name}' would number tunnels up to {max(numbers)}; lower tunnel_base (at most 9999)",
            )


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

"""Rules for the BGP route policy toward Azure (generator/routing.py derives it) and who initiates.

Facts: facts-2026-12 §5 (Azure VPN FAQ "BGP and routing",
https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp): at most 4,000 prefixes,
beyond which Azure drops the session; no symmetric routing guaranteed in active-active mode, so
a stateful on-prem firewall must cope with it or use active-standby.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import facts
from .errors import Problem
from .model import Model
from .platforms import IBGP_PAIR, PLATFORMS, RESPONDER_ONLY, STATEFUL_FIREWALL, with_capability
from .rulebook import rule


def _p(path, message: str) -> Problem:
    return Problem(tuple(path), message, "")


@rule(
    "onprem-bgp-prefix-limit",
    f"A BGP site sends Azure at most {facts.BGP_MAX_PREFIXES:,} prefixes (prefixes + bgp.advertise); "
    "beyond that Azure drops the session.",
)
def _prefix_limit(model: Model) -> Iterator[Problem]:
    for site in model.sites:
        sent = next((model.route_policies[d.name].outbound for d in site.devices if d.name in model.route_policies), ())
        if len(sent) > facts.BGP_MAX_PREFIXES:
            yield _p(
                site.path + ("bgp", "advertise") if site.bgp_advertise else site.path + ("prefixes",),
                f"site '{site.name}' would send Azure {len(sent):,} prefixes; Azure drops the BGP session above "
                f"{facts.BGP_MAX_PREFIXES:,}: summarize (fewer, shorter prefixes)",
            )


@rule(
    "onprem-nat-initiates",
    "A device behind NAT (local_address) initiates IKE, so its connection is not InitiatorOnly "
    "(Azure FAQ: with NAT-T the on-premises device initiates).",
)
def _nat_initiates(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.device.behind_nat and conn.connection_mode == "InitiatorOnly":
            yield _p(
                conn.path + ("connection_mode",),
                f"device '{conn.device.name}' is behind NAT (local_address) and must initiate IKE, but InitiatorOnly "
                "makes Azure the only initiator (https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq: "
                '"ensure that the on-premises device initiates the IPSec tunnel"); use Default or ResponderOnly',
            )


@rule(
    "onprem-connection-mode",
    "An InitiatorOnly connection (the Azure gateway alone initiates) goes to a device whose platform can be "
    f"told to only respond ({', '.join(p.key for p in with_capability(RESPONDER_ONLY))}).",
)
def _connection_mode(model: Model) -> Iterator[Problem]:
    able = " / ".join(p.key for p in with_capability(RESPONDER_ONLY))
    for conn in model.connections:
        platform = PLATFORMS[conn.device.platform]
        if conn.connection_mode == "InitiatorOnly" and not platform.can(RESPONDER_ONLY):
            yield _p(
                conn.path + ("connection_mode",),
                f"device '{conn.device.name}' ({platform.key}) has no documented way to only respond to IKE, so it "
                "would keep initiating IKE, which an InitiatorOnly gateway does not accept; use Default or "
                f"ResponderOnly, or a platform that can respond only ({able})",
            )


@rule(
    "site-ibgp-pair",
    "`bgp.ibgp` names a site with two BGP devices whose bgp_ip addresses are not APIPA (the iBGP session "
    "runs between the two bgp_ip addresses across the site).",
)
def _ibgp_pair(model: Model) -> Iterator[Problem]:
    for site in model.sites:
        if not site.ibgp:
            continue
        where = site.path + ("bgp", "ibgp")
        bgp = [d for d in site.devices if d.name in model.route_policies and d.bgp_ip]
        if len(site.devices) != 2 or len(bgp) != 2:
            yield _p(
                where,
                f"site '{site.name}' has {len(bgp)} BGP device(s); an iBGP session needs two (each with bgp_ip and a "
                "BGP connection): add the second device or remove bgp.ibgp",
            )
            continue
        for d in site.devices:
            if d.bgp_ip_is_apipa:
                yield _p(
                    d.path + ("bgp_ip",),
                    f"device '{d.name}' has the APIPA bgp_ip {d.bgp_ip}, which lives on its tunnels only and is not "
                    "routed across the site; bgp.ibgp peers the two bgp_ip addresses: give the device a bgp_ip from "
                    "the site's addresses or remove bgp.ibgp",
                )


@rule(
    "site-ibgp-platform",
    "Both devices of a `bgp.ibgp` site are on platforms that render the iBGP session "
    f"({', '.join(p.key for p in with_capability(IBGP_PAIR))}).",
)
def _ibgp_platform(model: Model) -> Iterator[Problem]:
    able = " / ".join(p.key for p in with_capability(IBGP_PAIR))
    for site in model.sites:
        if not site.ibgp:
            continue
        for d in site.devices:
            platform = PLATFORMS[d.platform]
            if not platform.can(IBGP_PAIR):
                yield _p(
                    d.path + ("platform",),
                    f"site '{site.name}' sets bgp.ibgp but '{d.name}' ({platform.key}) does not render an iBGP session "
                    f"with next-hop-self; remove bgp.ibgp (configure it on the device yourself) or use {able}",
                )


@rule("site-pair-needs-two-devices", "`redundancy: primary-backup` names a site with two devices.")
def _pair(model: Model) -> Iterator[Problem]:
    for site in model.sites:
        if site.redundancy == "primary-backup" and len(site.devices) != 2:
            yield _p(
                site.path + ("redundancy",),
                f"site '{site.name}' has one device; primary-backup needs two "
                "(the first is the primary): add a device or remove redundancy",
            )


@rule(
    "stateful-active-active",
    "An active-active BGP pair with a stateful firewall platform is warned about asymmetric return traffic (warning).",
    "warning",
)
def _stateful(model: Model) -> Iterator[Problem]:
    for site in model.sites:
        if site.redundancy != "active-active" or len(site.devices) != 2:
            continue
        if not all(d.name in model.route_policies for d in site.devices):
            continue
        for d in site.devices:
            platform = PLATFORMS[d.platform]
            if platform.can(STATEFUL_FIREWALL):
                yield _p(
                    d.path + ("platform",),
                    f"site '{site.name}' is active-active and '{d.name}' ({platform.key}) is a stateful firewall: Azure "
                    "does not guarantee symmetric routing, so return traffic may arrive on the other device and be "
                    "dropped; set redundancy: primary-backup on the site (or share flow state between the devices)",
                )

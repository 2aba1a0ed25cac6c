"""BGP route policy toward Azure, derived once per BGP device: what it sends, what it accepts.

Azure advertises (facts-2026-12 §5, FAQ "BGP and routing",
https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp): the VNet's address
prefixes, the prefixes of every local network gateway connected to the gateway, and the routes
learned from its other BGP sessions (never a default route). So without a filter a device learns
the other sites' prefixes through Azure (eBGP distance 20 beats the site's own IGP) and anything
another site leaks. The policy:

- outbound: the site's prefixes plus `bgp.advertise` (nothing else the device holds, e.g. an ISP
  default route);
- inbound: the address space of each VNet whose gateway the device connects to, of the VNets peered
  to it with gateway transit, and of the VNets reached over VNet-to-VNet links (through further
  BGP links, with their transit peerings); other sites' prefixes only with
  `bgp.transit_via_azure: true`; plus `bgp.accept`. Exact matches only: the default route and
  more-specifics are denied unless listed in `bgp.accept`;
- maximum-prefix per Azure neighbour, counting the prefixes the inbound filter accepts (the
  platforms' default; FRR 8.4's `force` did not count filtered ones in the lab), sized from the
  accepted set as 2x + 10, with a warning at 75 %, the session torn down beyond it and restarted
  after 5 minutes. With exact-match filters it trips only when the filter is widened by hand (a
  second line of defence; `gen lab` proves it that way, generator/lab/bgp_checks.py);
- primary-backup sites: the second device prepends its ASN three times and sets local-preference 50
  on what it learns (Azure honours AS-path prepending, RoutingWeight is ExpressRoute-only: same FAQ).
"""

from __future__ import annotations

from ipaddress import IPv4Network

from . import facts
from .model import Gateway, Peering, RoutePolicy, Site, SiteConnection, Vnet, VnetLink

DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")
ACTIVE_ACTIVE = "active-active"  # the default redundancy of a site
HEADROOM_FACTOR = 2
HEADROOM_EXTRA = 10
WARNING_PERCENT = 75
RESTART_MINUTES = 5
BACKUP_PREPEND = 3  # how many times the backup device prepends its own ASN
BACKUP_LOCAL_PREFERENCE = 50  # below the default 100 of the primary


def _unique(prefixes) -> tuple[IPv4Network, ...]:
    return tuple(dict.fromkeys(prefixes))


def reachable_vnets(
    gateway: Gateway, vnets: dict[str, Vnet], links: tuple[VnetLink, ...], peerings: tuple[Peering, ...]
) -> tuple[Vnet, ...]:
    """VNets whose prefixes Azure advertises on a session of this gateway, the gateway's own first.

    A static VNet-to-VNet link adds the remote VNet (its space is a connected prefix, one hop); a
    BGP link also carries what the remote gateway learned, so the walk continues through it.
    """
    found: dict[str, Vnet] = {}
    todo = [(gateway, True)]
    seen: set[str] = set()
    while todo:
        gw, follow = todo.pop(0)
        if gw.name in seen:
            continue
        seen.add(gw.name)
        found.setdefault(gw.vnet, vnets[gw.vnet])
        for p in peerings:
            if p.vnet == gw.vnet and p.allow_gateway_transit:
                found.setdefault(p.remote.name, p.remote)
        if not follow:
            continue
        for link in links:
            if link.local.name == gw.name:
                todo.append((link.remote, link.bgp))
    return tuple(found.values())


def derive(
    sites: tuple[Site, ...],
    vnets: tuple[Vnet, ...],
    site_connections: tuple[SiteConnection, ...],
    links: tuple[VnetLink, ...],
    peerings: tuple[Peering, ...],
) -> dict[str, RoutePolicy]:
    """Device name -> RoutePolicy for every device with at least one BGP connection."""
    by_vnet = {v.name: v for v in vnets}
    by_gateway: dict[str, list[SiteConnection]] = {}
    for sc in site_connections:
        by_gateway.setdefault(sc.gateway.name, []).append(sc)
    policies: dict[str, RoutePolicy] = {}
    for site in sites:
        mine = [sc for sc in site_connections if sc.site.name == site.name and sc.bgp]
        if not mine or site.asn is None:
            continue
        vnet_space: list[IPv4Network] = []
        other_sites: list[IPv4Network] = []
        for sc in mine:
            reach = reachable_vnets(sc.gateway, by_vnet, links, peerings)
            vnet_space += [p for v in reach for p in v.address_space]
            gateways = {v.gateway.name for v in reach if v.gateway}
            other_sites += [
                p
                for name in gateways
                for other in by_gateway.get(name, ())
                if other.site.name != site.name
                for p in other.site.prefixes + other.site.bgp_advertise
            ]
        inbound = _unique(vnet_space + (other_sites if site.transit_via_azure else []) + list(site.bgp_accept))
        outbound = _unique(site.prefixes + site.bgp_advertise)
        pair = len(site.devices) == 2
        peers = {}  # bgp.ibgp: device -> the other device of the pair (rule site-ibgp-pair)
        if site.ibgp and pair and all(d.bgp_ip and not d.bgp_ip_is_apipa for d in site.devices):
            peers = {site.devices[0].name: site.devices[1], site.devices[1].name: site.devices[0]}
        for index, device in enumerate(site.devices):
            role = "active"
            if site.redundancy == "primary-backup" and pair:
                role = "primary" if index == 0 else "backup"
            policies[device.name] = RoutePolicy(
                device=device.name,
                outbound=outbound,
                inbound=inbound,
                accept_default=DEFAULT_ROUTE in inbound,
                max_prefix=HEADROOM_FACTOR * len(inbound) + HEADROOM_EXTRA,
                warning_percent=WARNING_PERCENT,
                restart_minutes=RESTART_MINUTES,
                role=role,
                prepend=(site.asn,) * BACKUP_PREPEND if role == "backup" else (),
                local_preference=BACKUP_LOCAL_PREFERENCE if role == "backup" else None,
                keepalive=facts.BGP_KEEPALIVE_SECONDS,
                hold=facts.BGP_HOLD_SECONDS,
                ibgp_peer=peers[device.name].bgp_ip if device.name in peers else None,
                ibgp_peer_name=peers[device.name].name if device.name in peers else "",
            )
    return policies

"""Semantic rules on the Azure side of the resolved model. Each has an id, a one-line summary for the
docs and a test; they register with @rule in the one registry, generator/rulebook.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from itertools import combinations

from . import facts, naming
from .errors import Problem
from .model import Model
from .netindex import overlapping_pairs
from .platforms import PLATFORMS
from .rulebook import rule


def _p(path, message: str) -> Problem:
    return Problem(tuple(path), message, "")


# ---------------------------------------------------------------- ASNs
@rule("asn-reserved", "Gateway and site ASNs are not reserved by Azure or IANA (65515 only on a gateway).")
def _asn_reserved(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.bgp and gw.asn in facts.RESERVED_ASNS:
            yield _p(
                gw.path + ("bgp", "asn"),
                f"ASN {gw.asn} is reserved by Azure/IANA; use a private ASN in 64512-65514 or 65521-65534",
            )
    for site in model.sites:
        if site.asn in facts.RESERVED_ONPREM_ASNS:
            yield _p(
                site.path + ("asn",),
                f"ASN {site.asn} is reserved by Azure/IANA and cannot be used on-premises; use a private ASN in 64512-65514",
            )


@rule(
    "asn-collision", "Both ends of every BGP session have different ASNs (site vs gateway, gateway vs linked gateway)."
)
def _asn_collision(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.bgp and conn.site.asn == conn.gateway.asn:
            yield _p(
                conn.site.path + ("asn",),
                f"site '{conn.site.name}' uses ASN {conn.site.asn}, the same as gateway '{conn.gateway.name}'; give one side another ASN",
            )
    for link in model.links:
        if link.bgp and link.local.asn == link.remote.asn and link.local.name < link.remote.name:
            yield _p(
                link.remote.path + ("bgp", "asn"),
                f"gateways '{link.local.name}' and '{link.remote.name}' are linked with BGP and both use ASN {link.local.asn}; give each gateway its own ASN",
            )


def _bgp_meshes(model: Model) -> dict[str, int]:
    """Gateway name -> its BGP mesh: gateways joined by BGP VNet-to-VNet links, transitively. Azure
    propagates the routes a gateway learns to all its BGP peers ("BGP can also enable transit routing
    among multiple networks by propagating routes a BGP gateway learns from one BGP peer to all other
    BGP peers", https://learn.microsoft.com/en-us/azure/vpn-gateway/vpn-gateway-bgp-overview), so a
    route of one site reaches every gateway and every BGP site of the mesh, its AS path growing."""
    parent = {gw.name: gw.name for gw in model.gateways if gw.bgp}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for link in model.links:
        if link.bgp and link.local.name in parent and link.remote.name in parent:
            parent[root(link.local.name)] = root(link.remote.name)
    roots = sorted({root(name) for name in parent})
    return {name: roots.index(root(name)) for name in parent}


def _bgp_sites(model: Model) -> dict[int, list]:
    """BGP mesh -> the sites with a BGP connection into it (inventory order, each once)."""
    meshes = _bgp_meshes(model)
    found: dict[int, list] = {}
    for conn in model.connections:
        mesh = meshes.get(conn.gateway.name)
        if conn.bgp and mesh is not None and conn.site not in found.setdefault(mesh, []):
            found[mesh].append(conn.site)
    return found


@rule(
    "asn-mesh-collision",
    "No BGP site or gateway shares its ASN with a gateway its routes pass through (the BGP mesh of VNet-to-VNet links): that gateway drops them as a loop.",
)
def _asn_mesh_collision(model: Model) -> Iterator[Problem]:
    meshes = _bgp_meshes(model)
    gateways = {gw.name: gw for gw in model.gateways}
    direct = {(c.site.name, c.gateway.name) for c in model.connections if c.bgp}
    linked = {(x.local.name, x.remote.name) for x in model.links if x.bgp}
    for mesh, sites in sorted(_bgp_sites(model).items()):
        members = [gw for gw in model.gateways if meshes.get(gw.name) == mesh]
        for site in sites:
            for gw in members:
                if gw.asn == site.asn and (site.name, gw.name) not in direct:  # direct: rule asn-collision
                    yield _p(
                        site.path + ("asn",),
                        f"site '{site.name}' uses ASN {site.asn}, the same as gateway '{gw.name}', which its routes reach through the VNet-to-VNet BGP mesh: that gateway drops them as a loop (and the site drops the gateway's); give the site another ASN",
                    )
                    break
    for a, b in combinations([gateways[n] for n in meshes], 2):
        if meshes[a.name] == meshes[b.name] and a.asn == b.asn and (a.name, b.name) not in linked:
            yield _p(
                b.path + ("bgp", "asn"),
                f"gateways '{a.name}' and '{b.name}' exchange routes through the BGP mesh and both use ASN {a.asn}: each drops the other's routes as a loop; give each gateway its own ASN",
            )


@rule(
    "asn-shared-site",
    "Two BGP sites of one mesh share an ASN: each drops the other's routes unless its devices allow their own ASN in (allowas-in) (warning).",
    "warning",
)
def _asn_shared_site(model: Model) -> Iterator[Problem]:
    for _, sites in sorted(_bgp_sites(model).items()):
        first: dict[int, str] = {}
        for site in sites:
            if site.asn in first:
                # A router drops a route whose AS path holds its own ASN (loop prevention, RFC 4271
                # section 9.1.2: https://www.rfc-editor.org/rfc/rfc4271#section-9.1.2) unless told to
                # accept it; each platform names its own knob (Platform.allowas_in).
                fixes = sorted({PLATFORMS[d.platform].allowas_in for d in site.devices})
                yield _p(
                    site.path + ("asn",),
                    f"site '{site.name}' shares ASN {site.asn} with site '{first[site.asn]}': routes between them carry that ASN, so each site drops the other's and they cannot reach each other through Azure; give each site its own ASN, or accept your own ASN on the devices: {'; '.join(fixes)}",
                )
            first.setdefault(site.asn, site.name)


# ---------------------------------------------------------------- gateways
@rule("gateway-subnet-missing", "A VNet with a gateway has a subnet named exactly 'GatewaySubnet'.")
def _gateway_subnet_missing(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        if vnet.gateway is None or any(s.name == facts.GATEWAY_SUBNET for s in vnet.subnets):
            continue
        near = next((s for s in vnet.subnets if s.name.lower() == facts.GATEWAY_SUBNET.lower()), None)
        if near is not None:
            yield _p(
                near.path + ("name",), f"the gateway subnet must be named exactly 'GatewaySubnet', not '{near.name}'"
            )
        else:
            yield _p(
                vnet.path + ("subnets",), "the VNet has a gateway but no 'GatewaySubnet'; add one (/27 recommended)"
            )


@rule("gateway-subnet-size", "GatewaySubnet is /29 or larger.")
def _gateway_subnet_size(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        for s in vnet.subnets:
            if s.name == facts.GATEWAY_SUBNET and s.prefix.prefixlen > facts.GATEWAY_SUBNET_MIN_PREFIX:
                yield _p(
                    s.path + ("prefix",), f"GatewaySubnet {s.prefix} is smaller than /29, Azure's minimum; use /27"
                )


@rule("gateway-subnet-small", "GatewaySubnet smaller than /27 works but leaves no room (warning).", "warning")
def _gateway_subnet_small(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        for s in vnet.subnets:
            if (
                s.name == facts.GATEWAY_SUBNET
                and facts.GATEWAY_SUBNET_RECOMMENDED_PREFIX < s.prefix.prefixlen <= facts.GATEWAY_SUBNET_MIN_PREFIX
            ):
                yield _p(s.path + ("prefix",), f"GatewaySubnet {s.prefix} is smaller than the recommended /27")


@rule("gateway-sku-generation", "The gateway generation is one the SKU supports.")
def _sku_generation(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        allowed = facts.GATEWAY_SKUS[gw.sku][0]
        if gw.generation not in allowed:
            yield _p(
                gw.path + ("generation",),
                f"{gw.sku} does not exist as {gw.generation}; use {' or '.join(sorted(allowed))}",
            )


@rule(
    "gateway-sku-features",
    "BGP and active-active only on SKUs that support them (not Basic; no active-active on Standard).",
)
def _sku_features(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        _, _, bgp_ok, aa_ok = facts.GATEWAY_SKUS[gw.sku]
        if gw.bgp and not bgp_ok:
            yield _p(gw.path + ("bgp",), f"{gw.sku} gateways do not support BGP; use VpnGw1AZ or larger")
        if gw.active_active and not aa_ok:
            yield _p(gw.path + ("active_active",), f"{gw.sku} gateways cannot be active-active; use VpnGw1AZ or larger")


@rule("gateway-tunnel-budget", "A gateway has no more S2S and VNet-to-VNet connections than its SKU allows.")
def _tunnel_budget(model: Model) -> Iterator[Problem]:
    counts = model.gateway_connections()
    for gw in model.gateways:
        s2s, v2v = counts[gw.name]
        if s2s + v2v > gw.max_connections:
            yield _p(
                gw.path + ("sku",),
                f"{gw.sku} allows {gw.max_connections} connections but {gw.name} has {s2s + v2v} ({s2s} site-to-site, {v2v} VNet-to-VNet); use a larger SKU (VpnGw4AZ/5AZ allow 100) or fewer connections",
            )


@rule("custom-policy-sku", "Custom IPsec/IKE policies and IKEv1 are not available on Basic (IKEv1 not on legacy SKUs).")
def _custom_policy_sku(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.policy.custom and conn.gateway.sku == "Basic":
            yield _p(
                conn.path + ("ipsec_policy",),
                "Basic gateways do not support custom IPsec/IKE policies; use VpnGw1AZ or remove ipsec_policy",
            )
        if conn.ike_version == "IKEv1" and (conn.gateway.sku == "Basic" or conn.gateway.sku in facts.LEGACY_SKUS):
            yield _p(
                conn.path + ("ike_version",), f"{conn.gateway.sku} route-based gateways do not support IKEv1; use IKEv2"
            )


# ---------------------------------------------------------------- addresses
@rule("vnet-overlap", "VNet address spaces do not overlap each other.")
def _vnet_overlap(model: Model) -> Iterator[Problem]:
    vnets = model.vnets
    items = ((space, (i, k)) for i, v in enumerate(vnets) for k, space in enumerate(v.address_space))
    pairs = sorted((a[0], b[0], a[1], b[1]) for a, b in _cross_pairs(items))
    for ai, bi, ak, j in pairs:
        a, b = vnets[ai], vnets[bi]
        pa, pb = a.address_space[ak], b.address_space[j]
        yield _p(b.path + ("address_space", j), f"{pb} overlaps {pa} of VNet '{a.name}'; give each VNet its own range")


def _cross_pairs(items) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Overlapping ((owner, index), (owner, index)) pairs of different owners, lower owner first."""
    found = []
    for a, b in overlapping_pairs(items):
        if a[0] != b[0]:
            found.append((a, b) if a[0] < b[0] else (b, a))
    return found


@rule("subnet-outside-vnet", "Every subnet lies inside its VNet's address space.")
def _subnet_outside(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        for s in vnet.subnets:
            if not any(s.prefix.subnet_of(space) for space in vnet.address_space):
                yield _p(
                    s.path + ("prefix",),
                    f"{s.prefix} is outside the VNet's address space {', '.join(map(str, vnet.address_space))}",
                )


@rule("subnet-overlap", "Subnets of a VNet do not overlap.")
def _subnet_overlap(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        for a, b in combinations(vnet.subnets, 2):
            if a.prefix.overlaps(b.prefix):
                yield _p(b.path + ("prefix",), f"{b.prefix} overlaps subnet '{a.name}' ({a.prefix})")


@rule("onprem-overlap", "On-premises prefixes do not overlap any VNet (nor equal one: Azure filters it).")
def _onprem_overlap(model: Model) -> Iterator[Problem]:
    sites, vnets = model.sites, model.vnets
    items = [(p, (1, i, j)) for i, s in enumerate(sites) for j, p in enumerate(s.prefixes)]
    items += [(space, (0, i, k)) for i, v in enumerate(vnets) for k, space in enumerate(v.address_space)]
    found = sorted(
        (s[1], s[2], v[1], v[2])
        for a, b in overlapping_pairs(items)
        if a[0] != b[0]
        for v, s in [(a, b) if a[0] == 0 else (b, a)]
    )
    for si, j, vi, k in found:
        site, vnet = sites[si], vnets[vi]
        prefix, space = site.prefixes[j], vnet.address_space[k]
        yield _p(
            site.path + ("prefixes", j),
            f"{prefix} overlaps VNet '{vnet.name}' ({space}); routes would conflict",
        )


@rule("site-overlap", "Prefixes of different sites do not overlap.")
def _site_overlap(model: Model) -> Iterator[Problem]:
    sites = model.sites
    items = ((p, (i, k)) for i, s in enumerate(sites) for k, p in enumerate(s.prefixes))
    pairs = sorted((a[0], b[0], a[1], b[1]) for a, b in _cross_pairs(items))
    for ai, bi, ak, j in pairs:
        a, b = sites[ai], sites[bi]
        yield _p(b.path + ("prefixes", j), f"{b.prefixes[j]} overlaps {a.prefixes[ak]} of site '{a.name}'")


@rule("device-public-ip-unique", "Every device has its own public IP (one local network gateway each).")
def _device_ip_unique(model: Model) -> Iterator[Problem]:
    seen: dict[IPv4Address, str] = {}
    for d in model.devices:
        if d.public_ip in seen:
            yield _p(d.path + ("public_ip",), f"{d.public_ip} is already the public IP of device '{seen[d.public_ip]}'")
        seen.setdefault(d.public_ip, d.name)


# Ranges that are no device's public address. The local network gateway's IP address is the public
# address Azure connects to: Microsoft's site-to-site tutorial asks for a VPN device with an
# externally facing public IPv4 address, and behind NAT for the NAT's public address (paraphrased from
# https://learn.microsoft.com/en-us/azure/vpn-gateway/tutorial-site-to-site-portal, prerequisites and
# "Create a local network gateway"). A private address there never connects, so it is refused.
# RFC 1918 private, RFC 6598 shared (CGNAT), loopback, link-local, "this network", multicast,
# reserved (RFC 6890). The documentation ranges (RFC 5737) stay allowed: the examples use them.
NOT_PUBLIC = tuple(
    IPv4Network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "0.0.0.0/8",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)


@rule(
    "device-public-ip-public",
    "A device's public_ip is a public address: not private (RFC 1918), shared (100.64.0.0/10), loopback, link-local, multicast or reserved, and not inside a VNet (behind NAT: the NAT's public address, the device's own in local_address).",
)
def _device_ip_public(model: Model) -> Iterator[Problem]:
    inside = _vnets_holding(model, [d.public_ip for d in model.devices])
    for i, d in enumerate(model.devices):
        path = d.path + ("public_ip",)
        block = next((n for n in NOT_PUBLIC if d.public_ip in n), None)
        if block is not None:
            yield _p(
                path,
                f"{d.public_ip} is not a public address ({block}); Azure must reach the device there: give its public address, and behind NAT put the device's own address in local_address",
            )
        elif inside.get(i):
            yield _p(
                path,
                f"{d.public_ip} lies inside VNet '{inside[i][0].name}'; give the device's public address (behind NAT: the NAT's, with the device's own in local_address)",
            )


# ---------------------------------------------------------------- BGP
@rule("bgp-needs-gateway-bgp", "A BGP connection's gateway has BGP configured.")
def _bgp_gateway(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.bgp and not conn.gateway.bgp:
            yield _p(
                conn.path + ("bgp",), f"gateway '{conn.gateway.name}' has no BGP; add gateway.bgp.asn or set bgp: false"
            )
            break


@rule("bgp-ip-missing", "A device on a BGP connection has a bgp_ip.")
def _bgp_ip_missing(model: Model) -> Iterator[Problem]:
    flagged: set[str] = set()
    for conn in model.connections:
        if conn.bgp and conn.device.bgp_ip is None and conn.device.name not in flagged:
            flagged.add(conn.device.name)
            yield _p(
                conn.device.path,
                f"device '{conn.device.name}' peers with BGP but has no bgp_ip; add its loopback (or APIPA) address",
            )


@rule("bgp-ip-sane", "A device's BGP address is not its public IP, not inside a VNet, and unique.")
def _bgp_ip_sane(model: Model) -> Iterator[Problem]:
    seen: dict[IPv4Address, str] = {}
    inside = _vnets_holding(model, [d.bgp_ip for d in model.devices])
    for i, d in enumerate(model.devices):
        if d.bgp_ip is None:
            continue
        path = d.path + ("bgp_ip",)
        if d.bgp_ip == d.public_ip:
            yield _p(path, "the BGP address must differ from the device's public IP; use a loopback address")
        for vnet in inside.get(i, ()):
            yield _p(path, f"{d.bgp_ip} lies inside VNet '{vnet.name}'; use an on-premises loopback address")
        if d.bgp_ip in seen:
            yield _p(path, f"{d.bgp_ip} is already the BGP address of device '{seen[d.bgp_ip]}'")
        seen.setdefault(d.bgp_ip, d.name)


def _vnets_holding(model: Model, addresses: list[IPv4Address | None]) -> dict[int, list]:
    """address index -> the VNets (in inventory order) whose address space holds that address."""
    items = [(space, (0, v, 0)) for v, vnet in enumerate(model.vnets) for space in vnet.address_space]
    items += [(IPv4Network(a), (1, i, 0)) for i, a in enumerate(addresses) if a is not None]
    found: dict[int, set[int]] = {}
    for a, b in overlapping_pairs(items):
        if a[0] != b[0]:
            space, address = (a, b) if a[0] == 0 else (b, a)
            found.setdefault(address[1], set()).add(space[1])
    return {i: [model.vnets[v] for v in sorted(vnets)] for i, vnets in found.items()}


@rule("two-devices-need-bgp", "A site with two devices uses BGP on its connections.")
def _two_devices(model: Model) -> Iterator[Problem]:
    for conn in model.site_connections:
        if len(conn.site.devices) == 2 and not conn.bgp:
            yield _p(
                conn.path,
                f"site '{conn.site.name}' has two devices; Azure needs BGP for that (set bgp: true and gateway.bgp)",
            )


@rule("apipa-range", "Custom APIPA addresses on a gateway lie in 169.254.21.0-169.254.22.255, one list per instance.")
def _apipa_range(model: Model) -> Iterator[Problem]:
    low, high = facts.APIPA_AZURE_RANGE
    for gw in model.gateways:
        for inst in gw.instances:
            for k, text in enumerate(inst.apipa):
                if not low <= IPv4Address(text) <= high:
                    yield _p(
                        gw.path + ("bgp", "apipa_addresses", inst.index, k),
                        f"{text} is outside Azure's APIPA range 169.254.21.0-169.254.22.255",
                    )
        given = len(gw.instances) if gw.bgp else 0
        lists = sum(1 for inst in gw.instances if inst.apipa)
        if lists and lists != given:
            yield _p(gw.path + ("bgp", "apipa_addresses"), f"give one APIPA list per gateway instance ({given})")


@rule("apipa-unique", "APIPA addresses are unique across gateways and devices.")
def _apipa_unique(model: Model) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for gw in model.gateways:
        for inst in gw.instances:
            for k, text in enumerate(inst.apipa):
                if text in seen:
                    yield _p(
                        gw.path + ("bgp", "apipa_addresses", inst.index, k), f"{text} is already used by {seen[text]}"
                    )
                seen.setdefault(text, f"gateway '{gw.name}'")
    for d in model.devices:
        if d.bgp_ip_is_apipa and str(d.bgp_ip) in seen:
            yield _p(d.path + ("bgp_ip",), f"{d.bgp_ip} is already used by {seen[str(d.bgp_ip)]}")


@rule(
    "apipa-both-ends",
    "APIPA BGP is used on both ends or neither: an APIPA device address needs custom APIPA addresses on the gateway.",
)
def _apipa_both(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.bgp and conn.device.bgp_ip_is_apipa and not all(inst.apipa for inst in conn.gateway.instances):
            yield _p(
                conn.device.path + ("bgp_ip",),
                f"{conn.device.bgp_ip} is APIPA but gateway '{conn.gateway.name}' has no apipa_addresses; add them or use a loopback address",
            )


# ---------------------------------------------------------------- IPsec
@rule(
    "ipsec-policy-gcm",
    "With GCMAES encryption the integrity is the same GCMAES algorithm, and GCM integrity needs GCM encryption.",
)
def _gcm(model: Model) -> Iterator[Problem]:
    items = [(c.path, c.policy) for c in model.connections] + [
        (x.path, x.policy) for x in model.links if x.name < naming.vnet_link(x.remote.vnet, x.local.vnet)
    ]
    for path, policy in items:
        enc, integ = policy.ipsec_encryption, policy.ipsec_integrity
        if (enc.startswith("GCM") or integ.startswith("GCM")) and enc != integ:
            yield _p(
                tuple(path) + ("ipsec_policy", "ipsec_integrity"),
                f"ipsec_encryption {enc} needs ipsec_integrity {enc if enc.startswith('GCM') else 'SHA256 (or use GCM encryption)'}; got {integ}",
            )


@rule("policy-based-needs-policy", "Policy-based traffic selectors need a custom IPsec policy.")
def _pbts(model: Model) -> Iterator[Problem]:
    for conn in model.site_connections:
        if conn.policy_based_traffic_selectors and not conn.policy.custom:
            yield _p(
                conn.path + ("policy_based_traffic_selectors",),
                "policy-based traffic selectors need ipsec_policy on the connection (Azure's rule)",
            )


@rule("default-policy-weak", "Without a custom policy Azure's defaults use DH group 2 (1024-bit) (warning).", "warning")
def _default_policy(model: Model) -> Iterator[Problem]:
    for conn in model.site_connections:
        if not conn.policy.custom:
            yield _p(
                conn.path,
                "no ipsec_policy: the tunnel uses Azure's default proposal with DH group 2 (1024-bit); set a custom policy (e.g. AES256/SHA256/DHGroup14)",
            )


# ---------------------------------------------------------------- peering and transit
@rule("peering-transit", "Gateway transit: the transit VNet has a non-Basic gateway, the other has none.")
def _peering_transit(model: Model) -> Iterator[Problem]:
    by_name = {v.name: v for v in model.vnets}
    for p in model.peerings:
        local = by_name[p.vnet]
        if p.allow_gateway_transit and (local.gateway is None or local.gateway.sku == "Basic"):
            yield _p(
                p.path + ("transit_via",), f"'{local.name}' needs a non-Basic VPN gateway to offer gateway transit"
            )
        if p.use_remote_gateways and local.gateway is not None:
            yield _p(
                p.path + ("transit_via",),
                f"'{local.name}' has its own gateway and cannot use the remote gateway; remove one",
            )
    users: dict[str, int] = {}
    for p in model.peerings:
        if p.use_remote_gateways:
            users[p.vnet] = users.get(p.vnet, 0) + 1
            if users[p.vnet] == 2:
                yield _p(p.path + ("transit_via",), f"'{p.vnet}' may use remote gateways on one peering only")


@rule(
    "transit-single-gateway",
    "On-premises reaches a VNet only through another VNet's gateway: a single point of failure (warning).",
    "warning",
)
def _transit_single(model: Model) -> Iterator[Problem]:
    if not model.connections:
        return
    direct = {c.vnet for c in model.connections}
    linked = {x.local.vnet for x in model.links} | {p.vnet for p in model.peerings if p.use_remote_gateways}
    for vnet in model.vnets:
        if vnet.name in linked and vnet.name not in direct:
            yield _p(
                vnet.path,
                f"no site connects to '{vnet.name}' directly; on-premises reaches it only through another VNet's gateway (single point of failure)",
            )


# ---------------------------------------------------------------- load balancers
@rule("lb-frontend-in-subnet", "A load balancer's frontend IP is a usable address of its subnet.")
def _lb_frontend(model: Model) -> Iterator[Problem]:
    for lb in model.load_balancers:
        net: IPv4Network = lb.subnet.prefix
        reserved = {net.network_address + i for i in range(4)} | {net.broadcast_address}
        if lb.frontend_ip is not None and (lb.frontend_ip not in net or lb.frontend_ip in reserved):
            yield _p(
                lb.path + ("frontend_ip",),
                f"{lb.frontend_ip} is not a usable address of subnet '{lb.subnet.name}' ({net}; Azure reserves the first four and the last)",
            )
        if lb.subnet.name == facts.GATEWAY_SUBNET:
            yield _p(lb.path + ("subnet",), "nothing but the VPN gateway may be deployed in GatewaySubnet")


@rule("lb-sku-basic", "Load balancers are Standard: Basic was retired on 30 September 2025.")
def _lb_basic(model: Model) -> Iterator[Problem]:
    # https://learn.microsoft.com/azure/load-balancer/skus: "On September 30, 2025, Basic Load Balancer
    # was retired" (facts-2026-12 section 6); Azure no longer creates them.
    for lb in model.load_balancers:
        if lb.sku == "Basic":
            yield _p(lb.path + ("sku",), "Basic load balancers were retired on 30 September 2025; use sku: Standard")


@rule("lb-pool-mixed", "A backend pool has members by IP address or by NIC, never both (Azure refuses the mix).")
def _lb_pool_mixed(model: Model) -> Iterator[Problem]:
    # backend-pool-management.md: "You can't create a single backend pool that mixes backed addresses
    # targeted by NIC and IP addresses" (facts-2026-12 section 6).
    for lb in model.load_balancers:
        for pool in lb.pools:
            if pool.addresses and pool.nics:
                yield _p(
                    pool.path + ("nics",),
                    f"pool '{pool.name}' has members by IP address and by NIC; Azure refuses the mix: split it into two pools",
                )


@rule("lb-pool-address-in-vnet", "An IP-based pool member is a usable address of the load balancer's VNet, given once.")
def _lb_pool_address(model: Model) -> Iterator[Problem]:
    # backend-pool-management.md: "The backend resources must be in the same virtual network as the load balancer".
    for lb in model.load_balancers:
        seen: set[IPv4Address] = set()
        for pool in lb.pools:
            for j, address in enumerate(pool.addresses):
                subnet = next((s for s in lb.vnet.subnets if address in s.prefix), None)
                reserved = subnet is not None and (
                    address in {subnet.prefix.network_address + i for i in range(4)}
                    or address == subnet.prefix.broadcast_address
                )
                if subnet is None or reserved or subnet.name == facts.GATEWAY_SUBNET:
                    yield _p(
                        pool.path + ("addresses", j),
                        f"{address} is not a usable address of a subnet of '{lb.vnet.name}' "
                        f"({', '.join(str(s.prefix) for s in lb.vnet.subnets)}); IP-based pool members must be in the load balancer's VNet",
                    )
                elif address in seen or address == lb.frontend_ip:
                    yield _p(
                        pool.path + ("addresses", j), f"{address} is already a member or the frontend; give it once"
                    )
                seen.add(address)


@rule("lb-sku-features", "HA ports and TCP reset need a Standard load balancer; Basic is retired (warning on Basic).")
def _lb_sku(model: Model) -> Iterator[Problem]:
    for lb in model.load_balancers:
        if lb.sku == "Basic":
            for r in lb.rules:
                if r.ha_ports or r.tcp_reset:
                    yield _p(r.path, "HA ports and TCP reset need sku: Standard")


@rule("lb-probe-path", "HTTP(S) probes have a request_path; TCP probes have none.")
def _lb_probe(model: Model) -> Iterator[Problem]:
    for lb in model.load_balancers:
        for j, probe in enumerate(lb.probes):
            if probe.protocol == "Tcp" and probe.request_path:
                yield _p(
                    lb.path + ("probes", j, "request_path"), "a Tcp probe takes no request_path; remove it or use Http"
                )
            if probe.protocol != "Tcp" and not probe.request_path:
                yield _p(lb.path + ("probes", j), f"an {probe.protocol} probe needs a request_path, e.g. /health")


@rule("lb-floating-ip-port", "Two rules on one frontend use different frontend ports, unless HA ports.")
def _lb_ports(model: Model) -> Iterator[Problem]:
    for lb in model.load_balancers:
        seen: dict[tuple[str, int], str] = {}
        for r in lb.rules:
            key = (r.protocol, r.frontend_port)
            if key in seen:
                yield _p(
                    r.path + ("frontend_port",),
                    f"rule '{seen[key]}' already uses {r.protocol} port {r.frontend_port} on this frontend",
                )
            seen.setdefault(key, r.name)


# ---------------------------------------------------------------- names
@rule("name-length", "Derived Azure resource names fit Azure's 80-character limit.")
def _name_length(model: Model) -> Iterator[Problem]:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftnetwork
    for gw in model.gateways:
        for inst in gw.instances:
            name = inst.public_ip_ref.names[0]
            if len(name) > 80:
                yield _p(
                    gw.path,
                    f"derived public IP name '{name}' is {len(name)} characters; Azure allows 80: shorten the gateway name to {80 - len(name) + len(gw.name)} characters",
                )
    for conn in model.connections:
        for name in (conn.name, conn.lng_name):
            if len(name) > 80:
                yield _p(
                    conn.path,
                    f"derived name '{name}' is {len(name)} characters; Azure allows 80: shorten the VNet, site or device name",
                )
    for link in model.links:
        if len(link.name) > 80:
            yield _p(
                link.path,
                f"derived name '{link.name}' is {len(link.name)} characters; Azure allows 80: shorten the VNet names",
            )
    for p in model.peerings:
        if len(p.name) > 80:
            yield _p(
                p.path, f"derived name '{p.name}' is {len(p.name)} characters; Azure allows 80: shorten the VNet names"
            )
    for vnet in model.vnets:
        for subnet in vnet.subnets:
            for x in (subnet.nsg, subnet.route_table):
                if x is not None and len(x.name) > 80:  # only a derived name can be longer
                    yield _p(
                        x.path,
                        f"derived name '{x.name}' is {len(x.name)} characters; Azure allows 80: give it a name",
                    )

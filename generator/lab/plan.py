"""Inventory -> lab plan: which namespaces, addresses and configuration files (no side effects).

The Azure-assigned values (gateway public IPs, default BGP addresses) are chosen deterministically
here, written as an Azure state and read back through the normal state path, so the device files
the lab loads carry real values exactly as after a deployment.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

import jinja2

from ..model import Gateway, Model, Tunnel
from ..paths import device_file
from ..platforms import PLATFORMS
from . import proposals

AZURE_PUBLIC_POOL = IPv4Network("192.0.2.0/24")  # documentation range, used only inside the lab
FAULTS = ("psk", "asn", "proposal")
PLANTS = ("shared-outside",)  # design flaws a test plants in the lab's network (not in the inventory)
# "The BGP keepalive timer is 60 seconds, and the hold timer is 180 seconds. Azure VPN Gateways use fixed
# timer values" (https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp).
AZURE_BGP_TIMERS = (60, 180)
# "Azure VPN Gateway supports up to 4,000 prefixes. The BGP session is dropped if the number of prefixes
# exceeds the limit." (same FAQ)
AZURE_MAX_PREFIXES = 4000
# Default dpdTimeoutSeconds of a connection (VNet-to-VNet links have no inventory field for it):
# https://learn.microsoft.com/azure/templates/microsoft.network/connections
AZURE_DEFAULT_DPD_TIMEOUT = 45
CHARON_GIVE_UP_SECONDS = 11.9  # the lab's charon: 3 retransmits, 1.0 s base 1.8 (daemons.STRONGSWAN_CONF)
# Its longest wait between two retransmits (the last: 1.0 * 1.8 ** 3 s): an IKE exchange (a DPD check, an
# IKE_SA_INIT) in flight when a failure is restored has either completed or been retried within it.
# strongSwan's schedule: https://docs.strongswan.org/docs/latest/config/retransmission.html
CHARON_LONGEST_RETRANSMIT = 5.8


@dataclass(frozen=True)
class Timers:
    """The emulated Azure side's BGP timers and DPD; shortened only when asked (then labelled so)."""

    keepalive: int = AZURE_BGP_TIMERS[0]
    hold: int = AZURE_BGP_TIMERS[1]

    @property
    def azure(self) -> bool:
        return (self.keepalive, self.hold) == AZURE_BGP_TIMERS

    @property
    def scale(self) -> float:
        return self.hold / AZURE_BGP_TIMERS[1]

    def dpd_delay(self, timeout: int) -> int:
        """charon's dpd_delay so that a silent peer is declared dead about `timeout` s (scaled) after its
        last packet: the delay, then the retransmits (CHARON_GIVE_UP_SECONDS)."""
        return max(1, round(timeout * self.scale - CHARON_GIVE_UP_SECONDS))

    def label(self) -> str:
        base = f"BGP keepalive/hold {self.keepalive}/{self.hold} s"
        if self.azure:
            return base + " (Azure's fixed values)"
        return base + " (SHORTENED for the drill; Azure's are fixed at 60/180 s, so real failovers are slower)"


@dataclass
class Endpoint:
    """One network namespace: an on-prem device or one Azure gateway instance."""

    key: str  # dev:<device> or az:<gateway>.i<n>
    netns: str
    kind: str  # device | azure
    title: str
    public_ip: str
    outside: str  # outside interface name inside the namespace
    bgp_ips: list[str]
    prefixes: list[IPv4Network]  # routes that exist behind it (site LAN or VNet)
    peers: list[str]  # public IPs it talks to
    hosts: list[str] = field(default_factory=list)  # extra addresses on lo (ping ends of static tunnels)
    files: dict[str, str] = field(default_factory=dict)  # swanctl / frr / interfaces
    source: str = "azure"  # azure | verified | emulated
    note: str = ""
    site: str = ""  # device: its site
    vnets: list[str] = field(default_factory=list)  # Azure instance: its VNet, then spokes using its gateway
    gateway: str = ""
    advertised: list[IPv4Network] = field(default_factory=list)  # Azure: `network` statements
    filtered: list[IPv4Network] = field(default_factory=list)  # Azure: refused from peers (own VNet space)


@dataclass
class LabTunnel:
    key: str
    tunnel: Tunnel
    device: Endpoint
    azure: Endpoint
    azure_public_ip: str
    azure_bgp_ip: str | None
    device_bgp_ip: str | None
    fault: str | None = None
    skip: str = ""  # why the lab cannot run it
    ping_from: str = ""  # device side: its BGP address, or the first host of the site's first prefix
    ping_to: str = ""  # Azure side: its BGP address, or the first host of the VNet's first prefix


@dataclass
class LinkTunnel:
    """One tunnel of a VNet-to-VNet link: gateway instance a <-> gateway instance b (both emulated).

    Two active-active gateways form "full mesh connectivity of 4 tunnels between the two VNets"; one
    active-active and one single-instance gateway, two (about-active-active-gateways:
    https://learn.microsoft.com/azure/vpn-gateway/about-active-active-gateways)."""

    key: str  # <gateway a>.i<n>~<gateway b>.i<m>
    link: str  # <VNet a>~<VNet b>, as `--inject` and the drill name it
    connections: tuple[str, str]  # the two Azure connection resources (one per direction)
    a: Endpoint
    b: Endpoint
    a_bgp_ip: str
    b_bgp_ip: str
    a_asn: int
    b_asn: int
    bgp: bool
    policy: object
    psk_parameter: str
    fault: str | None = None


@dataclass
class Plan:
    name: str
    model: Model
    endpoints: list[Endpoint]
    tunnels: list[LabTunnel]
    mode: str  # libipsec | xfrm
    links: list[LinkTunnel] = field(default_factory=list)
    timers: Timers = field(default_factory=Timers)
    plants: dict[str, str] = field(default_factory=dict)  # plant -> site


def lab_state(model: Model) -> dict:
    """A deterministic Azure state: public IPs from 192.0.2.0/24 (avoiding the inventory's own), BGP IPs from GatewaySubnet."""
    used = {str(d.public_ip) for d in model.devices} | {str(d.local_address) for d in model.devices}
    pool = (str(ip) for ip in AZURE_PUBLIC_POOL.hosts() if ip.packed[3] >= 10 and str(ip) not in used)
    gateways = {}
    for gateway in model.gateways:
        subnet = _gateway_subnet(model, gateway)
        hosts = list(subnet.hosts())
        # Azure's examples: active-active instances take .4 and .5, a single instance the last address.
        bgp = [hosts[3], hosts[4]] if gateway.active_active else [hosts[-1]]
        gateways[gateway.name] = {
            "instances": [{"public_ip": next(pool), "bgp_ips": [str(bgp[inst.index])]} for inst in gateway.instances]
        }
    return {"gen_azure_state": 1, "gateways": gateways}


def _gateway_subnet(model: Model, gateway: Gateway) -> IPv4Network:
    vnet = next(v for v in model.vnets if v.name == gateway.vnet)
    return next(s.prefix for s in vnet.subnets if s.name == "GatewaySubnet")


def write_state(model: Model, folder: Path) -> Path:
    path = folder / "azure-state.json"
    path.write_text(json.dumps(lab_state(model), indent=2) + "\n", encoding="utf-8")
    return path


def throwaway_keys(model: Model) -> dict[str, str]:
    """A fresh random pre-shared key per secret reference (never printed)."""
    return {ref.parameter: secrets.token_hex(16) for ref in model.secrets}


def _rendered_device_files(model: Model, keys: dict[str, str]) -> dict[str, dict[str, str]] | None:
    """device -> {swanctl, frr, interfaces} from the registered on-prem target, or None when absent."""
    from ..pipeline import render_all
    from ..targets import TARGETS

    if "onprem" not in TARGETS:
        return None
    files = {f.path: f.text for f in render_all(model, targets=("onprem",), secrets=keys)}
    result = {}
    for device in model.devices:
        suffixes = PLATFORMS[device.platform].lab_files
        if not suffixes:
            continue
        found = {
            role: files[device_file(device, suffix)]
            for role, suffix in suffixes.items()
            if device_file(device, suffix) in files
        }
        if len(found) == len(suffixes):
            result[device.name] = found
    return result


def build_plan(
    model: Model,
    env: jinja2.Environment,
    name: str,
    mode: str,
    keys: dict[str, str],
    faults: dict[str, str] | None = None,
    timers: Timers | None = None,
    plants: dict[str, str] | None = None,
) -> Plan:
    """Namespaces, addresses and every configuration file of the lab."""
    faults = dict(faults or {})
    link_pairs = _link_pairs(model)
    known = [t.key for t in model.tunnels] + [_link_name(a, b) for a, b, _ in link_pairs]
    unknown = [k for k in faults if k not in known]
    if unknown:
        raise ValueError(f"no tunnel or VNet link {unknown[0]!r}; choose from: {', '.join(known)}")
    plants = dict(plants or {})
    sites = {s.name for s in model.sites}
    for plant, site in plants.items():
        if plant not in PLANTS or site not in sites:
            raise ValueError(f"plant {plant}:{site}: use one of {', '.join(PLANTS)} with a site of {sorted(sites)}")
    rendered = _rendered_device_files(model, keys) or {}
    endpoints: dict[str, Endpoint] = {}
    tunnels: list[LabTunnel] = []
    short = _Namer(name)

    for device in model.devices:
        dev_tunnels = model.device_tunnels.get(device.name, ())
        if not dev_tunnels:
            continue
        source = "verified" if device.name in rendered else "emulated"
        note = ""
        runs_files = bool(PLATFORMS[device.platform].lab_files)
        if runs_files and source == "emulated":
            note = "the on-prem target is not registered: emulated from the model"
        elif not runs_files:
            note = f"{device.platform} emulated by strongSwan + FRR from the model"
        endpoints[f"dev:{device.name}"] = Endpoint(
            key=f"dev:{device.name}",
            netns=short(device.name),
            kind="device",
            title=device.name,
            public_ip=str(device.local_address),
            outside=device.outside_interface if source == "verified" else "eth0",
            bgp_ips=[str(device.bgp_ip)] if device.bgp_ip else [],
            prefixes=list(next(s for s in model.sites if s.name == device.site).prefixes),
            peers=sorted({str(t.azure_public_ip) for t in dev_tunnels}),
            source=source,
            note=note,
            site=device.site,
        )
    linked = {g.name for pair in link_pairs for g in pair[:2]}
    for gateway in model.gateways:
        vnet = next(v for v in model.vnets if v.name == gateway.vnet)
        spokes = transit_spokes(model, vnet.name)
        own = list(vnet.address_space) + [p for s in spokes for p in s.address_space]
        for inst in gateway.instances:
            inst_tunnels = [t for t in model.tunnels if t.gateway == gateway.name and t.instance == inst.index]
            if not inst_tunnels and gateway.name not in linked:
                continue
            key = f"az:{gateway.name}.i{inst.index}"
            bgp_ips = [str(t.azure_bgp_ip) for t in inst_tunnels if t.azure_bgp_ip]
            if gateway.name in linked and gateway.bgp:
                bgp_ips.append(str(inst.default_bgp_ip))  # VNet-to-VNet BGP uses the GatewaySubnet address
            static_lng = [p for t in inst_tunnels if not t.bgp for p in t.local_prefixes]
            endpoints[key] = Endpoint(
                key=key,
                netns=short(f"{gateway.name}-i{inst.index}"),
                kind="azure",
                title=f"{gateway.name} instance {inst.index}",
                public_ip=str(inst.public_ip),
                outside="eth0",
                bgp_ips=list(dict.fromkeys(bgp_ips)),
                # Peered VNets with gateway transit are part of the gateway's VNet space (FAQ "BGP and
                # routing": https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp): the
                # lab delivers their addresses at the hub's instances, as it does the VNet's own.
                prefixes=own,
                peers=sorted({str(t.device_public_ip) for t in inst_tunnels}),
                vnets=[vnet.name] + [s.name for s in spokes],
                gateway=gateway.name,
                # What a gateway advertises: "Your VNet address prefixes; Address prefixes for each local
                # network gateway connected to the VPN gateway; Routes learned from other BGP peering
                # sessions ... except for the default route or routes that overlap with any virtual
                # network prefix" (FAQ, as above). Learned routes are re-advertised by eBGP itself.
                advertised=list(dict.fromkeys(own + static_lng)),
                filtered=own,
            )
    for tunnel in model.tunnels:
        device = endpoints[f"dev:{tunnel.device}"]
        tunnels.append(
            LabTunnel(
                key=tunnel.key,
                tunnel=tunnel,
                device=device,
                azure=endpoints[f"az:{tunnel.gateway}.i{tunnel.instance}"],
                azure_public_ip=str(tunnel.azure_public_ip),
                azure_bgp_ip=str(tunnel.azure_bgp_ip) if tunnel.azure_bgp_ip else None,
                device_bgp_ip=str(tunnel.device_bgp_ip) if tunnel.device_bgp_ip else None,
                fault=faults.get(tunnel.key),
                skip="the device is behind NAT; the lab does not emulate NAT"
                if next(d for d in model.devices if d.name == tunnel.device).behind_nat
                else "",
            )
        )
    for lt in tunnels:
        t = lt.tunnel
        if t.bgp and lt.azure_bgp_ip and lt.device_bgp_ip:
            lt.ping_from, lt.ping_to = lt.device_bgp_ip, lt.azure_bgp_ip
        else:  # static routing: a host in the site's first prefix pings one in the VNet's
            lt.ping_from, lt.ping_to = (str(next(p.hosts())) for p in (t.local_prefixes[0], t.remote_prefixes[0]))
            for ep, host in ((lt.device, lt.ping_from), (lt.azure, lt.ping_to)):
                if host not in ep.hosts:
                    ep.hosts.append(host)
    links = []
    for a_gw, b_gw, vnet_link in link_pairs:
        link = _link_name(a_gw, b_gw)
        for ia in a_gw.instances:
            for ib in b_gw.instances:
                a, b = endpoints[f"az:{a_gw.name}.i{ia.index}"], endpoints[f"az:{b_gw.name}.i{ib.index}"]
                a.peers = sorted({*a.peers, b.public_ip})
                b.peers = sorted({*b.peers, a.public_ip})
                links.append(
                    LinkTunnel(
                        key=f"{a_gw.name}.i{ia.index}~{b_gw.name}.i{ib.index}",
                        link=link,
                        connections=(f"cn-{a_gw.vnet}-to-{b_gw.vnet}", f"cn-{b_gw.vnet}-to-{a_gw.vnet}"),
                        a=a,
                        b=b,
                        a_bgp_ip=str(ia.default_bgp_ip),
                        b_bgp_ip=str(ib.default_bgp_ip),
                        a_asn=a_gw.asn,
                        b_asn=b_gw.asn,
                        bgp=vnet_link.bgp,
                        policy=vnet_link.policy,
                        psk_parameter=vnet_link.psk.parameter,
                        fault=faults.get(link),
                    )
                )
    plan = Plan(name, model, list(endpoints.values()), tunnels, mode, links, timers or Timers(), plants)
    for endpoint in plan.endpoints:
        if endpoint.kind == "device":
            endpoint.files = rendered.get(endpoint.title) or _emulated_device(plan, endpoint, env, keys)
        else:
            endpoint.files = _azure_files(plan, endpoint, env, keys)
    return plan


def transit_spokes(model: Model, hub: str) -> list:
    """VNets peered with `hub` that use its gateway (allowGatewayTransit on the hub's side)."""
    return [p.remote for p in model.peerings if p.vnet == hub and p.allow_gateway_transit]


def _link_pairs(model: Model) -> list[tuple[Gateway, Gateway, object]]:
    """(gateway a, gateway b, the a->b VnetLink) once per linked pair, in inventory order."""
    seen, pairs = set(), []
    for link in model.links:
        pair = frozenset({link.local.name, link.remote.name})
        if pair not in seen:
            seen.add(pair)
            pairs.append((link.local, link.remote, link))
    return pairs


def _link_name(a: Gateway, b: Gateway) -> str:
    return f"{a.vnet}~{b.vnet}"


class _Namer:
    """Short, unique namespace names: gl-<lab>-<n>-<label>."""

    def __init__(self, lab: str):
        self.lab = lab
        self.count = 0

    def __call__(self, label: str) -> str:
        self.count += 1
        return f"gl-{self.lab}-{self.count}-{label}"[:60]


def _emulated_device(plan: Plan, endpoint: Endpoint, env: jinja2.Environment, keys: dict[str, str]) -> dict[str, str]:
    model = plan.model
    device = next(d for d in model.devices if d.name == endpoint.title)
    site = next(s for s in model.sites if s.name == device.site)
    tunnels = [
        {
            "name": f"{t.gateway}-i{t.instance}",
            "index": t.device_index,
            "azure_public_ip": str(t.azure_public_ip),
            "azure_bgp_ip": str(t.azure_bgp_ip) if t.azure_bgp_ip else None,
            "azure_asn": t.azure_asn,
            "bgp": t.bgp and t.azure_bgp_ip is not None and t.device_bgp_ip is not None,
            "ike": proposals.ike_proposal(t.policy),
            "esp": proposals.esp_proposal(t.policy),
            "psk": keys[t.psk.parameter],
            "remote_prefixes": t.remote_prefixes,
        }
        for t in model.device_tunnels[device.name]
    ]
    view = {
        "device": device,
        "tunnels": tunnels,
        "bgp": any(t["bgp"] for t in tunnels),
        "asn": site.asn,
        "prefixes": site.prefixes,
        "rp": model.route_policies.get(device.name),  # the device's route policy toward Azure, as rendered
    }
    return {
        "swanctl": env.get_template("lab/device.swanctl.conf.j2").render(view),
        "frr": env.get_template("lab/device.frr.conf.j2").render(view),
        "interfaces": env.get_template("lab/device.interfaces.sh.j2").render(view),
    }


def _azure_files(plan: Plan, endpoint: Endpoint, env: jinja2.Environment, keys: dict[str, str]) -> dict[str, str]:
    lab_tunnels = [t for t in plan.tunnels if t.azure is endpoint]
    gateway = next(g for g in plan.model.gateways if g.name == endpoint.gateway)
    timers = plan.timers
    tunnels = []
    for lt in lab_tunnels:
        t = lt.tunnel
        ike, esp = proposals.azure_proposals(t.policy)
        if lt.fault == "proposal":
            ike = proposals.MISMATCHED_IKE if ike != proposals.MISMATCHED_IKE else "3des-md5-modp768"
        bgp = t.bgp and lt.azure_bgp_ip is not None and lt.device_bgp_ip is not None
        if plan.mode == "libipsec" and bgp:
            # kernel-libipsec ignores if_id and picks the outbound SA by selectors only, and installs a
            # route per selector from a local address inside it: narrow each CHILD_SA to the two BGP
            # addresses, so a device's tunnels to both instances stay apart (docs: README `gen lab`).
            local_ts, remote_ts = [f"{lt.azure_bgp_ip}/32"], [f"{lt.device_bgp_ip}/32"]
        elif plan.mode == "libipsec" or t.policy_based_traffic_selectors:
            local_ts, remote_ts = [str(p) for p in t.remote_prefixes], [str(p) for p in t.local_prefixes]
        else:
            local_ts = remote_ts = ["0.0.0.0/0"]
        tunnels.append(
            {
                "name": t.device,
                "peer_public_ip": str(t.device_public_ip),
                "peer_ike_id": str(t.device_ike_id),
                "ike": ike,
                "esp": esp,
                "local_ts": list(dict.fromkeys(local_ts)),
                "remote_ts": list(dict.fromkeys(remote_ts)),
                "psk": secrets.token_hex(16) if lt.fault == "psk" else keys[t.psk.parameter],
                "bgp": bgp,
                "local_bgp_ip": lt.azure_bgp_ip,
                "peer_bgp_ip": lt.device_bgp_ip,
                # wrong peer AS on Azure's side; a static site may have no ASN at all
                "peer_asn": None if t.device_asn is None else t.device_asn + (1 if lt.fault == "asn" else 0),
                # Azure does not initiate BGP from APIPA addresses (A12). From its GatewaySubnet address it
                # may; the lab still lets the device open the session: with both sides active, FRR 8.4
                # sometimes kept the learned routes invalid after a connection collision (next hop
                # stuck at "Must be Connected"). The drill lifts `passive` once all sessions are up.
                "passive": True,
                "apipa": t.apipa,
                "initiator": False,  # the device initiates; Azure's re-initiation after a failure: see drill
                "dpd_delay": timers.dpd_delay(t.dpd_timeout_seconds),
            }
        )
    for link in plan.links:
        if endpoint not in (link.a, link.b):
            continue
        here_a = endpoint is link.a
        peer = link.b if here_a else link.a
        local_ip, peer_ip = (link.a_bgp_ip, link.b_bgp_ip) if here_a else (link.b_bgp_ip, link.a_bgp_ip)
        ike, esp = proposals.azure_proposals(link.policy)
        if link.bgp and plan.mode == "libipsec":
            local_ts, remote_ts = [f"{local_ip}/32"], [f"{peer_ip}/32"]  # as for the site tunnels above
        elif link.bgp:
            local_ts = remote_ts = ["0.0.0.0/0"]
        else:  # a static VNet-to-VNet link carries the two VNets' address spaces
            local_ts, remote_ts = [str(p) for p in endpoint.prefixes], [str(p) for p in peer.prefixes]
        wrong = not here_a  # a fault is planted on side b only, so the two sides disagree
        tunnels.append(
            {
                "name": peer.key.removeprefix("az:").replace(".i", "-i"),
                "peer_public_ip": peer.public_ip,
                "peer_ike_id": peer.public_ip,
                "ike": ike,
                "esp": esp,
                "local_ts": local_ts,
                "remote_ts": remote_ts,
                "psk": secrets.token_hex(16) if wrong and link.fault == "psk" else keys[link.psk_parameter],
                "bgp": link.bgp,
                "local_bgp_ip": local_ip,
                "peer_bgp_ip": peer_ip,
                "peer_asn": (link.a_asn + (1 if wrong and link.fault == "asn" else 0)) if not here_a else link.b_asn,
                # Both Azure ends may open BGP; the lab lets side a do it (the FRR collision note above).
                "passive": not here_a,
                "apipa": False,
                "initiator": here_a,  # side a opens IKE and re-opens it after DPD (keyingtries = 0)
                "dpd_delay": timers.dpd_delay(AZURE_DEFAULT_DPD_TIMEOUT),
            }
        )
    for n, entry in enumerate(tunnels, start=1):  # xfrmN on the Azure side: site tunnels, then links
        entry["if_id"] = n if plan.mode == "xfrm" else None
    filtered = [{"prefix": str(p), "seq": 5 * n} for n, p in enumerate(endpoint.filtered, start=1)]
    view = {
        "gateway": gateway.name,
        "instance": endpoint.key.rsplit(".i", 1)[1],
        "public_ip": endpoint.public_ip,
        "tunnels": tunnels,
        "asn": gateway.asn,
        "bgp": any(t["bgp"] for t in tunnels),
        "bgp_ip": endpoint.bgp_ips[0] if endpoint.bgp_ips else endpoint.public_ip,
        "advertised": endpoint.advertised,
        "filtered": filtered,
        "permit_seq": 5 * (len(filtered) + 1),
        "keepalive": timers.keepalive,
        "hold": timers.hold,
        "max_prefixes": AZURE_MAX_PREFIXES,
        # ECMP: an active-active gateway sends toward a site over both its tunnels simultaneously, and a
        # dual-device site over all four (https://learn.microsoft.com/azure/vpn-gateway/about-active-active-gateways,
        # and the FAQ https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp: for one flow
        # "Azure attempts to use the same tunnel", with no guarantee of symmetry). The lab's bgpd therefore
        # installs every equal path; 8 is no Azure figure, only above the most a lab endpoint can have
        # (two devices x two instances = 4 paths per prefix).
        # AS-path prepending: "Azure VPN Gateway honors autonomous system (AS) path prepending ... A shorter
        # AS path is preferred" (same FAQ). The emulation keeps bgpd's ordinary best-path selection (AS-path
        # length compared, no `bgp bestpath as-path ignore`), so a device's prepend (its rendered route map)
        # moves Azure's choice as the FAQ says, and unequal paths are not multipath.
        "max_paths": 8,
    }
    return {
        "swanctl": env.get_template("lab/azure.swanctl.conf.j2").render(view),
        "frr": env.get_template("lab/azure.frr.conf.j2").render(view),
    }

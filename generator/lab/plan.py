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
class Plan:
    name: str
    model: Model
    endpoints: list[Endpoint]
    tunnels: list[LabTunnel]
    mode: str  # libipsec | xfrm


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
) -> Plan:
    """Namespaces, addresses and every configuration file of the lab."""
    faults = dict(faults or {})
    unknown = [k for k in faults if k not in {t.key for t in model.tunnels}]
    if unknown:
        raise ValueError(f"no tunnel {unknown[0]!r}; tunnels: {', '.join(t.key for t in model.tunnels)}")
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
        )
    for gateway in model.gateways:
        for inst in gateway.instances:
            inst_tunnels = [t for t in model.tunnels if t.gateway == gateway.name and t.instance == inst.index]
            if not inst_tunnels:
                continue
            vnet = next(v for v in model.vnets if v.name == gateway.vnet)
            key = f"az:{gateway.name}.i{inst.index}"
            endpoints[key] = Endpoint(
                key=key,
                netns=short(f"{gateway.name}-i{inst.index}"),
                kind="azure",
                title=f"{gateway.name} instance {inst.index}",
                public_ip=str(inst.public_ip),
                outside="eth0",
                bgp_ips=list(dict.fromkeys(str(t.azure_bgp_ip) for t in inst_tunnels if t.azure_bgp_ip)),
                prefixes=list(vnet.address_space),
                peers=sorted({str(t.device_public_ip) for t in inst_tunnels}),
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
    plan = Plan(name, model, list(endpoints.values()), tunnels, mode)
    for endpoint in plan.endpoints:
        if endpoint.kind == "device":
            endpoint.files = rendered.get(endpoint.title) or _emulated_device(plan, endpoint, env, keys)
        else:
            endpoint.files = _azure_files(plan, endpoint, env, keys)
    return plan


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
    }
    return {
        "swanctl": env.get_template("lab/device.swanctl.conf.j2").render(view),
        "frr": env.get_template("lab/device.frr.conf.j2").render(view),
        "interfaces": env.get_template("lab/device.interfaces.sh.j2").render(view),
    }


def _azure_files(plan: Plan, endpoint: Endpoint, env: jinja2.Environment, keys: dict[str, str]) -> dict[str, str]:
    lab_tunnels = [t for t in plan.tunnels if t.azure is endpoint]
    first = lab_tunnels[0].tunnel
    tunnels = []
    for n, lt in enumerate(lab_tunnels, start=1):
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
                "if_id": n if plan.mode == "xfrm" else None,
                "device_public_ip": str(t.device_public_ip),
                "device_ike_id": str(t.device_ike_id),
                "ike": ike,
                "esp": esp,
                "local_ts": list(dict.fromkeys(local_ts)),
                "remote_ts": list(dict.fromkeys(remote_ts)),
                "psk": secrets.token_hex(16) if lt.fault == "psk" else keys[t.psk.parameter],
                "bgp": bgp,
                "azure_bgp_ip": lt.azure_bgp_ip,
                "device_bgp_ip": lt.device_bgp_ip,
                "device_asn": t.device_asn + (1 if lt.fault == "asn" else 0),  # wrong peer AS on Azure's side
                # Azure does not initiate BGP from APIPA addresses (A12). From its GatewaySubnet address it
                # may; the lab still lets the device open the session: with both sides active, FRR 8.4
                # sometimes kept the learned routes invalid after a connection collision (next hop
                # stuck at "Must be Connected").
                "passive": True,
                "apipa": t.apipa,
            }
        )
    view = {
        "gateway": first.gateway,
        "instance": first.instance,
        "public_ip": endpoint.public_ip,
        "tunnels": tunnels,
        "asn": first.azure_asn,
        "bgp": any(t["bgp"] for t in tunnels),
        "bgp_ip": endpoint.bgp_ips[0] if endpoint.bgp_ips else endpoint.public_ip,
        "prefixes": endpoint.prefixes,
    }
    return {
        "swanctl": env.get_template("lab/azure.swanctl.conf.j2").render(view),
        "frr": env.get_template("lab/azure.frr.conf.j2").render(view),
    }

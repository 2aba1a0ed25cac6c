"""Cross-side consistency: the rendered ARM and each rendered device snippet agree, tunnel by tunnel.

Run on every render (pipeline.render_all). It reads the *rendered text* of both sides -- not the
model -- so a template that drifts (a hard-coded algorithm, a wrong neighbour, a swapped key
reference) is caught. Per tunnel it compares: peer public IP, local IKE identity (LNG address),
PSK (key or placeholder of the ARM connection's sharedKey parameter), IKE and ESP algorithms with
DH/PFS (ARM ipsecPolicies, or Azure's default, translated by crypto.py), ASNs, BGP addresses, and
the routes into the tunnel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import crypto, facts
from .model import IpsecPolicy, Model
from .targets.base import OutputFile


@dataclass
class TunnelFacts:
    """What one device file says about one tunnel (normalised per platform)."""

    peer: str = ""
    local_id: str = ""
    psk: str = ""
    ike: Any = None
    esp: Any = None
    routes: set[str] = field(default_factory=set)  # prefixes routed into this tunnel
    neighbors: dict[str, int] = field(default_factory=dict)  # BGP neighbour -> remote AS, via this tunnel


@dataclass
class DeviceFacts:
    tunnels: dict[int, TunnelFacts] = field(default_factory=dict)
    asn: int | None = None
    bgp_source: str | None = None
    neighbors: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- Cisco IOS-XE
def _ios_blocks(text: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("!"):
            continue
        if line[0] != " ":
            current = blocks.setdefault(line.strip(), [])
        elif current is not None and line.strip() != "!":
            current.append(line.strip())
    return blocks


def _first(lines: Iterable[str], prefix: str) -> str:
    return next((line[len(prefix) :].strip() for line in lines if line.startswith(prefix)), "")


def parse_ios(text: str) -> DeviceFacts:
    blocks = _ios_blocks(text)
    device = DeviceFacts()
    proposals = {
        key.split()[-1]: tuple(lines) for key, lines in blocks.items() if key.startswith("crypto ikev2 proposal ")
    }
    offered = tuple(
        proposals.get(line.split()[1])
        for key, lines in blocks.items()
        if key.startswith("crypto ikev2 policy ")
        for line in lines
        if line.startswith("proposal ")
    )
    routes: dict[int, set[str]] = {}
    for key in blocks:
        m = re.match(r"^ip route (\S+) (\S+) Tunnel(\d+)$", key)
        if m:
            prefix = f"{m.group(1)}/{_masklen(m.group(2))}"
            routes.setdefault(int(m.group(3)), set()).add(prefix)
    for key, lines in blocks.items():
        m = re.match(r"^interface Tunnel(\d+)$", key)
        if not m:
            continue
        index = int(m.group(1))
        t = device.tunnels[index] = TunnelFacts(peer=_first(lines, "tunnel destination "))
        ipsec = blocks.get(f"crypto ipsec profile {_first(lines, 'tunnel protection ipsec profile ')}", [])
        transform = _first(blocks, f"crypto ipsec transform-set {_first(ipsec, 'set transform-set ')} ")
        t.esp = (transform, _first(ipsec, "set pfs "))
        t.ike = offered
        profile = blocks.get(f"crypto ikev2 profile {_first(ipsec, 'set ikev2-profile ')}", [])
        t.local_id = _first(profile, "identity local address ")
        remote = _first(profile, "match identity remote address ").split()
        keyring = blocks.get(f"crypto ikev2 keyring {_first(profile, 'keyring local ')}", [])
        if (remote[:1] or [""])[0] != t.peer or _first(keyring, "address ") != t.peer:
            t.peer = f"{t.peer} (profile/keyring disagree)"
        t.psk = _first(keyring, "pre-shared-key ")
        t.routes = routes.get(index, set())
    for key, lines in blocks.items():
        if key.startswith("router bgp "):
            device.asn = int(key.split()[2])
            for line in lines:
                if m := re.match(r"^neighbor (\S+) remote-as (\d+)$", line):
                    device.neighbors[m.group(1)] = int(m.group(2))
                if m := re.match(r"^neighbor \S+ update-source (\S+)$", line):
                    address = _first(blocks.get(f"interface {m.group(1)}", []), "ip address ").split()
                    device.bgp_source = address[0] if address else m.group(1)
    return device


def _masklen(mask: str) -> int:
    return sum(bin(int(part)).count("1") for part in mask.split("."))


# ---------------------------------------------------------------- Junos
def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def parse_junos(text: str) -> DeviceFacts:
    lines = [line.strip()[4:] for line in text.splitlines() if line.startswith("set ")]
    device = DeviceFacts()
    by_head: dict[tuple[str, ...], list[str]] = {}  # lines by their first three words: queries scan one group
    for line in lines:
        by_head.setdefault(tuple(line.split(" ", 3)[:3]), []).append(line)

    def values(prefix: str) -> list[str]:
        words = prefix.split(" ")
        group = by_head.get(tuple(words[:3]), ()) if len(words) > 3 else lines
        return [line[len(prefix) :].strip() for line in group if line.startswith(prefix)]

    def one(prefix: str) -> str:
        found = values(prefix)
        return found[0] if found else ""

    def statements(kind: str, name: str, skip: tuple[str, ...] = ("lifetime-seconds",)) -> tuple[str, ...]:
        return tuple(sorted(v for v in values(f"security {kind} {name} ") if not v.startswith(skip)))

    routes: dict[int, set[str]] = {}
    for value in values("routing-options static route "):
        if m := re.match(r"^(\S+) next-hop st0\.(\d+)$", value):
            routes.setdefault(int(m.group(2)), set()).add(m.group(1))
    vpns = {v.split()[0] for v in values("security ipsec vpn ")}
    for vpn in sorted(vpns):
        bind = one(f"security ipsec vpn {vpn} bind-interface st0.")
        if not bind.isdigit():
            continue
        index = int(bind)
        gateway = one(f"security ipsec vpn {vpn} ike gateway ")
        ipsec_policy = one(f"security ipsec vpn {vpn} ike ipsec-policy ")
        ike_policy = one(f"security ike gateway {gateway} ike-policy ")
        t = device.tunnels[index] = TunnelFacts(
            peer=one(f"security ike gateway {gateway} address "),
            local_id=one(f"security ike gateway {gateway} local-identity inet "),
            psk=_unquote(one(f"security ike policy {ike_policy} pre-shared-key ascii-text ")),
            routes=routes.get(index, set()),
        )
        t.ike = statements("ike proposal", one(f"security ike policy {ike_policy} proposals "))
        t.esp = (
            statements("ipsec proposal", one(f"security ipsec policy {ipsec_policy} proposals ")),
            one(f"security ipsec policy {ipsec_policy} perfect-forward-secrecy keys "),
        )
    asn = one("routing-options autonomous-system ")
    device.asn = int(asn) if asn.isdigit() else None
    device.bgp_source = one("protocols bgp group AZURE local-address ") or None
    for value in values("protocols bgp group AZURE neighbor "):
        if m := re.match(r"^(\S+) peer-as (\d+)$", value):
            device.neighbors[m.group(1)] = int(m.group(2))
    return device


# ---------------------------------------------------------------- strongSwan + FRR
def _swanctl_tree(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.strip().startswith("secret") else raw.strip()
        if not line:
            continue
        if line.endswith("{"):
            child: dict[str, Any] = {}
            stack[-1][line[:-1].strip()] = child
            stack.append(child)
        elif line == "}":
            stack.pop()
        elif "=" in line:
            key, value = line.split("=", 1)
            stack[-1][key.strip()] = value.strip()
    return root


def parse_strongswan(swanctl: str, frr: str) -> DeviceFacts:
    device = DeviceFacts()
    tree = _swanctl_tree(swanctl)
    secrets = {s.get("id-2"): _unquote(s.get("secret", "")) for s in tree.get("secrets", {}).values()}
    routes: dict[int, set[str]] = {}
    for line in frr.splitlines():
        if m := re.match(r"^ip route (\S+) xfrm(\d+)$", line.strip()):
            routes.setdefault(int(m.group(2)), set()).add(m.group(1))
    for conn in tree.get("connections", {}).values():
        index = int(conn.get("if_id_out", "0"))
        children = list(conn.get("children", {}).values())
        t = device.tunnels[index] = TunnelFacts(
            peer=conn.get("remote_addrs", ""),
            local_id=conn.get("local", {}).get("id", ""),
            psk=secrets.get(conn.get("remote_addrs"), ""),
            ike=conn.get("proposals"),
            esp=tuple(sorted({c.get("esp_proposals") for c in children})),
            routes=routes.get(index, set()),
        )
        if conn.get("if_id_in") != conn.get("if_id_out") or conn.get("remote", {}).get("id") != t.peer:
            t.peer = f"{t.peer} (if_id or remote id disagree)"
    for line in frr.splitlines():
        line = line.strip()
        if m := re.match(r"^router bgp (\d+)$", line):
            device.asn = int(m.group(1))
        elif m := re.match(r"^neighbor (\S+) remote-as (\d+)$", line):
            device.neighbors[m.group(1)] = int(m.group(2))
        elif m := re.match(r"^neighbor \S+ update-source (\S+)$", line):
            device.bgp_source = m.group(1)
    return device


# ---------------------------------------------------------------- expectations from ARM
def expected_crypto(platform: str, policy: IpsecPolicy) -> tuple[Any, Any]:
    """(ike, esp) in the normalised form the platform's parser returns."""
    if platform == "cisco_iosxe":
        return tuple(crypto.ios_ike_proposal(policy)), (crypto.ios_transform_set(policy), crypto.ios_pfs(policy))
    if platform == "juniper_srx":
        return tuple(sorted(crypto.junos_ike_proposal(policy))), (
            tuple(sorted(crypto.junos_ipsec_proposal(policy))),
            crypto.junos_pfs(policy),
        )
    return crypto.swan_ike_proposal(policy), (crypto.swan_esp_proposal(policy),)


def _arm_resources(files: list[OutputFile]) -> dict[tuple[str, str, str], dict]:
    """(resource group, short type, name) -> properties; a template's group is its file name."""
    found = {}
    for f in files:
        if f.path.startswith("azure/arm/") and not f.path.endswith(".parameters.json"):
            group = f.path.removeprefix("azure/arm/").removesuffix(".json").removesuffix(".links")
            for resource in json.loads(f.text).get("resources", []):
                found[(group, resource["type"].split("/")[-1], resource["name"])] = resource.get("properties", {})
    return found


def _group_in(expression: str, current: str) -> str:
    """Resource group of an ARM resourceId() expression: its first argument when that is not a type."""
    names = re.findall(r"'([^']*)'", expression)
    return names[0] if names and "/" not in names[0] else current


def _name_in(expression: str) -> str:
    """Last quoted segment of an ARM resourceId() expression."""
    names = re.findall(r"'([^']*)'", expression)
    return names[-1] if names else ""


def _policy(arm_policies: list[dict]) -> IpsecPolicy:
    if not arm_policies:
        return IpsecPolicy(custom=False, **facts.DEFAULT_POLICY)
    p = arm_policies[0]
    return IpsecPolicy(
        ike_encryption=p["ikeEncryption"],
        ike_integrity=p["ikeIntegrity"],
        dh_group=p["dhGroup"],
        ipsec_encryption=p["ipsecEncryption"],
        ipsec_integrity=p["ipsecIntegrity"],
        pfs_group=p["pfsGroup"],
        sa_lifetime_seconds=p["saLifeTimeSeconds"],
        sa_datasize_kilobytes=p["saDataSizeKilobytes"],
        custom=True,
    )


def parse_device(platform: str, files: dict[str, str], stem: str) -> DeviceFacts | None:
    if platform == "cisco_iosxe" and f"{stem}.ios" in files:
        return parse_ios(files[f"{stem}.ios"])
    if platform == "juniper_srx" and f"{stem}.set" in files:
        return parse_junos(files[f"{stem}.set"])
    if platform == "strongswan_frr" and f"{stem}.swanctl.conf" in files:
        return parse_strongswan(files[f"{stem}.swanctl.conf"], files.get(f"{stem}.frr.conf", ""))
    return None


def cross_check(model: Model, files: list[OutputFile], keys: dict[str, str] | None = None) -> list[str]:
    """One line per disagreement between the ARM connection and the device snippet of a tunnel."""
    arm = _arm_resources(files)
    texts = {f.path: f.text for f in files}
    if not arm or not any(p.startswith("onprem/") for p in texts):
        return []  # one side was not rendered (target selection): nothing to compare
    secrets = {s.parameter: s for s in model.secrets}
    groups = {c.name: c.resource_group for c in model.connections}
    problems: list[str] = []
    for device in model.devices:
        stem = f"onprem/{device.site}/{device.name}"
        facts_ = parse_device(device.platform, texts, stem)
        if facts_ is None:
            continue

        def differ(what: str, arm_value: Any, device_value: Any, where: str, stem: str = stem) -> None:
            if arm_value != device_value:
                problems.append(f"{stem}: {where}: {what}: Azure side {arm_value!r}, device {device_value!r}")

        for t in model.device_tunnels.get(device.name, ()):
            where = f"tunnel {t.device_index} ({t.connection} instance {t.instance})"
            group = groups[t.connection]
            conn = arm.get((group, "connections", t.connection))
            if conn is None:
                problems.append(f"{stem}: {where}: no ARM connection {t.connection}")
                continue
            lng_id, gateway_id = conn["localNetworkGateway2"]["id"], conn["virtualNetworkGateway1"]["id"]
            lng = arm.get((_group_in(lng_id, group), "localNetworkGateways", _name_in(lng_id)), {})
            gateway_name = _name_in(gateway_id)
            gateway = arm.get((_group_in(gateway_id, group), "virtualNetworkGateways", gateway_name))
            got = facts_.tunnels.get(t.device_index)
            if got is None:
                problems.append(f"{stem}: {where}: the device has no tunnel {t.device_index}")
                continue
            instances = model_instances(model, gateway_name)
            peer = str(instances[t.instance].public_ip) if t.instance < len(instances) else "?"
            differ("peer public IP", peer, got.peer, where)
            differ("local IKE identity (LNG gatewayIpAddress)", lng.get("gatewayIpAddress"), got.local_id, where)
            parameter = re.sub(r"^\[parameters\('(.*)'\)\]$", r"\1", conn["sharedKey"])
            ref = secrets.get(parameter)
            want_psk = (keys or {}).get(parameter, ref.placeholder if ref else f"<unknown parameter {parameter}>")
            if want_psk != got.psk:
                problems.append(f"{stem}: {where}: pre-shared key is not the one of ARM parameter {parameter}")
            ike, esp = expected_crypto(device.platform, _policy(conn.get("ipsecPolicies", [])))
            if device.platform == "cisco_iosxe":
                if ike not in (got.ike or ()):
                    problems.append(f"{stem}: {where}: IKE proposal {ike!r} is not offered by the device ({got.ike!r})")
            else:
                differ("IKE proposal", ike, got.ike, where)
            differ("ESP proposal / PFS", esp, got.esp, where)
            if conn.get("enableBgp"):
                custom = {
                    _ipconfig_index(c["ipConfigurationId"]): c["customBgpIpAddress"]
                    for c in conn.get("gatewayCustomBgpIpAddresses", [])
                }
                azure_bgp = custom.get(t.instance) or (str(t.azure_bgp_ip) if t.azure_bgp_ip else "?")
                azure_asn = (gateway or {}).get("bgpSettings", {}).get("asn", t.azure_asn)
                settings = lng.get("bgpSettings", {})
                differ("device ASN (LNG bgpSettings.asn)", settings.get("asn"), facts_.asn, where)
                differ(
                    "BGP source (LNG bgpPeeringAddress)", settings.get("bgpPeeringAddress"), facts_.bgp_source, where
                )
                differ(f"BGP neighbour {azure_bgp} remote AS", azure_asn, facts_.neighbors.get(azure_bgp), where)
                differ("routes into the tunnel", {f"{azure_bgp}/32"}, got.routes, where)
            else:
                differ("routes into the tunnel", {str(p) for p in t.remote_prefixes}, got.routes, where)
    return problems


def _ipconfig_index(expression: str) -> int:
    m = re.search(r"'ipconfig(\d+)'", expression)
    return int(m.group(1)) - 1 if m else -1


def model_instances(model: Model, gateway: str):
    """Gateway instances by name: the public IPs are Azure-assigned, known only from the state file."""
    return next((gw.instances for gw in model.gateways if gw.name == gateway), ())

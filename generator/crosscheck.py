"""Cross-side consistency: the rendered ARM and each rendered device snippet agree, tunnel by tunnel.

Run on every render (pipeline.render_all). It reads the *rendered text* of both sides -- not the
model -- so a template that drifts (a hard-coded algorithm, a wrong neighbour, a swapped key
reference) is caught. Per tunnel it compares: peer public IP, local IKE identity (LNG address),
PSK (key or placeholder of the ARM connection's sharedKey parameter), IKE and ESP algorithms with
DH/PFS (ARM ipsecPolicies, or Azure's default, translated by the device's platform), ASNs, BGP
addresses, and the routes into the tunnel. Each platform reads its own files back
(`Platform.parse` in generator/platforms/).
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import facts
from .model import IpsecPolicy, Model
from .paths import device_stem
from .platforms import PLATFORMS
from .targets.base import OutputFile


def _arm_resources(files: list[OutputFile]) -> dict[tuple[str, str, str], dict]:
    """(resource group, short type, name) -> properties; a template's group is its file name."""
    found = {}
    for f in files:
        if f.path.startswith("azure/arm/") and not f.path.endswith(".parameters.json"):
            group = (
                f.path.removeprefix("azure/arm/").removesuffix(".json").removesuffix(".links").removesuffix(".transit")
            )
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
        platform = PLATFORMS[device.platform]
        stem = device_stem(device)
        facts_ = platform.parse(texts, stem)
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
            if "fqdn" in lng:  # a device given by DNS name identifies itself with that name
                differ("local IKE identity (LNG fqdn)", lng["fqdn"], got.local_id, where)
            else:
                differ("local IKE identity (LNG gatewayIpAddress)", lng.get("gatewayIpAddress"), got.local_id, where)
            parameter = re.sub(r"^\[parameters\('(.*)'\)\]$", r"\1", conn["sharedKey"])
            ref = secrets.get(parameter)
            want_psk = (keys or {}).get(parameter, ref.placeholder if ref else f"<unknown parameter {parameter}>")
            if want_psk != got.psk:
                problems.append(f"{stem}: {where}: pre-shared key is not the one of ARM parameter {parameter}")
            ike, esp = platform.expected_crypto(_policy(conn.get("ipsecPolicies", [])))
            if not platform.offers_ike(ike, got.ike):
                problems.append(f"{stem}: {where}: IKE proposal {ike!r} is not offered by the device ({got.ike!r})")
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
        problems.extend(route_policy_problems(model, device.name, facts_, stem))
    return problems


def route_policy_problems(model: Model, device: str, found, stem: str) -> list[str]:
    """The device file's filters, prefix limit, prepend/local-preference and hold time per Azure
    neighbour against the model's RoutePolicy (generator/routing.py)."""
    policy = model.route_policies.get(device)
    problems: list[str] = []
    for t in model.device_tunnels.get(device, ()):
        if not t.bgp or policy is None:
            continue
        neighbor = str(t.azure_bgp_ip)
        got = found.policies.get(neighbor)
        where = f"{stem}: BGP neighbour {neighbor} (tunnel {t.device_index})"
        if got is None:
            problems.append(f"{where}: no route policy (inbound/outbound filter, maximum-prefix)")
            continue
        want = {
            "inbound filter": {str(p) for p in policy.inbound},
            "outbound filter": {str(p) for p in policy.outbound},
            "inbound maximum-prefix": policy.max_prefix,
            "AS-path prepend": policy.prepend,
            "local-preference": policy.local_preference,
            "hold time": policy.hold,
        }
        have = {
            "inbound filter": got.inbound,
            "outbound filter": got.outbound,
            "inbound maximum-prefix": got.max_prefix,
            "AS-path prepend": got.prepend,
            "local-preference": got.local_preference,
            "hold time": got.hold,
        }
        for what, value in want.items():
            if have[what] != value:
                problems.append(f"{where}: {what}: model {_show(value)}, device {_show(have[what])}")
    return problems


def _show(value: Any) -> str:
    return repr(sorted(value)) if isinstance(value, set) else repr(value)


def _ipconfig_index(expression: str) -> int:
    m = re.search(r"'ipconfig(\d+)'", expression)
    return int(m.group(1)) - 1 if m else -1


def model_instances(model: Model, gateway: str):
    """Gateway instances by name: the public IPs are Azure-assigned, known only from the state file."""
    return next((gw.instances for gw in model.gateways if gw.name == gateway), ())

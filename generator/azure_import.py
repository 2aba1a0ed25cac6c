"""Map what Azure prints (generator/azure_read.resources) to an inventory: `gen import`.

VNets and subnets, VPN gateways (SKU, generation, active-active, ASN, custom APIPA), local network
gateways and site-to-site connections (sites and devices), VNet-to-VNet connections (links),
peerings and internal load balancers. Local network gateways are grouped into one site per BGP ASN
and set of connections (every device of a site gets the site's connections in gen), else one site
each. Real names are kept in the inventory's name fields when they differ from gen's defaults
(generator/naming.py). Keys are never imported: each connection gets a reference `{env: NAME}`.
Whatever cannot be mapped is listed with its resource and the reason, and left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from . import facts, naming
from .azure_read import Node, Param, Resource, parse_id, read_json, resources
from .errors import GenError, format_path
from .platforms import PLATFORMS
from .schema import UNFILLED_PLATFORM as UNKNOWN_PLATFORM

VNET = "microsoft.network/virtualnetworks"
SUBNET = "microsoft.network/virtualnetworks/subnets"
PEERING = "microsoft.network/virtualnetworks/virtualnetworkpeerings"
GATEWAY = "microsoft.network/virtualnetworkgateways"
LNG = "microsoft.network/localnetworkgateways"
CONNECTION = "microsoft.network/connections"
LB = "microsoft.network/loadbalancers"
PIP = "microsoft.network/publicipaddresses"
MAPPED = {VNET, SUBNET, PEERING, GATEWAY, LNG, CONNECTION, LB, PIP}
_POLICY = (  # inventory key, Azure member
    ("ike_encryption", "ikeEncryption"),
    ("ike_integrity", "ikeIntegrity"),
    ("dh_group", "dhGroup"),
    ("ipsec_encryption", "ipsecEncryption"),
    ("ipsec_integrity", "ipsecIntegrity"),
    ("pfs_group", "pfsGroup"),
    ("sa_lifetime_seconds", "saLifeTimeSeconds"),
    ("sa_datasize_kilobytes", "saDataSizeKilobytes"),
)
_ENV_REF = re.compile(r"inventory reference (env|file):(\S+?)\)?\.?(?:\s|$)")


@dataclass
class Imported:
    inventory: dict[str, Any]
    comments: dict[tuple, str] = field(default_factory=dict)  # inventory path -> end-of-line comment
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (resource, why)
    keys: list[str] = field(default_factory=list)  # environment variables the key references name
    state: dict[str, Any] = field(default_factory=dict)  # gen's state document for existing gateways


def read_files(files: Iterable[Path]) -> list[Resource]:
    """Every resource of the files; GenError with every problem (rules import-*)."""
    found: list[Resource] = []
    problems: list[str] = []
    for file in files:
        parsed = read_json(file, "import")
        items, errors = resources(parsed, str(file))
        found += items
        problems += errors
    if problems:
        raise GenError(problems)
    return found


def _at(res: Resource, node: Node | None) -> str:
    path = node.path if node is not None else res.node.path
    line, column = res.parsed.at(path) if res.parsed else (1, 1)
    return f"{res.file}:{line}:{column}: {format_path(path)}"


def _ipv4(value: Any) -> str | None:
    try:
        return str(IPv4Address(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _prefixes(node: Node | None) -> list[str]:
    if node is None:
        return []
    values = node.val("addressPrefixes") or []
    return [str(IPv4Network(v)) for v in values if isinstance(v, str)]


class _Index:
    """Resources by (type, name), resource group kept to tell same-named ones apart."""

    def __init__(self, items: list[Resource]):
        self.by_key: dict[tuple[str, str], list[Resource]] = {}
        for res in items:
            self.by_key.setdefault((res.kind, res.name.lower()), []).append(res)

    def find(self, rid: Any) -> Resource | None:
        if isinstance(rid, Param) or not isinstance(rid, str):
            return None
        rg, kind, names = parse_id(rid)
        if kind is None:
            return None
        if kind in (SUBNET,):
            kind, names = VNET, names[:1]
        if kind.startswith(GATEWAY + "/"):
            kind, names = GATEWAY, names[:1]
        candidates = self.by_key.get((kind, "/".join(names).lower()), [])
        for res in candidates:
            if rg is None or res.resource_group is None or res.resource_group.lower() == rg.lower():
                return res
        return None


class Importer:
    def __init__(self, items: list[Resource], name: str, as_new: bool):
        self.items = items
        self.index = _Index(items)
        self.as_new = as_new
        self.out = Imported({"name": name})
        self.errors: list[str] = []
        self.vnets: dict[int, dict[str, Any]] = {}  # id(resource) -> inventory VNet
        self.vnet_of_gateway: dict[int, Resource] = {}
        self.devices: dict[int, dict[str, Any]] = {}  # id(LNG resource) -> device
        self.used: set[int] = set()  # public IPs and child resources consumed by another resource
        self.device_names: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def skip(self, res: Resource, why: str) -> None:
        """List what is not imported: the resource id (type and name where a template has none), why."""
        rid = res.node.val("id")
        where = rid if isinstance(rid, str) and rid.startswith("/subscriptions/") else f"{res.type} {res.where}"
        if (where, why) not in self.out.unmapped:
            self.out.unmapped.append((where, why))

    def dangling(self, res: Resource, node: Node | None, what: str, rid: Any) -> None:
        rg, kind, names = parse_id(rid) if isinstance(rid, str) else (None, None, ())
        if kind == SUBNET and len(names) == 2:
            target = f"{names[0]} (its subnet {names[1]}; resource group {rg})"
        else:
            target = f"{'/'.join(names) or rid} (resource group {rg})" if names else str(rid)
        self.errors.append(
            f"{_at(res, node)}: {res.type} '{res.name}' refers to {what} {target}, which is in none of the "
            f"files; add its JSON (e.g. `az resource show --ids ID`) or leave this resource out (rule import-dangling-reference)"
        )

    def of(self, kind: str) -> list[Resource]:
        return [r for r in self.items if r.kind == kind]

    # ------------------------------------------------------------------ run
    def run(self) -> Imported:
        for res in self.items:
            if res.kind not in MAPPED:
                close = [t for t in MAPPED if res.kind.startswith("microsoft.network/") and _close(res.kind, t)]
                if close:
                    self.errors.append(
                        f"{_at(res, res.node.get('type'))}: unknown resource type '{res.type}'; did you mean "
                        f"'{_canonical(close[0])}'? (rule import-unknown-type)"
                    )
                else:
                    self.skip(res, "resource type not managed by gen")
        self.map_vnets()
        self.map_gateways()
        lng_sites = self.map_sites()
        self.map_connections(lng_sites)
        self.map_links()
        self.map_peerings()
        self.map_load_balancers()
        for res in self.of(PIP):
            if id(res) not in self.used:
                self.skip(res, "a public IP that no imported gateway uses")
        if self.errors:
            raise GenError(self.errors)
        onprem = self.out.inventory.get("onprem", {})
        if not onprem.get("sites"):
            self.out.inventory.pop("onprem", None)
        return self.out

    # ------------------------------------------------------------------ VNets
    def map_vnets(self) -> None:
        children: dict[str, list[Resource]] = {}
        for sub in self.of(SUBNET):
            children.setdefault(sub.name.split("/")[0].lower(), []).append(sub)
        vnets = self.out.inventory.setdefault("azure", {}).setdefault("vnets", [])
        for res in self.of(VNET):
            subnets = []
            seen = set()
            for sub in res.body.items("subnets") + [
                Node(s.node.value, s.node.path, s.template) for s in children.get(res.name.lower(), [])
            ]:
                name = sub.val("name")
                name = name.split("/")[-1] if isinstance(name, str) else name
                body = sub.get("properties") or sub
                prefix = body.val("addressPrefix")
                if isinstance(prefix, list):  # Get-AzVirtualNetwork prints a list
                    prefix = prefix[0] if prefix else None
                if prefix is None and body.val("addressPrefixes"):
                    prefix = body.val("addressPrefixes")[0]
                if name in seen or not isinstance(name, str) or not isinstance(prefix, str):
                    continue
                seen.add(name)
                subnets.append({"name": name, "prefix": str(IPv4Network(prefix))})
                for extra in ("networkSecurityGroup", "routeTable", "natGateway"):
                    if body.get(extra) is not None and body.val(extra):
                        self.skip(res, f"subnet '{name}': {extra} is not managed by gen (not imported)")
                if body.val("delegations"):
                    self.skip(res, f"subnet '{name}': delegations are not managed by gen (not imported)")
            for sub in children.get(res.name.lower(), []):
                self.used.add(id(sub))
            if not subnets:
                self.skip(res, "a VNet without subnets (gen's VNets have at least one)")
                continue
            vnet: dict[str, Any] = {
                "name": res.name,
                "resource_group": res.resource_group,
                "region": res.location,
            }
            if not self.as_new:
                vnet["existing"] = True
            vnet["address_space"] = _prefixes(res.body.get("addressSpace"))
            vnet["subnets"] = subnets
            vnets.append(vnet)
            self.vnets[id(res)] = vnet
        for sub in self.of(SUBNET):
            if id(sub) not in self.used:
                self.dangling(sub, None, "virtual network", sub.name.split("/")[0])

    def vnet_entry(self, res: Resource | None) -> dict[str, Any] | None:
        return self.vnets.get(id(res)) if res is not None else None

    # ------------------------------------------------------------------ gateways
    def map_gateways(self) -> None:
        for res in self.of(GATEWAY):
            configs = res.body.items("ipConfigurations")
            if not configs:
                self.skip(res, "a gateway without IP configurations")
                continue
            subnet_node = (configs[0].get("properties") or configs[0]).get("subnet")
            subnet_id = subnet_node.val("id") if subnet_node else None
            vnet_res = self.index.find(subnet_id)
            if vnet_res is None:
                self.dangling(res, subnet_node, "virtual network", subnet_id)
                continue
            vnet = self.vnet_entry(vnet_res)
            if vnet is None:
                self.skip(res, f"its VNet '{vnet_res.name}' is not imported")
                continue
            why = self.gateway_refusal(res)
            if why:
                self.skip(res, why)
                continue
            sku = (res.body.get("sku") or Node({}, ())).val("name")
            gateway: dict[str, Any] = {}
            if res.name != naming.gateway(vnet["name"]):
                gateway["name"] = res.name
            gateway["sku"] = sku
            generation = res.body.val("vpnGatewayGeneration")
            if generation in ("Generation1", "Generation2") and generation != facts.default_generation(sku):
                gateway["generation"] = generation
            active = bool(res.body.val("activeActive", False))
            if active:
                gateway["active_active"] = True
            names = []
            for i, cfg in enumerate(configs[: 2 if active else 1]):
                body = cfg.get("properties") or cfg
                pip_id = body.ref("publicIPAddress")
                pip_name = parse_id(pip_id)[2][-1] if isinstance(pip_id, str) and parse_id(pip_id)[2] else None
                names.append(
                    {"ip_configuration": cfg.val("name"), "public_ip": pip_name or naming.public_ip(res.name, i)}
                )
                if (pip := self.index.find(pip_id)) is not None:
                    self.used.add(id(pip))
            if any(
                n["ip_configuration"] != naming.ipconfig(i) or n["public_ip"] != naming.public_ip(res.name, i)
                for i, n in enumerate(names)
            ):
                gateway["instance_names"] = names
            settings = res.body.get("bgpSettings")
            apipa = self.custom_apipa(res, configs)
            if res.body.val("enableBgp") and settings is not None:
                bgp: dict[str, Any] = {"asn": settings.val("asn")}
                if apipa:
                    bgp["apipa_addresses"] = apipa
                gateway["bgp"] = bgp
            elif apipa:
                self.skip(res, "custom APIPA addresses on a gateway without BGP (not imported)")
            for member, why in (
                ("natRules", "NAT rules are not managed by gen"),
                ("vpnClientConfiguration", "point-to-site configuration is not managed by gen"),
                ("customRoutes", "custom routes are not managed by gen"),
            ):
                value = res.body.val(member)
                if value and (not isinstance(value, dict) or any(value.values())):
                    self.skip(res, f"{why} (not imported; gen never removes them from an existing gateway)")
            vnet["gateway"] = gateway
            self.vnet_of_gateway[id(res)] = vnet_res
            self.state_of(res, configs)

    @staticmethod
    def gateway_refusal(res: Resource) -> str | None:
        kind = res.body.val("gatewayType")
        if isinstance(kind, str) and kind.lower() != "vpn":
            return f"gateway type '{kind}': gen manages VPN gateways only"
        vpn = res.body.val("vpnType")
        if isinstance(vpn, str) and vpn.lower() != "routebased":
            return f"VPN type '{vpn}': gen manages route-based gateways only"
        sku = (res.body.get("sku") or Node({}, ())).val("name")
        if sku not in facts.GATEWAY_SKUS:
            return f"SKU {sku!r} is not one gen knows ({', '.join(facts.GATEWAY_SKUS)})"
        return None

    def custom_apipa(self, res: Resource, configs: list[Node]) -> list[list[str]]:
        settings = res.body.get("bgpSettings")
        by_config: dict[str, list[str]] = {}
        for entry in settings.items("bgpPeeringAddresses") if settings else []:
            cid = entry.val("ipconfigurationId")
            if isinstance(cid, str):
                by_config[cid.rstrip("/").rsplit("/", 1)[-1].lower()] = list(entry.val("customBgpIpAddresses") or [])
        lists = [by_config.get(str(cfg.val("name")).lower(), []) for cfg in configs]
        while lists and not lists[-1]:
            lists.pop()
        return lists if lists and all(lists) else []

    def state_of(self, res: Resource, configs: list[Node]) -> None:
        """Public IPs and default BGP addresses Azure printed, for the state file (existing gateways)."""
        if self.as_new:
            return
        settings = res.body.get("bgpSettings")
        peering = {}
        for entry in settings.items("bgpPeeringAddresses") if settings else []:
            cid = entry.val("ipconfigurationId")
            if isinstance(cid, str):
                peering[cid.rstrip("/").rsplit("/", 1)[-1].lower()] = entry
        instances = []
        for cfg in configs[: 2 if res.body.val("activeActive") else 1]:
            entry = peering.get(str(cfg.val("name")).lower())
            public = _ipv4((entry.val("tunnelIpAddresses") or [None])[0]) if entry else None
            if public is None:
                pip = self.index.find((cfg.get("properties") or cfg).ref("publicIPAddress"))
                public = _ipv4(pip.body.val("ipAddress")) if pip else None
            if public is None:
                return
            inst: dict[str, Any] = {"public_ip": public}
            defaults = [a for a in (entry.val("defaultBgpIpAddresses") or []) if _ipv4(a)] if entry else []
            if defaults:
                inst["bgp_ips"] = defaults
            instances.append(inst)
        gateways = self.out.state.setdefault("gateways", {})
        asn = settings.val("asn") if settings else None
        gateways[res.name] = {
            "resource_group": res.resource_group,
            **({"asn": asn} if asn else {}),
            "instances": instances,
        }

    # ------------------------------------------------------------------ sites and connections
    def s2s(self) -> list[tuple[Resource, Resource, Resource]]:
        """(connection, gateway, LNG) of every site-to-site connection gen can import."""
        result = []
        for res in self.of(CONNECTION):
            kind = str(res.body.val("connectionType", "")).lower()
            if kind not in ("ipsec", "vnet2vnet"):
                self.skip(
                    res,
                    f"connection type {res.body.val('connectionType')!r}: gen manages IPsec and Vnet2Vnet connections",
                )
            if kind != "ipsec":
                continue
            gw_node, lng_node = res.body.get("virtualNetworkGateway1"), res.body.get("localNetworkGateway2")
            gw, lng = (
                self.index.find(res.body.ref("virtualNetworkGateway1")),
                self.index.find(res.body.ref("localNetworkGateway2")),
            )
            if gw is None:
                self.dangling(res, gw_node, "virtual network gateway", res.body.ref("virtualNetworkGateway1"))
                continue
            if lng is None:
                self.dangling(res, lng_node, "local network gateway", res.body.ref("localNetworkGateway2"))
                continue
            if id(gw) not in self.vnet_of_gateway:
                self.skip(res, f"its gateway '{gw.name}' is not imported")
                continue
            result.append((res, gw, lng))
        return result

    def settings(self, res: Resource) -> dict[str, Any]:
        """The connection's inventory settings other than site, VNet and key (defaults left out)."""
        b = res.body
        out: dict[str, Any] = {}
        if b.val("enableBgp") is False and self.vnet_of_gateway and self.gateway_has_bgp(res):
            out["bgp"] = False
        elif b.val("enableBgp") is True and not self.gateway_has_bgp(res):
            out["bgp"] = True
        protocol = b.val("connectionProtocol")
        if protocol == "IKEv1":
            out["ike_version"] = "IKEv1"
        dpd = b.val("dpdTimeoutSeconds")
        if isinstance(dpd, int) and dpd and dpd != facts.DEFAULT_DPD_TIMEOUT_SECONDS:
            out["dpd_timeout_seconds"] = dpd
        mode = b.val("connectionMode")
        if mode in ("InitiatorOnly", "ResponderOnly"):
            out["connection_mode"] = mode
        if b.val("usePolicyBasedTrafficSelectors"):
            out["policy_based_traffic_selectors"] = True
        policies = b.items("ipsecPolicies")
        if policies:
            out["ipsec_policy"] = {
                key: p.plain() for key, member in _POLICY if (p := policies[0].get(member)) is not None
            }
        return out

    def gateway_has_bgp(self, res: Resource) -> bool:
        gw = self.index.find(res.body.ref("virtualNetworkGateway1"))
        return bool(gw is not None and gw.body.val("enableBgp"))

    def notes(self, res: Resource) -> None:
        b = res.body
        if len(b.items("ipsecPolicies")) > 1:
            self.skip(res, "more than one IPsec policy: gen keeps the first")
        for member, why in (
            ("ingressNatRules", "NAT rules are not managed by gen"),
            ("egressNatRules", "NAT rules are not managed by gen"),
            ("trafficSelectorPolicies", "traffic selector policies are not managed by gen"),
        ):
            if b.val(member):
                self.skip(res, f"{why} (not imported)")
        custom = b.items("gatewayCustomBgpIpAddresses")
        if custom and not b.val("enableBgp"):
            self.skip(res, "custom BGP addresses on a connection without BGP are not managed by gen (not imported)")
        elif custom:
            self.skip(
                res,
                "custom BGP addresses: gen derives them from the gateway's apipa_addresses and the device's APIPA bgp_ip",
            )
        if b.val("connectionProtocol") == "IKEv1":
            self.skip(res, "IKEv1: imported, but gen's device snippets are IKEv2 only (rule onprem-ike-version)")
        if b.val("useLocalAzureIpAddress"):
            self.skip(res, "useLocalAzureIpAddress (private IP) is not managed by gen (not imported)")

    def map_sites(self) -> dict[int, str]:
        """Sites from the local network gateways that connections use; LNG resource id -> site name."""
        conns = self.s2s()
        self._s2s = conns
        plans: dict[int, set] = {}
        for res, gw, lng in conns:
            key = (self.vnet_of_gateway[id(gw)].name, tuple(sorted(self.settings(res).items(), key=str)))
            plans.setdefault(id(lng), set()).add(repr(key))
        groups: dict[tuple, list[Resource]] = {}
        seen: dict[tuple, Resource] = {}
        alias: dict[int, Resource] = {}  # LNG -> the same device's first LNG
        for res in self.of(LNG):
            if id(res) not in plans:
                self.skip(res, "no imported connection uses it (gen creates local network gateways for connections)")
                continue
            address = res.body.val("gatewayIpAddress")
            if _ipv4(address) is None:
                why = "an FQDN" if res.body.val("fqdn") else f"{address!r}"
                self.skip(res, f"gateway address is {why}, not an IPv4 address gen can use")
                plans.pop(id(res))
                continue
            settings = res.body.get("bgpSettings")
            asn = settings.val("asn") if settings else None
            same = (res.name.lower(), address, asn)
            if same in seen:  # one device, one LNG per resource group it connects to
                alias[id(res)] = seen[same]
                groups[next(k for k, v in groups.items() if seen[same] in v)].append(res)
                continue
            seen[same] = res
            group = (asn, frozenset(plans[id(res)])) if asn else ("lng", res.name.lower())
            groups.setdefault(group, []).append(res)
        sites = self.out.inventory.setdefault("onprem", {}).setdefault("sites", [])
        site_of: dict[int, str] = {}
        used_names: set[str] = set()
        for (asn, _), members in groups.items():
            unique = [m for m in members if id(m) not in alias]
            device_names = [self.device_name(m) for m in unique]
            site_name = self.site_name(unique, device_names, asn if isinstance(asn, int) else None, used_names)
            used_names.add(site_name.lower())
            index = len(sites)
            site: dict[str, Any] = {"name": site_name}
            if isinstance(asn, int):
                site["asn"] = asn
            prefixes: list[str] = []
            devices = []
            for j, (lng, dname) in enumerate(zip(unique, device_names, strict=True)):
                for p in _prefixes(lng.body.get("localNetworkAddressSpace")):
                    if p not in prefixes:
                        prefixes.append(p)
                settings = lng.body.get("bgpSettings")
                device: dict[str, Any] = {
                    "name": dname,
                    "platform": UNKNOWN_PLATFORM,
                    "public_ip": lng.body.val("gatewayIpAddress"),
                }
                self.out.comments[("onprem", "sites", index, "devices", j, "platform")] = (
                    f"FILL IN: {' or '.join(PLATFORMS)} (Azure does not record the device)"
                )
                bgp_ip = settings.val("bgpPeeringAddress") if settings else None
                if bgp_ip:
                    device["bgp_ip"] = bgp_ip
                if lng.name != naming.local_gateway(site_name, dname):
                    device["local_gateway_name"] = lng.name
                devices.append(device)
                self.devices[id(lng)] = device
            if not prefixes:
                prefixes = [f"{d['bgp_ip']}/32" for d in devices if "bgp_ip" in d]
                self.out.comments[("onprem", "sites", index, "prefixes")] = (
                    "CHECK: Azure holds no prefixes for a BGP site; these are its BGP addresses, "
                    "give the prefixes the site advertises"
                )
            site["prefixes"] = prefixes
            site["devices"] = devices
            sites.append(site)
            for m in members:
                site_of[id(m)] = site_name
        for key, first in alias.items():
            self.devices[key] = self.devices[id(first)]
        return site_of

    def device_name(self, lng: Resource) -> str:
        """From gen's connection name cn-<vnet>-<device>, else from the LNG's name."""
        for res, gw, other in self._s2s:
            if other is lng:
                prefix = f"cn-{self.vnet_of_gateway[id(gw)].name}-"
                name = res.name[len(prefix) :]
                if res.name.startswith(prefix) and _DEVICE.match(name) and name.lower() not in self.device_names:
                    self.device_names.add(name.lower())
                    return name
        name = lng.name.removeprefix("lng-")
        name = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")[:44].strip("-") or "device"
        base, n = name, 2
        while name.lower() in self.device_names:  # device names are unique in an inventory
            name, n = f"{base}-{n}", n + 1
        self.device_names.add(name.lower())
        return name

    @staticmethod
    def site_name(lngs: list[Resource], devices: list[str], asn: int | None, used: set[str]) -> str:
        names = {
            lng.name.removesuffix(f"-{d}").removeprefix("lng-")
            for lng, d in zip(lngs, devices, strict=True)
            if lng.name.startswith("lng-") and lng.name.endswith(f"-{d}")
        }
        if len(names) == 1 and _SLUG.match(next(iter(names))):
            name = next(iter(names))
        elif asn is not None:
            name = f"site-{asn}"
        else:
            name = devices[0]
        base, n = name, 2
        while name.lower() in used:
            name, n = f"{base}-{n}", n + 1
        return name

    def map_connections(self, site_of: dict[int, str]) -> None:
        connections = self.out.inventory.setdefault("onprem", {}).setdefault("connections", [])
        by_pair: dict[tuple[str, str], dict[str, Any]] = {}
        for res, gw, lng in self._s2s:
            if id(lng) not in site_of:
                self.skip(res, f"its local network gateway '{lng.name}' is not imported")
                continue
            vnet = self.vnet_entry(self.vnet_of_gateway[id(gw)])
            site, device = site_of[id(lng)], self.devices[id(lng)]["name"]
            self.notes(res)
            entry = by_pair.get((site, vnet["name"]))
            if entry is None:
                entry = {"site": site, "vnet": vnet["name"], "psk": self.key(res, f"{site}_{vnet['name']}")}
                entry.update(self.settings(res))
                by_pair[(site, vnet["name"])] = entry
                connections.append(entry)
            if res.name != naming.site_connection(vnet["name"], device):
                entry.setdefault("connection_names", {})[device] = res.name

    def key(self, res: Resource, fallback: str) -> dict[str, str]:
        """The key reference: gen's own (from its parameter's description), else a new env name."""
        shared = res.body.get("sharedKey")
        if shared is not None and res.template is not None:
            value = shared.plain()
            if isinstance(value, Param):
                found = _ENV_REF.search(res.template.parameter_description(value.name))
                if found:
                    ref = {found.group(1): found.group(2)}
                    if found.group(1) == "env" and found.group(2) not in self.out.keys:
                        self.out.keys.append(found.group(2))
                    return ref
        name = "GEN_PSK_" + re.sub(r"[^A-Z0-9]+", "_", fallback.upper()).strip("_")
        if name not in self.out.keys:
            self.out.keys.append(name)
        return {"env": name}

    # ------------------------------------------------------------------ VNet-to-VNet
    def map_links(self) -> None:
        sides: dict[frozenset, list[tuple[Resource, str, str]]] = {}
        hints: dict[str, list[str]] = {}  # local VNet -> its remote VNets in the order of the files
        for res in self.of(CONNECTION):
            if str(res.body.val("connectionType", "")).lower() != "vnet2vnet":
                continue
            ends = []
            for member in ("virtualNetworkGateway1", "virtualNetworkGateway2"):
                gw = self.index.find(res.body.ref(member))
                if gw is None:
                    self.dangling(res, res.body.get(member), "virtual network gateway", res.body.ref(member))
                    break
                ends.append(gw)
            if len(ends) < 2:
                continue
            if any(id(g) not in self.vnet_of_gateway for g in ends):
                self.skip(res, "one of its gateways is not imported")
                continue
            local, remote = (self.vnet_of_gateway[id(g)].name for g in ends)
            sides.setdefault(frozenset((local, remote)), []).append((res, local, remote))
            hints.setdefault(local, []).append(remote)
        links = []
        for _pair, found in sides.items():
            res, local, remote = found[0]
            entry: dict[str, Any] = {"pair": [local, remote], "psk": self.key(res, f"{local}_{remote}")}
            both = all(
                bool(self.index.find(res.body.ref(m)).body.val("enableBgp"))
                for m in ("virtualNetworkGateway1", "virtualNetworkGateway2")
            )
            if isinstance(res.body.val("enableBgp"), bool) and res.body.val("enableBgp") != both:
                entry["bgp"] = res.body.val("enableBgp")
            policies = res.body.items("ipsecPolicies")
            if policies:
                entry["ipsec_policy"] = {
                    key: p.plain() for key, member in _POLICY if (p := policies[0].get(member)) is not None
                }
            names = {}
            for r, lo, rem in found:
                if r.name != naming.vnet_link(lo, rem):
                    names[lo] = r.name
            if names:
                entry["connection_names"] = names
            if len(found) == 1:
                self.skip(
                    res, f"only one direction of the link exists; rendering creates '{naming.vnet_link(remote, local)}'"
                )
            links.append(entry)
        if links:
            self.out.inventory["azure"]["vnet_links"] = _meshes(links, list(hints.values()))

    # ------------------------------------------------------------------ peerings
    def map_peerings(self) -> None:
        found: dict[frozenset, list[tuple[Resource | None, Node, str, str]]] = {}
        for res in self.of(VNET):
            for node in res.body.items("virtualNetworkPeerings"):
                self.peering(found, res, node, res.name)
        for res in self.of(PEERING):
            self.peering(
                found,
                res,
                res.node,
                res.name.split("/")[0]
                if "/" in res.name
                else parse_id(res.node.val("id") or "")[2][:1][0]
                if parse_id(res.node.val("id") or "")[2]
                else "?",
            )
        peerings = []
        for _pair, sides in found.items():
            res, node, local, remote = sides[0]
            body = node.get("properties") or node
            entry: dict[str, Any] = {"vnets": [local, remote]}
            transit = None
            for _r, n, lo, rem in sides:
                b = n.get("properties") or n
                if b.val("allowGatewayTransit"):
                    transit = lo
                if b.val("useRemoteGateways"):
                    transit = rem
            if transit:
                entry["transit_via"] = transit
            if body.val("allowForwardedTraffic") is False:
                entry["allow_forwarded_traffic"] = False
            names = {}
            for _r, n, lo, rem in sides:
                name = str(n.val("name")).split("/")[-1]
                if name != naming.peering(lo, rem):
                    names[lo] = name
            if names:
                entry["peering_names"] = names
            if len(sides) == 1:
                self.skip(res, f"peering {local} -> {remote}: only one direction exists; rendering creates the other")
            peerings.append(entry)
        if peerings:
            self.out.inventory["azure"]["peerings"] = peerings

    def peering(self, found: dict, res: Resource, node: Node, local: str) -> None:
        body = node.get("properties") or node
        remote_id = body.ref("remoteVirtualNetwork")
        remote = self.index.find(remote_id)
        if remote is None:
            self.dangling(res, body.get("remoteVirtualNetwork"), "virtual network", remote_id)
            return
        if not any(v["name"].lower() == local.lower() for v in self.vnets.values()) or id(remote) not in self.vnets:
            self.skip(res, f"peering of '{local}' to '{remote.name}': one of the VNets is not imported")
            return
        if body.val("allowVirtualNetworkAccess") is False:
            self.skip(
                res, f"peering of '{local}' to '{remote.name}': allowVirtualNetworkAccess false is not managed by gen"
            )
        sides = found.setdefault(frozenset((local.lower(), remote.name.lower())), [])
        name = str(node.val("name")).split("/")[-1]
        if any(lo == local and str(n.val("name")).split("/")[-1] == name for _r, n, lo, _rem in sides):
            return  # an export lists a peering inline in its VNet and again as a child resource
        sides.append((res, node, local, remote.name))

    # ------------------------------------------------------------------ load balancers
    def map_load_balancers(self) -> None:
        lbs = []
        for res in self.of(LB):
            b = res.body
            fronts = b.items("frontendIPConfigurations")
            if len(fronts) != 1:
                self.skip(
                    res, f"{len(fronts)} frontend IP configurations: gen manages internal load balancers with one"
                )
                continue
            fb = fronts[0].get("properties") or fronts[0]
            subnet_node = fb.get("subnet")
            subnet_id = subnet_node.val("id") if subnet_node else None
            if subnet_id is None:
                self.skip(res, "a public load balancer: gen manages internal load balancers only")
                continue
            vnet_res = self.index.find(subnet_id)
            if vnet_res is None:
                self.dangling(res, subnet_node, "virtual network", subnet_id)
                continue
            if self.vnet_entry(vnet_res) is None:
                self.skip(res, f"its VNet '{vnet_res.name}' is not imported")
                continue
            address = fb.val("privateIPAddress")
            static = fb.val("privateIPAllocationMethod") == "Static"
            if static and _ipv4(address) is None:
                self.skip(res, f"frontend address {address!r} is not an IPv4 address")
                continue
            pools = b.items("backendAddressPools")
            if not pools:
                self.skip(res, "no backend pool: gen's load balancers have one")
                continue
            members = [
                [
                    m.get("properties") or m
                    for m in (pool.get("properties") or pool).items("loadBalancerBackendAddresses")
                ]
                for pool in pools
            ]
            addresses = [[m.val("ipAddress") for m in found] for found in members]
            if any(_ipv4(a) is None for found in addresses for a in found):
                self.skip(res, "a backend pool member without an IPv4 address (by NIC or by subnet only)")
                continue
            sku = (res.node.get("sku") or Node({}, ())).val("name") or "Standard"
            lb: dict[str, Any] = {
                "name": res.name,
                "vnet": vnet_res.name,
                "subnet": parse_id(subnet_id)[2][-1],
                "sku": sku,
                **({"frontend_ip": address} if static else {}),
                **({"frontend_name": fronts[0].val("name")} if fronts[0].val("name") != "frontend" else {}),
                **(
                    {"backend_pool": pools[0].val("name")}
                    if len(pools) == 1 and not addresses[0]
                    else {
                        "backend_pools": [
                            {"name": pool.val("name"), **({"addresses": found} if found else {})}
                            for pool, found in zip(pools, addresses, strict=True)
                        ]
                    }
                ),
                "probes": [],
                "rules": [],
            }
            for p in b.items("probes"):
                pb = p.get("properties") or p
                probe: dict[str, Any] = {"name": p.val("name"), "protocol": pb.val("protocol"), "port": pb.val("port")}
                if pb.val("intervalInSeconds") is not None:
                    probe["interval_seconds"] = pb.val("intervalInSeconds")
                if pb.val("numberOfProbes") is not None:
                    probe["count"] = pb.val("numberOfProbes")
                if pb.val("requestPath"):
                    probe["request_path"] = pb.val("requestPath")
                lb["probes"].append(probe)
            for r in b.items("loadBalancingRules"):
                rb = r.get("properties") or r
                probe_id = rb.ref("probe")
                rule: dict[str, Any] = {"name": r.val("name")}
                if rb.val("frontendPort") == 0 and str(rb.val("protocol")).lower() == "all":
                    rule["ha_ports"] = True
                else:
                    rule["protocol"] = rb.val("protocol")
                    rule["frontend_port"] = rb.val("frontendPort")
                    rule["backend_port"] = rb.val("backendPort")
                rule["probe"] = parse_id(probe_id)[2][-1] if isinstance(probe_id, str) else None
                pool_id = rb.ref("backendAddressPool")
                if len(pools) > 1 and isinstance(pool_id, str):
                    rule["pool"] = parse_id(pool_id)[2][-1]
                for key, member in (
                    ("distribution", "loadDistribution"),
                    ("floating_ip", "enableFloatingIP"),
                    ("idle_timeout_minutes", "idleTimeoutInMinutes"),
                    ("tcp_reset", "enableTcpReset"),
                ):
                    if rb.val(member) is not None:
                        rule[key] = rb.val(member)
                lb["rules"].append(rule)
            if b.val("inboundNatRules"):
                self.skip(res, "inbound NAT rules are not managed by gen (not imported)")
            if not lb["probes"] or not lb["rules"] or any(r["probe"] is None for r in lb["rules"]):
                self.skip(res, "gen's load balancers have probes and rules that each use a probe")
                continue
            lbs.append(lb)
        if lbs:
            self.out.inventory["azure"]["load_balancers"] = lbs


_DEVICE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,46}[A-Za-z0-9])?$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _close(kind: str, known: str) -> bool:
    import difflib

    return kind != known and difflib.SequenceMatcher(None, kind, known).ratio() > 0.9


def _canonical(kind: str) -> str:
    from .azure_read import TYPES

    return TYPES[kind]


def _meshes(links: list[dict[str, Any]], hints: list[list[str]]) -> list[dict[str, Any]]:
    """Pairs that link every two of three or more VNets with one key and policy become a full mesh.

    gen renders a mesh's connections of each VNet in the mesh's order, so the order of the files
    (`hints`: per local VNet, its remote VNets as met) gives the mesh's order back."""
    plain = [x for x in links if set(x) <= {"pair", "psk", "bgp", "ipsec_policy"}]
    if len(plain) < 3:
        return links
    met: list[str] = []
    for x in plain:
        met += [v for v in x["pair"] if v not in met]
    before = {v: set() for v in met}
    for seq in hints:
        for i, later in enumerate(seq):
            before.setdefault(later, set()).update(v for v in seq[:i] if v in before)
    order: list[str] = []
    while len(order) < len(met):
        ready = [v for v in met if v not in order and before[v] <= set(order)]
        order.append(ready[0] if ready else next(v for v in met if v not in order))
    same = all(
        {k: v for k, v in x.items() if k != "pair"} == {k: v for k, v in plain[0].items() if k != "pair"} for x in plain
    )
    pairs = {frozenset(x["pair"]) for x in plain}
    n = len(order)
    if not same or len(pairs) != n * (n - 1) // 2 or len(plain) != len(pairs):
        return links
    first = links.index(plain[0])
    mesh = {"full_mesh": order, **{k: v for k, v in plain[0].items() if k != "pair"}}
    rest = [x for x in links if x not in plain]
    return rest[:first] + [mesh] + rest[first:]


def import_files(files: list[Path], name: str, as_new: bool) -> Imported:
    """The inventory, comments, unmapped list, key names and state document of the files."""
    items = read_files(files)
    if not items:
        raise GenError([f"{files[0]}: no Azure resource to import (rule import-unknown-type)"])
    try:
        out = Importer(items, name, as_new).run()
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:  # a value not in Azure's form
        raise GenError(
            [
                f"{files[0]}: a value gen cannot read ({type(exc).__name__}: {exc}); check the file is what Azure printed (rule import-invalid-value)"
            ]
        ) from None
    tags = [r.node.val("tags") for r in items if r.kind in MAPPED - {SUBNET, PEERING}]
    if tags and all(isinstance(x, dict) and x == tags[0] for x in tags) and tags[0]:
        out.inventory = {
            "name": name,
            "tags": dict(sorted(tags[0].items())),
            **{k: v for k, v in out.inventory.items() if k != "name"},
        }
    azure = out.inventory.get("azure", {})
    if not azure.get("vnets"):
        raise GenError(
            [f"{files[0]}: no virtual network among the resources: gen's inventory needs one (rule import-empty)"]
        )
    if out.state.get("gateways"):
        out.state = {"gen_azure_state": 1, "gateways": out.state["gateways"]}
    return out

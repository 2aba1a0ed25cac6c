"""Hypothesis strategies: random VALID inventories, and mutations that always make one invalid.

A generated inventory has 1-4 VNets (some with gateways, BGP or static, active-active or not, custom
APIPA or not), 1-3 sites with one or two devices, connections with a custom IPsec policy or Azure's
defaults, VNet-to-VNet links, peerings with gateway transit and an internal load balancer. Every value
is chosen so that no rule reports an error (warnings are allowed): the property is that such an
inventory always renders and every output passes the real validators.
"""

from __future__ import annotations

import copy
from ipaddress import IPv4Address
from typing import Any

from hypothesis import strategies as st

from generator.crypto import SUGGESTED_POLICIES
from generator.facts import DEFAULT_POLICY
from generator.platforms import (
    FQDN_IDENTITY,
    IBGP_PAIR,
    ONE_TUNNEL_PER_GATEWAY,
    POLICY_BASED_SELECTORS,
    RESPONDER_ONLY,
    with_capability,
)
from generator.platforms import PLATFORMS as REGISTRY
from generator.rules_azure import HTTP_PROBE_FORBIDDEN_PORTS

# Names: the characters the schema allows, ending with a fixed index so names stay unique.
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _name(first: str, rest: str, size: int = 9) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(first), st.text(alphabet=rest, max_size=size))


AZURE_BASE = _name(ALNUM, ALNUM + "_.-")
SLUG_BASE = _name(ALNUM, ALNUM + "_.-")
HOST_BASE = _name("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789-")
RG_BASE = st.text(alphabet=ALNUM + "_().-", max_size=10)
TEXT = st.text(alphabet=ALNUM + " ,.:()/#@%&*+=?<>[]{}|^~_-", max_size=40)

GATEWAY_SKUS = [
    "VpnGw1AZ",
    "VpnGw2AZ",
    "VpnGw3AZ",
    "VpnGw4AZ",
    "VpnGw5AZ",
]  # what Azure still creates (facts-2026-12 §2.1)
GENERATIONS = {"VpnGw1AZ": ["Generation1"]}
GENERATIONS |= {"VpnGw5AZ": ["Generation2"], "VpnGw4AZ": ["Generation2"]}
PLATFORMS = sorted(REGISTRY)
# Current algorithms only: obsolete ones (DES, MD5, DH group 1) are valid for Azure but not worth a device.
IKE_ENCRYPTION = ["GCMAES256", "GCMAES128", "AES256", "AES192", "AES128"]
IKE_INTEGRITY = ["SHA384", "SHA256"]
DH_GROUPS = ["DHGroup24", "ECP384", "ECP256", "DHGroup14", "DHGroup2048"]
PFS_GROUPS = ["PFS24", "ECP384", "ECP256", "PFS2048", "None"]


_SA = {"sa_lifetime_seconds": 27000, "sa_datasize_kilobytes": 102400000}
_DEFAULT = dict(DEFAULT_POLICY)

FQDN_PLATFORMS = {p.key for p in with_capability(FQDN_IDENTITY)}
POLICY_BASED_PLATFORMS = {p.key for p in with_capability(POLICY_BASED_SELECTORS)}  # one selector per prefix pair
# platforms that take one tunnel per gateway: never on an active-active one (rule onprem-active-active-platform)
ONE_TUNNEL_PLATFORMS = {p.key for p in with_capability(ONE_TUNNEL_PER_GATEWAY)}
RESPONDER_PLATFORMS = {p.key for p in with_capability(RESPONDER_ONLY)}  # can take InitiatorOnly
IBGP_PLATFORMS = {p.key for p in with_capability(IBGP_PAIR)}  # render bgp.ibgp
# platforms that take a logical_router (an advanced routing engine's logical router, device option)
LOGICAL_ROUTER_PLATFORMS = {p.key for p in REGISTRY.values() if "logical_router" in p.device_fields}


def _refuses_nat(key: str) -> bool:
    """Whether the platform refuses a device behind NAT (its device_problems name local_address)."""
    from generator.model import Device

    device = Device(
        name="d",
        site="s",
        platform=key,
        public_ip=IPv4Address("198.51.100.1"),
        fqdn=None,
        local_address=IPv4Address("192.168.0.2"),
        behind_nat=True,
        bgp_ip=None,
        bgp_ip_is_apipa=False,
        outside_interface=REGISTRY[key].outside_interface,
        loopback_interface=REGISTRY[key].loopback_interface,
        local_gateway_name=None,
        path=(),
    )
    return any(field == "local_address" for field, _ in REGISTRY[key].device_problems(device))


NAT_REFUSED = {key for key in REGISTRY if _refuses_nat(key)}


def _devices_can(platforms: set[str], policy: dict[str, Any]) -> bool:
    """Whether every platform can render the policy (each platform's vendor table)."""
    from generator.model import IpsecPolicy

    return not any(any(REGISTRY[p].unsupported(IpsecPolicy(custom=True, **policy))) for p in platforms)


def probe_ports(protocol: str) -> st.SearchStrategy[int]:
    """Probe ports Azure accepts for the protocol (rule lb-probe-port)."""
    ports = st.integers(1, 65535)
    if protocol in ("Http", "Https"):
        return ports.filter(lambda port: port not in HTTP_PROBE_FORBIDDEN_PORTS)
    return ports


@st.composite
def policies(draw) -> dict[str, Any] | None:
    if not draw(st.booleans()):
        return None
    encryption = draw(st.sampled_from(["GCMAES256", "GCMAES192", "GCMAES128", "AES256", "AES192", "AES128"]))
    integrity = encryption if encryption.startswith("GCM") else draw(st.sampled_from(["SHA256", "SHA1"]))
    return {
        "ike_encryption": draw(st.sampled_from(IKE_ENCRYPTION)),
        "ike_integrity": draw(st.sampled_from(IKE_INTEGRITY)),
        "dh_group": draw(st.sampled_from(DH_GROUPS)),
        "ipsec_encryption": encryption,
        "ipsec_integrity": integrity,
        "pfs_group": draw(st.sampled_from(PFS_GROUPS)),
        "sa_lifetime_seconds": draw(st.integers(300, 172799)),
        "sa_datasize_kilobytes": draw(st.integers(1024, 2147483647)),
    }


NSG_ADDRESSES = st.sampled_from(["*", "VirtualNetwork", "AzureLoadBalancer", "Internet"])
NSG_PORTS = st.sampled_from(["*", "22", "443", "1024-65535"])


@st.composite
def subnet_extras(draw, i: int) -> dict[str, Any]:
    """What an application subnet may carry: an NSG and a route table (created or existing), service
    endpoints, a delegation; every one valid for Azure (priorities distinct, '*'/tags alone)."""
    extras: dict[str, Any] = {}
    if draw(st.booleans()):
        if draw(st.booleans()):
            extras["nsg"] = {"name": f"shared-nsg{i}", "existing": True, "resource_group": f"rg-sec{i}"}
        else:
            rules = []
            for k, direction in enumerate(draw(st.lists(st.sampled_from(["Inbound", "Outbound"]), max_size=3))):
                rule: dict[str, Any] = {
                    "name": f"r{k}",
                    "priority": 100 + 10 * k,
                    "direction": direction,
                    "access": draw(st.sampled_from(["Allow", "Deny"])),
                    "protocol": draw(st.sampled_from(["Tcp", "Udp", "*"])),
                }
                if draw(st.booleans()):
                    rule["source"] = [draw(NSG_ADDRESSES)]
                else:
                    rule["source"] = [f"172.{16 + k}.0.0/16", f"192.168.{k}.0/24"]
                if draw(st.booleans()):
                    rule["destination_ports"] = draw(
                        st.lists(st.sampled_from(["80", "443", "8000-8080"]), min_size=2, max_size=3, unique=True)
                    )
                else:
                    rule["destination_ports"] = [draw(NSG_PORTS)]
                rules.append(rule)
            extras["nsg"] = {"rules": rules}
    if draw(st.booleans()):
        routes = [
            {"name": "default", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "next_hop_ip": f"10.{i}.1.4"}
        ]
        if draw(st.booleans()):
            routes.append({"name": "blackhole", "prefix": "192.0.2.0/24", "next_hop": "None"})
        extras["route_table"] = {"routes": routes, "disable_bgp_route_propagation": draw(st.booleans())}
    if draw(st.booleans()):
        extras["service_endpoints"] = draw(
            st.lists(
                st.sampled_from(["Microsoft.Storage", "Microsoft.Sql", "Microsoft.KeyVault"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
    if draw(st.booleans()):
        extras["delegations"] = [draw(st.sampled_from(["Microsoft.Web/serverFarms", "Microsoft.Sql/managedInstances"]))]
    return extras


@st.composite
def inventories(draw) -> dict[str, Any]:
    """One valid inventory as plain data (dump it with yaml.safe_dump)."""
    asns = iter(draw(st.lists(st.integers(64512, 65514), min_size=8, max_size=8, unique=True)))
    vnets: list[dict[str, Any]] = []
    gateways: dict[str, dict[str, Any]] = {}  # vnet name -> gateway (raw)
    for i in range(draw(st.integers(1, 4))):
        name = draw(AZURE_BASE) + str(i)
        vnet: dict[str, Any] = {
            "name": name,
            "resource_group": draw(RG_BASE) + f"rg{i}",
            "region": draw(st.sampled_from(["westeurope", "northeurope", "westus", "westindia"])),
            "address_space": [f"10.{i}.0.0/16"],
            "subnets": [{"name": "app", "prefix": f"10.{i}.1.0/24"}],
        }
        if draw(st.booleans()):
            vnet["existing"] = draw(st.booleans())
        if not vnet.get("existing"):
            vnet["subnets"][0].update(draw(subnet_extras(i)))
        if i == 0 or draw(st.booleans()):
            sku = draw(st.sampled_from(GATEWAY_SKUS))
            gateway: dict[str, Any] = {"sku": sku}
            if draw(st.booleans()):
                gateway["generation"] = draw(st.sampled_from(GENERATIONS.get(sku, ["Generation1", "Generation2"])))
            active = draw(st.booleans())
            if active:
                gateway["active_active"] = True
            if draw(st.booleans()):
                gateway["name"] = draw(AZURE_BASE) + f"gw{i}"
            if draw(st.booleans()):
                gateway["bgp"] = {"asn": next(asns)}
                if draw(st.booleans()):
                    gateway["bgp"]["apipa_addresses"] = [
                        [f"169.254.21.{4 * i + 2 * k + 1}"] for k in range(2 if active else 1)
                    ]
            vnet["gateway"] = gateway
            vnet["subnets"].insert(
                0, {"name": "GatewaySubnet", "prefix": f"10.{i}.255.0/{draw(st.sampled_from([27, 26]))}"}
            )
            gateways[name] = gateway
        vnets.append(vnet)
    names = [v["name"] for v in vnets]
    with_gateway = [n for n in names if n in gateways]
    bgp_gateways = [n for n in with_gateway if "bgp" in gateways[n]]

    sites, connections = [], []
    for j in range(draw(st.integers(1, 3))):
        two = bool(bgp_gateways) and draw(st.booleans())
        targets = draw(
            st.lists(st.sampled_from(bgp_gateways if two else with_gateway), min_size=1, max_size=3, unique=True)
        )
        static = {t: (not two and t in bgp_gateways and draw(st.booleans())) for t in targets}
        bgp_targets = [t for t in targets if t in bgp_gateways and not static[t]]
        apipa_ok = bool(bgp_targets) and all("apipa_addresses" in gateways[t]["bgp"] for t in bgp_targets)
        devices = []
        # and at most one BGP connection (rule onprem-bgp-source-tunnel)
        limited = any(gateways[t].get("active_active") for t in targets) or len(bgp_targets) > 1
        usable = [p for p in PLATFORMS if not (limited and p in ONE_TUNNEL_PLATFORMS)]
        for k in range(2 if two else 1):
            device: dict[str, Any] = {
                "name": draw(HOST_BASE) + f"-{j}{k}",
                "platform": draw(st.sampled_from(usable)),
                "public_ip": f"198.51.100.{10 + 2 * j + k}",
            }
            if apipa_ok and draw(st.booleans()):
                device["bgp_ip"] = f"169.254.21.{100 + 2 * j + k}"
            else:
                device["bgp_ip"] = f"172.{16 + j}.255.{k + 1}"
            if device["platform"] not in NAT_REFUSED and draw(st.booleans()):
                device["local_address"] = f"192.168.{j}.{k + 2}"
            # an endpoint given by DNS name: LNG fqdn and FQDN IKE identity (rule device-fqdn: platforms that can)
            if device["platform"] in FQDN_PLATFORMS and draw(st.booleans()):
                device["fqdn"] = f"{device['name']}.vpn.example.com".lower()
            if device["platform"] in LOGICAL_ROUTER_PLATFORMS and draw(st.booleans()):
                device["logical_router"] = draw(st.sampled_from(["default", "LR-azure", "edge.1"]))
            devices.append(device)
        site: dict[str, Any] = {
            "name": draw(SLUG_BASE) + f"s{j}",
            "asn": next(asns),
            "prefixes": [f"172.{16 + j}.0.0/16"],
            "devices": devices,
        }
        if draw(st.booleans()):
            site["location"] = draw(TEXT)
        # bgp.ibgp: two BGP devices, no APIPA bgp_ip, platforms that render it (rules site-ibgp-*)
        ibgp_ok = (
            two
            and bgp_targets
            and all(d["platform"] in IBGP_PLATFORMS and not d["bgp_ip"].startswith("169.254.") for d in devices)
        )
        if ibgp_ok and draw(st.booleans()):
            site["bgp"] = {"ibgp": True}
        sites.append(site)
        for target in targets:
            connection: dict[str, Any] = {"site": site["name"], "vnet": target, "psk": {"env": f"GEN_PSK_S{j}"}}
            if static[target]:
                connection["bgp"] = False
            policy = draw(policies())
            platforms = {d["platform"] for d in devices}
            if policy and not _devices_can(platforms, policy):
                policy = None
            if not policy and not _devices_can(platforms, _DEFAULT):
                # a device that refuses Azure's defaults (FN72510, strongSwan's weak list) gets a policy it takes
                policy = next(p | _SA for p in SUGGESTED_POLICIES if _devices_can(platforms, p | _SA))
            if policy:
                connection["ipsec_policy"] = policy
                # with BGP the selectors must carry the BGP addresses (rule onprem-policy-based-bgp): static only
                if static[target] and platforms <= POLICY_BASED_PLATFORMS and draw(st.booleans()):
                    connection["policy_based_traffic_selectors"] = True
            if draw(st.booleans()):
                connection["dpd_timeout_seconds"] = draw(st.integers(9, 3600))
            if draw(st.booleans()):
                # a device behind NAT must initiate: not InitiatorOnly (rule onprem-nat-initiates)
                nat = any("local_address" in d for d in devices)
                # and only a platform that can respond only takes it (rule onprem-connection-mode)
                responds = all(d["platform"] in RESPONDER_PLATFORMS for d in devices)
                modes = ["Default", "ResponderOnly"] + (["InitiatorOnly"] if responds and not nat else [])
                connection["connection_mode"] = draw(st.sampled_from(modes))
            connections.append(connection)

    azure: dict[str, Any] = {"vnets": vnets}
    if len(with_gateway) >= 2 and draw(st.booleans()):
        link: dict[str, Any] = {"psk": {"file": "keys/link.txt"}}
        if draw(st.booleans()):
            link["full_mesh"] = with_gateway
        else:
            link["pair"] = with_gateway[:2]
        policy = draw(policies())
        if policy:
            link["ipsec_policy"] = policy
        azure["vnet_links"] = [link]
    spokes = [n for n in names if n not in gateways]
    if spokes and draw(st.booleans()):
        hub = draw(st.sampled_from(with_gateway))
        azure["peerings"] = [{"vnets": [hub, spoke], "transit_via": hub} for spoke in spokes]
    if draw(st.booleans()):
        vnet = vnets[0]
        probe = draw(st.sampled_from([{"protocol": "Tcp"}, {"protocol": "Http", "request_path": "/health"}]))
        rule: dict[str, Any] = {"name": "rule0", "probe": "probe0"}
        rule |= {"ha_ports": True} if draw(st.booleans()) else {"protocol": "Tcp", "frontend_port": 443}
        azure["load_balancers"] = [
            {
                "name": draw(AZURE_BASE) + "lb",
                "vnet": vnet["name"],
                "subnet": "app",
                "frontend_ip": "10.0.1.10",
                "backend_pool": "pool0",
                "probes": [{"name": "probe0", "port": draw(probe_ports(probe["protocol"])), **probe}],
                "rules": [rule],
            }
        ]
    inventory: dict[str, Any] = {"name": draw(SLUG_BASE) + "x", "azure": azure}
    if draw(st.booleans()):
        inventory["description"] = draw(TEXT)
    if draw(st.booleans()):
        inventory["tags"] = {"owner": draw(TEXT), "cost centre": "net"}
    inventory["onprem"] = {"sites": sites, "connections": connections}
    return inventory


# ---------------------------------------------------------------- invalid mutations
BAD_SUFFIXES = ["'", '"', "\n", ";", "$(id)", "`id`", "!", "\\", "\u0000"]


def _nodes(data: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _nodes(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _nodes(value, path + (index,))
    return found


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


@st.composite
def invalid(draw, valid: dict[str, Any]) -> tuple[str, str]:
    """(description, YAML text) of a mutation of `valid` that no correct gen may accept."""
    import yaml

    data = copy.deepcopy(valid)
    kind = draw(
        st.sampled_from(
            [
                "wrong-type",
                "bad-string",
                "bad-number",
                "unknown-field",
                "tab",
                "duplicate-key",
                "reserved-asn",
                "small-gateway-subnet",
                "unknown-site",
            ]
        )
    )
    if kind in ("wrong-type", "bad-string", "bad-number", "unknown-field"):
        nodes = [p for p in _nodes(data) if p]
        leaf_types = {"bad-string": str, "bad-number": int, "unknown-field": dict}
        if kind in leaf_types:
            wanted = leaf_types[kind]
            nodes = [p for p in nodes if type(_get(data, p)) is wanted] or [()]
            if kind == "unknown-field" and nodes == [()]:
                nodes = [()]
        path = draw(st.sampled_from(nodes))
        value = _get(data, path) if path else data
        if kind == "wrong-type":
            replacement = "text" if isinstance(value, (dict, list, bool)) else [value]
            if isinstance(value, str):
                replacement = {"x": value}
            _set(data, path, replacement)
        elif kind == "bad-string":
            _set(data, path, value + draw(st.sampled_from(BAD_SUFFIXES)))
        elif kind == "bad-number":
            _set(data, path, draw(st.sampled_from([-1, 0.5 + value, str(value), 2**64])))
        else:
            value["!unknown"] = 1
        kind += f" at {path}"
    elif kind == "reserved-asn":
        draw(st.sampled_from(data["onprem"]["sites"]))["asn"] = draw(st.sampled_from([65515, 23456, 65520, 64496]))
    elif kind == "small-gateway-subnet":
        vnet = next(v for v in data["azure"]["vnets"] if "gateway" in v)
        vnet["subnets"][0]["prefix"] = vnet["subnets"][0]["prefix"].rsplit("/", 1)[0] + "/30"
    elif kind == "unknown-site":
        draw(st.sampled_from(data["onprem"]["connections"]))["site"] = "nowhere"
    text = yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=10**6, allow_unicode=True)
    if kind == "tab":
        lines = text.splitlines(keepends=True)
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = "\t" + lines[index]
        text = "".join(lines)
    elif kind == "duplicate-key":
        text += f"name: {valid['name']}\n"
    return kind, text

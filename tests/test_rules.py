"""Every semantic rule: a good case (the examples pass) and a bad case (a one-point mutation)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import yaml
from conftest import INVENTORIES, ROOT

from generator import rulebook, schema
from generator.errors import format_path
from generator.resolve import Unresolvable, resolve

BASE = yaml.safe_load((ROOT / "inventories" / "csp-advanced.yaml").read_text(encoding="utf-8"))
DR = yaml.safe_load((ROOT / "inventories" / "dr-pair.yaml").read_text(encoding="utf-8"))


def problems(data: dict) -> list[tuple[str, str, str]]:
    """(rule, path, severity) of every schema, structural and semantic problem."""
    found = schema.validate(data)
    if not found:
        try:
            found = rulebook.check(resolve(data, "test.yaml"))
        except Unresolvable as exc:
            found = exc.problems
    return [(p.rule, format_path(p.path), p.severity) for p in found]


def vnet(data, name):
    return next(v for v in data["azure"]["vnets"] if v["name"] == name)


def site(data, name):
    return next(s for s in data["onprem"]["sites"] if s["name"] == name)


def _set(path: str, value) -> Callable[[dict], None]:
    """Mutation setting a dotted path (list indexes as numbers)."""

    def apply(data: dict) -> None:
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return apply


def _delete(path: str) -> Callable[[dict], None]:
    """Mutation removing the key at a dotted path."""

    def apply(data: dict) -> None:
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return apply


def _do(*steps: Callable[[dict], None]) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        for step in steps:
            step(data)

    return apply


def add_branches(data: dict, vnet_name: str, count: int) -> None:
    """Connect `count` one-device static branches to a VNet (31 connections on a 30-connection SKU)."""
    for i in range(count):
        data["onprem"]["sites"].append(
            {
                "name": f"B{i}",
                "asn": 64600 + i,
                "prefixes": [f"192.168.{i}.0/24"],
                "devices": [{"name": f"b{i}", "platform": "cisco_iosxe", "public_ip": f"192.0.2.{i + 1}"}],
            }
        )
        data["onprem"]["connections"].append({"site": f"B{i}", "vnet": vnet_name, "psk": {"env": "K"}, "bgp": False})


def rename_vnet(data: dict, old: str, new: str) -> None:
    text = yaml.safe_dump(data).replace(old, new)
    data.clear()
    data.update(yaml.safe_load(text))


POLICY = BASE["onprem"]["connections"][0]["ipsec_policy"]

# rule id -> (base, mutation, expected path of the problem)
CASES: dict[str, tuple[dict, Callable[[dict], None], str]] = {
    "asn-reserved": (BASE, _set("onprem.sites.0.asn", 65515), "onprem.sites[0].asn"),
    "asn-collision": (BASE, _set("onprem.sites.0.asn", 65010), "onprem.sites[0].asn"),
    # DC1 connects to SEA-VNET only; LON-VNET's gateway (65020) gets DC1's routes through the mesh
    "asn-mesh-collision": (BASE, _set("onprem.sites.0.asn", 65020), "onprem.sites[0].asn"),
    "asn-shared-site": (BASE, _set("onprem.sites.1.asn", 65101), "onprem.sites[1].asn"),
    "device-public-ip-public": (
        BASE,
        _set("onprem.sites.0.devices.0.public_ip", "192.168.1.10"),
        "onprem.sites[0].devices[0].public_ip",
    ),
    "gateway-subnet-missing": (
        BASE,
        _set("azure.vnets.1.subnets.0.name", "gatewaysubnet"),
        "azure.vnets[1].subnets[0].name",
    ),
    "gateway-subnet-size": (
        BASE,
        _set("azure.vnets.1.subnets.0.prefix", "10.2.255.0/30"),
        "azure.vnets[1].subnets[0].prefix",
    ),
    "gateway-subnet-small": (
        BASE,
        _set("azure.vnets.1.subnets.0.prefix", "10.2.255.0/28"),
        "azure.vnets[1].subnets[0].prefix",
    ),
    "gateway-sku-generation": (
        BASE,
        _set("azure.vnets.1.gateway.generation", "Generation2"),
        "azure.vnets[1].gateway.generation",
    ),
    "gateway-sku-features": (
        BASE,
        _set("azure.vnets.0.gateway.sku", "Standard"),
        "azure.vnets[0].gateway.active_active",
    ),
    "gateway-tunnel-budget": (BASE, lambda d: add_branches(d, "LON-VNET", 28), "azure.vnets[1].gateway.sku"),
    "custom-policy-sku": (
        BASE,
        _do(_set("azure.vnets.1.gateway", {"sku": "Basic"}), _set("onprem.connections.1.bgp", False)),
        "onprem.connections[1].ipsec_policy",
    ),
    "vnet-overlap": (BASE, _set("azure.vnets.1.address_space", ["10.1.128.0/17"]), "azure.vnets[1].address_space[0]"),
    "subnet-outside-vnet": (
        BASE,
        _set("azure.vnets.0.subnets.2.prefix", "10.9.2.0/24"),
        "azure.vnets[0].subnets[2].prefix",
    ),
    "subnet-overlap": (
        BASE,
        _set("azure.vnets.0.subnets.2.prefix", "10.1.1.128/25"),
        "azure.vnets[0].subnets[2].prefix",
    ),
    "onprem-overlap": (BASE, _set("onprem.sites.1.prefixes", ["10.2.0.0/16"]), "onprem.sites[1].prefixes[0]"),
    "site-overlap": (BASE, _set("onprem.sites.1.prefixes", ["172.16.5.0/24"]), "onprem.sites[1].prefixes[0]"),
    "device-public-ip-unique": (
        BASE,
        _set("onprem.sites.1.devices.0.public_ip", "198.51.100.10"),
        "onprem.sites[1].devices[0].public_ip",
    ),
    "bgp-needs-gateway-bgp": (
        BASE,
        _do(
            lambda d: vnet(d, "LON-VNET")["gateway"].pop("bgp"),
            _set("onprem.connections.1.bgp", True),
            _set("azure.vnet_links.0.bgp", False),
        ),
        "onprem.connections[1].bgp",
    ),
    "bgp-ip-missing": (BASE, lambda d: site(d, "DC2")["devices"][0].pop("bgp_ip"), "onprem.sites[1].devices[0]"),
    "bgp-ip-sane": (BASE, _set("onprem.sites.1.devices.0.bgp_ip", "203.0.113.20"), "onprem.sites[1].devices[0].bgp_ip"),
    "two-devices-need-bgp": (BASE, _set("onprem.connections.0.bgp", False), "onprem.connections[0]"),
    "apipa-range": (
        DR,
        _set("azure.vnets.0.gateway.bgp.apipa_addresses", [["169.254.30.1"]]),
        "azure.vnets[0].gateway.bgp.apipa_addresses[0][0]",
    ),
    "apipa-unique": (
        DR,
        _set("azure.vnets.1.gateway.bgp.apipa_addresses", [["169.254.21.1"]]),
        "azure.vnets[1].gateway.bgp.apipa_addresses[0][0]",
    ),
    "apipa-both-ends": (
        DR,
        lambda d: d["azure"]["vnets"][1]["gateway"]["bgp"].pop("apipa_addresses"),
        "onprem.sites[0].devices[0].bgp_ip",
    ),
    "ipsec-policy-gcm": (
        BASE,
        _set("onprem.connections.1.ipsec_policy", {**POLICY, "ipsec_integrity": "SHA256"}),
        "onprem.connections[1].ipsec_policy.ipsec_integrity",
    ),
    "policy-based-needs-policy": (
        BASE,
        _do(
            lambda d: d["onprem"]["connections"][1].pop("ipsec_policy"),
            _set("onprem.connections.1.policy_based_traffic_selectors", True),
        ),
        "onprem.connections[1].policy_based_traffic_selectors",
    ),
    "default-policy-weak": (BASE, lambda d: d["onprem"]["connections"][1].pop("ipsec_policy"), "onprem.connections[1]"),
    "peering-transit": (
        BASE,
        _set("azure.peerings", [{"vnets": ["LON-VNET", "MUM-VNET"], "transit_via": "LON-VNET"}]),
        "azure.peerings[0].transit_via",
    ),
    "transit-single-gateway": (BASE, lambda d: d["onprem"]["connections"].pop(2), "azure.vnets[2]"),
    "lb-frontend-in-subnet": (
        BASE,
        _set("azure.load_balancers.0.frontend_ip", "10.1.1.2"),
        "azure.load_balancers[0].frontend_ip",
    ),
    "lb-sku-features": (
        BASE,
        _do(
            _set("azure.load_balancers.0.sku", "Basic"),
            _set("azure.load_balancers.0.rules.0", {"name": "ha", "ha_ports": True, "probe": "sql-ag-probe"}),
        ),
        "azure.load_balancers[0].rules[0]",
    ),
    "lb-sku-basic": (BASE, _set("azure.load_balancers.0.sku", "Basic"), "azure.load_balancers[0].sku"),
    "lb-pool-mixed": (
        BASE,
        _do(
            _delete("azure.load_balancers.0.backend_pool"),
            _set("azure.load_balancers.0.backend_pools", [{"name": "p", "addresses": ["10.1.1.10"], "nics": ["n1"]}]),
        ),
        "azure.load_balancers[0].backend_pools[0].nics",
    ),
    "lb-pool-address-in-vnet": (
        BASE,
        _do(
            _delete("azure.load_balancers.0.backend_pool"),
            _set("azure.load_balancers.0.backend_pools", [{"name": "p", "addresses": ["10.1.1.10", "10.99.0.4"]}]),
        ),
        "azure.load_balancers[0].backend_pools[0].addresses[1]",
    ),
    "lb-probe-path": (
        BASE,
        _set("azure.load_balancers.0.probes.0.protocol", "Http"),
        "azure.load_balancers[0].probes[0]",
    ),
    "lb-floating-ip-port": (
        BASE,
        lambda d: d["azure"]["load_balancers"][0]["rules"].append(
            {**d["azure"]["load_balancers"][0]["rules"][0], "name": "dup"}
        ),
        "azure.load_balancers[0].rules[1].frontend_port",
    ),
    "name-length": (
        BASE,
        _do(lambda d: rename_vnet(d, "LON-VNET", "L" * 64), _set("onprem.sites.1.devices.0.name", "d" * 48)),
        "onprem.connections[1]",
    ),
}


def test_every_core_rule_has_a_case() -> None:
    """Rules of generator/rules.py; other rule modules have their own test file."""
    core = [r for r, entry in rulebook.registry().items() if entry.check.__module__ == "generator.rules"]
    assert sorted(CASES) == sorted(core)


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.stem)
def test_examples_raise_no_errors(inventory) -> None:
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    assert [p for p in problems(data) if p[2] == "error"] == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_bites(rule_id: str) -> None:
    base, mutate, path = CASES[rule_id]
    assert not [p for p in problems(base) if p[0] == rule_id], "the unmodified example already triggers it"
    data = copy.deepcopy(base)
    mutate(data)
    found = problems(data)
    assert (rule_id, path, rulebook.registry()[rule_id].severity) in found, found


STRUCTURAL = {
    "unknown-reference": (
        _set("onprem.connections.0.vnet", "sea-vnet"),
        "onprem.connections[0].vnet",
        "did you mean 'SEA-VNET'",
    ),
    "duplicate-name": (_set("azure.vnets.1.name", "sea-vnet"), "azure.vnets[1].name", "already defined"),
    "connection-needs-gateway": (
        lambda d: vnet(d, "MUM-VNET").pop("gateway"),
        "onprem.connections[2].vnet",
        "no gateway",
    ),
    "link-needs-gateway": (
        lambda d: vnet(d, "LON-VNET").pop("gateway"),
        "azure.vnet_links[0].full_mesh[1]",
        "no gateway",
    ),
}


@pytest.mark.parametrize("rule_id", sorted(STRUCTURAL))
def test_structural_rule_bites(rule_id: str) -> None:
    mutate, path, words = STRUCTURAL[rule_id]
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(Unresolvable) as caught:
        resolve(data, "test.yaml")
    hits = [p for p in caught.value.problems if p.rule == rule_id and format_path(p.path) == path]
    assert hits and words in hits[0].message, caught.value.problems


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.1.2.3", True),
        ("172.31.255.1", True),
        ("192.168.0.1", True),
        ("100.64.0.1", True),
        ("100.127.255.254", True),
        ("127.0.0.1", True),
        ("169.254.21.5", True),
        ("224.0.0.5", True),
        ("10.2.1.9", True),  # private, and inside LON-VNET as well
        ("192.0.2.77", False),  # documentation ranges (RFC 5737): the examples use them
        ("198.51.100.77", False),
        ("203.0.113.77", False),
        ("100.128.0.1", False),  # just outside 100.64.0.0/10
        ("172.32.0.1", False),  # just outside 172.16.0.0/12
    ],
)
def test_device_public_ip_must_be_public(address: str, refused: bool) -> None:
    data = copy.deepcopy(BASE)
    data["onprem"]["sites"][0]["devices"][0]["public_ip"] = address
    found = [p for p in problems(data) if p[0] == "device-public-ip-public"]
    assert bool(found) == refused, found


def test_a_public_ip_inside_a_public_vnet_is_refused() -> None:
    """A VNet may use public address space: a device address inside it is still no device address."""
    data = copy.deepcopy(BASE)
    vnet(data, "MUM-VNET")["address_space"].append("203.0.113.96/28")
    data["onprem"]["sites"][1]["devices"][0]["public_ip"] = "203.0.113.99"
    found = [p for p in problems(data) if p[0] == "device-public-ip-public"]
    assert found == [("device-public-ip-public", "onprem.sites[1].devices[0].public_ip", "error")]


def test_no_mesh_collision_without_a_bgp_path() -> None:
    """Without BGP on the links a site's routes stop at its own gateway: LON's ASN is no collision."""
    data = copy.deepcopy(BASE)
    data["azure"]["vnet_links"][0]["bgp"] = False
    data["onprem"]["sites"][0]["asn"] = 65020
    assert not [p for p in problems(data) if p[0] in ("asn-mesh-collision", "asn-collision")]


def test_gateways_sharing_an_asn_two_hops_apart_collide() -> None:
    data = copy.deepcopy(BASE)
    data["azure"]["vnet_links"] = [
        {**data["azure"]["vnet_links"][0], "full_mesh": None, "pair": ["SEA-VNET", "LON-VNET"]},
        {**data["azure"]["vnet_links"][0], "full_mesh": None, "pair": ["LON-VNET", "MUM-VNET"]},
    ]
    for link in data["azure"]["vnet_links"]:
        link.pop("full_mesh")
    vnet(data, "MUM-VNET")["gateway"]["bgp"]["asn"] = 65010  # SEA's ASN, reached through LON
    found = [p for p in problems(data) if p[0] == "asn-mesh-collision"]
    assert ("asn-mesh-collision", "azure.vnets[2].gateway.bgp.asn", "error") in found, problems(data)


def test_shared_site_asn_names_the_allowas_in_of_the_platform() -> None:
    from generator.resolve import resolve

    data = copy.deepcopy(BASE)
    data["onprem"]["sites"][2]["asn"] = 65101  # DC3 (strongswan_frr) shares DC1's ASN
    found = [p for p in rulebook.check(resolve(data, "t.yaml")) if p.rule == "asn-shared-site"]
    assert len(found) == 1 and "neighbor <Azure BGP IP> allowas-in (FRR)" in found[0].message
    assert "site 'DC1'" in found[0].message

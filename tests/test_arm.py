"""ARM output: official schemas, structure of the guide's scenario, secrets as secure parameters."""

from __future__ import annotations

import json

import pytest
from conftest import inventory_ids


@pytest.mark.parametrize("name", inventory_ids())
def test_every_arm_file_validates_against_official_schemas(name, rendered, arm_validator) -> None:
    arm = {p: t for p, t in rendered[name].items() if p.startswith("azure/arm/")}
    assert arm, "no ARM output"
    for path, text in arm.items():
        assert arm_validator(json.loads(text), check_unknown_properties=True) == [], path


def _resources(files: dict[str, str], kind: str) -> list[dict]:
    found = []
    for path, text in files.items():
        if path.startswith("azure/arm/") and not path.endswith(".parameters.json"):
            found += [r for r in json.loads(text)["resources"] if r["type"] == kind]
    return found


def test_csp_sea_gateway_is_active_active_with_four_tunnels(rendered) -> None:
    files = rendered["csp-advanced"]
    gateways = {g["name"]: g for g in _resources(files, "Microsoft.Network/virtualNetworkGateways")}
    sea = gateways["SEA-VNET-gw"]["properties"]
    assert sea["activeActive"] is True and sea["enableBgp"] is True
    assert len(sea["ipConfigurations"]) == 2
    pips = {ip["properties"]["publicIPAddress"]["id"] for ip in sea["ipConfigurations"]}
    assert len(pips) == 2
    for public_ip in _resources(files, "Microsoft.Network/publicIPAddresses"):
        assert public_ip["sku"]["name"] == "Standard"
        assert public_ip["properties"]["publicIPAllocationMethod"] == "Static"
    connections = [
        c for c in _resources(files, "Microsoft.Network/connections") if c["properties"]["connectionType"] == "IPsec"
    ]
    sea_connections = [c for c in connections if "'SEA-VNET-gw'" in c["properties"]["virtualNetworkGateway1"]["id"]]
    assert len(sea_connections) == 2  # two devices x two instances = four tunnels
    assert all(c["properties"]["enableBgp"] for c in connections)
    local_gateways = {g["name"]: g["properties"] for g in _resources(files, "Microsoft.Network/localNetworkGateways")}
    assert {local_gateways[n]["gatewayIpAddress"] for n in ("lng-DC1-dc1-edge1", "lng-DC1-dc1-edge2")} == {
        "198.51.100.10",
        "198.51.100.11",
    }
    for name in ("LON-VNET-gw", "MUM-VNET-gw"):
        assert gateways[name]["properties"]["enableBgp"] is True


def test_csp_vnets_are_linked_in_full_mesh_both_directions(rendered) -> None:
    links = [
        c
        for c in _resources(rendered["csp-advanced"], "Microsoft.Network/connections")
        if c["properties"]["connectionType"] == "Vnet2Vnet"
    ]
    pairs = {
        (
            c["properties"]["virtualNetworkGateway1"]["id"].split("'")[-2],
            c["properties"]["virtualNetworkGateway2"]["id"].split("'")[-2],
        )
        for c in links
    }
    gateways = ["SEA-VNET-gw", "LON-VNET-gw", "MUM-VNET-gw"]
    assert pairs == {(a, b) for a in gateways for b in gateways if a != b}
    assert all(c["properties"]["enableBgp"] for c in links)


def test_shared_keys_are_secure_parameters_without_default(rendered) -> None:
    for files in rendered.values():
        for path, text in files.items():
            if not path.startswith("azure/arm/") or path.endswith(".parameters.json"):
                continue
            doc = json.loads(text)
            secure = {n for n, p in doc["parameters"].items() if p["type"] == "securestring"}
            assert all("defaultValue" not in doc["parameters"][n] for n in secure)
            for resource in doc["resources"]:
                key = resource.get("properties", {}).get("sharedKey")
                if key is not None:
                    assert key.startswith("[parameters('") and key[len("[parameters('") : -3] in secure, path


def test_sql_listener_load_balancer(rendered) -> None:
    (lb,) = _resources(rendered["csp-advanced"], "Microsoft.Network/loadBalancers")
    rule = lb["properties"]["loadBalancingRules"][0]["properties"]
    assert lb["sku"]["name"] == "Standard"
    assert rule["enableFloatingIP"] is True and rule["frontendPort"] == rule["backendPort"] == 1433
    assert lb["properties"]["probes"][0]["properties"]["port"] == 59999


def test_verify_reads_the_shared_key_property_not_the_text(rendered) -> None:
    """A literal key anywhere is caught even beside parameter references; a name holding the word is no key."""
    from generator.targets import TARGETS, OutputFile

    target = TARGETS["arm"]
    path = "azure/arm/rg-sea-network.json"
    text = rendered["csp-advanced"][path]
    assert text.count('"sharedKey": "[parameters(') >= 2
    assert target.verify([OutputFile(path, text)]) == []
    literal = text.replace("\"[parameters('pskGenPskDc1')]\"", '"not-a-parameter"', 1)
    assert literal != text
    assert target.verify([OutputFile(path, literal)]) == [f"{path}: a sharedKey is not a parameter reference"]
    named = json.loads(text)
    named["resources"][0]["tags"] = {"site": "JsharedKey0"}  # drawn by the property tests once
    named["resources"][0]["properties"]["description"] = "sharedKey"
    assert target.verify([OutputFile(path, json.dumps(named))]) == []

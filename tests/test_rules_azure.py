"""Rules of generator/rules_azure.py (what Azure refuses at deployment) and what they render."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable

import pytest
import yaml
from conftest import ROOT, render_files
from test_rules import BASE, _set, problems

from generator import rulebook

# rule id -> (base, mutation, expected path, words of the message)
CASES: dict[str, tuple[dict, Callable[[dict], None], str, str]] = {
    "region-unknown": (
        BASE,
        _set("azure.vnets.1.region", "westeurop"),
        "azure.vnets[1].region",
        "did you mean 'westeurope'",
    ),
    "region-unlisted": (BASE, _set("azure.vnets.1.region", "swedensouth"), "azure.vnets[1].region", "without zones"),
    "site-asn-needed": (BASE, lambda d: d["onprem"]["sites"][1].pop("asn"), "onprem.sites[1]", "no asn"),
    "brownfield-gateway-change": (
        BASE,
        _set("azure.vnets.1.gateway.existing", True),
        "azure.vnets[1].gateway",
        "ARM and Bicep never modify it, so a BGP ASN is applied only by the PowerShell scripts",
    ),
    "brownfield-generation": (
        BASE,
        _set("azure.vnets.1.gateway", {"sku": "VpnGw2AZ", "existing": True, "generation": "Generation2"}),
        "azure.vnets[1].gateway.generation",
        "Azure cannot change a gateway's generation in place, so generation: Generation2 is only checked",
    ),
    "vnet-range-forbidden": (
        BASE,
        _set("azure.vnets.1.address_space", ["10.2.0.0/16", "127.0.0.0/8"]),
        "azure.vnets[1].address_space[1]",
        "127.0.0.0/8 (loopback)",
    ),
    "lb-probe-port": (
        BASE,
        _set(
            "azure.load_balancers.0.probes.0",
            {"name": "sql-ag-probe", "protocol": "Http", "port": 25, "request_path": "/health"},
        ),
        "azure.load_balancers[0].probes[0].port",
        "Http probes on port 25",
    ),
    "apipa-second-list": (
        BASE,
        _set("azure.vnets.1.gateway.bgp", {"asn": 65020, "apipa_addresses": [["169.254.21.1"], ["169.254.22.1"]]}),
        "azure.vnets[1].gateway.bgp.apipa_addresses[1]",
        "remove the second list or set active_active: true",
    ),
    "sku-retired": (BASE, _set("azure.vnets.1.gateway.sku", "Standard"), "azure.vnets[1].gateway.sku", "VpnGw1AZ"),
    "sku-not-creatable": (BASE, _set("azure.vnets.1.gateway.sku", "VpnGw2"), "azure.vnets[1].gateway.sku", "VpnGw2AZ"),
    "sku-retiring": (
        BASE,
        _set("azure.vnets.1.gateway", {"sku": "VpnGw2", "existing": True}),
        "azure.vnets[1].gateway.sku",
        "migrate the gateway to VpnGw2AZ",
    ),
    "sku-non-az-change": (
        BASE,
        _set("azure.vnets.1.gateway", {"sku": "VpnGw2", "existing": True, "bgp": {"asn": 65020}}),
        "azure.vnets[1].gateway.sku",
        "refuses configuration changes (a BGP ASN)",
    ),
    "gateway-subnet-nsg": (
        BASE,
        _set("azure.vnets.1.subnets.0.nsg", {}),
        "azure.vnets[1].subnets[0].nsg",
        "remove nsg",
    ),
    "gateway-subnet-route": (
        BASE,
        _set(
            "azure.vnets.1.subnets.0.route_table",
            {
                "routes": [
                    {"name": "all", "prefix": "0.0.0.0/0", "next_hop": "VirtualAppliance", "next_hop_ip": "10.2.1.4"}
                ]
            },
        ),
        "azure.vnets[1].subnets[0].route_table.routes[0].prefix",
        "0.0.0.0/0 route on GatewaySubnet",
    ),
    "gateway-subnet-delegation": (
        BASE,
        _set("azure.vnets.1.subnets.0.delegations", ["Microsoft.Web/serverFarms"]),
        "azure.vnets[1].subnets[0].delegations",
        "cannot be delegated",
    ),
    "subnet-existing-vnet": (
        BASE,
        lambda d: d["azure"]["vnets"][1].update(
            existing=True,
            subnets=[*d["azure"]["vnets"][1]["subnets"][:1], {"name": "app", "prefix": "10.2.1.0/24", "nsg": {}}],
        ),
        "azure.vnets[1].subnets[1].nsg",
        "never modify its subnets",
    ),
    "route-next-hop-ip": (
        BASE,
        _set(
            "azure.vnets.1.subnets.1.route_table",
            {"routes": [{"name": "nva", "prefix": "10.9.0.0/16", "next_hop": "VirtualAppliance"}]},
        ),
        "azure.vnets[1].subnets[1].route_table.routes[0]",
        "needs next_hop_ip",
    ),
    "nsg-priority-unique": (
        BASE,
        _set(
            "azure.vnets.1.subnets.1.nsg",
            {
                "rules": [
                    {"name": "a", "priority": 200, "direction": "Outbound", "access": "Deny"},
                    {"name": "b", "priority": 200, "direction": "Inbound", "access": "Deny"},
                    {"name": "c", "priority": 200, "direction": "Outbound", "access": "Allow"},
                ]
            },
        ),
        "azure.vnets[1].subnets[1].nsg.rules[2].priority",
        "priority 200 like rule 'a'",
    ),
    "nsg-address-alone": (
        BASE,
        _set(
            "azure.vnets.1.subnets.1.nsg",
            {
                "rules": [
                    {
                        "name": "a",
                        "priority": 100,
                        "direction": "Inbound",
                        "access": "Allow",
                        "destination_ports": ["443", "*"],
                    }
                ]
            },
        ),
        "azure.vnets[1].subnets[1].nsg.rules[0].destination_ports[1]",
        "'*' must be the only value of destination_ports",
    ),
}


def _messages(data: dict) -> list[tuple[str, str, str, str]]:
    from generator import schema
    from generator.errors import format_path
    from generator.resolve import resolve

    assert not schema.validate(data)
    return [(p.rule, format_path(p.path), p.severity, p.message) for p in rulebook.check(resolve(data, "test.yaml"))]


def test_every_rule_of_the_module_has_a_case() -> None:
    mine = [r for r, e in rulebook.registry().items() if e.check.__module__ == "generator.rules_azure"]
    assert sorted(CASES) == sorted(mine)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_bites(rule_id: str) -> None:
    base, mutate, path, words = CASES[rule_id]
    assert not [p for p in problems(base) if p[0] == rule_id], "the unmodified example already triggers it"
    data = copy.deepcopy(base)
    mutate(data)
    found = [m for m in _messages(data) if m[0] == rule_id]
    assert [(m[1], m[2]) for m in found] == [(path, rulebook.registry()[rule_id].severity)], found
    assert words in found[0][3]


def test_listed_regions_are_neither_refused_nor_warned() -> None:
    from generator.regions import REGIONS

    assert len(REGIONS) == 57 and sum(r.zones for r in REGIONS.values()) == 39  # facts-2026-12 §1
    for name in ("westus", "westindia", "eastus2", "swedencentral", "northcentralus"):
        data = copy.deepcopy(BASE)
        _set("azure.vnets.1.region", name)(data)
        assert not [m for m in _messages(data) if m[0].startswith("region-")]


# ---------------------------------------------------------------- zones where the region has them
def _pip_zones_arm(files: dict[str, str]) -> dict[str, list[str] | None]:
    found = {}
    for path, text in files.items():
        if path.startswith("azure/arm/") and not path.endswith(".parameters.json"):
            for r in json.loads(text)["resources"]:
                if r["type"] == "Microsoft.Network/publicIPAddresses":
                    found[r["name"]] = r.get("zones")
    return found


def _pip_zones_bicep(files: dict[str, str]) -> dict[str, bool]:
    found = {}
    for path, text in files.items():
        if path.startswith("azure/bicep/") and path.endswith(".bicep"):
            for block in re.findall(r"for pipName in \[(.*?)\n\]\n", text, re.S):
                names = re.findall(r"'([^']+-pip\d)'", block)
                for name in names:
                    found[name] = "zones: [\n      '1'\n      '2'\n      '3'\n    ]" in block
    return found


def _pip_zones_ps(text: str) -> dict[str, bool]:
    return {
        m.group(1): m.group(2) is not None
        for m in re.finditer(r"New-Az\w*PublicIpAddress -Name '([^']+)'.*?( -Zone '1', '2', '3')? -Tag", text)
    }


def test_csp_advanced_has_zones_exactly_where_the_region_has_them() -> None:
    files = render_files(ROOT / "inventories" / "csp-advanced.yaml")
    # SEA (westus) and MUM (westindia) have no zones; LON (westeurope) has (facts-2026-12 §1, §2.4).
    expected = {
        "SEA-VNET-gw-pip1": False,
        "SEA-VNET-gw-pip2": False,
        "MUM-VNET-gw-pip1": False,
        "LON-VNET-gw-pip1": True,
    }
    arm = _pip_zones_arm(files)
    assert {name: zones is not None for name, zones in arm.items()} == expected
    assert arm["LON-VNET-gw-pip1"] == ["1", "2", "3"]
    assert _pip_zones_bicep(files) == expected
    for module in ("az", "azurerm"):
        assert _pip_zones_ps(files[f"azure/powershell/deploy.{module}.ps1"]) == expected


def _lb_zones_arm(files: dict[str, str]) -> dict[str, list | None]:
    found = {}
    for path, text in files.items():
        if path.startswith("azure/arm/") and not path.endswith(".parameters.json"):
            for r in json.loads(text)["resources"]:
                if r["type"] == "Microsoft.Network/loadBalancers":
                    (frontend,) = r["properties"]["frontendIPConfigurations"]
                    found[r["name"]] = frontend.get("zones")
    return found


def _lb_zones_bicep(files: dict[str, str]) -> dict[str, bool]:
    found = {}
    for path, text in files.items():
        if path.startswith("azure/bicep/") and path.endswith(".bicep"):
            for block in re.findall(
                r"Microsoft.Network/loadBalancers@[^\n]*\n  name: '([^']+)'(.*?)\n    backendAddressPools", text, re.S
            ):
                found[block[0]] = "zones: [\n          '1'\n          '2'\n          '3'\n        ]" in block[1]
    return found


def _lb_zones_ps(text: str) -> dict[str, bool]:
    found = {}
    for block in re.split(r"\r?\n(?=\$lb = Wait-GenReady )", text)[1:]:
        name = re.match(r"\$lb = Wait-GenReady -What 'load balancer ([^']+)'", block).group(1)
        frontend = re.search(r"New-Az\w*LoadBalancerFrontendIpConfig [^\n]*", block).group(0)
        found[name] = " -Zone '1', '2', '3' -Subnet " in frontend
        # the comparison (shape) and the preflight stop both know the inventory's zones
        zones = "1,2,3" if found[name] else ""
        assert "Get-GenLbShape -LoadBalancer $lb) -ne 'fe:" in block and f":{zones};pool:" in block, name
        assert re.search(
            rf"'Load balancer {name} frontend \S+ has zones \(' \+ \$zones \+ '\) but the inventory needs \({zones or 'none'}\);",
            text,
        ), name
    return found


@pytest.mark.parametrize(
    ("inventory", "expected", "modules"),
    [
        # sql-ag-ilb is in SEA-VNET (westus, no zones): a regional frontend
        (ROOT / "inventories" / "csp-advanced.yaml", {"sql-ag-ilb": False}, ("az", "azurerm")),
        # westeurope has zones: both Standard frontends zone-redundant (AzureRM 6.13 cannot build
        # IP-based pools, so its script only stops there)
        (ROOT / "tests" / "data" / "lb" / "ilb.yaml", {"nva-ilb": True, "web-ilb": True}, ("az",)),
    ],
)
def test_load_balancer_frontends_have_zones_exactly_where_the_region_has_them(inventory, expected, modules) -> None:
    files = render_files(inventory)
    arm = _lb_zones_arm(files)
    assert {name: zones is not None for name, zones in arm.items()} == expected
    assert all(zones == ["1", "2", "3"] for zones in arm.values() if zones is not None)
    assert _lb_zones_bicep(files) == expected
    for module in modules:
        assert _lb_zones_ps(files[f"azure/powershell/deploy.{module}.ps1"]) == expected


# ---------------------------------------------------------------- SKUs Azure still creates
def test_highperformance_is_refused_naming_vpngw2az() -> None:
    data = copy.deepcopy(BASE)
    _set("azure.vnets.1.gateway.sku", "HighPerformance")(data)
    found = [m for m in _messages(data) if m[0] == "sku-retired"]
    assert len(found) == 1 and "use sku: VpnGw2AZ" in found[0][3]


def test_existing_non_az_gateway_without_changes_renders_with_a_warning(tmp_path) -> None:
    inventory = ROOT / "tests" / "warn" / "sku-retiring" / "existing-non-az-vpngw2.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(inventory), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "(rule sku-retiring)" in result.stderr
    arm = json.loads((tmp_path / "out" / "azure" / "arm" / "rg-hub.json").read_text(encoding="utf-8"))
    assert "Microsoft.Network/virtualNetworkGateways" not in {r["type"] for r in arm["resources"]}


# ---------------------------------------------------------------- false refusals gone
def test_twenty_tags_and_a_70_character_gateway_name_validate() -> None:
    data = copy.deepcopy(BASE)
    data["tags"] = {f"tag{i:02d}": f"value {i}" for i in range(20)}
    data["azure"]["vnets"][1]["gateway"]["name"] = "G" * 70
    assert [p for p in problems(data) if p[2] == "error"] == []
    data["tags"] = {f"tag{i:02d}": "v" for i in range(50)}  # Azure's limit
    assert [p for p in problems(data) if p[2] == "error"] == []


def test_a_gateway_name_whose_public_ip_name_exceeds_80_is_refused() -> None:
    data = copy.deepcopy(BASE)
    data["azure"]["vnets"][1]["gateway"]["name"] = "G" * 76  # G...G-pip1: 81 characters
    found = [m for m in _messages(data) if m[0] == "name-length"]
    assert [(m[1], m[2]) for m in found] == [("azure.vnets[1].gateway", "error")]
    assert "shorten the gateway name to 75 characters" in found[0][3]


def test_vnet_names_stay_within_64() -> None:
    data = copy.deepcopy(BASE)
    rename = yaml.safe_dump(data).replace("MUM-VNET", "M" * 65)
    assert ("schema-size", "azure.vnets[2].name", "error") in problems(yaml.safe_load(rename))


def test_a_static_site_needs_no_asn(tmp_path) -> None:
    data = copy.deepcopy(BASE)
    data["onprem"]["sites"][1].pop("asn")
    data["onprem"]["sites"][1]["devices"][0].pop("bgp_ip")
    data["onprem"]["connections"][1]["bgp"] = False
    assert [p for p in problems(data) if p[2] == "error"] == []
    inventory = tmp_path / "static-site-without-asn.yaml"
    inventory.write_text(yaml.safe_dump(data), encoding="utf-8")
    files = render_files(inventory)
    lng = next(
        r
        for r in json.loads(files["azure/arm/rg-lon-network.json"])["resources"]
        if r["type"] == "Microsoft.Network/localNetworkGateways"
    )
    assert "bgpSettings" not in lng["properties"]
    runbook = next(text for path, text in files.items() if path.endswith("README.md"))
    assert re.search(r"^\| DC2 \| [^|]* \| - \|", runbook, re.M)


# ---------------------------------------------------------------- brownfield
def test_brownfield_gateway_is_in_azure_state_with_a_runbook_step_and_a_warning(arm_validator) -> None:
    inventory = ROOT / "tests" / "data" / "powershell" / "brownfield.yaml"
    files = render_files(inventory)
    for path, text in files.items():
        if path.startswith("azure/arm/"):
            assert arm_validator(json.loads(text), check_unknown_properties=True) == [], path
    arm = json.loads(files["azure/arm/rg-hub.json"])
    assert "Microsoft.Network/virtualNetworkGateways" not in {r["type"] for r in arm["resources"]}
    state = arm["outputs"]["azureState"]["value"]["gateways"]
    gw = "[resourceId('Microsoft.Network/virtualNetworkGateways', 'hub-gw')]"[1:-1]
    assert state["hub-gw"]["asn"] == 65070
    assert [i["public_ip"] for i in state["hub-gw"]["instances"]] == [
        f"[reference({gw}, '2024-05-01').bgpSettings.bgpPeeringAddresses[{n}].tunnelIpAddresses[0]]" for n in (0, 1)
    ]
    bicep = files["azure/bicep/rg-hub.bicep"]
    assert "resource hubGw 'Microsoft.Network/virtualNetworkGateways@2024-05-01' existing" in bicep
    assert "public_ip: hubGw.properties.bgpSettings.bgpPeeringAddresses[1].tunnelIpAddresses[0]" in bicep
    runbook = files["README.md"]
    assert "- `hub-gw` (resource group `rg-hub`): a BGP ASN and active-active" in runbook
    assert "--name gen-rg-hub --query properties.outputs > azure-state-rg-hub.json" in runbook
    # The conversion runs before any stage 1 command: stage 1's BGP connections and its azureState
    # output (the second instance's reference()) need the converted gateway.
    conversion = runbook.index("- `hub-gw` (resource group `rg-hub`)")
    stage1 = [m.start() for m in re.finditer(r"--template-file azure/arm/rg-[\w-]+\.json ", runbook)]
    assert stage1 and conversion < min(stage1), "the brownfield conversion must come before stage 1"
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    found = [m for m in _messages(data) if m[0] == "brownfield-gateway-change"]
    assert [(m[1], m[2]) for m in found] == [("azure.vnets[0].gateway", "warning")]


def test_brownfield_azure_state_output_fills_the_existing_gateways_placeholders(tmp_path) -> None:
    inventory = ROOT / "tests" / "data" / "powershell" / "brownfield.yaml"
    before = render_files(inventory)
    assert any("<hub-gw-pip1>" in t for p, t in before.items() if p.startswith("onprem/"))
    # What `az deployment group show --query properties.outputs` returns once Azure has evaluated it.
    value = json.loads(before["azure/arm/rg-hub.json"])["outputs"]["azureState"]["value"]
    for n, instance in enumerate(value["gateways"]["hub-gw"]["instances"]):
        instance["public_ip"] = f"203.0.113.{70 + n}"
        instance["bgp_ips"] = [f"10.50.255.{4 + n}"]
    state = tmp_path / "azure-state-rg-hub.json"
    state.write_text(json.dumps({"azureState": {"type": "Object", "value": value}}), encoding="utf-8")
    after = render_files(inventory, (state,))
    device_text = "".join(t for p, t in after.items() if p.startswith("onprem/"))
    assert "<hub-gw-" not in device_text and "203.0.113.70" in device_text and "203.0.113.71" in device_text


def test_existing_gateway_generation_is_checked_by_the_preflight_and_named_in_the_runbook() -> None:
    # The audit's case: an existing non-AZ VpnGw2 with generation: Generation2 validated with only the
    # sku-retiring warning; the generation cannot change in place, so it is checked before any change.
    data = copy.deepcopy(BASE)
    _set("azure.vnets.1.gateway", {"sku": "VpnGw2", "existing": True, "generation": "Generation2"})(data)
    assert {m[0] for m in _messages(data)} >= {"sku-retiring", "brownfield-generation"}
    files = render_files(ROOT / "tests" / "warn" / "brownfield-generation" / "existing-gen2-gateway.yaml")
    for module in ("az", "azurerm"):
        text = files[f"azure/powershell/deploy.{module}.ps1"]
        check = text.index("} elseif ($gw.VpnGatewayGeneration -ne 'Generation2') {")
        # in the preflight: before the first step changes anything
        assert check < text.index("Write-GenStep -Number 1 ")
        assert "Existing gateway hub-vnet-gw is {0}; the inventory gives generation: Generation2" in text[check:]
    readme = files["README.md"]
    assert "cannot change a gateway's generation in place" in readme
    assert "- `hub-vnet-gw` (resource group `rg-hub`) is not Generation2;" in readme
    # a new gateway's generation is applied, not checked
    assert not [m for m in _messages(BASE) if m[0] == "brownfield-generation"]

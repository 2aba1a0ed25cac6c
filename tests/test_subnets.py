"""Subnets that survive redeploys: NSGs and route tables (created or existing), service endpoints and
delegations carried in ARM, Bicep and PowerShell, and Azure's GatewaySubnet rules."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, render_files, write_inventory

from generator.cli import main

SUBNETS = ROOT / "tests" / "data" / "bicep" / "subnets.yaml"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(SUBNETS)


def _arm(files: dict[str, str]) -> dict:
    return json.loads(files["azure/arm/rg-hub.json"])


def test_arm_validates_against_the_official_schemas(files, arm_validator) -> None:
    for path in ("azure/arm/rg-hub.json", "azure/arm/rg-hub.parameters.json"):
        assert arm_validator(json.loads(files[path]), check_unknown_properties=True) == [], path


def test_arm_creates_nsgs_and_route_tables_before_the_vnet_and_associates_them(files) -> None:
    resources = _arm(files)["resources"]
    kinds = [(r["type"].rsplit("/", 1)[1], r["name"]) for r in resources]
    created = kinds[: kinds.index(("virtualNetworks", "hub"))]
    # created by gen: the app NSG and both route tables; the existing ones are only referenced
    assert sorted(created) == [
        ("networkSecurityGroups", "hub-app-nsg"),
        ("routeTables", "app-egress"),
        ("routeTables", "hub-GatewaySubnet-rt"),
    ]
    vnet = next(r for r in resources if r["type"] == "Microsoft.Network/virtualNetworks")
    assert sorted(vnet["dependsOn"]) == sorted(
        f"[resourceId('Microsoft.Network/{kind}', '{name}')]" for kind, name in created
    )
    subnets = {s["name"]: s["properties"] for s in vnet["properties"]["subnets"]}
    assert "networkSecurityGroup" not in subnets["GatewaySubnet"]
    assert (
        subnets["GatewaySubnet"]["routeTable"]["id"]
        == "[resourceId('Microsoft.Network/routeTables', 'hub-GatewaySubnet-rt')]"
    )
    app = subnets["app"]
    assert app["networkSecurityGroup"]["id"] == "[resourceId('Microsoft.Network/networkSecurityGroups', 'hub-app-nsg')]"
    assert app["routeTable"]["id"] == "[resourceId('Microsoft.Network/routeTables', 'app-egress')]"
    assert app["serviceEndpoints"] == [{"service": "Microsoft.Storage"}, {"service": "Microsoft.Sql"}]
    # an existing NSG in another resource group is named with its group
    assert subnets["web"]["networkSecurityGroup"]["id"] == (
        "[resourceId('rg-security', 'Microsoft.Network/networkSecurityGroups', 'shared-nsg')]"
    )
    assert subnets["web"]["routeTable"]["id"] == "[resourceId('Microsoft.Network/routeTables', 'legacy-rt')]"
    assert subnets["web"]["delegations"] == [
        {"name": "Microsoft.Web.serverFarms", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}
    ]


def test_arm_security_rules_use_the_singular_property_for_one_value(files) -> None:
    nsg = next(r for r in _arm(files)["resources"] if r["name"] == "hub-app-nsg")
    rules = {r["name"]: r["properties"] for r in nsg["properties"]["securityRules"]}
    sql = rules["allow-sql-from-vnet"]
    assert sql["sourceAddressPrefix"] == "VirtualNetwork" and "sourceAddressPrefixes" not in sql
    assert sql["destinationPortRanges"] == ["1433", "11000-11999"] and "destinationPortRange" not in sql
    assert rules["deny-internet-in"]["protocol"] == "*"
    table = next(r for r in _arm(files)["resources"] if r["name"] == "app-egress")
    assert table["properties"]["disableBgpRoutePropagation"] is True
    assert table["properties"]["routes"][0]["properties"] == {
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": "10.30.2.4",
    }


def test_bicep_declares_existing_ones_in_their_group_and_associates_by_symbol(files) -> None:
    bicep = files["azure/bicep/rg-hub.bicep"]
    assert re.search(
        r"resource sharedNsg 'Microsoft\.Network/networkSecurityGroups@[0-9-]+' existing = \{\n"
        r"  name: 'shared-nsg'\n  scope: resourceGroup\('rg-security'\)\n\}",
        bicep,
    )
    assert re.search(
        r"resource legacyRt 'Microsoft\.Network/routeTables@[0-9-]+' existing = \{\n  name: 'legacy-rt'\n\}", bicep
    )
    assert "resource hubAppNsg 'Microsoft.Network/networkSecurityGroups@" in bicep
    assert bicep.count("id: sharedNsg.id") == 2 and "id: hubAppNsg.id" in bicep and "id: appEgress.id" in bicep


@pytest.mark.parametrize("module", ["az", "azurerm"])
def test_powershell_creates_them_before_the_vnet_and_attaches_them(files, module: str) -> None:
    text = files[f"azure/powershell/deploy.{module}.ps1"]
    p = "AzureRm" if module == "azurerm" else "Az"
    steps = re.findall(r"(?m)^# =+ Step \d+/\d+: (.+)$", text)
    assert (
        steps.index("Network security groups")
        < steps.index("Route tables")
        < steps.index("Virtual networks and subnets")
    )
    assert f"New-{p}NetworkSecurityGroup -Name 'hub-app-nsg' -ResourceGroupName 'rg-hub'" in text
    assert f"New-{p}NetworkSecurityGroup -Name 'shared-nsg'" not in text  # existing: only read
    assert f"New-{p}RouteTable -Name 'legacy-rt'" not in text
    assert (
        f"New-{p}RouteTable -Name 'app-egress' -ResourceGroupName 'rg-hub' -Location 'westeurope' -DisableBgpRoutePropagation"
        in text
    )
    app = re.search(rf"New-{p}VirtualNetworkSubnetConfig -Name 'app' .*", text).group()
    assert f"-NetworkSecurityGroup (Get-{p}NetworkSecurityGroup -Name 'hub-app-nsg' -ResourceGroupName 'rg-hub')" in app
    assert f"-RouteTable (Get-{p}RouteTable -Name 'app-egress' -ResourceGroupName 'rg-hub')" in app
    assert "-ServiceEndpoint 'Microsoft.Storage', 'Microsoft.Sql'" in app
    # existing ones are checked in the preflight, before anything changes
    first_step = text.index("Write-GenStep -Number 1 ")
    for noun, name, rg in (
        ("NetworkSecurityGroup", "shared-nsg", "rg-security"),
        ("RouteTable", "legacy-rt", "rg-hub"),
    ):
        check = text.index(
            f"if (-not (Get-GenExisting -Lookup {{ Get-{p}{noun} -Name '{name}' -ResourceGroupName '{rg}' -ErrorAction Stop }})) {{\n    throw"
        )
        assert check < first_step
    web = re.search(rf"New-{p}VirtualNetworkSubnetConfig -Name 'web' .*", text).group()
    assert (
        f"-NetworkSecurityGroup (Get-{p}NetworkSecurityGroup -Name 'shared-nsg' -ResourceGroupName 'rg-security')"
        in web
    )
    assert (
        f"-Delegation (New-{p}Delegation -Name 'Microsoft.Web.serverFarms' -ServiceName 'Microsoft.Web/serverFarms')"
        in web
    )


def test_nsg_on_gateway_subnet_is_refused(tmp_path) -> None:
    text = SUBNETS.read_text(encoding="utf-8").replace(
        "          prefix: 10.30.255.0/27\n", "          prefix: 10.30.255.0/27\n          nsg: {}\n", 1
    )
    inventory = write_inventory(tmp_path, text)
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["validate", str(inventory)])
    assert result.exit_code == 2
    assert "azure.vnets[0].subnets[0].nsg" in result.output and "(rule gateway-subnet-nsg)" in result.output


def test_derived_nsg_name_longer_than_80_is_refused_and_a_given_name_fixes_it(tmp_path) -> None:
    from click.testing import CliRunner

    long = "a" * 75  # 'hub-' + 75 + '-nsg' = 83 characters
    text = SUBNETS.read_text(encoding="utf-8").replace("        - name: app\n", f"        - name: {long}\n", 1)
    result = CliRunner().invoke(main, ["validate", str(write_inventory(tmp_path, text))])
    assert result.exit_code == 2
    assert f"derived name 'hub-{long}-nsg' is 83 characters" in result.output
    assert "azure.vnets[0].subnets[1].nsg" in result.output and "(rule name-length)" in result.output
    named = text.replace(
        "          nsg:\n            rules:\n", "          nsg:\n            name: app-nsg\n            rules:\n", 1
    )
    result = CliRunner().invoke(main, ["validate", str(write_inventory(tmp_path, named, "named.yaml"))])
    assert result.exit_code == 0, result.output


def test_runbook_lists_what_each_subnet_carries(files) -> None:
    line = next(x for x in files["README.md"].splitlines() if x.startswith("- VNet `hub`"))
    assert "`app` `10.30.1.0/24` (NSG `hub-app-nsg`; route table `app-egress`; service endpoints" in line
    assert "`web` `10.30.3.0/24` (existing NSG `shared-nsg`; existing route table `legacy-rt`; delegated to" in line
    from checks_runbook import check_markdown

    assert check_markdown("README.md", files["README.md"]) == []

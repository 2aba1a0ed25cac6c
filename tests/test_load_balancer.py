"""Internal load balancers as Azure builds them: dynamic or static frontend, names from the
inventory, backend pools by IP address (rendered) or by NIC (the workload's), never both; Basic refused.

facts-2026-12 section 6: the HA-ports quickstart's dynamic frontend, the IP-based pool shape
(`loadBalancerBackendAddresses` with the VNet id and the address) and its limitations.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from checks_powershell import check_text
from conftest import ROOT, render_files, write_inventory

ILB = ROOT / "tests" / "data" / "lb" / "ilb.yaml"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(ILB)


def _lbs(files: dict[str, str]) -> dict[str, dict]:
    template = json.loads(files["azure/arm/rg-nva.json"])
    return {r["name"]: r for r in template["resources"] if r["type"] == "Microsoft.Network/loadBalancers"}


def test_arm_passes_the_official_schemas(files, arm_validator) -> None:
    for path, text in files.items():
        if path.startswith("azure/arm/"):
            assert arm_validator(json.loads(text), check_unknown_properties=True) == [], path


def test_dynamic_frontend_has_no_address(files) -> None:
    frontend = _lbs(files)["nva-ilb"]["properties"]["frontendIPConfigurations"][0]
    assert frontend["name"] == "frontend"
    assert frontend["properties"]["privateIPAllocationMethod"] == "Dynamic"
    assert "privateIPAddress" not in frontend["properties"]


def test_static_frontend_keeps_its_address_and_name(files) -> None:
    lb = _lbs(files)["web-ilb"]["properties"]
    frontend = lb["frontendIPConfigurations"][0]
    assert frontend["name"] == "web-frontend"
    assert frontend["properties"]["privateIPAllocationMethod"] == "Static"
    assert frontend["properties"]["privateIPAddress"] == "10.30.2.10"
    for rule in lb["loadBalancingRules"]:
        assert "'web-ilb', 'web-frontend')]" in rule["properties"]["frontendIPConfiguration"]["id"]


def test_ip_pool_members_carry_the_vnet_and_the_address(files) -> None:
    pools = {p["name"]: p for p in _lbs(files)["web-ilb"]["properties"]["backendAddressPools"]}
    members = pools["web-by-ip"]["properties"]["loadBalancerBackendAddresses"]
    assert [m["properties"]["ipAddress"] for m in members] == ["10.30.2.4", "10.30.2.5"]
    for m in members:
        assert m["name"] and m["properties"]["virtualNetwork"]["id"] == (
            "[resourceId('Microsoft.Network/virtualNetworks', 'nva-vnet')]"
        )
    # A pool by NIC has no members on the pool object: the NICs reference it.
    assert pools["web-by-nic"] == {"name": "web-by-nic"}


def test_each_rule_sends_to_its_pool(files) -> None:
    rules = {r["name"]: r["properties"] for r in _lbs(files)["web-ilb"]["properties"]["loadBalancingRules"]}
    assert rules["web-http"]["backendAddressPool"]["id"].endswith("'web-ilb', 'web-by-ip')]")
    assert rules["web-https"]["backendAddressPool"]["id"].endswith("'web-ilb', 'web-by-nic')]")


def test_bicep_renders_the_same_pools(files) -> None:
    bicep = files["azure/bicep/rg-nva.bicep"]
    assert "privateIPAllocationMethod: 'Dynamic'" in bicep
    assert bicep.count("ipAddress: '10.30.") == 4
    assert "name: 'web-frontend'" in bicep


def test_az_script_builds_ip_pools_and_azurerm_stops(files) -> None:
    az = files["azure/powershell/deploy.az.ps1"]
    assert check_text("deploy.az.ps1", az) == []
    assert "PSLoadBalancerBackendAddress" in az and "IpAddress      = '10.30.2.5'" in az
    # dynamic: no -PrivateIpAddress; westeurope has zones: zone-redundant
    assert "-Name 'frontend' -Zone '1', '2', '3' -Subnet $subnet" in az
    azurerm = files["azure/powershell/deploy.azurerm.ps1"]
    assert check_text("deploy.azurerm.ps1", azurerm) == []
    assert "has no IP-based backend pools" in azurerm and "PSLoadBalancerBackendAddress" not in azurerm


def test_runbook_names_the_members(files) -> None:
    readme = files["README.md"]
    assert "`web-frontend` `10.30.2.10`" in readme and "(dynamic IP)" in readme
    assert "members by IP: `10.30.2.4`, `10.30.2.5`" in readme
    assert "the workload adds NICs `web-vm1-nic`, `web-vm2-nic`" in readme


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        (
            "          nics: [web-vm1-nic, web-vm2-nic]",
            "          nics: [web-vm1-nic]\n          addresses: [10.30.2.6]",
            "lb-pool-mixed",
        ),
        ("addresses: [10.30.2.4, 10.30.2.5]", "addresses: [10.30.2.4, 10.31.2.5]", "lb-pool-address-in-vnet"),
        ("frontend_name: web-frontend", "frontend_name: web-frontend\n      sku: Basic", "lb-sku-basic"),
        ("pool: web-by-nic", "pool: no-such-pool", "unknown-reference"),
    ],
)
def test_refusals(tmp_path: Path, old: str, new: str, rule: str) -> None:
    text = ILB.read_text(encoding="utf-8")
    assert old in text
    path = write_inventory(tmp_path, text.replace(old, new, 1))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(path), "-o", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert f"(rule {rule})" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()

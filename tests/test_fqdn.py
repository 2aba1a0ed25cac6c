"""On-prem endpoints given by DNS name: the LNG's `fqdn` in ARM, Bicep and Az PowerShell, AzureRM
stopped in preflight, each platform's FQDN IKE identity, and the cross-side check comparing both."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from checks_onprem import check_files, state_for
from conftest import ROOT, render_files, write_inventory

from generator.crosscheck import cross_check
from generator.pipeline import build_model, render_all
from generator.platforms import FQDN_IDENTITY, PLATFORMS
from generator.rules_onprem import fqdn_problem

FQDN = ROOT / "tests" / "data" / "onprem" / "fqdn.yaml"
NAMES = {
    "shop1-ios": "shop1.vpn.example.com",
    "shop2-srx": "shop2.vpn.example.com",
    "shop3-linux": "shop3.vpn.example.com",
    "shop4-vyos": "shop4.vpn.example.com",
    "shop5-fgt": "shop5.vpn.example.com",
}


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    path = tmp_path_factory.mktemp("state") / "azure-state.json"
    path.write_text(json.dumps(state_for(build_model(FQDN).model)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(state) -> dict[str, str]:
    return render_files(FQDN, (state,))


def _lngs(files: dict[str, str]) -> dict[str, dict]:
    resources = json.loads(files["azure/arm/rg-hub.json"])["resources"]
    return {r["name"]: r["properties"] for r in resources if r["type"] == "Microsoft.Network/localNetworkGateways"}


def test_arm_local_gateways_carry_the_fqdn_and_pass_the_official_schemas(files, arm_validator) -> None:
    lngs = _lngs(files)
    for device, name in NAMES.items():
        site = device.split("-")[0]
        props = lngs[f"lng-{site}-{device}"]
        assert props["fqdn"] == name and "gatewayIpAddress" not in props
    assert lngs["lng-office-office-ios"]["gatewayIpAddress"] == "198.51.100.35"
    assert "fqdn" not in lngs["lng-office-office-ios"]
    for path in ("azure/arm/rg-hub.json", "azure/arm/rg-hub.parameters.json"):
        assert arm_validator(json.loads(files[path]), check_unknown_properties=True) == [], path


def test_bicep_local_gateways_carry_the_fqdn(files) -> None:
    bicep = files["azure/bicep/rg-hub.bicep"]
    assert sorted(re.findall(r"^    fqdn: '([^']+)'$", bicep, re.M)) == sorted(NAMES.values())
    assert re.findall(r"^    gatewayIpAddress: '([^']+)'$", bicep, re.M) == ["198.51.100.35"]


def test_az_uses_fqdn_and_azurerm_stops_in_preflight(files) -> None:
    az = files["azure/powershell/deploy.az.ps1"]
    rm = files["azure/powershell/deploy.azurerm.ps1"]
    for name in NAMES.values():
        assert f"-Fqdn '{name}'" in az
        assert f"cannot be given the DNS name {name}" in rm
    assert "-GatewayIpAddress '198.51.100.35'" in az
    assert "-Fqdn '" not in rm  # the cmdlet catalog test checks every parameter the script passes
    start = rm.index("$GenBlocked = @(")
    blocked = rm[start : rm.index("throw (", start)]
    assert blocked.count("has no -Fqdn") == len(NAMES)
    assert "New-AzureRmLocalNetworkGateway -Name" not in rm  # a blocked script renders no steps


def test_every_platform_presents_the_fqdn_as_its_ike_identity(files) -> None:
    ios = files["onprem/shop1/shop1-ios.ios"]
    assert re.findall(r"^ identity local (.*)$", ios, re.M) == ["fqdn shop1.vpn.example.com"] * 2
    srx = files["onprem/shop2/shop2-srx.set"]
    assert re.findall(r"local-identity (.*)$", srx, re.M) == ["hostname shop2.vpn.example.com"] * 2
    swan = files["onprem/shop3/shop3-linux.swanctl.conf"]
    locals_ = re.findall(r"local\s*\{[^}]*?\bid = (\S+)", swan)
    assert locals_ == ["shop3.vpn.example.com"] * 2
    assert re.findall(r"id-1 = (\S+)", swan) == ["shop3.vpn.example.com"] * 2
    vyos = files["onprem/shop4/shop4-vyos.vyos"]
    assert re.findall(r"authentication local-id (\S+)$", vyos, re.M) == ["shop4.vpn.example.com"] * 2
    fgt = files["onprem/shop5/shop5-fgt.fortios.conf"]
    assert re.findall(r"set localid-type (\S+)$", fgt, re.M) == ["fqdn"] * 2
    assert re.findall(r'set localid "([^"]+)"$', fgt, re.M) == ["shop5.vpn.example.com"] * 2
    office = files["onprem/office/office-ios.ios"]
    assert re.findall(r"^ identity local (.*)$", office, re.M) == ["address 198.51.100.35"] * 2


def test_the_real_validators_accept_the_device_files(files) -> None:
    assert check_files(files) == []


def test_cross_check_compares_the_identity_with_the_lng_fqdn(state) -> None:
    model = build_model(FQDN, (state,)).model
    out = render_all(model)
    assert cross_check(model, out) == []
    edits = {
        "onprem/shop1/shop1-ios.ios": (
            "identity local fqdn shop1.vpn.example.com",
            "identity local address 198.51.100.31",
        ),
        "onprem/shop2/shop2-srx.set": ("hostname shop2.vpn.example.com", "hostname shop9.vpn.example.com"),
        "onprem/shop3/shop3-linux.swanctl.conf": ("id = shop3.vpn.example.com", "id = 198.51.100.33"),
        "onprem/shop4/shop4-vyos.vyos": ("local-id shop4.vpn.example.com", "local-id shop4.example.net"),
        "onprem/shop5/shop5-fgt.fortios.conf": ('localid "shop5.vpn.example.com"', 'localid "shop9.vpn.example.com"'),
    }
    edited = []
    for f in out:
        if f.path in edits:
            old, new = edits[f.path]
            assert old in f.text
            f = dataclasses.replace(f, text=f.text.replace(old, new))
        edited.append(f)
    found = cross_check(model, edited)
    for path in edits:
        stem = path.split(".")[0]
        assert any(
            line.startswith(f"{stem}: tunnel 1 ") and "local IKE identity (LNG fqdn)" in line for line in found
        ), (
            stem,
            found,
        )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("vpn.example.com", None),
        ("VPN-1.Branch.example.com.", None),
        ("branch", "single label"),
        ("vpn_1.example.com", "label 'vpn_1'"),
        ("-vpn.example.com", "label '-vpn'"),
        ("vpn..example.com", "label ''"),
        ("192.0.2.1", "numeric label"),
        (("a" * 63 + ".") * 4 + "com", "longer than 253"),
        ("a" * 64 + ".example.com", "label 'aaaa"),
    ],
)
def test_fqdn_problem(name: str, why: str | None) -> None:
    problem = fqdn_problem(name)
    assert (problem is None) if why is None else (why in problem), problem


def test_a_platform_without_the_capability_is_refused(tmp_path, monkeypatch) -> None:
    """No platform lacks FQDN_IDENTITY today; the rule must still refuse one that does."""
    from generator.errors import InventoryError

    platform = PLATFORMS["vyos"]
    monkeypatch.setattr(type(platform), "capabilities", frozenset(platform.capabilities - {FQDN_IDENTITY}))
    text = FQDN.read_text(encoding="utf-8")
    path = write_inventory(tmp_path, text)
    with pytest.raises(InventoryError) as err:
        build_model(path)
    able = " / ".join(p.key for p in PLATFORMS.values() if p.can(FQDN_IDENTITY))  # without vyos now
    assert "vyos" not in able and "cisco_iosxe" in able
    assert [line for line in err.value.lines if "(rule device-fqdn)" in line] == [
        f"{path}:44:78: onprem.sites[3].devices[0].fqdn: device 'shop4-vyos' (vyos) cannot present an FQDN as its "
        f"IKE identity; remove fqdn (give public_ip only) or use {able} (rule device-fqdn)"
    ]

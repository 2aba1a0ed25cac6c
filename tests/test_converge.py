"""The generated PowerShell converges: it reads each resource, compares every managed property and
updates only what differs, disruptive updates behind ShouldProcess and ShouldContinue (-Force).

Without a PowerShell runtime or a subscription this is what can be proven (README, "PowerShell
deployment scripts"): the tree-sitter check of tests/checks_converge.py on every script, that it
bites, and that changing one property in the inventory changes exactly that guarded update.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from checks_converge import check_files, converge_problems
from checks_powershell import check_text
from conftest import INVENTORIES, ROOT, render_files, write_inventory

DATA = sorted(
    p for p in (ROOT / "tests" / "data").glob("*/*.yaml") if p.parent.name in ("bicep", "powershell", "lb", "keyvault")
)
CASES = {p.stem if p.parent.name == "inventories" else f"{p.parent.name}/{p.stem}": p for p in [*INVENTORIES, *DATA]}
CSP = ROOT / "inventories" / "csp-advanced.yaml"
AZ = "azure/powershell/deploy.az.ps1"
AZURERM = "azure/powershell/deploy.azurerm.ps1"


@pytest.fixture(scope="module")
def scripts() -> dict[str, dict[str, str]]:
    return {name: {p: t for p, t in render_files(path).items() if p.endswith(".ps1")} for name, path in CASES.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_script_changes_only_what_differs(scripts, name: str) -> None:
    assert check_files(scripts[name]) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("if ($GenChanges.Count -gt 0) {", "if ($true) {", "is not inside `if ($GenChanges.Count -gt 0)`"),
        (
            "$PSCmdlet.ShouldProcess('SEA-VNET-gw', ('Update",
            "($true -or $x -eq ('Update",
            "is not behind $PSCmdlet.ShouldProcess",
        ),
        ("$PSCmdlet.ShouldContinue(", "$PSCmdlet.ShouldProcess(", "(disruptive) is not behind ShouldContinue"),
        ("        $connection.DpdTimeoutSeconds = 45\n", "", "records a change but does not change what it compares"),
        (
            "        $lng.GatewayIpAddress = '198.51.100.10'\n",
            "",
            "records a change but does not change what it compares",
        ),
        ("-ErrorAction Stop }", "-ErrorAction SilentlyContinue }", "SilentlyContinue"),
        (
            "Set-AzLocalNetworkGateway -LocalNetworkGateway $lng",
            "Set-AzLocalNetworkGateway -LocalNetworkGateway $other",
            "sends an object whose properties were never compared",
        ),
    ],
)
def test_the_check_bites(scripts, old: str, new: str, expected: str) -> None:
    text = scripts["csp-advanced"][AZ]
    assert old in text, old
    assert any(expected in p for p in converge_problems(AZ, text.replace(old, new, 1)))


def _changed(tmp_path: Path, old: str, new: str) -> tuple[str, list[str]]:
    """The Az script after one inventory change, and the lines that changed (source path aside)."""
    before = render_files(CSP)[AZ]
    text = CSP.read_text(encoding="utf-8")
    assert text.count(old) >= 1
    inventory = write_inventory(tmp_path, text.replace(old, new, 1))
    after = render_files(inventory)[AZ].replace(str(inventory), "inventories/csp-advanced.yaml")
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return after, [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]


def _block(script: str, condition: str) -> str:
    """The branch of the `if` on `condition`, up to its closing brace (same indentation)."""
    match = re.search(rf"^( *)if \({re.escape(condition)}\) \{{\n(.*?)^\1\}}", script, re.MULTILINE | re.DOTALL)
    assert match, condition
    return match.group(2)


def test_a_gateway_resize_changes_exactly_its_guarded_update(tmp_path: Path) -> None:
    script, added = _changed(tmp_path, "sku: VpnGw2AZ", "sku: VpnGw3AZ")
    block = _block(script, "$gw.Sku.Name -ne 'VpnGw3AZ'")
    assert "$gw.Sku.Name = 'VpnGw3AZ'" in block and "$GenChanges += 'SKU VpnGw3AZ'" in block
    assert "$GenDisruptive += ('resize from {0} to VpnGw3AZ'" in block
    outside = [line for line in added if line.strip() not in block and "$gw.Sku.Name -ne 'VpnGw3AZ'" not in line]
    # Besides the comparison, only the creation of a missing gateway names the SKU.
    assert all("New-AzVirtualNetworkGateway " in line or "'Create VPN gateway VpnGw3AZ" in line for line in outside), (
        outside
    )
    assert any(line.strip() == "if ($gw.Sku.Name -ne 'VpnGw3AZ') {" for line in added)
    assert check_files({AZ: script}) == [] and check_text(AZ, script) == []


def test_a_dpd_change_changes_exactly_its_guarded_update(tmp_path: Path) -> None:
    script, added = _changed(tmp_path, "dpd_timeout_seconds: 45}", "dpd_timeout_seconds: 60}")
    blocks = re.findall(r"    if \(\$connection\.DpdTimeoutSeconds -ne 60\) \{\n(.*?)\n    \}", script, re.DOTALL)
    assert blocks and all(
        "$connection.DpdTimeoutSeconds = 60" in b and "$GenChanges += 'DPD 60 s'" in b for b in blocks
    )
    for line in added:
        assert (
            "-DpdTimeoutInSeconds 60" in line
            or line.strip() in {"if ($connection.DpdTimeoutSeconds -ne 60) {", "$connection.DpdTimeoutSeconds = 60"}
            or line.strip() == "$GenChanges += 'DPD 60 s'"
        ), line
    assert check_files({AZ: script}) == []


def test_an_asn_change_on_the_site_changes_its_local_gateways_only(tmp_path: Path) -> None:
    text = CSP.read_text(encoding="utf-8")
    asn = re.search(r"asn: (651\d\d)", text).group(1)
    script, added = _changed(tmp_path, f"asn: {asn}", "asn: 65190")
    assert added
    for line in added:
        assert "65190" in line, line
        assert "$lng" in line or "New-AzLocalNetworkGateway " in line or "BGP 65190" in line, line


def test_gateway_updates_pass_custom_routes_back_and_azurerm_stops_in_preflight(scripts) -> None:
    az = scripts["csp-advanced"][AZ]
    assert az.count("-CustomRoute $customRoutes -AsJob") == az.count(
        "Set-AzVirtualNetworkGateway -VirtualNetworkGateway $gw -AsJob"
    )
    assert "[switch] $Force" in az and "$PSCmdlet.ShouldContinue(" in az
    assert "-EnableBgp" not in "".join(line for line in az.splitlines() if "Set-AzVirtualNetworkGateway " in line)
    azurerm = scripts["brownfield" if "brownfield" in scripts else "csp-advanced"][AZURERM]
    preflight = azurerm.split(
        "# ============================================================================= Step 1/"
    )[0]
    assert "would clear their custom routes" in preflight and "-CustomRoute" not in azurerm


def test_lookups_tell_not_found_from_other_errors(scripts) -> None:
    az = scripts["csp-advanced"][AZ]
    helper = az.split("function Get-GenExisting {", 1)[1].split("\n}\n", 1)[0]
    assert "ResourceNotFound" in helper and "throw" in helper
    assert "'Failed' { throw" in az and "Start-Sleep -Seconds 30" in az
    for name, files in scripts.items():
        for path, text in files.items():
            assert "SilentlyContinue" not in text, (name, path)


def test_a_probe_change_changes_the_compared_shape_and_the_update_only(tmp_path: Path) -> None:
    script, added = _changed(tmp_path, "port: 59999", "port: 59998")
    assert added
    for line in added:
        assert "59998" in line, line
        assert "Get-GenLbShape -LoadBalancer $lb) -ne '" in line or "New-AzLoadBalancerProbeConfig " in line, line
    update = re.search(r"^        \$null = New-AzLoadBalancer .*$", script, re.MULTILINE).group()
    assert update.endswith(" -Force")
    assert "if ((-not $lb) -or ($GenChanges.Count -gt 0)) {" in script
    assert check_files({AZ: script}) == []


def test_a_load_balancer_sent_without_a_comparison_is_caught(scripts) -> None:
    text = scripts["csp-advanced"][AZ]
    assert any(
        "not the update sent" in p
        for p in converge_problems(AZ, text.replace("-Tag $GenTags -Force", "-Tag $GenTags", 1))
    )
    unguarded = text.replace("if ((-not $lb) -or ($GenChanges.Count -gt 0)) {", "if ($true) {", 1)
    assert any("not the update sent" in p for p in converge_problems(AZ, unguarded))


EXISTING_GATEWAY_ASKED_NOTHING = """\
name: brownfield
azure:
  vnets:
    - name: hub
      resource_group: rg-hub
      region: northeurope
      address_space: [10.0.0.0/16]
      subnets: [{name: GatewaySubnet, prefix: 10.0.255.0/27}]
      existing: true
      gateway: {sku: VpnGw1AZ, name: hub-gw}
onprem:
  sites:
    - name: dc1
      prefixes: [172.16.0.0/16]
      devices: [{name: dc1-r1, platform: cisco_iosxe, public_ip: 198.51.100.10}]
  connections:
    - {site: dc1, vnet: hub, psk: {env: GEN_PSK_DC1}, bgp: false, ipsec_policy: {ike_encryption: AES256, ike_integrity: SHA256, dh_group: DHGroup14, ipsec_encryption: GCMAES256, ipsec_integrity: GCMAES256, pfs_group: PFS2048, sa_lifetime_seconds: 27000, sa_datasize_kilobytes: 102400000}}
"""


def test_an_existing_gateway_asked_nothing_is_read_but_never_sent(tmp_path: Path) -> None:
    """Neither BGP nor active-active asked of an existing gateway: no update block (found by test_properties)."""
    files = render_files(write_inventory(tmp_path, EXISTING_GATEWAY_ASKED_NOTHING))
    for path in (AZ, AZURERM):
        assert check_files({path: files[path]}) == []
        assert "VirtualNetworkGateway -VirtualNetworkGateway $gw" not in files[path]
        assert "gateway hub-gw exists; the inventory asks nothing of it" in files[path]

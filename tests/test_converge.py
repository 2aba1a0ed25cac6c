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


def _diff(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]


def _changed_in(tmp_path: Path, source: Path, old: str, new: str, script: str = AZ) -> tuple[str, list[str]]:
    """A script of `source` after one inventory change, and the lines that changed."""
    before = render_files(source)[script]
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    inventory = write_inventory(tmp_path, text.replace(old, new, 1))
    rel = str(source.relative_to(ROOT))
    after = render_files(inventory)[script].replace(str(inventory), rel)
    return after, _diff(before, after)


HUB_SPOKE = ROOT / "tests" / "data" / "bicep" / "hub-spoke.yaml"
SUBNETS = ROOT / "tests" / "data" / "bicep" / "subnets.yaml"


@pytest.mark.parametrize("script", [AZ, AZURERM])
def test_a_peering_flag_changes_exactly_its_guarded_updates(tmp_path: Path, script: str) -> None:
    text = HUB_SPOKE.read_text(encoding="utf-8")
    old = "    - vnets: [spoke-near, hub]\n      transit_via: hub\n"
    new = "    - vnets: [spoke-near, hub]\n      transit_via: hub\n      allow_forwarded_traffic: false\n"
    assert old in text
    after, added = _changed_in(tmp_path, HUB_SPOKE, old, new, script)
    # Both directions of that peering, and nothing else: the creation switch and the compared flag.
    assert added
    for line in added:
        assert (
            "AllowForwardedTraffic" in line
            and "-AllowForwardedTraffic" not in line
            or ("Add-" in line and "VirtualNetworkPeering -Name 'peer-" in line and "spoke-near" in line)
        ), line
    blocks = re.findall(r"    if \(\$peering\.AllowForwardedTraffic -ne \$false\) \{\n(.*?)\n    \}", after, re.DOTALL)
    assert len(blocks) == 2
    assert all("$peering.AllowForwardedTraffic = $false" in b and "$GenChanges +=" in b for b in blocks)
    assert check_files({script: after}) == [] and check_text(script, after) == []


def test_peerings_converge_transit_before_the_use_of_remote_gateways(scripts) -> None:
    text = scripts["bicep/hub-spoke"][AZ]
    sets = [m.start() for m in re.finditer(r"Set-AzVirtualNetworkPeering -VirtualNetworkPeering \$peering", text)]
    transit_on = text.index("$peering.AllowGatewayTransit = $true")
    use_on = text.index("$peering.UseRemoteGateways = $true")
    use_off = text.index("$peering.UseRemoteGateways = $false")
    transit_off = text.index("$peering.AllowGatewayTransit = $false")
    assert sets and transit_on < use_on and use_off < transit_off
    # Every turn-on of transit and turn-off of use is sent (pass 1) before any use turns on (pass 2).
    assert (
        max(text.rindex("$peering.AllowGatewayTransit = $true"), text.rindex("$peering.UseRemoteGateways = $false"))
        < use_on
    )


def test_an_nsg_rule_change_changes_exactly_its_guarded_update(tmp_path: Path) -> None:
    after, added = _changed_in(tmp_path, SUBNETS, "priority: 110", "priority: 120")
    assert added
    for line in added:
        assert "-Priority 120" in line or "|120|" in line, line
    block = _block(
        after,
        "(Get-GenNsgRule -Rules $nsg.SecurityRules -Name 'allow-sql-from-vnet') -ne '|120|Inbound|Allow|Tcp|VirtualNetwork|*|*|1433,11000-11999'",
    )
    assert "Set-AzNetworkSecurityRuleConfig -NetworkSecurityGroup $nsg -Name 'allow-sql-from-vnet'" in block
    assert "$GenChanges += 'rule allow-sql-from-vnet'" in block
    assert check_files({AZ: after}) == [] and check_text(AZ, after) == []


def test_a_route_change_changes_exactly_its_guarded_update(tmp_path: Path) -> None:
    after, added = _changed_in(
        tmp_path,
        SUBNETS,
        "next_hop_ip: 10.30.2.4}\n              - {name: onprem",
        "next_hop_ip: 10.30.2.5}\n              - {name: onprem",
    )
    assert added
    for line in added:
        assert "10.30.2.5" in line, line
        assert "default-via-nva" in line or "Get-GenRoute" in line, line
    assert check_files({AZ: after}) == [] and check_text(AZ, after) == []


def test_bgp_propagation_and_a_subnet_attachment_are_compared(tmp_path: Path) -> None:
    after, added = _changed_in(
        tmp_path, SUBNETS, "disable_bgp_route_propagation: true", "disable_bgp_route_propagation: false"
    )
    assert added
    for line in added:
        # The comparison and its branch, and the creation of a missing table (the switch is gone).
        assert (
            "DisableBgpRoutePropagation" in line
            or "BGP route propagation on" in line
            or "New-AzRouteTable -Name 'app-egress'" in line
        ), line
    assert "-DisableBgpRoutePropagation" not in next(line for line in added if "New-AzRouteTable" in line)
    block = _block(
        after,
        "(Get-GenId -Reference $subnet.RouteTable) -ne ('/subscriptions/' + $SubscriptionId + '/resourceGroups/rg-hub/providers/Microsoft.Network/routeTables/app-egress')",
    )
    assert "$subnet.RouteTable = New-Object" in block and "$GenChanges += 'subnet app: route table app-egress'" in block
    assert check_files({AZ: after}) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "        $GenChanges += 'rule allow-sql-from-vnet'\n",
            "",
            "edits an object outside a comparison that records the change",
        ),
        (
            "    if ($GenChanges.Count -gt 0) {\n        if ($PSCmdlet.ShouldProcess('hub-app-nsg'",
            "    if ($true) {\n        if ($PSCmdlet.ShouldProcess('hub-app-nsg'",
            "is not inside `if ($GenChanges.Count -gt 0)`",
        ),
        (
            "            $subnet.RouteTable = New-Object -TypeName 'Microsoft.Azure.Commands.Network.Models.PSRouteTable' -Property @{ Id = '/subscriptions/' + $SubscriptionId + '/resourceGroups/rg-hub/providers/Microsoft.Network/routeTables/app-egress' }\n",
            "",
            "records a change but does not change what it compares",
        ),
    ],
)
def test_the_check_bites_on_nsgs_route_tables_and_subnets(scripts, old: str, new: str, expected: str) -> None:
    text = scripts["bicep/subnets"][AZ]
    assert old in text, old
    assert any(expected in p for p in converge_problems(AZ, text.replace(old, new, 1)))


FEATURES = ROOT / "tests" / "data" / "powershell" / "features.yaml"


def test_an_apipa_change_changes_exactly_the_compared_gateway_and_connection(tmp_path: Path) -> None:
    after, added = _changed_in(
        tmp_path, FEATURES, "[[169.254.21.1], [169.254.21.5]]", "[[169.254.21.1], [169.254.21.6]]"
    )
    assert added
    for line in added:
        assert "169.254.21.6" in line, line
    gateway = _block(
        after,
        "-not (Test-GenBgpAddresses -Have $gw.BgpSettings.BgpPeeringAddresses -Want @('ipconfig1=169.254.21.1', 'ipconfig2=169.254.21.6'))",
    )
    assert (
        "$gw.BgpSettings.BgpPeeringAddresses = New-Object" in gateway and "$GenDisruptive += 'custom APIPA" in gateway
    )
    assert "CustomBgpIpAddresses = @('169.254.21.6')" in gateway
    connection = _block(
        after,
        "-not (Test-GenBgpAddresses -Have $connection.GatewayCustomBgpIpAddresses -Want @('ipconfig1=169.254.21.1', 'ipconfig2=169.254.21.6'))",
    )
    assert (
        "$connection.GatewayCustomBgpIpAddresses.Add(" in connection
        and "CustomBgpIpAddress = '169.254.21.6'" in connection
    )
    assert check_files({AZ: after}) == [] and check_text(AZ, after) == []


def test_azurerm_compares_no_custom_apipa(scripts) -> None:
    for name, files in scripts.items():
        assert "Test-GenBgpAddresses" not in files[AZURERM], name


@pytest.mark.parametrize("script", [AZ, AZURERM])
def test_every_connection_compares_its_key_and_sets_it_only_when_it_differs(scripts, script: str) -> None:
    for name in ("csp-advanced", "bicep/hub-spoke", "powershell/features"):
        text = scripts[name][script]
        if "cannot do: " in text:
            continue
        created = re.findall(r"New-\w+VirtualNetworkGatewayConnection -Name ('[^']+')", text)
        assert created, name
        for connection in created:
            assert f"ConnectionSharedKey -Name {connection} -ResourceGroupName" in text, (name, connection)
        sets = re.findall(r"Set-\w+VirtualNetworkGatewayConnectionSharedKey -Name ('[^']+')", text)
        assert sorted(sets) == sorted(created), name


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            " -cne (ConvertFrom-GenSecureString",
            " -or (ConvertFrom-GenSecureString",
            "not inside a comparison of the key",
        ),
        ("    if ($GenKeyDiffers) {\n", "    if ($true) {\n", "not inside a comparison of the key"),
        (
            "SharedKey -Name 'cn-SEA-VNET-dc1-edge1' -ResourceGroupName 'rg-sea-network') -cne",
            "SharedKey -Name 'cn-SEA-VNET-dc1-edge2' -ResourceGroupName 'rg-sea-network') -cne",
            "not inside a comparison of the key",
        ),
        (
            "-and ($Force -or $PSCmdlet.ShouldContinue('The tunnel goes down",
            "-and ($true -or $x.Skip('",
            "(disruptive)",
        ),
        (
            "if ($PSCmdlet.ShouldProcess('cn-SEA-VNET-dc1-edge1', 'Set the pre-shared key",
            "if ($true -and ('cn-SEA-VNET-dc1-edge1', 'Set the pre-shared key",
            "is not behind $PSCmdlet.ShouldProcess",
        ),
        (
            "        $GenChanges += 'custom APIPA BGP addresses'\n",
            "",
            "is not in a comparison that records the change",
        ),
    ],
)
def test_the_check_bites_on_keys(scripts, old: str, new: str, expected: str) -> None:
    text = scripts["csp-advanced"][AZ]
    assert old in text, old
    assert any(expected in p for p in converge_problems(AZ, text.replace(old, new, 1)))


def test_public_ips_that_cannot_change_stop_in_preflight(scripts) -> None:
    for name in ("csp-advanced", "powershell/features"):
        for script in (AZ, AZURERM):
            text = scripts[name][script]
            if "cannot do: " in text:
                continue
            preflight = text.split(
                "# ============================================================================= Step 1/"
            )[0]
            created = re.findall(r"New-\w+PublicIpAddress -Name ('[^']+')", text)
            assert created, name
            for pip in set(created):
                check = preflight.split(f"PublicIpAddress -Name {pip} ", 1)[1].split("\n}\n", 1)[0]
                assert "$pip.Sku.Name -ne 'Standard'" in check and "$pip.PublicIpAllocationMethod -ne 'Static'" in check
                assert "throw (" in check and "cannot change these in place" in check
            assert "Set-AzPublicIpAddress" not in text and "Set-AzureRmPublicIpAddress" not in text
    zoned = scripts["powershell/features"][AZ].split("Step 1/")[0]
    assert "-ne '1,2,3') {" in zoned


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

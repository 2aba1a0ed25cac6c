"""PowerShell scripts: tree-sitter parse, cmdlet catalogs, shape, order, secrets, state file, rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from checks_powershell import calls, check_files, check_text, cmdlet_names, parser, walk
from click.testing import CliRunner
from conftest import FAKE_KEYS, INVENTORIES, ROOT, render_files, write_inventory

from generator.cli import main
from generator.pipeline import build_model
from generator.state import read_state

DATA = Path(__file__).resolve().parent / "data" / "powershell"
FEATURES = DATA / "features.yaml"
BROWNFIELD = DATA / "brownfield.yaml"
STATE = DATA / "azure-state.csp-advanced.json"
SCRIPTS = ("azure/powershell/deploy.azurerm.ps1", "azure/powershell/deploy.az.ps1")
SUBNETS = DATA.parent / "bicep" / "subnets.yaml"  # NSGs, route tables, service endpoints, a delegation
FQDN = DATA.parent / "onprem" / "fqdn.yaml"  # New-AzLocalNetworkGateway -Fqdn; AzureRM stops in preflight
ALL = {p.stem: p for p in [*INVENTORIES, FEATURES, BROWNFIELD, DATA / "bare.yaml", SUBNETS, FQDN]}


@pytest.fixture(scope="module")
def scripts() -> dict[str, dict[str, str]]:
    """inventory -> {script path: text} for the examples and the feature inventory."""
    return {
        name: {k: v for k, v in render_files(path, targets=("powershell",)).items() if k.endswith(".ps1")}
        for name, path in ALL.items()
    }


def test_both_scripts_for_every_inventory(scripts) -> None:
    for name, files in scripts.items():
        assert sorted(files) == sorted(SCRIPTS), name


@pytest.mark.parametrize("inventory", sorted(ALL))
def test_scripts_parse_and_match_the_cmdlet_catalogs(scripts, inventory: str) -> None:
    assert check_files(scripts[inventory]) == []


@pytest.mark.parametrize("inventory", sorted(ALL))
def test_each_script_uses_only_its_module(scripts, inventory: str) -> None:
    for path, text in scripts[inventory].items():
        names = cmdlet_names(text)
        azure = {n for n in names if re.match(r"^\w+-Az", n, re.IGNORECASE)}
        assert azure or "\nthrow (" in text, path
        if path.endswith(".azurerm.ps1"):
            assert all(re.match(r"^\w+-AzureRm[A-Z]", n) for n in azure), sorted(azure)
        else:
            assert not any(re.match(r"^\w+-AzureRm", n, re.IGNORECASE) for n in azure), sorted(azure)


# ---------------------------------------------------------------- the checker bites
def _csp_az(scripts) -> str:
    return scripts["csp-advanced"]["azure/powershell/deploy.az.ps1"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a parameter the cmdlet does not have
        ("-GatewaySku 'VpnGw2AZ'", "-GatewaySkuName 'VpnGw2AZ'", "no parameter -GatewaySkuName"),
        # a value outside the parameter's accepted values
        ("-GatewaySku 'VpnGw2AZ'", "-GatewaySku 'VpnGw9AZ'", "'VpnGw9AZ' is not one of"),
        ("-IkeEncryption 'AES256'", "-IkeEncryption 'GCMAES256'", "'GCMAES256' is not one of"),
        # a mandatory parameter left out (-AllocationMethod of New-AzPublicIpAddress)
        ("-Sku Standard -AllocationMethod Static", "-Sku Standard", "no parameter set fits"),
        # parameters from two different parameter sets
        (
            "-SubnetId $subnet.Id -PublicIpAddressId",
            "-Subnet $subnet -SubnetId $subnet.Id -PublicIpAddressId",
            "no parameter set fits",
        ),
        # a cmdlet that does not exist
        ("New-AzLocalNetworkGateway", "New-AzLocalNetworkGatewayX", "not in the az cmdlet catalog"),
        # the other module's cmdlet
        ("Get-AzResourceGroup", "Get-AzureRmResourceGroup", "is not a az cmdlet"),
        # a splat the checker cannot resolve
        ("@ends -ConnectionType", "@unknown -ConnectionType", "splatting @unknown"),
        # a syntax error
        ("$GenJobs = @()", "$GenJobs = @(", "syntax"),
        # a core cmdlet with a wrong parameter
        ("Read-Host -AsSecureString", "Read-Host -AsSecret", "no parameter -AsSecret"),
    ],
)
def test_the_check_bites(scripts, old: str, new: str, expected: str) -> None:
    text = _csp_az(scripts)
    assert old in text
    problems = check_text("deploy.az.ps1", text.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_splatted_keys_are_checked(scripts) -> None:
    text = _csp_az(scripts).replace("LocalNetworkGateway2   =", "LocalNetworkGateway3   =", 1)
    problems = check_text("deploy.az.ps1", text)
    assert any("no parameter -LocalNetworkGateway3" in p for p in problems), problems


# ---------------------------------------------------------------- script shape
@pytest.mark.parametrize("path", SCRIPTS)
def test_script_shape(scripts, path: str) -> None:
    text = scripts["csp-advanced"][path]
    for part in (".SYNOPSIS", ".DESCRIPTION", ".PARAMETER SubscriptionId", ".EXAMPLE", "-WhatIf"):
        assert part in text.split("#>")[0], part
    assert "[CmdletBinding(SupportsShouldProcess = $true)]" in text
    assert "Set-StrictMode -Version Latest" in text
    assert "$ErrorActionPreference = 'Stop'" in text
    model = build_model(ALL["csp-advanced"]).model
    for secret in model.secrets:
        assert f"[SecureString] ${secret.parameter}" in text
        assert f".PARAMETER {secret.parameter}" in text
        assert re.search(rf"\${secret.parameter} = Read-Host -AsSecureString", text)
    steps = re.findall(r"^Write-GenStep -Number (\d+) ", text, re.MULTILINE)
    assert steps == [str(i) for i in range(1, len(steps) + 1)] and len(steps) >= 7


# New-Az*Delegation only builds an in-memory object for a subnet config (its help page), like the *Config cmdlets.
MUTATING = re.compile(r"^(New|Set|Add)-Az(ureRm)?(?!.*(Config|IpsecPolicy|Delegation)$)")


def unguarded(text: str) -> list[str]:
    """Calls that change Azure but do not sit inside an `if` asking $PSCmdlet.ShouldProcess."""
    found = []
    for node in walk(parser().parse(text.encode()).root_node):
        name = node.child_by_field_name("command_name") if node.type == "command" else None
        if name is None or not MUTATING.match(name.text.decode()) or "Context" in name.text.decode():
            continue
        parent, guarded = node.parent, False
        while parent is not None and not guarded:
            if parent.type == "if_statement":
                guarded = "ShouldProcess" in parent.children[2].text.decode()
            parent = parent.parent
        if not guarded:
            found.append(f"{node.start_point[0] + 1}: {name.text.decode()}")
    return found


@pytest.mark.parametrize("inventory", sorted(ALL))
def test_every_change_is_guarded_by_should_process(scripts, inventory: str) -> None:
    """-WhatIf works: every call that changes Azure sits inside an `if` asking $PSCmdlet.ShouldProcess."""
    for path, text in scripts[inventory].items():
        assert unguarded(text) == [], path


def test_the_guard_check_bites(scripts) -> None:
    text = _csp_az(scripts)
    old = "if ($PSCmdlet.ShouldProcess('rg-sea-network', 'Create resource group')) {"
    assert old in text
    assert unguarded(text.replace(old, "if ($true) {", 1)) == [
        f"{text[: text.index(old)].count(chr(10)) + 2}: New-AzResourceGroup"
    ]


def _named_calls(text: str) -> list[tuple[int, str, str | None]]:
    """(line, cmdlet, literal -Name value) of every call."""
    out = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        for m in re.finditer(r"\b((?:New|Get|Add|Set)-Az(?:ureRm)?\w+)((?: -\w+(?: '[^']*'| [^ ]+)?)*)", line):
            name = re.search(r" -Name '([^']*)'", m.group(2))
            out.append((line_no, m.group(1), name.group(1) if name else None))
    return out


@pytest.mark.parametrize("inventory", sorted(ALL))
def test_every_resource_is_looked_up_before_it_is_created(scripts, inventory: str) -> None:
    for path, text in scripts[inventory].items():
        seen = _named_calls(text)
        for line, cmdlet, name in seen:
            noun = cmdlet.split("-", 1)[1]
            if (
                not cmdlet.startswith(("New-", "Add-"))
                or noun.endswith(("Config", "IpsecPolicy", "Delegation"))
                or name is None
            ):
                continue
            lookups = [x for x in seen if x[0] < line and x[1] == f"Get-{noun}" and x[2] == name]
            assert lookups, f"{path}:{line}: {cmdlet} {name} is not looked up first"


@pytest.mark.parametrize("path", SCRIPTS)
def test_existing_resources_are_only_read_and_brownfield_steps_are_real(scripts, path: str) -> None:
    text = scripts["brownfield"][path]
    p = "AzureRm" if "azurerm" in path else "Az"
    assert "\nthrow (" not in text
    assert f"New-{p}VirtualNetwork -Name 'HUB-VNET'" not in text
    assert f"New-{p}VirtualNetworkGateway -Name 'hub-gw'" not in text
    # Looked up so that only "not found" reads as missing (a 403 stops the script), never SilentlyContinue.
    assert (
        f"Get-GenExisting -Lookup {{ Get-{p}VirtualNetworkGateway -Name 'hub-gw' -ResourceGroupName 'rg-hub' -ErrorAction Stop }}"
        in text
    )
    assert "SilentlyContinue" not in text
    # The brownfield steps change the read object inside the comparison of what they change, then
    # send it whole (Set-*VirtualNetworkGateway has no -EnableBgp).
    assert "($gw.BgpSettings.Asn -ne 65070)) {" in text and "        $gw.BgpSettings.Asn = 65070\n" in text
    assert "    if (-not $gw.ActiveActive) {" in text and "        $gw.ActiveActive = $true\n" in text
    assert f"Add-{p}VirtualNetworkGatewayIpConfig -VirtualNetworkGateway $gw -Name 'ipconfig2'" in text
    assert f"New-{p}PublicIpAddress -Name 'hub-gw-pip2'" in text
    assert "$gw.Sku.Name = " not in text  # an existing gateway is not resized
    assert f"Set-{p}VirtualNetworkGateway -VirtualNetworkGateway $gw" in text
    assert "Add-" + p + "VirtualNetworkPeering -Name 'peer-SPOKE-VNET-to-HUB-VNET'" in text
    assert "-RemoteVirtualNetworkId $remoteVnet.Id -UseRemoteGateways\n" in text


@pytest.mark.parametrize(
    ("inventory", "path"), [("features", SCRIPTS[1]), ("brownfield", SCRIPTS[0]), ("brownfield", SCRIPTS[1])]
)
def test_order_that_works_in_azure(scripts, inventory: str, path: str) -> None:
    text = scripts[inventory][path]
    p = "AzureRm" if "azurerm" in path else "Az"
    order = [
        f"New-{p}ResourceGroup ",
        f"New-{p}VirtualNetwork ",
        f"New-{p}PublicIpAddress ",
        f"New-{p}VirtualNetworkGateway ",
        "Wait-GenJobs -Jobs $GenJobs -What 'gateway update'\n",  # the gateway step ends: created and updated
        f"New-{p}LocalNetworkGateway ",
        "-ConnectionType IPsec",
        "-ConnectionType Vnet2Vnet",
        f"Add-{p}VirtualNetworkPeering ",
        f"New-{p}LoadBalancer ",
        "WriteAllText(",
    ]
    positions = [text.index(marker) for marker in order if marker in text]
    assert len(positions) >= 9 and positions == sorted(positions)


def test_gateways_start_as_jobs_and_are_awaited_together(scripts) -> None:
    text = scripts["csp-advanced"]["azure/powershell/deploy.az.ps1"]
    assert len(re.findall(r"\$GenJobs \+= New-AzVirtualNetworkGateway .* -AsJob$", text, re.MULTILINE)) == 3
    assert text.count("Wait-Job") == 1


def test_both_directions_of_every_vnet_link(scripts) -> None:
    model = build_model(ALL["csp-advanced"]).model
    for text in scripts["csp-advanced"].values():
        for link in model.links:
            assert f"-Name '{link.name}' -ResourceGroupName '{link.resource_group}' -Location" in text
    assert len(model.links) == 6


def test_same_resource_names_as_arm(scripts) -> None:
    files = render_files(ALL["csp-advanced"], targets=("arm",))
    arm_names = set()
    for path, text in files.items():
        if path.endswith(".parameters.json"):
            continue
        for resource in json.loads(text)["resources"]:
            arm_names.add(resource["name"].rsplit("/", 1)[-1])
    for text in scripts["csp-advanced"].values():
        created = {
            n
            for _, c, n in _named_calls(text)
            if n and c.startswith(("New-", "Add-")) and not c.endswith(("Config", "ResourceGroup"))
        }
        created -= {"frontend", "sql-ag-nodes", "sql-ag-probe", "sql-listener", "ipconfig1", "ipconfig2"}
        assert created, "no resources found"
        assert created <= arm_names, created - arm_names


# ---------------------------------------------------------------- AzureRM limits
@pytest.mark.parametrize("inventory", ["dr-pair", "features"])
def test_azurerm_stops_before_touching_anything(scripts, inventory: str) -> None:
    text = scripts[inventory]["azure/powershell/deploy.azurerm.ps1"]
    preflight = text.split("\nthrow (")
    assert len(preflight) == 2, "no preflight stop"
    assert "cannot do" in preflight[0] and "nothing was changed" in preflight[1]
    commands = [c.name for c in calls(walk(parser().parse(text.encode()).root_node), lambda n: set())]
    assert commands and not [c for c in commands if re.match(r"(New|Set|Add)-Az", c)], commands
    assert "\nthrow (" not in scripts[inventory]["azure/powershell/deploy.az.ps1"]


def test_azurerm_stop_lists_every_gap(scripts) -> None:
    text = scripts["features"]["azure/powershell/deploy.azurerm.ps1"]
    for gap in ("VpnGw4AZ", "custom APIPA", "HA ports"):
        assert gap in text.split("\nthrow (")[0], gap
    assert "custom APIPA" in scripts["dr-pair"]["azure/powershell/deploy.azurerm.ps1"]


def test_az_builds_gcm_ike_policies_itself(scripts) -> None:
    text = scripts["dr-pair"]["azure/powershell/deploy.az.ps1"]
    assert "= New-AzIpsecPolicy" not in text
    assert text.count("New-Object -TypeName 'Microsoft.Azure.Commands.Network.Models.PSIpsecPolicy'") == 4
    assert "IkeEncryption       = 'GCMAES256'" in text


def test_azurerm_uses_the_closest_form_for_generation(scripts) -> None:
    rm = scripts["csp-advanced"]["azure/powershell/deploy.azurerm.ps1"]
    az = scripts["csp-advanced"]["azure/powershell/deploy.az.ps1"]
    assert "\nthrow (" not in rm
    assert "Write-Warning 'gateway ''SEA-VNET-gw'': AzureRM 6.13 has no -VpnGatewayGeneration" in rm
    assert " -VpnGatewayGeneration '" not in rm
    assert "-VpnGatewayGeneration 'Generation2'" in az


def test_az_script_has_every_feature(scripts) -> None:
    text = scripts["features"]["azure/powershell/deploy.az.ps1"]
    for part in (
        "-GatewaySku 'VpnGw4AZ' -VpnGatewayGeneration 'Generation2'",
        "-IpConfigurationBgpPeeringAddresses $bgpPeeringAddresses",
        "-GatewayCustomBgpIpAddress $customBgpIps",
        "-ConnectionProtocol 'IKEv2' -DpdTimeoutInSeconds 30 -ConnectionMode 'InitiatorOnly'",
        "-UsePolicyBasedTrafficSelectors $true",
        "-Protocol 'All' -FrontendPort 0 -BackendPort 0",
        "-AllowGatewayTransit",
        "-UseRemoteGateways",
        "-RequestPath '/health'",
    ):
        assert part in text, part
    assert "\nthrow (" not in text


@pytest.mark.parametrize(
    ("rule", "yaml", "expected"),
    [
        ("azurerm-unsupported", "sku: VpnGw5AZ", "does not accept VpnGw5AZ"),
        ("azurerm-fallback", "dpd_timeout_seconds: 30", "keeps its default 45 s"),
        ("azurerm-fallback", "connection_mode: ResponderOnly", "no -ConnectionMode"),
    ],
)
def test_validate_warns_about_azurerm(tmp_path: Path, rule: str, yaml: str, expected: str) -> None:
    base = (ROOT / "inventories" / "minimal.yaml").read_text(encoding="utf-8")
    good = build_model(write_inventory(tmp_path, base, "good.yaml"))
    assert not [w for w in good.warnings if w.problem.rule.startswith("azurerm-")]
    key, value = yaml.split(": ")
    if key == "sku":
        bad_text = base.replace("sku: VpnGw1AZ", yaml)
    else:
        bad_text = base.replace("      bgp: false\n", f"      bgp: false\n      {yaml}\n")
    assert bad_text != base
    bad = build_model(write_inventory(tmp_path, bad_text, "bad.yaml"))
    found = [w for w in bad.warnings if w.problem.rule == rule]
    assert found and expected in str(found[0]), [str(w) for w in bad.warnings]
    assert str(found[0]).startswith(f"{tmp_path / 'bad.yaml'}:") or "bad.yaml:" in str(found[0])
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "bad.yaml")], catch_exceptions=False)
    assert result.exit_code == 0 and f"(rule {rule})" in result.stderr


# ---------------------------------------------------------------- secrets
def test_keys_never_appear_in_the_scripts_even_with_secrets() -> None:
    for path in ALL.values():
        files = render_files(path, targets=("powershell",), secrets=dict(FAKE_KEYS))
        for text in files.values():
            for key in FAKE_KEYS.values():
                assert key not in text
            assert "ConvertTo-SecureString" not in text
            assert not re.search(r"-SharedKey '", text)


# ---------------------------------------------------------------- the Azure state file
def _keys_in(node) -> set[str]:
    keys = set()
    for n in walk(node):
        if n.type == "hash_entry":
            keys.add(n.children[0].text.decode().strip("'\""))
        if n.type == "element_access":  # $instance['bgp_ips'] = ...
            keys |= set(re.findall(r"\[\s*'([a-z_]+)'\s*\]", n.text.decode()))
    return keys


def _schema_keys() -> tuple[set[str], set[str], set[str]]:
    schema = json.loads((ROOT / "schemas" / "azure-state.schema.json").read_text(encoding="utf-8"))
    gateway = schema["properties"]["gateways"]["additionalProperties"]
    instance = gateway["properties"]["instances"]["items"]
    return set(schema["properties"]), set(gateway["properties"]), set(instance["properties"])


@pytest.mark.parametrize("path", SCRIPTS)
def test_the_state_the_script_builds_has_the_schema_keys(scripts, path: str) -> None:
    text = scripts["csp-advanced"][path]
    root = parser().parse(text.encode()).root_node
    function = next(
        n for n in walk(root) if n.type == "function_statement" and b"Get-GenGatewayState" in n.children[1].text
    )
    top = next(n for n in walk(root) if n.type == "assignment_expression" and n.text.startswith(b"$GenState = "))
    ret = next(n for n in walk(function) if n.type == "flow_control_statement" and n.text.startswith(b"return"))
    instance = next(
        n for n in walk(function) if n.type == "assignment_expression" and n.text.startswith(b"$instance = ")
    )
    top_keys, gateway_keys, instance_keys = _schema_keys()
    assert _keys_in(top) == top_keys
    assert _keys_in(ret) == gateway_keys
    built_instance = _keys_in(instance) | (_keys_in(function) - _keys_in(ret) - _keys_in(instance))
    assert built_instance == instance_keys
    # the test data file has exactly the shape the script writes
    data = json.loads(STATE.read_text(encoding="utf-8"))
    assert set(data) == top_keys
    for gateway in data["gateways"].values():
        assert set(gateway) == gateway_keys
        for inst in gateway["instances"]:
            assert set(inst) == instance_keys
    # and it writes it as UTF-8 without a BOM, with ConvertTo-Json deep enough for the nesting
    assert "[System.IO.File]::WriteAllText($statePath, ($GenState | ConvertTo-Json -Depth 6))" in text


def test_state_file_completes_the_placeholders(tmp_path: Path) -> None:
    csp = ALL["csp-advanced"]
    assert build_model(csp).model.pending
    assert read_state((STATE,)).keys() == {"SEA-VNET-gw", "LON-VNET-gw", "MUM-VNET-gw"}
    model = build_model(csp, (STATE,)).model
    assert model.pending == ()
    assert {str(t.azure_public_ip) for t in model.tunnels} <= {
        "203.0.113.101",
        "203.0.113.102",
        "203.0.113.103",
        "203.0.113.104",
    }
    result = CliRunner().invoke(
        main,
        ["render", str(csp), "-o", str(tmp_path / "out"), "--azure-state", str(STATE), "--strict"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


def test_verification_commands_are_printed(scripts) -> None:
    text = scripts["csp-advanced"]["azure/powershell/deploy.azurerm.ps1"]
    block = text.split("$GenVerify = {", 1)[1].split("\n}\n", 1)[0]
    assert block.count("Get-AzureRmVirtualNetworkGatewayConnection -Name") == 4 + 6
    assert block.count("Get-AzureRmVirtualNetworkGatewayBGPPeerStatus") == 3
    assert block.count("Get-AzureRmVirtualNetworkGatewayLearnedRoute") == 3
    assert "Write-Host ($GenVerify.ToString())" in text
    root = parser().parse(text.encode()).root_node
    assert (
        len([c for c in calls(walk(root), lambda n: set()) if c.name.startswith("Get-AzureRmVirtualNetworkGateway")])
        > 10
    )


def test_non_ascii_scripts_get_a_bom_and_still_pass(tmp_path: Path) -> None:
    base = (ROOT / "inventories" / "minimal.yaml").read_text(encoding="utf-8")
    text = base.replace("description: One VNet, one branch", "description: Zürich hub, one branch")
    assert text != base
    files = render_files(write_inventory(tmp_path, text), targets=("powershell",))
    assert files and all(t.startswith("\ufeff") and "Zürich" in t for t in files.values())
    assert check_files(files) == []
    assert all(not t.startswith("\ufeff") for t in render_files(ALL["minimal"], targets=("powershell",)).values())


def test_gen_render_writes_both_scripts(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["render", str(ALL["csp-advanced"]), "-o", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = {
        str(p.relative_to(tmp_path)): p.read_text(encoding="utf-8")
        for p in (tmp_path / "azure" / "powershell").glob("*.ps1")
    }
    assert sorted(written) == sorted(SCRIPTS)
    assert check_files(written) == []

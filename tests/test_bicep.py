"""Bicep output: real parsers, resource-for-resource equivalence with ARM, AVM conventions, checkov."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bicep_equivalence import differences
from checks_bicep import check_files, parse_bicep
from conftest import FAKE_KEYS, INVENTORIES, ROOT, render_files

BROWNFIELD = Path(__file__).resolve().parent / "data" / "bicep" / "brownfield.yaml"
HUB_SPOKE = BROWNFIELD.with_name("hub-spoke.yaml")  # peerings in stage 2 (dependsOn) and stage 3
SUBNETS = BROWNFIELD.with_name("subnets.yaml")  # NSGs and route tables, created and existing
ILB = BROWNFIELD.parents[1] / "lb" / "ilb.yaml"  # dynamic frontend, IP-based and NIC pools
FQDN = BROWNFIELD.parents[1] / "onprem" / "fqdn.yaml"  # local network gateways given by fqdn
KEYVAULT = BROWNFIELD.parents[1] / "keyvault" / "keyvault.yaml"  # getSecret() in the .bicepparam
CASES = {p.stem: p for p in [*INVENTORIES, BROWNFIELD, HUB_SPOKE, SUBNETS, ILB, FQDN, KEYVAULT]}
CHECKOV = Path(os.environ.get("GEN_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, str]]:
    return {name: render_files(path) for name, path in CASES.items()}


def _bicep(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.startswith("azure/bicep/")}


def _pairs(files: dict[str, str]) -> list[tuple[str, str, str]]:
    """(resource group, ARM template path, Bicep path) for every deployment."""
    pairs = []
    for path in sorted(files):
        if path.startswith("azure/arm/") and not path.endswith(".parameters.json"):
            stem = path.removeprefix("azure/arm/").removesuffix(".json")
            pairs.append((stem.split(".")[0], path, f"azure/bicep/{stem}.bicep"))
    return pairs


# ------------------------------------------------------------------------------- parsers
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_bicep_and_bicepparam_file_parses(name, outputs) -> None:
    files = _bicep(outputs[name])
    assert any(p.endswith(".bicep") for p in files) and any(p.endswith(".bicepparam") for p in files)
    assert check_files(files) == []


def test_the_parsers_reject_broken_files(outputs) -> None:
    files = _bicep(outputs["csp-advanced"])
    path = "azure/bicep/rg-sea-network.bicep"
    broken = {**files, path: files[path].replace("    ]\n  }\n}\n", "  }\n}\n", 1)}  # a missing ']'
    problems = check_files(broken)
    assert any("tree-sitter-bicep" in p and p.startswith(path) for p in problems), problems
    assert any("pycep" in p and p.startswith(path) for p in problems), problems
    params = "azure/bicep/rg-sea-network.bicepparam"
    unassigned = {**files, params: re.sub(r"(?m)^param .*$", "", files[params])}
    assert any("does not assign required parameters" in p for p in check_files(unassigned))
    unknown = {**files, params: files[params] + "param nope = 'x'\n"}
    assert any("does not declare: ['nope']" in p for p in check_files(unknown))


# --------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("name", sorted(CASES))
def test_bicep_declares_what_arm_declares(name, outputs) -> None:
    files = outputs[name]
    pairs = _pairs(files)
    bicep_files = sorted(p for p in files if p.startswith("azure/bicep/") and p.endswith(".bicep"))
    assert sorted(b for _, _, b in pairs) == bicep_files, "one Bicep file per ARM template"
    for rg, arm, bicep in pairs:
        assert differences(files[arm], files[bicep], rg) == [], bicep
    assert sum(len(json.loads(files[arm])["resources"]) for _, arm, _ in pairs) > 0


@pytest.mark.parametrize(
    ("template", "old", "new"),
    [
        ("gateway.bicep.j2", "activeActive: {{ gw.active_active | tojson }}", "activeActive: false"),
        ("_ipsec_policies.bicep.j2", "pfsGroup: {{ policy.pfs_group | bicep_string }}", "pfsGroup: 'None'"),
        ("load_balancer.bicep.j2", "frontendPort: {{ r.frontend_port }}", "frontendPort: 80"),
        ("connection.bicep.j2", "id: {{ id_of(c.lng_ref) }}", "id: resourceId('x/y', 'z')"),
        ("route_table.bicep.j2", "nextHopType: {{ r.next_hop | bicep_string }}", "nextHopType: 'None'"),
        ("vnet.bicep.j2", "id: {{ id_of(s.nsg.ref) }}", "id: resourceId('x/y', 'z')"),
    ],
)
def test_a_drift_in_one_bicep_template_fails_the_equivalence(tmp_path, template, old, new) -> None:
    from generator.pipeline import build_model, render_all

    source = ROOT / "templates" / "bicep" / "resources" / template
    assert old in source.read_text(encoding="utf-8")
    override = tmp_path / "bicep" / "resources"
    override.mkdir(parents=True)
    (override / template).write_text(source.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    model = build_model(
        CASES["subnets" if template in ("route_table.bicep.j2", "vnet.bicep.j2") else "csp-advanced"]
    ).model
    files = {f.path: f.text for f in render_all(model, templates=str(tmp_path))}
    found = [p for rg, arm, bicep in _pairs(files) for p in differences(files[arm], files[bicep], rg)]
    assert found, f"drift in {template} went unnoticed"


# ----------------------------------------------------------------------- AVM conventions
@pytest.mark.parametrize("name", sorted(CASES))
def test_avm_conventions(name, outputs) -> None:
    for path, text in _bicep(outputs[name]).items():
        if not path.endswith(".bicep"):
            continue
        doc = parse_bicep(text)
        # Dependencies are implicit, except where no reference can carry one: a peering that uses
        # the remote gateway waits for the transit side's peering (facts-2026-12 §3).
        for symbol, r in doc.get("resources", {}).items():
            if "dependsOn" in r["config"]:
                assert r["config"]["properties"]["useRemoteGateways"] is True, (path, symbol)
        for pname, p in doc.get("parameters", {}).items():
            descriptions = [d["argument"] for d in p["decorators"] if d["type"] == "description"]
            assert descriptions and re.match(r"^(Required|Optional)\. ", descriptions[0]), (path, pname)
            if pname.startswith("psk"):
                assert {"type": "secure"} in p["decorators"] and p.get("default") is None, (path, pname)
                assert descriptions[0].startswith("Required. ")
        for oname, o in doc.get("outputs", {}).items():
            assert any(d["type"] == "description" for d in o["decorators"]), (path, oname)
        for symbol, r in doc.get("resources", {}).items():
            assert re.match(r"^[a-z][A-Za-z0-9]*$", symbol), (path, symbol)
            assert r["api_version"] == "2024-05-01"
            config = r["config"].get("config", r["config"])
            if r["type"].endswith("/virtualNetworkPeerings"):
                assert "parent" in config and "/" not in config["name"], (path, symbol)


def test_gateway_outputs_and_loops(outputs) -> None:
    doc = parse_bicep(outputs["csp-advanced"]["azure/bicep/rg-sea-network.bicep"])
    assert {"seaVnetGwPublicIps", "seaVnetGwBgpPeeringAddresses", "azureState"} <= set(doc["outputs"])
    pips = doc["resources"]["seaVnetGwPips"]["config"]
    assert pips["loop_type"]["detail"]["array_name"] == ["SEA-VNET-gw-pip1", "SEA-VNET-gw-pip2"]
    ipconfigs = doc["resources"]["seaVnetGw"]["config"]["properties"]["ipConfigurations"]
    assert ipconfigs["loop_type"]["type"] == "array_index"


def test_brownfield_and_cross_group_resources_are_existing(outputs) -> None:
    files = outputs["brownfield"]
    hub = parse_bicep(files["azure/bicep/rg-hub.bicep"])["resources"]
    # 'tags' is also the tags parameter: the VNet's symbol says what it is instead.
    assert hub["tagsVnet"]["existing"] and hub["tagsVnet"]["config"]["name"] == "tags"
    assert hub["oldHubGateway"]["existing"]
    assert not hub["tagsGw"]["existing"]
    # The spoke's use-remote-gateways peering waits for the hub's transit peering: stage 3.
    late = parse_bicep(files["azure/bicep/rg-spoke.transit.bicep"])["resources"]
    assert late["spoke"]["existing"] and "scope" not in late["spoke"]["config"]
    scope = late["tagsVnet"]["config"]["scope"]["function"]
    assert scope["type"] == "resource_group" and scope["parameters"]["resource_group_name"] == "rg-hub"
    assert late["peerSpokeToTags"]["config"]["parent"] == "spoke"
    links = parse_bicep(files["azure/bicep/rg-spoke.links.bicep"])["resources"]
    assert "peerSpokeToTags" not in links and links["peerSpokeToLegacy"]["config"]["parent"] == "spoke"


def test_bicepparam_reads_keys_from_the_environment_and_never_holds_them() -> None:
    files = render_files(CASES["brownfield"], secrets={"pskDc9": FAKE_KEYS["GEN_PSK_DC1"]})
    params = files["azure/bicep/rg-hub.bicepparam"]
    assert "param pskGenPskBranch9 = readEnvironmentVariable('GEN_PSK_BRANCH9')" in params
    assert "param pskDc9 = readEnvironmentVariable('GEN_PSK_DC9')" in params  # file reference
    assert "keys/dc9.psk" in params
    for path, text in _bicep(files).items():
        assert not any(key in text for key in FAKE_KEYS.values()), path


def test_symbols_stay_unique_and_clear_of_keywords() -> None:
    from generator.model import ResourceRef
    from generator.targets.bicep import Symbols

    symbols = Symbols(["pskA"])
    vnet = ResourceRef("Microsoft.Network/virtualNetworks", ("resource-group",), "rg")
    gw = ResourceRef("Microsoft.Network/virtualNetworkGateways", ("resource_group",), "rg")
    other = ResourceRef("Microsoft.Network/virtualNetworks", ("Resource.Group",), "rg")
    psk = ResourceRef("Microsoft.Network/localNetworkGateways", ("psk-a",), "rg")
    names = [symbols.add(vnet, "resource-group"), symbols.add(gw, "resource_group")]
    names += [symbols.add(other, "Resource.Group"), symbols.add(psk, "psk-a")]
    assert names == ["resourceGroupVnet", "resourceGroupGateway", "resourceGroup2", "pskALng"]


# -------------------------------------------------------------------------------- checkov
ACCEPTED = re.compile(r"^\| (CKV2?_[A-Z]+_\d+) \|", re.M)


def _accepted_findings() -> set[str]:
    """Check ids the README's Bicep section lists as accepted (not ours to fix)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Bicep output", 1)[1].split("\n## ", 1)[0]
    return set(ACCEPTED.findall(section))


def test_checkov_scans_arm_and_bicep_offline(tmp_path, outputs) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is missing at {CHECKOV}: run tests/run.sh (it creates .venv-checkov) or set GEN_CHECKOV")
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to run checkov in an empty network namespace")
    for name, files in outputs.items():
        for path, text in files.items():
            if path.startswith("azure/"):
                target = tmp_path / name / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    # checkov reports a Bicep file it cannot parse only in summary.parsing_errors (exit code 0):
    # a broken file proves the test reads that count.
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "broken.bicep").write_text("resource x 'a@b' = {\n  name: [\n}\n", encoding="utf-8")
    run = subprocess.run(
        ["unshare", "--net", str(CHECKOV), "-d", str(tmp_path), "--framework", "arm", "bicep"]
        + ["--compact", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    reports = json.loads(run.stdout)
    reports = {r["check_type"]: r for r in (reports if isinstance(reports, list) else [reports])}
    assert set(reports) == {"arm", "bicep"}, run.stdout[:500]
    assert reports["arm"]["summary"]["parsing_errors"] == 0
    assert reports["bicep"]["results"]["parsing_errors"] == [str(tmp_path / "broken" / "broken.bicep")]
    for kind, report in reports.items():
        assert report["summary"]["passed"] > 0, f"checkov ran no {kind} check"
        scanned = {c["file_path"].split("/")[1] for c in report["results"]["passed_checks"]}
        assert scanned == set(outputs), f"{kind}: checkov did not scan every inventory's output: {scanned}"
    failed = {c["check_id"] for r in reports.values() for c in r["results"]["failed_checks"]}
    assert failed <= _accepted_findings(), f"new checkov findings (fix them or record them in README): {failed}"


def test_verify_catches_a_broken_file_and_a_literal_key(outputs) -> None:
    from generator.targets import TARGETS, OutputFile

    target = TARGETS["bicep"]
    path = "azure/bicep/rg-sea-network.bicep"
    text = outputs["csp-advanced"][path]
    assert target.verify([OutputFile(path, text)]) == []
    assert target.verify([OutputFile(path, text.replace("]\n", "\n", 1))])
    assert target.verify([OutputFile(path, text.replace("gatewayIpAddress: '", "gatewayIpAddress: '\n", 1))])
    literal = text.replace("sharedKey: pskGenPskDc1", "sharedKey: 'not-a-parameter'", 1)
    assert any("sharedKey" in p for p in target.verify([OutputFile(path, literal)]))

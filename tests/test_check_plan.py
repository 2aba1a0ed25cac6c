"""`gen check` (drift for CI) and `gen plan` (summary before rendering)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from test_cli import tree_digest

from generator.cli import main
from generator.errors import format_path
from generator.pipeline import build_model
from generator.writer import MANIFEST

CSP = ROOT / "inventories" / "csp-advanced.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def copy_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "csp-advanced.yaml"
    shutil.copy(CSP, inventory)
    return inventory


# What moving the SQL listener's frontend IP changes: its resource group in every Azure family + the runbook.
LB_CHANGE = [
    "README.md",
    "azure/arm/rg-sea-network.json",
    "azure/bicep/rg-sea-network.bicep",
    "azure/powershell/deploy.az.ps1",
    "azure/powershell/deploy.azurerm.ps1",
    "topology.dot",
    "topology.svg",
]


def test_check_passes_right_after_render_and_fails_after_the_inventory_changes(tmp_path: Path) -> None:
    inventory = copy_inventory(tmp_path)
    out = tmp_path / "out"
    assert run("render", str(inventory), "-o", str(out)).exit_code == 0
    clean = run("check", str(inventory), "-o", str(out))
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == "" and "up to date" in clean.stderr

    inventory.write_text(inventory.read_text().replace("frontend_ip: 10.1.1.100", "frontend_ip: 10.1.1.101"))
    before = tree_digest(out)
    drift = run("check", str(inventory), "-o", str(out))
    assert drift.exit_code == 1
    assert tree_digest(out) == before, "gen check wrote something"
    assert f"--- {out / 'azure/arm/rg-sea-network.json'}" in drift.stdout
    assert (
        '\n-              "privateIPAddress": "10.1.1.100",\n+              "privateIPAddress": "10.1.1.101",\n'
        in drift.stdout
    )
    changed = sorted(line[4:].split("\t")[0] for line in drift.stdout.splitlines() if line.startswith("--- "))
    assert changed == sorted(str(out / p) for p in LB_CHANGE)
    assert f"{len(LB_CHANGE)} changed" in drift.stderr

    assert run("render", str(inventory), "-o", str(out)).exit_code == 0
    assert run("check", str(inventory), "-o", str(out)).exit_code == 0


def test_check_reports_missing_and_no_longer_generated_files(tmp_path: Path) -> None:
    inventory = copy_inventory(tmp_path)
    out = tmp_path / "out"
    run("render", str(inventory), "-o", str(out))
    (out / "azure" / "arm" / "rg-lon-network.json").unlink()
    result = run("check", str(inventory), "-o", str(out))
    assert result.exit_code == 1
    assert "--- /dev/null" in result.stdout and "+++ rendered azure/arm/rg-lon-network.json" in result.stdout

    run("render", str(inventory), "-o", str(out))
    # a file an earlier render wrote (it is in the manifest, unchanged since) that is no longer generated
    old = out / "onprem" / "DC9" / "gone.ios"
    old.parent.mkdir(parents=True)
    old.write_text("hostname gone\n")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["onprem/DC9/gone.ios"] = hashlib.sha256(b"hostname gone\n").hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest))
    result = run("check", str(inventory), "-o", str(out))
    assert result.exit_code == 1 and "1 no longer generated" in result.stderr
    assert f"--- {old}\n+++ /dev/null\n@@ -1 +0,0 @@\n-hostname gone\n" in result.stdout
    assert run("render", str(inventory), "-o", str(out)).exit_code == 0
    assert not (out / "onprem" / "DC9").exists(), "the emptied folder was left behind"
    assert run("check", str(inventory), "-o", str(out)).exit_code == 0


def test_check_on_a_missing_folder_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = run("check", str(CSP), "-o", str(out))
    assert result.exit_code == 1
    assert not out.exists()


def test_check_with_a_bad_inventory_exits_2(tmp_path: Path) -> None:
    inventory = copy_inventory(tmp_path)
    inventory.write_text(inventory.read_text().replace("asn: 65101", "asn: 65515"))
    result = run("check", str(inventory), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "(rule asn-reserved)" in result.stderr


def test_plan_json_matches_the_model() -> None:
    result = run("plan", str(CSP), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    model = build_model(CSP).model
    assert data["totals"]["ipsec_tunnels"] == len(model.tunnels) == 6
    assert [g["name"] for g in data["gateways"]] == [g.name for g in model.gateways]
    sea = data["gateways"][0]
    assert (sea["site_to_site"], sea["vnet_to_vnet"], sea["limit"]) == (2, 2, 30)
    rgs = {rg["name"]: rg for rg in data["resource_groups"]}
    assert rgs["rg-sea-network"]["stage1"]["public IPs"] == 2
    assert rgs["rg-sea-network"]["stage1"]["load balancers"] == 1
    assert rgs["rg-lon-network"]["stage2"] == {"VNet-to-VNet connections": 2}
    assert len(data["bgp_sessions"]) == len(model.tunnels) + len(model.links) // 2
    assert data["placeholders"] == list(model.pending)
    assert [(w["file"], w["line"], w["column"], w["path"], w["rule"], w["message"]) for w in data["warnings"]] == [
        (w.file, w.line, w.column, format_path(w.problem.path), w.problem.rule, w.problem.message)
        for w in build_model(CSP).warnings
    ]
    assert {w["severity"] for w in data["warnings"]} == {"warning"}
    assert run("plan", str(CSP), "--format", "json").stdout == result.stdout, "--json is an alias"


def test_plan_text_names_every_gateway_and_its_budget() -> None:
    result = run("plan", str(CSP))
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout, "colour on a non-terminal"
    for line in ("SEA-VNET-gw VpnGw2AZ x2: 4/30 connections", "LON-VNET-gw VpnGw1AZ x1: 3/30 connections"):
        assert line in result.stdout
    assert "BGP sessions (9)" in result.stdout


def test_plan_shows_warnings(tmp_path: Path) -> None:
    inventory = copy_inventory(tmp_path)
    inventory.write_text(inventory.read_text().replace("prefix: 10.2.255.0/27", "prefix: 10.2.255.0/28"))
    result = run("plan", str(inventory), "--json")
    warnings = json.loads(result.stdout)["warnings"]
    baseline = len(build_model(CSP).warnings)
    assert len(warnings) == baseline + 1 and any(w["rule"] == "gateway-subnet-small" for w in warnings)


def test_plan_with_an_output_folder_lists_file_changes(tmp_path: Path) -> None:
    inventory = copy_inventory(tmp_path)
    out = tmp_path / "out"
    fresh = json.loads(run("plan", str(inventory), "-o", str(out), "--json").stdout)["files"]
    assert "README.md" in fresh["new"] and not fresh["changed"] and not out.exists()
    run("render", str(inventory), "-o", str(out))
    inventory.write_text(inventory.read_text().replace("frontend_ip: 10.1.1.100", "frontend_ip: 10.1.1.101"))
    files = json.loads(run("plan", str(inventory), "-o", str(out), "--json").stdout)["files"]
    assert sorted(files["changed"]) == LB_CHANGE
    assert files["new"] == [] and files["removed"] == []


def test_without_graphviz_the_svg_is_not_drift(tmp_path: Path) -> None:
    """Where `dot` is missing (PATH without it), check does not flag topology.svg; render removes it."""
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    assert run("render", str(CSP), "-o", str(out)).exit_code == 0 and (out / "topology.svg").exists()
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin"), "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "generator", "check", str(CSP), "-o", str(out)]
    checked = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "topology.svg: not checked (Graphviz 'dot' not found)" in checked.stderr
    args[3] = "render"
    rendered = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert rendered.returncode == 0 and "1 removed" in rendered.stderr
    assert not (out / "topology.svg").exists() and (out / "topology.dot").exists()

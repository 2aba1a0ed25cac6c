"""The command line: exit codes, error format, nothing written on failure, determinism."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, write_inventory

from generator.cli import main

CSP = ROOT / "inventories" / "csp-advanced.yaml"
ERROR_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): .+ \(rule (?P<rule>[a-z0-9-]+)\)$"
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_validate_example() -> None:
    result = run("validate", str(CSP))
    assert result.exit_code == 0, result.output
    assert "valid" in result.stderr


def test_render_writes_and_second_run_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run("render", str(CSP), "-o", str(out))
    assert first.exit_code == 0, first.output
    before = tree_digest(out)
    second = run("render", str(CSP), "-o", str(out))
    assert second.exit_code == 0
    assert " 0 written" in second.stderr
    assert tree_digest(out) == before


def test_schema_command_prints_the_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    assert (
        result.stdout == (ROOT / "schemas" / "inventory.schema.json").read_text(encoding="utf-8").replace("\r\n", "\n")
        or '"$schema"' in result.stdout
    )


def test_python_m_generator_works() -> None:
    done = subprocess.run([sys.executable, "-m", "generator", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "gen" in done.stdout


BAD_CASES = {
    "asn-reserved": ("asn: 65101", "asn: 65515", "asn-reserved"),
    "gateway-subnet-size": (
        "{name: GatewaySubnet, prefix: 10.2.255.0/27}",
        "{name: GatewaySubnet, prefix: 10.2.255.0/30}",
        "gateway-subnet-size",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_inventory_exit_2_with_position_and_nothing_written(case: str, tmp_path: Path) -> None:
    old, new, rule = BAD_CASES[case]
    text = CSP.read_text(encoding="utf-8")
    assert old in text
    inventory = write_inventory(tmp_path, text.replace(old, new, 1))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    before = tree_digest(out)
    result = run("render", str(inventory), "-o", str(out))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if ERROR_LINE.match(line)]
    assert any(ERROR_LINE.match(line)["rule"] == rule for line in lines), result.stderr
    assert "Traceback" not in result.output
    assert tree_digest(out) == before


def test_31_connections_on_vpngw1_exceed_the_tunnel_budget(tmp_path: Path) -> None:
    sites = "\n".join(
        f"    - {{name: S{i}, asn: {65001 + i}, prefixes: [172.{16 + i // 200}.{i % 200}.0/24], devices: [{{name: d{i}, platform: cisco_iosxe, public_ip: 198.51.100.{i + 1}}}]}}"
        for i in range(31)
    )
    connections = "\n".join(f"    - {{site: S{i}, vnet: hub, psk: {{env: K}}, bgp: false}}" for i in range(31))
    text = f"""name: budget
azure:
  vnets:
    - name: hub
      resource_group: rg
      region: westeurope
      address_space: [10.0.0.0/16]
      subnets: [{{name: GatewaySubnet, prefix: 10.0.255.0/27}}]
      gateway: {{sku: VpnGw1}}
onprem:
  sites:
{sites}
  connections:
{connections}
"""
    inventory = write_inventory(tmp_path, text)
    result = run("render", str(inventory), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    match = [ERROR_LINE.match(line) for line in result.stderr.splitlines()]
    hit = [m for m in match if m and m["rule"] == "gateway-tunnel-budget"]
    assert hit and hit[0]["path"] == "azure.vnets[0].gateway.sku" and hit[0]["line"] == "9"
    assert not (tmp_path / "out").exists()


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    digests = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / seed / "out"  # the same folder name: the runbook's commands name it
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "generator", "-q", "render", str(CSP), "-o", str(out)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        digests.append(tree_digest(out))
    assert digests[0] == digests[1] == digests[2]

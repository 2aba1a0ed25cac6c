"""How the CLI reports (issue 17): usage errors with rule ids, -q/-v after the subcommand, one round for
schema and rule problems, YAML hints, no descriptions or keys in messages, --format json, plurals,
gen init, and limits refused before the work they guard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, write_inventory

from generator import loader
from generator.cli import main

CSP = ROOT / "inventories" / "csp-advanced.yaml"
MINIMAL = ROOT / "inventories" / "minimal.yaml"
BAD = ROOT / "tests" / "bad"
LOCATED = re.compile(r"^.+:\d+:\d+: \S+: .+ \(rule [a-z0-9-]+\)$")
UNLOCATED = re.compile(r"^\S.*?: .+ \(rule [a-z0-9-]+\)$")
FIELDS = {"file", "line", "column", "path", "rule", "severity", "message"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ------------------------------------------------------------------ usage errors
@pytest.mark.parametrize(
    ("make", "args", "rule", "words"),
    [
        (lambda t: None, ["render", "{t}/missing.yaml", "-o", "{t}/out"], "inventory-unreadable", "no such file"),
        (lambda t: (t / "inv").mkdir(), ["validate", "{t}/inv"], "inventory-unreadable", "is a folder"),
        (
            lambda t: (t / "out").write_text("x"),
            ["render", str(MINIMAL), "-o", "{t}/out"],
            "output-write",
            "not a folder",
        ),
        (
            lambda t: (t / "out").write_text("x"),
            ["check", str(MINIMAL), "-o", "{t}/out"],
            "output-write",
            "not a folder",
        ),
        (lambda t: None, ["validate", str(MINIMAL), "--azure-state", "{t}/no.json"], "state-file", "no such file"),
        (lambda t: None, ["render", str(MINIMAL), "--templates", "{t}/none"], "template-error", "no such template"),
        (lambda t: None, ["render"], "cli-usage", "missing argument 'INVENTORY'"),
        (lambda t: None, ["validate", str(MINIMAL), "--bogus"], "cli-usage", "no such option"),
        (lambda t: None, ["plan", str(MINIMAL), "--format", "xml"], "cli-usage", "'xml' is not one of"),
        (lambda t: None, ["nosuchcommand"], "cli-usage", "no such command"),
    ],
)
def test_usage_errors_are_one_line_with_a_rule(tmp_path: Path, make, args, rule, words) -> None:
    make(tmp_path)
    result = run(*[a.format(t=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Usage:" not in result.output and "Traceback" not in result.output, result.output
    assert UNLOCATED.match(lines[0]) and lines[0].endswith(f"(rule {rule})") and words in lines[0], lines[0]


def test_usage_error_names_the_help_of_its_command() -> None:
    result = run("render", "--bogus")
    assert "see gen render --help (rule cli-usage)" in result.stderr


# ------------------------------------------------------------------ -q / -v anywhere
def test_quiet_and_verbose_after_the_subcommand(tmp_path: Path) -> None:
    assert run("validate", "-q", str(MINIMAL)).stderr == ""
    assert run("validate", str(MINIMAL), "--quiet").stderr == ""
    verbose = run("render", str(MINIMAL), "-o", str(tmp_path / "v"), "-v")
    assert f"wrote {tmp_path / 'v' / 'README.md'}" in verbose.stderr
    assert run("-q", "render", str(MINIMAL), "-o", str(tmp_path / "q"), "-v").stderr == "", "-q wins"


# ------------------------------------------------------------------ one round
def test_schema_and_rule_problems_come_in_one_round(tmp_path: Path) -> None:
    text = CSP.read_text().replace("region: westeurope", "region: West Europe", 1)
    text = text.replace("asn: 65101", "asn: 65515").replace("public_ip: 203.0.113.30", "public_ip: 10.9.9.9")
    result = run("validate", str(write_inventory(tmp_path, text)))
    assert result.exit_code == 2
    rules = [line.rsplit("(rule ", 1)[1][:-1] for line in result.stderr.splitlines()]
    assert rules == ["schema-pattern", "asn-reserved", "device-public-ip-public"], result.stderr
    assert ":31:15: azure.vnets[1].region: " in result.stderr
    assert ":109:66: onprem.sites[2].devices[0].public_ip: " in result.stderr  # the original position


def test_nothing_refers_to_an_item_set_aside(tmp_path: Path) -> None:
    """LON-VNET breaks the schema: connections and links naming it are set aside, not reported."""
    text = CSP.read_text().replace("region: westeurope", "region: West Europe", 1)
    result = run("validate", str(write_inventory(tmp_path, text)))
    assert result.stderr.count("(rule ") == 1 and "(rule schema-pattern)" in result.stderr, result.stderr


# ------------------------------------------------------------------ messages
def test_yaml_indentation_errors_have_a_path_and_a_hint(tmp_path: Path) -> None:
    text = MINIMAL.read_text().replace("      asn: 65201\n", "        asn: 65201\n")
    result = run("validate", str(write_inventory(tmp_path, text)))
    (line,) = result.stderr.splitlines()
    assert ":22:12: onprem.sites[0]: invalid YAML: " in line and "check the indentation of the line above" in line


def test_no_field_description_leaks_into_a_message() -> None:
    for inventory in sorted(BAD.glob("*/*.yaml")):
        result = run("validate", str(inventory))
        assert "Required." not in result.stderr and "Optional." not in result.stderr, inventory


@pytest.mark.parametrize("value", ["hunter2", "[hunter2]", "{env: 'hunter2 with spaces'}", "{env: X, file: hunter2}"])
def test_an_inline_key_is_not_echoed(tmp_path: Path, value: str) -> None:
    text = MINIMAL.read_text().replace("psk: {env: GEN_PSK_BRANCH1}", f"psk: {value}")
    result = run("validate", str(write_inventory(tmp_path, text)))
    assert result.exit_code == 2 and "onprem.connections[0].psk" in result.stderr
    assert "hunter2" not in result.output, result.output


def test_counts_are_plural_only_when_more_than_one() -> None:
    result = run("validate", str(MINIMAL))
    assert "valid: 1 VNet, 1 gateway, 1 site, 1 device, 1 tunnel, 0 VNet-to-VNet connections" in result.stderr
    assert "3 VNets, 3 gateways, 3 sites, 4 devices, 6 tunnels" in run("validate", str(CSP)).stderr
    plan = run("plan", str(MINIMAL)).stdout
    assert "  1 VNet, 1 gateway, 1 site, 1 device, 1 IPsec tunnel, 0 VNet-to-VNet connections" in plan
    assert "stage 1: 1 virtual network, 1 public IP, 1 VPN gateway, 1 local network gateway," in plan
    assert "stage 1: 1 virtual network, 2 public IPs" in run("plan", str(CSP)).stdout


def test_the_runbook_and_device_headers_count_in_words(tmp_path: Path) -> None:
    assert run("-q", "render", str(MINIMAL), "-o", str(tmp_path / "out")).exit_code == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "| VNets | 1 in 1 resource group |" in readme and "| On-premises sites | 1 with 1 device |" in readme
    assert "1 value is known only after" in readme
    assert "PLACEHOLDERS: 1 value Azure assigns" in (tmp_path / "out/onprem/branch1/branch1-rtr.ios").read_text()


# ------------------------------------------------------------------ --format json
@pytest.mark.parametrize("command", ["validate", "render", "check", "plan"])
def test_json_reports_problems_as_objects(tmp_path: Path, command: str) -> None:
    text = CSP.read_text().replace("asn: 65101", "asn: 65515")
    args = [command, str(write_inventory(tmp_path, text)), "--format", "json"]
    args += ["-o", str(tmp_path / "out")] if command in ("render", "check") else []
    result = run(*args)
    assert result.exit_code == 2 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["command"] == command and data["ok"] is False
    (problem,) = data["problems"]
    assert set(problem) == FIELDS
    assert (problem["line"], problem["column"], problem["path"], problem["rule"], problem["severity"]) == (
        87,
        12,
        "onprem.sites[0].asn",
        "asn-reserved",
        "error",
    )
    assert problem["message"].startswith("ASN 65515 is reserved")


@pytest.mark.parametrize("command", ["validate", "render", "check", "plan"])
def test_json_success_carries_the_warnings(tmp_path: Path, command: str) -> None:
    args = [command, str(CSP), "--format", "json"] + (["-o", str(tmp_path / "out")] if command != "validate" else [])
    if command == "check":
        run("-q", "render", str(CSP), "-o", str(tmp_path / "out"))
    result = run(*args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["problems"] == []
    assert data["warnings"] and all(set(w) == FIELDS and w["severity"] == "warning" for w in data["warnings"])


def test_json_problem_without_a_position(tmp_path: Path) -> None:
    data = json.loads(run("validate", str(tmp_path / "none.yaml"), "--format", "json").stdout)
    (problem,) = data["problems"]
    assert problem["file"] == str(tmp_path / "none.yaml") and problem["line"] is None
    assert problem["rule"] == "inventory-unreadable"


def test_json_secret_problem_points_at_the_psk_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GEN_PSK_BRANCH1", raising=False)
    data = json.loads(run("render", str(MINIMAL), "-o", str(tmp_path / "o"), "--secrets", "--format", "json").stdout)
    assert [(p["line"], p["path"], p["rule"]) for p in data["problems"]] == [
        (29, "onprem.connections[0].psk", "secret-missing")
    ]


# ------------------------------------------------------------------ gen init
def test_init_writes_a_commented_starter_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "net.yaml"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert text.count("# EDIT") >= 5
    assert run("validate", str(target)).exit_code == 0
    again = run("init", str(target))
    assert again.exit_code == 2 and again.stderr.strip().endswith("(rule output-not-ours)")
    assert run("init", str(target), "--force").exit_code == 0


# ------------------------------------------------------------------ limits before the work they guard
def test_an_oversized_file_is_refused_before_a_byte_is_read(tmp_path: Path, monkeypatch) -> None:
    inventory = tmp_path / "big.yaml"
    with open(inventory, "wb") as handle:
        handle.truncate(loader.MAX_BYTES + 1)
    opened = []
    monkeypatch.setattr(loader, "_read_bounded", lambda path: opened.append(path))
    result = run("validate", str(inventory))
    assert result.stderr.strip().endswith("(rule inventory-too-large)") and opened == []


def test_a_long_list_is_refused_while_streaming_before_anything_is_built(tmp_path: Path, monkeypatch) -> None:
    """The 10 MB prefix list of issue 17: refused by the event scan, before data, schema or model."""
    from generator import schema

    prefixes = "".join(f"        - 172.16.{i >> 8}.{i & 255}/32\n" for i in range(loader.MAX_ITEMS + 5))
    text = MINIMAL.read_text().replace("      prefixes: [192.168.10.0/24]\n", "      prefixes:\n" + prefixes)
    calls = []
    monkeypatch.setattr(loader, "_construct", lambda *a: calls.append("construct"))
    monkeypatch.setattr(schema, "validate", lambda *a: calls.append("schema"))
    result = run("validate", str(write_inventory(tmp_path, text)))
    assert result.exit_code == 2 and calls == []
    (line,) = result.stderr.splitlines()
    assert f":{24 + loader.MAX_ITEMS}:11: onprem.sites[0].prefixes[{loader.MAX_ITEMS}]: " in line
    assert line.endswith("(rule yaml-too-many-items)")

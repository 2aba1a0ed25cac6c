"""State files (--azure-state): every shape Azure prints is read into the same state, and every
defect is refused at its position with a rule id (tests/bad-state/README.md).

Fixtures: the official REST example VirtualNetworkGatewayGet.json (../shared/reference/arm-examples,
see its SOURCE.md), and shapes DERIVED from it here (labelled so in each test): the az CLI's
flattened form, Az PowerShell's PascalCase form, a list, and gen's own state file holding the same values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from generator.azure_read import MAX_BYTES
from generator.cli import main
from generator.jsonpos import JsonPositionError, parse
from generator.state import RULES

BAD = ROOT / "tests" / "bad-state"
CSP = ROOT / "inventories" / "csp-advanced.yaml"
EXAMPLES = ROOT.parent / "shared" / "reference" / "arm-examples"
REST_INVENTORY = ROOT / "tests" / "data" / "state" / "rest-example.yaml"
EXPECT = re.compile(r"^(?P<rule>[a-z0-9-]+) at (?P<line>\d+):(?P<col>\d+) (?P<path>\S+)$")


def render(inventory: Path, out: Path, *states: Path) -> tuple[int, str]:
    args = ["render", str(inventory), "-o", str(out), "--strict"]
    for state in states:
        args += ["--azure-state", str(state)]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def cases() -> list[Path]:
    return sorted(BAD.glob("*/*.json"))


@pytest.mark.parametrize("case", cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_bad_state_file_refused_at_its_position(case: Path, tmp_path: Path):
    match = EXPECT.match(case.with_suffix(".expect").read_text(encoding="utf-8").strip())
    assert match, f"{case}: bad .expect line"
    assert match["rule"] == case.parent.name
    code, output = render(CSP, tmp_path / "out", case)
    assert code == 2, output
    assert "Traceback" not in output
    expected = f"{case}:{match['line']}:{match['col']}: {match['path']}: "
    lines = [line for line in output.splitlines() if line.startswith(expected)]
    assert lines and lines[0].endswith(f"(rule {match['rule']})"), output
    assert not (tmp_path / "out").exists()


def test_every_state_rule_has_a_corpus_case():
    assert {p.parent.name for p in cases()} == set(RULES)


def test_oversized_state_file_refused_from_its_size_before_parsing(tmp_path: Path):
    big = tmp_path / "big.json"
    with big.open("wb") as handle:  # not JSON at all: a parse would say so; the size check comes first
        handle.truncate(MAX_BYTES + 1)
    code, output = render(CSP, tmp_path / "out", big)
    assert code == 2
    assert output.strip().endswith(f"{big}: {MAX_BYTES + 1} bytes, over the {MAX_BYTES} byte limit (rule state-size)")
    assert "Traceback" not in output


def test_deep_nesting_is_refused_not_recursion_error():
    with pytest.raises(JsonPositionError) as exc:
        parse("[" * 100_000 + "]" * 100_000)
    assert exc.value.rule == "state-size" and (exc.value.line, exc.value.column) == (1, 66)


def test_positions_are_kept():
    parsed = parse('{\n  "a": [1,\n    {"b": "x"}]\n}')
    assert parsed.value == {"a": [1, {"b": "x"}]}
    assert parsed.positions[("a", 1, "b")] == (3, 11)
    assert parsed.positions[("a", 0)] == (2, 9)


# ---------------------------------------------------------------- shapes of the official example
def rest_body() -> dict:
    """The official REST GET body (also what `az resource show` prints)."""
    example = json.loads((EXAMPLES / "VirtualNetworkGatewayGet.json").read_text(encoding="utf-8"))
    return example["responses"]["200"]["body"]


def flattened(resource: dict) -> dict:
    """DERIVED: `az network vnet-gateway show` lifts `properties` into the top level (and adds resourceGroup)."""
    result = {k: v for k, v in resource.items() if k != "properties"}
    result.update(resource["properties"])
    result["resourceGroup"] = "rg1"
    return result


def pascal(value):
    """DERIVED: `Get-AzVirtualNetworkGateway | ConvertTo-Json -Depth 10` prints the flattened fields in PascalCase."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def own_state() -> dict:
    """DERIVED: gen's own state file with the values of the official example."""
    return {
        "gen_azure_state": 1,
        "gateways": {
            "vpngw": {
                "resource_group": "rg1",
                "asn": 65514,
                "instances": [{"public_ip": "52.161.10.135", "bgp_ips": ["10.3.1.254"]}],
            }
        },
    }


SHAPES = {
    "rest-get-official": rest_body,
    "az-vnet-gateway-show-derived": lambda: flattened(rest_body()),
    "az-vnet-gateway-list-derived": lambda: [flattened(rest_body())],
    "rest-list-derived": lambda: {"value": [rest_body()]},
    "get-azvirtualnetworkgateway-derived": lambda: {**pascal(flattened(rest_body())), "ResourceGroupName": "rg1"},
    "az-deployment-group-show-derived": lambda: {
        "properties": {"outputs": {"azureState": {"type": "Object", "value": own_state()}}}
    },
}


def rendered(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".gen-manifest.json"
    }


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_fills_the_placeholders_like_gens_own_state(shape: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GEN_PSK_BRANCH1", "unused")
    (tmp_path / "own").mkdir()
    (tmp_path / "other").mkdir()
    # one file and folder name for both: the runbook names them in its commands
    own, other = tmp_path / "own" / "azure-state.json", tmp_path / "other" / "azure-state.json"
    own.write_text(json.dumps(own_state()), encoding="utf-8")
    other.write_text(json.dumps(SHAPES[shape](), indent=2), encoding="utf-8")
    code, output = render(REST_INVENTORY, tmp_path / "own" / "out", own)
    assert code == 0, output
    code, output = render(REST_INVENTORY, tmp_path / "other" / "out", other)
    assert code == 0, output  # --strict: no placeholder left
    assert rendered(tmp_path / "own" / "out") == rendered(tmp_path / "other" / "out")
    device = (tmp_path / "other" / "out" / "onprem" / "branch1" / "branch1-rtr.ios").read_text(encoding="utf-8")
    assert "52.161.10.135" in device and "10.3.1.254" in device


def test_official_example_against_a_mismatching_inventory_is_refused(tmp_path: Path):
    """The official gateway (vpngw, ASN 65514) is not a gateway of csp-advanced: refused at its name."""
    state = tmp_path / "rest.json"
    state.write_text(json.dumps(rest_body(), indent=2), encoding="utf-8")
    code, output = render(CSP, tmp_path / "out", state)
    assert code == 2
    assert f"{state}:1:1: $: gateway 'vpngw' is not in the inventory" in output
    assert "(rule state-gateway-unknown)" in output

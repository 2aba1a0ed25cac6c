"""Bad input to gen import / gen drift: exit 2, the file position, the rule id, nothing written."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from generator.azure_read import MAX_BYTES
from generator.cli import main
from generator.rulebook import IMPORT_RULES

BAD = ROOT / "tests" / "bad-import"
CSP = ROOT / "inventories" / "csp-advanced.yaml"
EXPECT = re.compile(r"^(?P<rule>[a-z0-9-]+) at (?P<line>\d+):(?P<col>\d+) (?P<path>\S+)$")


def cases() -> list[Path]:
    return sorted(BAD.glob("*/*.json"))


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stderr


def refused(case: Path, tmp: Path, rule: str, line: int, col: int, path: str) -> None:
    out, state = tmp / "inventory.yaml", tmp / "state.json"
    for args in (("import", case, "-o", out, "--state", state), ("drift", CSP, case)):
        code, err = run(*args)
        assert code == 2, (args, err)
        assert "Traceback" not in err
        where = f"{case}:{line}:{col}: {path}: " if line else f"{case}: "
        assert where in err and f"(rule {rule})" in err, err
    assert sorted(tmp.iterdir()) == [], "nothing is written on an error"


@pytest.mark.parametrize("case", cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_bad_import_file(case: Path, tmp_path: Path) -> None:
    found = EXPECT.match(case.with_suffix(".expect").read_text(encoding="utf-8").strip())
    assert found, case
    assert found["rule"] == case.parent.name
    work = tmp_path / "work"
    work.mkdir()
    refused(case, work, found["rule"], int(found["line"]), int(found["col"]), found["path"])


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "export.json"
    with open(big, "wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: no 10 MiB written
    work = tmp_path / "work"
    work.mkdir()
    refused(big, work, "import-size", 0, 0, "")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    refused(tmp_path / "no-such-export.json", work, "import-file", 0, 0, "")


def test_every_import_rule_has_a_case() -> None:
    covered = {p.parent.name for p in cases()} | {"import-size", "import-file"}
    assert set(IMPORT_RULES) - {"drift"} <= covered
    assert {p.parent.name for p in cases()} <= set(IMPORT_RULES)


def test_nothing_is_replaced_on_an_error_nor_without_force(tmp_path: Path) -> None:
    out = tmp_path / "inventory.yaml"
    out.write_text("# mine\n", encoding="utf-8")
    code, _ = run("import", BAD / "import-json" / "truncated-export.json", "-o", out, "--force")
    assert code == 2 and out.read_text(encoding="utf-8") == "# mine\n"
    assert os.listdir(tmp_path) == ["inventory.yaml"]
    good = tmp_path / "vnet.json"
    vnet = {
        "name": "hub",
        "type": "Microsoft.Network/virtualNetworks",
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub",
        "location": "westeurope",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "app", "properties": {"addressPrefix": "10.0.1.0/24"}}],
        },
    }
    good.write_text(json.dumps(vnet), encoding="utf-8")
    code, err = run("import", good, "-o", out)
    assert code == 2 and "(rule output-not-ours)" in err and out.read_text(encoding="utf-8") == "# mine\n"
    code, err = run("import", good, "-o", out, "--force")
    assert code == 0, err
    assert "name: inventory" in out.read_text(encoding="utf-8")

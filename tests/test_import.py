"""gen import: gen's own rendered ARM read back as an export gives the inventory that renders it again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

from generator.cli import main

INVENTORIES = ["csp-advanced", "dr-pair", "minimal", "csp-advanced-linux"]


def gen(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def rendered_arm(name: str, tmp: Path) -> list[Path]:
    """The stage templates gen renders for an example inventory (parameter files are not an export)."""
    code, _, err = gen("render", ROOT / "inventories" / f"{name}.yaml", "-o", tmp / "out", "-q")
    assert code == 0, err
    return sorted(p for p in (tmp / "out" / "azure" / "arm").glob("*.json") if not p.name.endswith(".parameters.json"))


def platforms_of(name: str) -> dict[str, str]:
    data = yaml.safe_load((ROOT / "inventories" / f"{name}.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d["platform"] for s in data["onprem"]["sites"] for d in s["devices"]}


def fill_platforms(text: str, platforms: dict[str, str]) -> str:
    """What the user does after import: set each device's platform (the line after its name)."""
    out, device = [], None
    for line in text.splitlines():
        if m := re.match(r"^\s*- name: (\S+)$", line):
            device = m.group(1)
        if "platform: unknown" in line:
            line = re.sub(r"platform: unknown.*", f"platform: {platforms[device]}", line)
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", INVENTORIES)
def test_import_as_new_renders_byte_identical_arm(name: str, tmp_path: Path) -> None:
    templates = rendered_arm(name, tmp_path)
    imported = tmp_path / "imported.yaml"
    code, _, err = gen("import", *templates, "-o", imported, "--as-new")
    assert code == 0, err
    text = imported.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert "existing" not in text
    code, _, err = gen("validate", imported)
    assert code == 2 and "(rule device-platform-unknown)" in err
    filled = tmp_path / "filled.yaml"
    filled.write_text(fill_platforms(text, platforms_of(name)), encoding="utf-8")
    code, _, err = gen("render", filled, "-o", tmp_path / "again", "-q")
    assert code == 0, err
    for template in templates:
        again = tmp_path / "again" / "azure" / "arm" / template.name
        assert again.read_bytes() == template.read_bytes(), template.name
    produced = {p.name for p in (tmp_path / "again" / "azure" / "arm").glob("*.json")}
    assert produced == {p.name for p in (tmp_path / "out" / "azure" / "arm").glob("*.json")}


def test_import_marks_existing_and_writes_the_state(tmp_path: Path) -> None:
    templates = rendered_arm("csp-advanced", tmp_path)
    imported, state = tmp_path / "imported.yaml", tmp_path / "state.json"
    code, _, err = gen("import", *templates, "-o", imported, "--state", state)
    assert code == 0, err
    data = yaml.safe_load(imported.read_text(encoding="utf-8"))
    assert all(v["existing"] is True for v in data["azure"]["vnets"])
    assert not state.exists()  # a template has no deployed addresses: nothing to write
    for key in ("GEN_PSK_DC1", "GEN_PSK_VNET_MESH"):
        assert key in err  # the key names are printed, never a key


def test_keys_are_references_never_values(tmp_path: Path) -> None:
    templates = rendered_arm("csp-advanced", tmp_path)
    imported = tmp_path / "imported.yaml"
    assert gen("import", *templates, "-o", imported)[0] == 0
    data = yaml.safe_load(imported.read_text(encoding="utf-8"))
    refs = [c["psk"] for c in data["onprem"]["connections"]] + [x["psk"] for x in data["azure"]["vnet_links"]]
    assert refs and all(set(r) == {"env"} for r in refs)
    assert json.dumps(data).count("parameters(") == 0

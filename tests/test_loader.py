"""Loader and schema errors: positions, rule ids, refusals of unsafe YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, write_inventory

from generator.errors import InventoryError
from generator.loader import load
from generator.pipeline import build_model


def errors_of(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        build_model(path, display="inv.yaml")
    return [str(item) for item in caught.value.located]


def test_example_loads_with_data() -> None:
    document = load(ROOT / "inventories" / "minimal.yaml")
    assert document.data["name"] == "minimal"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nname: y\nazure: {}\n", 'inv.yaml:2:1: name: duplicate key "name"'),
        ("name: x\nazure:\n\tvnets: []\n", "inv.yaml:3:1: $: invalid YAML"),
        ("name: [x\n", "inv.yaml:2:1: name[0]: invalid YAML"),  # the path of the item being read
        ("", "inv.yaml:1:1: $: the inventory is empty"),
        ("# only a comment\n", "inv.yaml:1:1: $: the inventory is empty"),
        ("name: !!python/object:os.system x\n", "inv.yaml:1:7: name: invalid YAML"),
    ],
)
def test_malformed_yaml(tmp_path: Path, text: str, expected: str) -> None:
    (found,) = errors_of(write_inventory(tmp_path, text))
    assert found.startswith(expected), found


def test_non_utf8_reports_the_byte_position(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"name: ok\ndescription: caf\xe9\n")
    (found,) = errors_of(path)
    assert found.startswith("inv.yaml:2:17: $: byte 0xe9 is not UTF-8") and found.endswith("(rule yaml-encoding)")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 8)]
    (found,) = errors_of(write_inventory(tmp_path, "\n".join(lines) + "\n"))
    assert found.endswith("(rule yaml-alias-bomb)")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    (found,) = errors_of(write_inventory(tmp_path, "name: " + "[" * 40 + "]" * 40 + "\n"))
    assert found.endswith("(rule yaml-too-deep)")


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"# " + b"x" * (11 * 1024 * 1024) + b"\n")
    (found,) = errors_of(path)
    assert found.endswith("(rule inventory-too-large)")


def test_schema_errors_all_at_once_with_positions(tmp_path: Path) -> None:
    text = (ROOT / "inventories" / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("region: westeurope", "region: West Europe").replace("asn: 65201", "asn: 65201\n      asnn: 1")
    found = errors_of(write_inventory(tmp_path, text))
    assert len(found) == 2
    region = next(f for f in found if ".region" in f)
    assert region.startswith('inv.yaml:11:15: azure.vnets[0].region: "West Europe" is not valid') and region.endswith(
        "(rule schema-pattern)"
    )
    unknown = next(f for f in found if "asnn" in f)
    assert unknown.startswith("inv.yaml:23:7: onprem.sites[0].asnn: unknown field 'asnn'; did you mean 'asn'?")


def test_missing_field_points_at_the_parent(tmp_path: Path) -> None:
    text = (ROOT / "inventories" / "minimal.yaml").read_text(encoding="utf-8").replace("      region: westeurope\n", "")
    (found,) = errors_of(write_inventory(tmp_path, text))
    assert found == "inv.yaml:9:7: azure.vnets[0]: missing required field 'region' (rule schema-required)"

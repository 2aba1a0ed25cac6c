"""Shared fixtures: repository paths, the reference data in ../shared, rendering helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INVENTORIES = sorted((ROOT / "inventories").glob("*.yaml"))
SHARED = Path(os.environ.get("GEN_SHARED", ROOT.parent / "shared"))
ARM_SCHEMAS = SHARED / "reference" / "arm-schemas"
CMDLET_CATALOGS = SHARED / "reference" / "powershell-cmdlets"
GOLDEN = Path(__file__).resolve().parent / "golden"
STATE_EXAMPLES = ROOT / "inventories"  # <inventory>.azure-state.json beside each example inventory


def state_example(name: str) -> Path:
    """The example Azure state file of inventories/<name>.yaml (gen's own format, generator/state.py)."""
    return STATE_EXAMPLES / f"{name}.azure-state.json"


# Known fake keys: used where a test must prove keys never leak. Never real, never in goldens.
FAKE_KEYS = {
    "GEN_PSK_VNET_MESH": "FakeMeshKey0123456789abcdef",
    "GEN_PSK_DC1": "FakeDc1Key0123456789abcdef",
    "GEN_PSK_DC2": "FakeDc2Key0123456789abcdef",
    "GEN_PSK_DC3": "FakeDc3Key0123456789abcdef",
    "GEN_PSK_BRANCH1": "FakeBranchKey0123456789abcdef",
    "GEN_PSK_DR_LINK": "FakeDrLinkKey0123456789abcdef",
    "GEN_PSK_DC1_PRI": "FakeDc1PriKey0123456789abcdef",
    "GEN_PSK_DC1_DR": "FakeDc1DrKey0123456789abcdef",
    "GEN_PSK_VYOS_DC1": "FakeVyosDc1Key0123456789abcdef",
    "GEN_PSK_VYOS_BR1": "FakeVyosBr1Key0123456789abcdef",
    "GEN_PSK_PANOS_DC2": "FakePanosDc2Key0123456789abcdef",
    "GEN_PSK_PANOS_BR2": "FakePanosBr2Key0123456789abcdef",
    "GEN_PSK_FG_DC1": "FakeFgDc1Key0123456789abcdef",
    "GEN_PSK_FG_BR1": "FakeFgBr1Key0123456789abcdef",
    "GEN_PSK_ASA_HQ": "FakeAsaHqKey0123456789abcdef",
    "GEN_PSK_ASA_BR2": "FakeAsaBr2Key0123456789abcdef",
    "GEN_PSK_ASA_SHOP3": "FakeAsaShop3Key0123456789abcdef",
}


def inventory_ids() -> list[str]:
    return [p.stem for p in INVENTORIES]


def render_files(inventory: Path, state: tuple[Path, ...] = (), **kwargs) -> dict[str, str]:
    """Render an inventory in-process: relative path -> text."""
    from generator.pipeline import build_model, render_all

    model = build_model(
        inventory, state, display=str(inventory.relative_to(ROOT)) if inventory.is_relative_to(ROOT) else None
    ).model
    return {f.path: f.text for f in render_all(model, **kwargs)}


@pytest.fixture(scope="session")
def rendered() -> dict[str, dict[str, str]]:
    """Every example inventory rendered once per session (no Azure state)."""
    return {p.stem: render_files(p) for p in INVENTORIES}


@pytest.fixture(scope="session")
def arm_validator():
    """validate_file from ../shared/reference/arm-schemas/validate_arm.py (official ARM schemas)."""
    if not (ARM_SCHEMAS / "validate_arm.py").exists():
        pytest.fail(f"the ARM reference schemas are missing: {ARM_SCHEMAS} (set GEN_SHARED)")
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(ARM_SCHEMAS))
    from validate_arm import validate_document

    return validate_document


def write_inventory(tmp_path: Path, text: str, name: str = "inventory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path

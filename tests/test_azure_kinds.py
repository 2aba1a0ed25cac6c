"""Every Azure resource kind is a complete unit: templates for ARM, Bicep and its PowerShell step."""

import pytest
from conftest import ROOT

from generator.azure_kinds import KINDS
from generator.pipeline import build_model
from generator.targets.azure_items import stage1, stage2

TEMPLATES = ROOT / "templates"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_kind_has_its_templates(kind):
    assert (TEMPLATES / "arm" / "resources" / f"{kind.key}.json.j2").is_file()
    assert (TEMPLATES / "bicep" / "resources" / f"{kind.bicep_key}.bicep.j2").is_file()
    assert (TEMPLATES / "powershell" / "steps" / f"{kind.ps_step.key}.ps1.j2").is_file()
    assert kind.stage in (1, 2)


def test_every_arm_and_bicep_resource_template_belongs_to_a_kind():
    arm = {p.name.removesuffix(".json.j2") for p in (TEMPLATES / "arm" / "resources").glob("[!_]*.json.j2")}
    bicep = {p.name.removesuffix(".bicep.j2") for p in (TEMPLATES / "bicep" / "resources").glob("[!_]*.bicep.j2")}
    assert arm == {k.key for k in KINDS}
    assert bicep == {k.bicep_key for k in KINDS}


def test_stages_take_items_from_the_kinds_in_registry_order():
    order = [k.key for k in KINDS]
    for inventory in sorted((ROOT / "inventories").glob("*.yaml")):
        for rg in build_model(inventory).model.resource_groups:
            for stage, items in ((1, stage1(rg)), (2, stage2(rg))):
                positions = [order.index(i.kind) for i in items]
                assert positions == sorted(positions)
                assert {KINDS[p].stage for p in positions} <= {stage}

"""Peerings Azure accepts in one run (facts-2026-12 §3): the use-remote-gateways side after the transit side."""

from __future__ import annotations

import json
import re

from checks_powershell import check_files
from conftest import ROOT, render_files

HUB_SPOKE = ROOT / "tests" / "data" / "bicep" / "hub-spoke.yaml"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"


def _peerings(text: str) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads(text)["resources"] if r["type"] == PEERING}


def test_same_group_spoke_peering_depends_on_the_transit_peering(arm_validator) -> None:
    files = render_files(HUB_SPOKE)
    for path, text in files.items():
        if path.startswith("azure/arm/"):
            assert arm_validator(json.loads(text), check_unknown_properties=True) == [], path
    links = _peerings(files["azure/arm/rg-hub.links.json"])
    assert set(links) == {
        "hub/peer-hub-to-spoke-near",
        "spoke-near/peer-spoke-near-to-hub",
        "hub/peer-hub-to-spoke-far",
    }
    spoke = links["spoke-near/peer-spoke-near-to-hub"]
    assert spoke["properties"]["useRemoteGateways"] is True
    assert spoke["dependsOn"] == [
        "[resourceId('Microsoft.Network/virtualNetworks/virtualNetworkPeerings', 'hub', 'peer-hub-to-spoke-near')]"
    ]
    assert links["hub/peer-hub-to-spoke-near"]["properties"]["allowGatewayTransit"] is True
    assert "dependsOn" not in links["hub/peer-hub-to-spoke-near"]


def test_cross_group_spoke_peering_is_a_third_stage_deployed_after_every_stage_2() -> None:
    files = render_files(HUB_SPOKE)
    assert "azure/arm/rg-spoke.links.json" not in files  # nothing else for the spoke's stage 2
    late = _peerings(files["azure/arm/rg-spoke.transit.json"])
    assert list(late) == ["spoke-far/peer-spoke-far-to-hub"]
    assert late["spoke-far/peer-spoke-far-to-hub"]["properties"]["useRemoteGateways"] is True
    assert "azure/bicep/rg-spoke.transit.bicep" in files and "azure/bicep/rg-spoke.transit.bicepparam" in files
    runbook = files["README.md"]
    commands = re.findall(r"--template-file (\S+)", runbook)
    assert commands.index("azure/arm/rg-spoke.transit.json") > max(
        i for i, c in enumerate(commands) if c.endswith(".links.json")
    )
    assert all(c.endswith(".json") and not c.endswith(".links.json") for c in commands[:2])


def test_powershell_creates_the_transit_side_first() -> None:
    files = {p: t for p, t in render_files(HUB_SPOKE, targets=("powershell",)).items() if p.endswith(".ps1")}
    assert check_files(files) == []
    for text in files.values():
        order = re.findall(r"Add-Az(?:ureRm)?VirtualNetworkPeering -Name '([^']+)'", text)
        assert order.index("peer-hub-to-spoke-far") < order.index("peer-spoke-far-to-hub")
        assert order.index("peer-hub-to-spoke-near") < order.index("peer-spoke-near-to-hub")


def test_plan_counts_the_third_stage() -> None:
    from generator.pipeline import build_model
    from generator.plan import resource_counts

    groups = {g["name"]: g for g in resource_counts(build_model(HUB_SPOKE).model)}
    assert groups["rg-spoke"]["stage3"] == {"peerings": 1}
    assert groups["rg-hub"]["stage2"] == {"peerings": 3} and "stage3" not in groups["rg-hub"]

"""gen drift: the inventory against what Azure prints, in the fields gen manages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from test_import import fill_platforms, gen, platforms_of, rendered_arm

from generator.cli import main

CSP = ROOT / "inventories" / "csp-advanced.yaml"


def edit(path: Path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def test_no_drift_against_the_own_render_and_after_import(tmp_path: Path) -> None:
    templates = rendered_arm("csp-advanced", tmp_path)
    code, out, err = gen("drift", CSP, *templates)
    assert code == 0, out + err
    imported = tmp_path / "imported.yaml"
    assert gen("import", *templates, "-o", imported)[0] == 0
    filled = tmp_path / "filled.yaml"
    filled.write_text(
        fill_platforms(imported.read_text(encoding="utf-8"), platforms_of("csp-advanced")), encoding="utf-8"
    )
    assert "existing: true" in filled.read_text(encoding="utf-8")
    code, out, err = gen("drift", filled, *templates)
    assert code == 0, out + err


def test_one_asn_one_sku_one_missing_connection_are_exactly_the_drift(tmp_path: Path) -> None:
    templates = {p.name: p for p in rendered_arm("csp-advanced", tmp_path)}

    def gateways(document):
        return [r for r in document["resources"] if r["type"] == "Microsoft.Network/virtualNetworkGateways"]

    def asn(document):
        gateways(document)[0]["properties"]["bgpSettings"]["asn"] += 1

    def sku(document):
        gateways(document)[0]["properties"]["sku"] = {"name": "VpnGw3AZ", "tier": "VpnGw3AZ"}

    def connection(document):
        document["resources"] = [r for r in document["resources"] if r["name"] != "cn-SEA-VNET-dc1-edge2"]

    edit(templates["rg-lon-network.json"], asn)
    edit(templates["rg-mum-network.json"], sku)
    edit(templates["rg-sea-network.json"], connection)
    result = CliRunner().invoke(main, ["drift", str(CSP), *map(str, templates.values()), "--format", "json"])
    assert result.exit_code == 1, result.output
    rows = {(r["resource"], r["field"]): (r["inventory"], r["azure"]) for r in json.loads(result.stdout)["drift"]}
    assert rows == {
        ("gateway LON-VNET-gw", "ASN"): (65020, 65021),
        ("gateway MUM-VNET-gw", "SKU"): ("VpnGw1AZ", "VpnGw3AZ"),
        ("connection cn-SEA-VNET-dc1-edge2", "(resource)"): ("present", "missing"),
    }
    code, out, err = gen("drift", CSP, *templates.values())
    assert code == 1 and out.count("\n| ") == 4 and "(rule drift)" in err  # header rule + three rows


def test_drift_sees_policy_dpd_mode_peering_flags_and_extra_connections(tmp_path: Path) -> None:
    templates = {p.name: p for p in rendered_arm("csp-advanced", tmp_path)}

    def connection(document):
        conns = [r for r in document["resources"] if r["type"] == "Microsoft.Network/connections"]
        conns[0]["properties"]["dpdTimeoutSeconds"] = 30
        conns[0]["properties"]["connectionMode"] = "ResponderOnly"
        conns[1]["properties"]["ipsecPolicies"][0]["dhGroup"] = "DHGroup2"
        extra = json.loads(json.dumps(conns[1]))
        extra["name"] = "cn-legacy"
        document["resources"].append(extra)

    edit(templates["rg-sea-network.json"], connection)
    result = CliRunner().invoke(main, ["drift", str(CSP), *map(str, templates.values()), "--format", "json"])
    assert result.exit_code == 1
    fields = {(r["resource"], r["field"]) for r in json.loads(result.stdout)["drift"]}
    assert fields == {
        ("connection cn-SEA-VNET-dc1-edge1", "DPD timeout"),
        ("connection cn-SEA-VNET-dc1-edge1", "connection mode"),
        ("connection cn-SEA-VNET-dc1-edge2", "IPsec policy"),
        ("connection cn-legacy", "(resource)"),
    }


def test_bgp_addresses_and_public_ips_against_the_state_file(tmp_path: Path) -> None:
    from conftest import state_example
    from test_import_walkthrough import deployed

    files = deployed(tmp_path)
    state = json.loads(state_example("csp-advanced").read_text(encoding="utf-8"))
    state["gateways"]["SEA-VNET-gw"]["instances"][1]["bgp_ips"] = ["10.1.255.6"]  # inside its GatewaySubnet
    state["gateways"]["LON-VNET-gw"]["instances"][0]["public_ip"] = "192.0.2.99"
    stale = tmp_path / "stale.azure-state.json"
    stale.write_text(json.dumps(state), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["drift", str(CSP), *map(str, files), "--azure-state", str(stale), "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    rows = {(r["resource"], r["field"]): (r["inventory"], r["azure"]) for r in json.loads(result.stdout)["drift"]}
    assert rows == {
        ("gateway SEA-VNET-gw instance 1", "BGP addresses (state file)"): (["10.1.255.6"], ["10.1.255.5"]),
        ("gateway LON-VNET-gw instance 0", "public IP (state file)"): ("192.0.2.99", "192.0.2.21"),
    }


def test_peering_flags(tmp_path: Path) -> None:
    templates = rendered_arm("bicep/hub-spoke", tmp_path)
    inventory = tmp_path / "source.yaml"  # rendered_arm wrote it there
    changed = []

    def flip(document):
        for res in document["resources"]:
            if res["type"].endswith("virtualNetworkPeerings") and not changed:
                res["properties"]["allowForwardedTraffic"] = not res["properties"]["allowForwardedTraffic"]
                changed.append(res["name"])

    for template in templates:
        if not changed:
            edit(template, flip)
    assert changed
    result = CliRunner().invoke(main, ["drift", str(inventory), *map(str, templates), "--format", "json"])
    assert result.exit_code == 1, result.output
    rows = [(r["resource"], r["field"]) for r in json.loads(result.stdout)["drift"]]
    assert rows == [(f"peering {changed[0]}", "allow forwarded traffic")]


def test_only_the_exported_resource_groups_are_compared(tmp_path: Path) -> None:
    templates = [p for p in rendered_arm("csp-advanced", tmp_path) if p.name == "rg-sea-network.json"]
    result = CliRunner().invoke(main, ["drift", str(CSP), *map(str, templates), "--format", "json"])
    report = json.loads(result.stdout)
    assert report["not_compared"] == ["rg-lon-network", "rg-mum-network"]
    # stage 2 (the VNet-to-VNet connections of rg-sea-network) is not in the file: missing, nothing else
    assert result.exit_code == 1
    assert {(r["resource"], r["azure"]) for r in report["drift"]} == {
        ("connection cn-SEA-VNET-to-LON-VNET", "missing"),
        ("connection cn-SEA-VNET-to-MUM-VNET", "missing"),
    }

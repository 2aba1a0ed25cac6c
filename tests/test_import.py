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

INVENTORIES = sorted(p.stem for p in (ROOT / "inventories").glob("*.yaml"))  # every example inventory
# test inventories with peerings, custom names, APIPA, policy-based selectors (their brownfield
# parts made new: an existing resource is not in gen's templates, so not in such an "export"),
# load balancers with a dynamic frontend and IP-based pools
DATA = ["bicep/hub-spoke", "powershell/features", "powershell/brownfield", "lb/ilb"]


def gen(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def source(name: str, tmp: Path) -> Path:
    if name in INVENTORIES:
        return ROOT / "inventories" / f"{name}.yaml"
    data = yaml.safe_load((ROOT / "tests" / "data" / f"{name}.yaml").read_text(encoding="utf-8"))
    for vnet in data["azure"]["vnets"]:
        vnet.pop("existing", None)
        if vnet.get("gateway"):
            vnet["gateway"].pop("existing", None)
    path = tmp / "source.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def rendered_arm(name: str, tmp: Path) -> list[Path]:
    """The stage templates gen renders for an example inventory (parameter files are not an export)."""
    code, _, err = gen("render", source(name, tmp), "-o", tmp / "out", "-q")
    assert code == 0, err
    return sorted(p for p in (tmp / "out" / "azure" / "arm").glob("*.json") if not p.name.endswith(".parameters.json"))


def platforms_of(name: str, tmp: Path | None = None) -> dict[str, str]:
    path = ROOT / "inventories" / f"{name}.yaml" if tmp is None else source(name, tmp)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {d["name"]: d["platform"] for s in data.get("onprem", {}).get("sites", []) for d in s["devices"]}


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


@pytest.mark.parametrize("name", INVENTORIES + DATA)
def test_import_as_new_renders_byte_identical_arm(name: str, tmp_path: Path) -> None:
    templates = rendered_arm(name, tmp_path)
    imported = tmp_path / "imported.yaml"
    code, _, err = gen("import", *templates, "-o", imported, "--as-new")
    assert code == 0, err
    text = imported.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert "existing" not in text
    platforms = platforms_of(name, tmp_path)
    if platforms:
        code, _, err = gen("validate", imported)
        assert code == 2 and "(rule device-platform-unknown)" in err
    filled = tmp_path / "filled.yaml"
    filled.write_text(fill_platforms(text, platforms), encoding="utf-8")
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


def export_style(template: dict) -> dict:
    """gen's template rewritten as `az group export` writes one: names as parameters with default
    values, subnets also as child resources named with concat()."""
    params: dict = dict(template.get("parameters", {}))
    resources = []
    for res in template["resources"]:
        kind = res["type"].split("/")[-1]
        key = f"{kind}_{res['name'].replace('/', '_').replace('-', '_')}_name"
        params[key] = {"defaultValue": res["name"], "type": "String"}
        res = {**res, "name": f"[parameters('{key}')]"}
        res.pop("dependsOn", None)
        resources.append(res)
        if kind == "virtualNetworks":
            for sub in res["properties"]["subnets"]:
                resources.append(
                    {
                        "type": "Microsoft.Network/virtualNetworks/subnets",
                        "apiVersion": res["apiVersion"],
                        "name": f"[concat(parameters('{key}'), '/{sub['name']}')]",
                        "properties": sub["properties"],
                    }
                )
    return {**template, "parameters": params, "resources": resources, "metadata": {}}


def test_an_export_style_template_imports_as_gen_s_own(tmp_path: Path) -> None:
    templates = rendered_arm("csp-advanced", tmp_path)
    exports = []
    for template in templates:
        path = tmp_path / template.name  # named after the resource group, as the README says
        path.write_text(json.dumps(export_style(json.loads(template.read_text(encoding="utf-8")))), encoding="utf-8")
        exports.append(path)
    assert gen("import", *templates, "-o", tmp_path / "own.yaml", "--as-new")[0] == 0
    assert gen("import", *exports, "-o", tmp_path / "export.yaml", "--as-new", "--name", "csp-advanced")[0] == 0
    own = yaml.safe_load((tmp_path / "own.yaml").read_text(encoding="utf-8"))
    export = yaml.safe_load((tmp_path / "export.yaml").read_text(encoding="utf-8"))
    assert export == own


def _az(kind: str, rg: str, name: str, **props) -> dict:
    """One object as `az network ... list` prints it (properties at the top level)."""
    namespace, *types = kind.split("/")
    return {
        "name": name,
        "id": f"/subscriptions/s/resourceGroups/{rg}/providers/{namespace}/{types[0]}/{name}",
        "type": kind,
        "location": "westeurope",
        "resourceGroup": rg,
        **props,
    }


def test_sites_devices_and_what_is_not_imported(tmp_path: Path) -> None:
    gw_id = "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Network/virtualNetworkGateways/hub-gw"
    subnet = (
        "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Network/virtualNetworks/hub/subnets/GatewaySubnet"
    )
    items = [
        _az(
            "Microsoft.Network/virtualNetworks",
            "rg-a",
            "hub",
            addressSpace={"addressPrefixes": ["10.10.0.0/16"]},
            subnets=[{"name": "GatewaySubnet", "addressPrefix": "10.10.255.0/27"}],
        ),
        _az(
            "Microsoft.Network/virtualNetworkGateways",
            "rg-a",
            "hub-gw",
            gatewayType="Vpn",
            vpnType="RouteBased",
            sku={"name": "VpnGw2AZ"},
            enableBgp=True,
            activeActive=False,
            bgpSettings={"asn": 65010},
            ipConfigurations=[
                {
                    "name": "default",
                    "subnet": {"id": subnet},
                    "publicIpAddress": {
                        "id": "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Network/publicIPAddresses/hub-pip"
                    },
                }
            ],
        ),
    ]
    for i, (name, asn) in enumerate([("edge.1", 65101), ("edge-1", 65101), ("branch", None)]):
        lng = {
            "gatewayIpAddress": f"198.51.100.{i + 1}",
            "localNetworkAddressSpace": {"addressPrefixes": [f"192.168.{i}.0/24"]},
        }
        if asn:
            lng["bgpSettings"] = {"asn": asn, "bgpPeeringAddress": f"192.168.{i}.1"}
        items.append(_az("Microsoft.Network/localNetworkGateways", "rg-a", name, **lng))
        items.append(
            _az(
                "Microsoft.Network/connections",
                "rg-a",
                f"to-{name}",
                connectionType="IPsec",
                virtualNetworkGateway1={"id": gw_id},
                localNetworkGateway2={"id": items[-1]["id"]},
                enableBgp=asn is not None,
                dpdTimeoutSeconds=45,
            )
        )
    items.append(
        _az(
            "Microsoft.Network/connections",
            "rg-a",
            "er",
            connectionType="ExpressRoute",
            virtualNetworkGateway1={"id": gw_id},
        )
    )
    items.append(_az("Microsoft.Compute/virtualMachines", "rg-a", "vm1"))
    export = tmp_path / "estate.json"
    export.write_text(json.dumps(items), encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(export), "-o", str(tmp_path / "net.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    data = yaml.safe_load((tmp_path / "net.yaml").read_text(encoding="utf-8"))
    sites = {s["name"]: s for s in data["onprem"]["sites"]}
    devices = [d["name"] for s in data["onprem"]["sites"] for d in s["devices"]]
    assert len(devices) == len({d.lower() for d in devices}) == 3  # edge.1 and edge-1 stay two devices
    assert sorted(len(s["devices"]) for s in sites.values()) == [1, 2]  # one site per ASN, one per static LNG
    assert all(d["platform"] == "unknown" for s in sites.values() for d in s["devices"])
    assert {d.get("local_gateway_name") for s in sites.values() for d in s["devices"]} == {"edge.1", "edge-1", "branch"}
    names = {n for c in data["onprem"]["connections"] for n in c.get("connection_names", {}).values()}
    assert names == {"to-edge.1", "to-edge-1", "to-branch"}
    assert data["azure"]["vnets"][0]["gateway"]["instance_names"] == [
        {"ip_configuration": "default", "public_ip": "hub-pip"}
    ]
    why = {r["resource"].rsplit("/", 1)[-1]: r["why"] for r in report["not_imported"]}
    assert "ExpressRoute" in why["er"] and "not managed" in why["vm1"]
    assert report["keys"] and all(k.startswith("GEN_PSK_") for k in report["keys"])
    code, _, err = gen("validate", tmp_path / "net.yaml")
    assert code == 2 and err.count("(rule device-platform-unknown)") == 3


def test_name_fields_reach_every_azure_output(tmp_path: Path) -> None:
    inventory = ROOT / "tests" / "data" / "import" / "names.yaml"
    code, _, err = gen("render", inventory, "-o", tmp_path / "out", "-q")
    assert code == 0, err
    azure = tmp_path / "out" / "azure"
    for folder, pattern in (("arm", "*.json"), ("bicep", "*.bicep"), ("powershell", "*.ps1")):
        text = "\n".join(p.read_text(encoding="utf-8") for p in (azure / folder).glob(pattern))
        for name in ("gwpip", "gwpip2", "ActiveActive", "seattle-lng", "seattle-s2s"):
            assert name in text, (folder, name)
        for default in ("vpngw-pip1", "ipconfig2", "lng-dc1-edge1", "cn-hub-edge1"):
            assert default not in text, (folder, default)


def test_parameter_files_beside_the_templates_are_skipped(tmp_path: Path) -> None:
    """`gen import out/azure/arm/*.json` takes the parameter files too: they hold no resource, and the
    import (and drift) are the same as from the templates alone."""
    templates = rendered_arm("csp-advanced", tmp_path)
    every = sorted((tmp_path / "out" / "azure" / "arm").glob("*.json"))
    assert len(every) > len(templates)
    alone, both = tmp_path / "alone.yaml", tmp_path / "both.yaml"
    assert gen("import", *templates, "-o", alone)[0] == 0
    code, _, err = gen("import", *every, "-o", both)
    assert code == 0, err

    def body(path: Path) -> list[str]:  # the header names the files read; the rest must not differ
        return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("# Imported by")]

    assert body(both) == body(alone)
    code, _, err = gen("import", *(set(every) - set(templates)), "-o", tmp_path / "none.yaml")
    assert code == 2 and "(rule import-" in err and not (tmp_path / "none.yaml").exists()

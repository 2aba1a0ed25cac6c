"""The README's brownfield walk-through on a deployed csp-advanced, as `az network ... list` prints it.

The "deployed estate" is gen's own render of inventories/csp-advanced.yaml with the addresses of its
example state file, each resource as Azure returns it (ids, `properties`), then flattened as the
`az network` list commands print it. Import gives back the state file; the filled inventory
validates, renders with that state (no placeholder left) and shows no drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, state_example
from test_import import fill_platforms, gen, platforms_of, rendered_arm
from test_import_examples import flattened

from generator.azure_read import read_json, resources

GROUPS = {  # az command -> the resource type it lists
    "vnets.json": "Microsoft.Network/virtualNetworks",
    "gateways.json": "Microsoft.Network/virtualNetworkGateways",
    "lngs.json": "Microsoft.Network/localNetworkGateways",
    "connections.json": "Microsoft.Network/connections",
    "lbs.json": "Microsoft.Network/loadBalancers",
}


def deployed(tmp: Path) -> list[Path]:
    """The az list files of the estate gen's csp-advanced templates deploy."""
    state = json.loads(state_example("csp-advanced").read_text(encoding="utf-8"))["gateways"]
    objects: dict[str, list] = {name: [] for name in GROUPS}
    for template in rendered_arm("csp-advanced", tmp):
        for res in resources(read_json(template), str(template))[0]:
            body = res.template.evaluate(res.node.value)
            names = res.name.split("/")
            kinds = res.type.split("/")
            path = "/".join(f"{k}/{n}" for k, n in zip(kinds[1:], names, strict=True))
            body["id"] = f"/subscriptions/-/resourceGroups/{res.resource_group}/providers/{kinds[0]}/{path}"
            body.pop("dependsOn", None)
            body.pop("apiVersion", None)
            body.get("properties", {}).pop("sharedKey", None)  # Azure never prints the key
            if res.type.endswith("virtualNetworkGateways"):
                props = body["properties"]
                instances = state[res.name]["instances"]
                props.setdefault("bgpSettings", {"asn": 65515})["bgpPeeringAddresses"] = [
                    {
                        "ipconfigurationId": f"{body['id']}/ipConfigurations/{cfg['name']}",
                        "tunnelIpAddresses": [inst["public_ip"]],
                        "defaultBgpIpAddresses": inst["bgp_ips"],
                        "customBgpIpAddresses": [],
                    }
                    for cfg, inst in zip(props["ipConfigurations"], instances, strict=True)
                ]
                for cfg in props["ipConfigurations"]:
                    cfg["id"] = f"{body['id']}/ipConfigurations/{cfg['name']}"
                props["provisioningState"] = "Succeeded"  # what Azure computes is ignored
            for name, kind in GROUPS.items():
                if res.type == kind:
                    objects[name].append(flattened(body))
    files = []
    for name, items in objects.items():
        (tmp / name).write_text(json.dumps(items, indent=2), encoding="utf-8")
        files.append(tmp / name)
    return files


def test_brownfield_walk_through(tmp_path: Path) -> None:
    files = deployed(tmp_path)
    inventory, state = tmp_path / "net.yaml", tmp_path / "net.azure-state.json"
    code, _, err = gen("import", *files, "-o", inventory, "--state", state)
    assert code == 0, err
    assert json.loads(state.read_text(encoding="utf-8")) == json.loads(
        state_example("csp-advanced").read_text(encoding="utf-8")
    )
    inventory.write_text(
        fill_platforms(inventory.read_text(encoding="utf-8"), platforms_of("csp-advanced")), encoding="utf-8"
    )
    code, _, err = gen("validate", inventory, "--azure-state", state)
    assert code == 0, err
    code, _, err = gen("render", inventory, "-o", tmp_path / "out", "--azure-state", state, "--strict")
    assert code == 0, err
    stage1 = (tmp_path / "out" / "azure" / "arm" / "rg-sea-network.json").read_text(encoding="utf-8")
    assert 'Microsoft.Network/virtualNetworkGateways",' not in stage1.replace(" ", "")  # existing: not re-created
    assert "cn-SEA-VNET-dc1-edge1" in stage1  # the connections keep their names
    code, out, err = gen("drift", inventory, *files, "--azure-state", state)
    assert code == 0, out + err
    code, out, _ = gen(
        "drift", ROOT / "inventories" / "csp-advanced.yaml", *files, "--azure-state", state_example("csp-advanced")
    )
    assert code == 0, out

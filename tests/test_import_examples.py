"""Every official REST example of a VPN gateway, local network gateway, connection, VNet or peering
(../shared/reference/arm-examples, see its SOURCE.md) imports and round-trips its managed fields, or
is out of scope for the reason listed here (the importer must give that reason).

An example names resources it does not hold (a connection's gateway, a gateway's VNet): the test
adds the smallest such resources (`companions`), as a user adds `az resource show` of each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SHARED
from test_import import gen

from generator import drift
from generator.azure_import import PEERING, Importer, read_files
from generator.azure_read import parse_id
from generator.importing import inventory_text

EXAMPLES = SHARED / "reference" / "arm-examples"
FAMILIES = ("VirtualNetworkGateway", "LocalNetworkGateway", "VirtualNetwork")

# Example -> why it is not imported (the importer's reason contains it).
OUT_OF_SCOPE = {
    "LocalNetworkGatewayGet.json": "gateway address is 'x.x.x.x'",
    "other-api-versions/2024-07-01/LocalNetworkGatewayList.json": "gateway address is 'x.x.x.x'",
    "other-api-versions/2024-03-01/VirtualNetworkCreate.json": "a VNet without subnets",
    "VirtualNetworkGatewayConnectionCreate.json": "custom BGP addresses on a connection without BGP",
    "VirtualNetworkGatewayConnectionGet.json": "custom BGP addresses on a connection without BGP",
    "other-api-versions/2024-03-01/VirtualNetworkGatewayConnectionUpdateTags.json": "custom BGP addresses on a connection without BGP",
    "VirtualNetworkGatewayConnectionsList.json": "IKEv1: imported, but gen's device snippets are IKEv2 only",
}
# Examples whose response holds no resource of these kinds (operations, keys, child resources).
NOT_RESOURCES_REASON = "the response holds no VNet, gateway, local network gateway, connection or peering"


def example_files() -> list[Path]:
    files = sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("other-api-versions/*/*.json"))
    return [f for f in files if f.name.startswith(FAMILIES)]


def body_of(path: Path):
    responses = json.loads(path.read_text(encoding="utf-8")).get("responses", {})
    for code in ("200", "201"):
        if isinstance(responses.get(code), dict) and "body" in responses[code]:
            return responses[code]["body"]
    return None


def resources_of(body) -> list[dict]:
    items = body["value"] if isinstance(body, dict) and isinstance(body.get("value"), list) else [body]
    kinds = {
        "microsoft.network/" + k
        for k in ("virtualnetworks", "virtualnetworkgateways", "localnetworkgateways", "connections")
    }
    found = []
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            continue
        kind = str(item.get("type", "")).lower()
        props = item.get("properties", {})
        if kind in kinds or (not kind and isinstance(props, dict) and "remoteVirtualNetwork" in props):
            found.append(item)
    return found


def _id(rg: str, kind: str, *names: str) -> str:
    namespace, *types = kind.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/subid/resourceGroups/{rg}/providers/{namespace}/{path}"


def companions(items: list[dict]) -> list[dict]:
    """The smallest resources the example's resources refer to, with documentation addresses."""
    have = {(str(i.get("type", "")).lower(), i["name"].lower()) for i in items}
    out: dict[tuple[str, str], dict] = {}
    count = iter(range(100, 200))

    def vnet(rg: str, name: str) -> None:
        key = ("microsoft.network/virtualnetworks", name.lower())
        if key not in have and key not in out:
            n = next(count)
            out[key] = {
                "name": name,
                "id": _id(rg, "Microsoft.Network/virtualNetworks", name),
                "type": "Microsoft.Network/virtualNetworks",
                "location": "westeurope",
                "properties": {
                    "addressSpace": {"addressPrefixes": [f"10.{n}.0.0/16"]},
                    "subnets": [{"name": "GatewaySubnet", "properties": {"addressPrefix": f"10.{n}.255.0/27"}}],
                },
            }

    def gateway(rid: str, bgp: bool = False) -> None:
        rg, _, names = parse_id(rid)
        key = ("microsoft.network/virtualnetworkgateways", names[0].lower())
        if key in have or key in out:
            return
        vnet(rg, f"{names[0]}-vnet")
        out[key] = {
            "name": names[0],
            "id": rid,
            "type": "Microsoft.Network/virtualNetworkGateways",
            "location": "westeurope",
            "properties": {
                "gatewayType": "Vpn",
                "vpnType": "RouteBased",
                "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"},
                "activeActive": False,
                "enableBgp": bgp,
                **({"bgpSettings": {"asn": 65000 + next(count)}} if bgp else {}),
                "ipConfigurations": [
                    {
                        "name": "default",
                        "properties": {
                            "subnet": {
                                "id": _id(
                                    rg, "Microsoft.Network/virtualNetworks/subnets", f"{names[0]}-vnet", "GatewaySubnet"
                                )
                            }
                        },
                    }
                ],
            },
        }

    def lng(rid: str) -> None:
        rg, _, names = parse_id(rid)
        key = ("microsoft.network/localnetworkgateways", names[0].lower())
        if key not in have and key not in out:
            n = next(count) - 100
            out[key] = {
                "name": names[0],
                "id": rid,
                "type": "Microsoft.Network/localNetworkGateways",
                "location": "westeurope",
                "properties": {
                    "gatewayIpAddress": f"192.0.2.{n + 10}",
                    "localNetworkAddressSpace": {"addressPrefixes": [f"192.168.{n}.0/24"]},
                },
            }

    for item in items:
        kind, props = str(item.get("type", "")).lower(), item.get("properties", {})
        rg = parse_id(item.get("id", ""))[0] or "rg1"
        if kind == "microsoft.network/virtualnetworkgateways":
            subnet = props["ipConfigurations"][0]["properties"]["subnet"]["id"]
            vnet(parse_id(subnet)[0], parse_id(subnet)[2][0])
        elif kind == "microsoft.network/connections":
            for member in ("virtualNetworkGateway1", "virtualNetworkGateway2"):
                if isinstance(props.get(member), dict):
                    gateway(props[member]["id"], bool(props.get("enableBgp")))
            if isinstance(props.get("localNetworkGateway2"), dict):
                lng(props["localNetworkGateway2"]["id"])
        elif kind == "microsoft.network/localnetworkgateways":
            gw = _id(rg, "Microsoft.Network/virtualNetworkGateways", f"{item['name']}-hub")
            gateway(gw)
            out[("microsoft.network/connections", f"cn-{item['name']}")] = {
                "name": f"cn-{item['name']}",
                "id": _id(rg, "Microsoft.Network/connections", f"cn-{item['name']}"),
                "type": "Microsoft.Network/connections",
                "location": "westeurope",
                "properties": {
                    "connectionType": "IPsec",
                    "virtualNetworkGateway1": {"id": gw},
                    "localNetworkGateway2": {"id": item["id"]},
                },
            }
        elif "remoteVirtualNetwork" in props:
            local = parse_id(item["id"])
            vnet(local[0], local[2][0])
            remote = parse_id(props["remoteVirtualNetwork"]["id"])
            vnet(remote[0], remote[2][0])
    return list(out.values())


def flattened(value, pascal: bool = False):
    """What `az network ... show/list` prints (properties lifted into each object), or with `pascal`
    what `Get-Az* | ConvertTo-Json -Depth 10` prints: the same in PascalCase, no `type`, and a
    subnet's AddressPrefix as a list."""
    if isinstance(value, list):
        return [flattened(v, pascal) for v in value]
    if not isinstance(value, dict):
        return value
    merged = {k: v for k, v in value.items() if k != "properties"}
    if isinstance(value.get("properties"), dict):
        merged.update(value["properties"])
    out = {}
    for key, item in merged.items():
        item = flattened(item, pascal)
        if pascal:
            if key == "type":
                continue
            if key == "addressPrefix" and isinstance(item, str):
                item = [item]
            key = key[:1].upper() + key[1:]
        out[key] = item
    return out


def _label(item: dict) -> str:
    kind = str(item.get("type", "")).lower() or PEERING
    if kind == PEERING:  # REST prints the peering's own name; its VNet is in the id
        return f"{drift._LABEL[kind]} {parse_id(item['id'])[2][0]}/{item['name']}"
    return f"{drift._LABEL[kind]} {item['name']}"


@pytest.mark.parametrize("path", example_files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_imports_and_round_trips_or_is_out_of_scope(path: Path, tmp_path: Path) -> None:
    key = str(path.relative_to(EXAMPLES))
    items = resources_of(body_of(path))
    if not items:
        assert key not in OUT_OF_SCOPE, f"{key}: {NOT_RESOURCES_REASON}"
        return
    example = tmp_path / "example.json"
    example.write_text(json.dumps(items), encoding="utf-8")
    extra = tmp_path / "companions.json"
    extra.write_text(json.dumps(companions(items)), encoding="utf-8")
    have = read_files([example, extra])
    imported = Importer(have, "example", as_new=False).run()
    text = inventory_text(imported, [example, extra], as_new=False)
    keys = [i["properties"]["sharedKey"] for i in items if i.get("properties", {}).get("sharedKey")]
    assert not [k for k in keys if k in text], "a key Azure printed is never imported"
    skipped = [(where, why) for where, why in imported.unmapped if any(where.endswith(f"/{i['name']}") for i in items)]
    refused = [
        why
        for where, why in skipped
        if why.startswith(
            ("gateway address", "gateway type", "VPN type", "SKU", "its ", "no imported", "a VNet without")
        )
    ]
    if key in OUT_OF_SCOPE:
        assert any(OUT_OF_SCOPE[key] in why for why in refused + [w for _, w in skipped]), (key, skipped)
        return
    assert not refused, (key, skipped)
    # the inventory validates once the platforms are filled in, and renders the example's managed fields
    inventory = tmp_path / "imported.yaml"
    # juniper_srx: it takes every policy in the examples, Azure's default (DH group 2) included, which
    # IOS-XE (FN72510) and strongSwan (its weak list) refuse
    inventory.write_text(re.sub(r"platform: unknown.*", "platform: juniper_srx", text), encoding="utf-8")
    code, _, err = gen("validate", inventory)
    assert code == 0, err
    import yaml

    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    want = drift.expected(data, str(inventory))
    labels = {_label(i) for i in items}
    rows = [r for r in drift.compare(want, have) if r.resource in labels]
    assert not rows, (key, rows)
    assert labels <= {f"{drift._LABEL[k]} {res.name}" for (k, _), (res, _) in drift._table(want).items()}
    for pascal in (False, True):  # the az and Get-Az* prints of the same resources import alike
        example.write_text(json.dumps(flattened(items, pascal)), encoding="utf-8")
        again = Importer(read_files([example, extra]), "example", as_new=False).run()
        assert again.inventory == imported.inventory, ("PowerShell" if pascal else "az", key)

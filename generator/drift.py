"""`gen drift`: what Azure has against what the inventory asks, in the fields gen manages.

Both sides go through the same reader (generator/azure_read.resources): the inventory is rendered
to ARM in memory (existing resources included, as if to be created: what the inventory says they
are) and each resource is reduced to its managed fields (`managed`); Azure's files are reduced the
same way. Fields Azure computes (provisioningState, etag, resourceGuid, default BGP addresses, ...)
are never among them, and a field Azure does not print is not compared. BGP addresses are compared
with the state files given (`--azure-state`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .azure_import import CONNECTION, GATEWAY, LB, LNG, PEERING, VNET, read_files
from .azure_read import Node, Param, Resource, parse_id, resources
from .jsonpos import parse


@dataclass(frozen=True)
class Drift:
    resource: str  # "type name"
    field: str
    inventory: Any  # None: the resource is missing on that side
    azure: Any

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "field": self.field, "inventory": self.inventory, "azure": self.azure}


_LABEL = {
    VNET: "VNet",
    GATEWAY: "gateway",
    LNG: "local network gateway",
    CONNECTION: "connection",
    PEERING: "peering",
    LB: "load balancer",
}


def _last(rid: Any) -> str | None:
    if not isinstance(rid, str):
        return None
    names = parse_id(rid)[2]
    return names[-1].lower() if names else None


def _text(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _props(node: Node) -> Node:
    return node.get("properties") or node


def managed(res: Resource) -> dict[str, Any]:
    """The fields gen manages of one resource, normalised (names lower-case, lists sorted)."""
    b = res.body
    if res.kind == VNET:
        subnets = {}
        for s in b.items("subnets"):
            prefix = _props(s).val("addressPrefix")
            subnets[str(s.val("name")).lower()] = prefix[0] if isinstance(prefix, list) and prefix else prefix
        return {
            "address space": sorted((b.get("addressSpace") or Node({}, ())).val("addressPrefixes") or []),
            "subnets": subnets,
        }
    if res.kind == GATEWAY:
        configs = b.items("ipConfigurations")
        settings = b.get("bgpSettings")
        out = {
            "SKU": (b.get("sku") or Node({}, ())).val("name"),
            "generation": b.val("vpnGatewayGeneration") if b.val("vpnGatewayGeneration") != "None" else None,
            "active-active": b.val("activeActive"),
            "BGP": b.val("enableBgp"),
            "IP configurations": [str(c.val("name")).lower() for c in configs],
        }
        if b.val("enableBgp") and settings is not None:
            out["ASN"] = settings.val("asn")
            apipa = {
                _last(e.val("ipconfigurationId")): sorted(e.val("customBgpIpAddresses") or [])
                for e in settings.items("bgpPeeringAddresses")
                if e.val("customBgpIpAddresses")
            }
            out["custom APIPA"] = apipa
        return out
    if res.kind == LNG:
        settings = b.get("bgpSettings")
        space = b.get("localNetworkAddressSpace")
        return {
            "address": b.val("gatewayIpAddress"),
            "prefixes": sorted(space.val("addressPrefixes") or []) if space else [],
            "BGP ASN": settings.val("asn") if settings else None,
            "BGP address": settings.val("bgpPeeringAddress") if settings else None,
        }
    if res.kind == CONNECTION:
        policies = b.items("ipsecPolicies")
        policy = {k.lower(): _text(v) for k, v in policies[0].plain().items()} if policies else {}
        custom = {
            (_last(e.val("ipConfigurationId")), e.val("customBgpIpAddress"))
            for e in b.items("gatewayCustomBgpIpAddresses")
        }
        return {
            "type": _text(b.val("connectionType")),
            "gateway": _last(b.ref("virtualNetworkGateway1")),
            "remote": _last(b.ref("localNetworkGateway2")) or _last(b.ref("virtualNetworkGateway2")),
            "IKE version": b.val("connectionProtocol"),
            "DPD timeout": b.val("dpdTimeoutSeconds") or None,
            "connection mode": b.val("connectionMode"),
            "BGP": b.val("enableBgp"),
            "policy-based traffic selectors": b.val("usePolicyBasedTrafficSelectors"),
            "IPsec policy": policy if b.get("ipsecPolicies") is not None else None,
            "custom BGP addresses": sorted(custom, key=str)
            if b.get("gatewayCustomBgpIpAddresses") is not None
            else None,
        }
    if res.kind == PEERING:
        return _peering(b)
    if res.kind == LB:
        fronts = b.items("frontendIPConfigurations")
        fb = _props(fronts[0]) if fronts else Node({}, ())
        probes = {
            str(p.val("name")).lower(): [
                _props(p).val(k) for k in ("protocol", "port", "intervalInSeconds", "numberOfProbes", "requestPath")
            ]
            for p in b.items("probes")
        }
        rules = {}
        for r in b.items("loadBalancingRules"):
            rb = _props(r)
            keys = (
                "protocol",
                "frontendPort",
                "backendPort",
                "loadDistribution",
                "enableFloatingIP",
                "idleTimeoutInMinutes",
                "enableTcpReset",
            )
            rules[str(r.val("name")).lower()] = [rb.val(k) for k in keys] + [_last(rb.ref("probe"))]
        return {
            "SKU": (res.node.get("sku") or Node({}, ())).val("name"),
            "frontend address": fb.val("privateIPAddress"),
            "frontend subnet": _last(fb.ref("subnet")),
            "backend pools": sorted(str(p.val("name")).lower() for p in b.items("backendAddressPools")),
            "probes": probes,
            "rules": rules,
        }
    return {}


def _peering(b: Node) -> dict[str, Any]:
    return {
        "remote VNet": _last(b.ref("remoteVirtualNetwork")),
        "allow VNet access": b.val("allowVirtualNetworkAccess"),
        "allow forwarded traffic": b.val("allowForwardedTraffic"),
        "allow gateway transit": b.val("allowGatewayTransit"),
        "use remote gateways": b.val("useRemoteGateways"),
    }


def _table(items: list[Resource]) -> dict[tuple[str, str], tuple[Resource, dict[str, Any]]]:
    """(kind, lower-case name) -> the resource and its managed fields; peerings inline in VNets too."""
    table: dict[tuple[str, str], tuple[Resource, dict[str, Any]]] = {}
    for res in items:
        if res.kind in _LABEL:
            name = res.name
            if res.kind == PEERING and "/" not in name:  # REST and az print the peering's own name only
                vnet = parse_id(res.node.val("id") or "")[2][:1]
                name = f"{vnet[0]}/{name}" if vnet else name
            table[(res.kind, name.lower())] = (res, managed(res))
        if res.kind == VNET:
            for p in res.body.items("virtualNetworkPeerings"):
                name = f"{res.name}/{p.val('name')}".lower()
                table[(PEERING, name)] = (res, _peering(_props(p)))
    return table


def expected(data: dict[str, Any], display: str) -> list[Resource]:
    """The inventory's resources as its ARM templates declare them (existing ones as if created)."""
    from .render import environment
    from .resolve import resolve
    from .targets import TARGETS, Options

    data = copy.deepcopy(data)
    for vnet in data.get("azure", {}).get("vnets", []):
        vnet.pop("existing", None)
        if isinstance(vnet.get("gateway"), dict):
            vnet["gateway"].pop("existing", None)
    model = resolve(data, display, {})
    found: list[Resource] = []
    for f in TARGETS["arm"].render(model, environment(None), Options()):
        if f.path.endswith(".parameters.json"):
            continue
        items, _ = resources(parse(f.text), f.path)
        found += items
    return found


def compare(want: list[Resource], have: list[Resource], state: dict[str, Any] | None = None) -> list[Drift]:
    """Every managed difference; missing and extra resources as one row each.

    Only the resource groups the files describe are compared (an export is one resource group)."""
    groups = {str(r.resource_group).lower() for r in have}
    ours, theirs = _table([r for r in want if str(r.resource_group).lower() in groups]), _table(have)
    rows: list[Drift] = []
    for key, (res, fields) in ours.items():
        label = f"{_LABEL[key[0]]} {res.name}"
        if key not in theirs:
            rows.append(Drift(label, "(resource)", "present", "missing"))
            continue
        actual = theirs[key][1]
        for name, value in fields.items():
            other = actual.get(name)
            if other is None or value is None or _same(value, other):  # None: not printed / not managed here
                continue
            rows.append(Drift(label, name, value, other))
    for key, (res, _) in theirs.items():
        if key not in ours:
            rows.append(Drift(f"{_LABEL[key[0]]} {res.name}", "(resource)", "missing", "present"))
    if state:
        rows += _state_drift(have, state)
    return rows


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Param) or isinstance(b, Param):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _state_drift(have: list[Resource], state: dict[str, Any]) -> list[Drift]:
    """Public IPs and default BGP addresses of the gateways against the state file gen renders with."""
    rows = []
    for res in have:
        if res.kind != GATEWAY or res.name not in state:
            continue
        settings = res.body.get("bgpSettings")
        entries = (
            {_last(e.val("ipconfigurationId")): e for e in settings.items("bgpPeeringAddresses")} if settings else {}
        )
        for i, cfg in enumerate(res.body.items("ipConfigurations")):
            entry = entries.get(str(cfg.val("name")).lower())
            known = state[res.name][i] if i < len(state[res.name]) else {}
            if entry is None or not known:
                continue
            for field, member, key in (
                ("public IP", "tunnelIpAddresses", "public_ip"),
                ("BGP addresses", "defaultBgpIpAddresses", "bgp_ips"),
            ):
                value = entry.val(member)
                if not value:
                    continue
                mine = known.get(key)
                theirs = value[0] if key == "public_ip" else list(value)
                if mine is not None and mine != theirs:
                    rows.append(Drift(f"gateway {res.name} instance {i}", f"{field} (state file)", mine, theirs))
    return rows


def _check(have: list[Resource], files: list[Path]) -> None:
    """The files pass what gen import checks (types, references, a VNet): the same inputs, the same refusals."""
    from .azure_import import Importer
    from .errors import GenError

    if not have:
        raise GenError([f"{files[0]}: no Azure resource to compare (rule import-unknown-type)"])
    try:
        imported = Importer(have, "drift", as_new=False).run()
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise GenError(
            [
                f"{files[0]}: a value gen cannot read ({type(exc).__name__}: {exc}); check the file is what Azure printed (rule import-invalid-value)"
            ]
        ) from None
    if not imported.inventory.get("azure", {}).get("vnets"):
        raise GenError(
            [f"{files[0]}: no virtual network among the resources: gen's inventory needs one (rule import-empty)"]
        )


def not_compared(inventory: Path, files: list[Path]) -> list[str]:
    """The inventory's resource groups that none of the files describes (so not compared)."""
    from .pipeline import build_model

    groups = {str(r.resource_group).lower() for r in read_files(files)}
    return sorted(
        {v.resource_group for v in build_model(inventory).model.vnets if v.resource_group.lower() not in groups}
    )


def drift(inventory: Path, files: list[Path], state_files: tuple[Path, ...] = ()) -> list[Drift]:
    """Build the inventory (errors as for gen validate), read Azure's files, compare."""
    from .pipeline import build_model

    result = build_model(inventory, state_files)
    have = read_files(files)
    _check(have, files)
    state = None
    if state_files:
        state = {
            gw.name: [
                {
                    "public_ip": i.public_ip.value,
                    "bgp_ips": [i.default_bgp_ip.value] if i.default_bgp_ip.value else None,
                }
                for i in gw.instances
            ]
            for gw in result.model.gateways
        }
    return compare(expected(result.document.data, result.document.display), have, state)


def _cell(value: Any) -> str:
    import json

    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("|", "\\|")


def table(rows: list[Drift]) -> str:
    """A Markdown table: resource, field, inventory, Azure."""
    lines = ["| resource | field | inventory | Azure |", "| --- | --- | --- | --- |"]
    lines += [f"| {_cell(r.resource)} | {_cell(r.field)} | {_cell(r.inventory)} | {_cell(r.azure)} |" for r in rows]
    return "\n".join(lines) + "\n"

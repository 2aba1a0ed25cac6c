"""`gen plan`: what an inventory will build, before anything is rendered (also used by the runbook).

`summary(model)` is plain data (the `--json` output); `text(summary, style)` is the terminal view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from .azure_kinds import KINDS as AZURE_KINDS
from .model import Gateway, Model
from .targets.azure_items import stage1, stage2, stage3
from .wording import counted, plural

KINDS = {k.key: k.label for k in AZURE_KINDS}  # kind -> label, in display order


def resource_counts(model: Model) -> list[dict[str, Any]]:
    """Per resource group: how many resources of each kind stage 1 and stage 2 declare."""
    groups = []
    for rg in model.resource_groups:
        stages = {}
        for stage, items in (("stage1", stage1(rg)), ("stage2", stage2(rg)), ("stage3", stage3(rg))):
            counts = Counter(item.kind for item in items)
            if items or stage != "stage3":  # stage 3 only exists for cross-group transit peerings
                stages[stage] = {KINDS[k]: counts[k] for k in KINDS if counts[k]}
        region = rg.vnets[0].region if rg.vnets else ""
        groups.append({"name": rg.name, "region": region, **stages})
    return groups


def gateway_budget(model: Model, gw: Gateway) -> dict[str, Any]:
    """Connections on a gateway against its SKU's limit (the same count as rule gateway-tunnel-budget)."""
    s2s, v2v = model.gateway_connections()[gw.name]
    return {
        "name": gw.name,
        "resource_group": gw.resource_group,
        "sku": gw.sku,
        "instances": len(gw.instances),
        "existing": gw.existing,
        "site_to_site": s2s,
        "vnet_to_vnet": v2v,
        "connections": s2s + v2v,
        "limit": gw.max_connections,
        "ipsec_tunnels": sum(1 for t in model.tunnels if t.gateway == gw.name),
    }


def bgp_sessions(model: Model) -> list[dict[str, Any]]:
    """Every BGP session: gateway instance <-> device per tunnel, and gateway <-> gateway per link."""
    sessions = []
    for t in model.tunnels:
        if t.bgp:
            sessions.append(
                {
                    "kind": "site-to-site",
                    "azure": f"{t.gateway} instance {t.instance}",
                    "azure_asn": t.azure_asn,
                    "azure_ip": str(t.azure_bgp_ip),
                    "peer": t.device,
                    "peer_asn": t.device_asn,
                    "peer_ip": str(t.device_bgp_ip),
                    "initiator": "device (APIPA)" if t.apipa else "either",
                }
            )
    for link in model.links:
        if link.bgp and link.local.name < link.remote.name:
            sessions.append(
                {
                    "kind": "vnet-to-vnet",
                    "azure": link.local.name,
                    "azure_asn": link.local.asn,
                    "azure_ip": ", ".join(str(i.default_bgp_ip) for i in link.local.instances),
                    "peer": link.remote.name,
                    "peer_asn": link.remote.asn,
                    "peer_ip": ", ".join(str(i.default_bgp_ip) for i in link.remote.instances),
                    "initiator": "either",
                }
            )
    return sessions


def totals(model: Model) -> dict[str, int]:
    return {
        "vnets": len(model.vnets),
        "resource_groups": len(model.resource_groups),
        "gateways": len(model.gateways),
        "gateway_instances": sum(len(gw.instances) for gw in model.gateways),
        "sites": len(model.sites),
        "devices": len(model.devices),
        "ipsec_tunnels": len(model.tunnels),
        "vnet_to_vnet_connections": len(model.links),
        "peerings": len(model.peerings),
        "load_balancers": len(model.load_balancers),
    }


def summary(model: Model) -> dict[str, Any]:
    return {
        "inventory": model.name,
        "totals": totals(model),
        "resource_groups": resource_counts(model),
        "gateways": [gateway_budget(model, gw) for gw in model.gateways],
        "bgp_sessions": bgp_sessions(model),
        "placeholders": list(model.pending),
        "warnings": [str(w) for w in model.warnings],
    }


Style = Callable[..., str]


def _plain(text: str, **_: Any) -> str:
    return text


def text(data: dict[str, Any], style: Style = _plain) -> str:
    """The terminal view; `style` is click.style (colour) or the identity."""
    t = data["totals"]
    out = [
        style(f"Plan for {data['inventory']}", bold=True),
        f"  {plural(t['vnets'], 'VNet')}, {plural(t['gateways'], 'gateway')}, {plural(t['sites'], 'site')}, "
        f"{plural(t['devices'], 'device')}, {plural(t['ipsec_tunnels'], 'IPsec tunnel')}, "
        f"{plural(t['vnet_to_vnet_connections'], 'VNet-to-VNet connection')}, {plural(t['peerings'], 'peering')}, "
        f"{plural(t['load_balancers'], 'load balancer')}",
        "",
        style("Resources per resource group", bold=True),
    ]
    for rg in data["resource_groups"]:
        out.append(f"  {rg['name']} ({rg['region']})")
        for stage, title in (("stage1", "stage 1"), ("stage2", "stage 2"), ("stage3", "stage 3")):
            if rg.get(stage):
                out.append(f"    {title}: " + ", ".join(counted(n, kind) for kind, n in rg[stage].items()))
    out += ["", style("Connections per gateway (SKU limit)", bold=True)]
    for gw in data["gateways"]:
        used, limit = gw["connections"], gw["limit"]
        colour = "red" if used > limit else ("yellow" if used * 5 >= limit * 4 else "green")
        gauge = style(f"{used}/{limit}", fg=colour)
        note = " (existing)" if gw["existing"] else ""
        out.append(
            f"  {gw['name']} {gw['sku']} x{gw['instances']}{note}: {gauge} connections "
            f"({gw['site_to_site']} site-to-site, {gw['vnet_to_vnet']} VNet-to-VNet), {plural(gw['ipsec_tunnels'], 'IPsec tunnel')} to devices"
        )
    out += ["", style(f"BGP sessions ({len(data['bgp_sessions'])})", bold=True)]
    for s in data["bgp_sessions"]:
        initiator = " [device initiates]" if s["initiator"].startswith("device") else ""
        out.append(
            f"  {s['azure']} AS{s['azure_asn']} {s['azure_ip']} <-> {s['peer']} AS{s['peer_asn']} {s['peer_ip']}{initiator}"
        )
    if not data["bgp_sessions"]:
        out.append("  none (static routing)")
    if data["placeholders"]:
        out += [
            "",
            style(f"Placeholders until deployment ({len(data['placeholders'])})", bold=True),
            "  " + ", ".join(data["placeholders"]),
            "  complete them with --azure-state after the gateways are deployed",
        ]
    out += ["", style(f"Warnings ({len(data['warnings'])})", bold=True)]
    out += [style(f"  {w}", fg="yellow") for w in data["warnings"]] or ["  none"]
    if "files" in data:
        f = data["files"]
        out += [
            "",
            style("Files", bold=True),
            f"  {data['output']}: {len(f['new'])} new, {len(f['changed'])} changed, {len(f['unchanged'])} unchanged, {len(f['removed'])} to remove",
        ]
        for kind in ("new", "changed", "removed"):
            out += [f"    {kind}: {p}" for p in f[kind]]
    return "\n".join(out) + "\n"

"""The topology picture as data: groups (VNets, sites), nodes and edges, built once from the model.

The Mermaid diagram in the runbook and the Graphviz file (topology.dot -> topology.svg) are two
renderings of this one structure, so both show the same things. Node ids are stable names
(`gw:SEA-VNET-gw:0`); tunnel edges carry the tunnel key as their id.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from .model import Model


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str  # vnet, gateway, lb, device
    lines: tuple[str, ...]  # label, one entry per line


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    kind: str  # vnet or site
    title: str
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    kind: str  # tunnel, link, peering
    a: str
    b: str
    label: str


@dataclass(frozen=True, slots=True)
class Topology:
    azure: tuple[Group, ...]
    onprem: tuple[Group, ...]
    edges: tuple[Edge, ...]
    detailed: bool  # every site, device and tunnel drawn; else sites summarised per VNet


# Devices + tunnels drawn one by one up to this; larger estates get sites summarised per VNet, so
# the Mermaid text stays far below the 50,000 characters Mermaid renders by default (maxTextSize)
# and Graphviz lays the picture out in well under a second.
DETAIL_LIMIT = 150


def gateway_node(gateway: str, instance: int) -> str:
    return f"gw:{gateway}:{instance}"


def build(model: Model) -> Topology:
    """Every VNet (with its gateway instances and load balancers), link and peering; every site, device
    and tunnel up to DETAIL_LIMIT, else the sites summarised per VNet."""
    azure = []
    for vnet in model.vnets:
        nodes = [Node(f"vnet:{vnet.name}", "vnet", (vnet.name, ", ".join(map(str, vnet.address_space))))]
        gw = vnet.gateway
        if gw is not None:
            for inst in gw.instances:
                role = f"instance {inst.index}" if gw.active_active else "active-standby"
                asn = f"AS{gw.asn}" if gw.bgp else "static routing"
                nodes.append(
                    Node(
                        gateway_node(gw.name, inst.index),
                        "gateway",
                        (f"{gw.name} ({role})", f"{gw.sku}, {asn}", str(inst.public_ip)),
                    )
                )
        for lb in model.load_balancers:
            if lb.vnet.name == vnet.name:
                nodes.append(Node(f"lb:{lb.name}", "lb", (lb.name, f"{lb.sku} ILB {lb.frontend_ip or 'dynamic IP'}")))
        azure.append(
            Group(
                f"vnet-group:{vnet.name}", "vnet", f"{vnet.name} · {vnet.region} · {vnet.resource_group}", tuple(nodes)
            )
        )
    detailed = len(model.devices) + len(model.tunnels) <= DETAIL_LIMIT
    onprem, edges = _sites(model) if detailed else _site_summary(model)
    for link in model.links:
        if link.local.vnet < link.remote.vnet:  # one edge per pair (the model has both directions)
            edges.append(
                Edge(
                    f"link:{link.local.vnet}~{link.remote.vnet}",
                    "link",
                    f"vnet:{link.local.vnet}",
                    f"vnet:{link.remote.vnet}",
                    "VNet-to-VNet VPN" + (", BGP" if link.bgp else ""),
                )
            )
    for p in model.peerings:
        if p.vnet < p.remote.name:
            transit = p.allow_gateway_transit or p.use_remote_gateways
            edges.append(
                Edge(
                    f"peering:{p.vnet}~{p.remote.name}",
                    "peering",
                    f"vnet:{p.vnet}",
                    f"vnet:{p.remote.name}",
                    "peering" + (", gateway transit" if transit else ""),
                )
            )
    return Topology(tuple(azure), tuple(onprem), tuple(edges), detailed)


def _sites(model: Model) -> tuple[list[Group], list[Edge]]:
    """Every site with its devices, and one edge per tunnel."""
    groups = []
    for site in model.sites:
        title = " · ".join(x for x in (site.name, site.location, f"AS{site.asn}" if site.asn is not None else "") if x)
        nodes = tuple(Node(f"dev:{d.name}", "device", (d.name, d.platform, str(d.public_ip))) for d in site.devices)
        groups.append(Group(f"site:{site.name}", "site", title, nodes))
    edges = []
    for t in model.tunnels:
        label = f"BGP AS{t.azure_asn}-AS{t.device_asn}" if t.bgp else "IPsec, static"
        edges.append(Edge(t.key, "tunnel", gateway_node(t.gateway, t.instance), f"dev:{t.device}", label))
    return groups, edges


def _site_summary(model: Model) -> tuple[list[Group], list[Edge]]:
    """One node per VNet for the sites connected to it, one edge per gateway instance with counts."""
    nodes, edges = [], []
    by_gateway: dict[str, list] = {}
    for c in model.connections:
        by_gateway.setdefault(c.gateway.name, []).append(c)
    for gw in model.gateways:
        connections = by_gateway.get(gw.name, [])
        if not connections:
            continue
        sites = {c.site.name for c in connections}
        devices = {c.device.name for c in connections}
        node = f"sites:{gw.vnet}"
        nodes.append(Node(node, "sites", (f"{len(sites)} sites to {gw.vnet}", f"{len(devices)} devices")))
        for inst in gw.instances:
            tunnels = [t for c in connections for t in c.tunnels if t.instance == inst.index]
            bgp = sum(1 for t in tunnels if t.bgp)
            label = f"{len(tunnels)} tunnels" + (f", {bgp} BGP" if bgp else "")
            edges.append(
                Edge(f"tunnels:{gw.name}:{inst.index}", "tunnel", gateway_node(gw.name, inst.index), node, label)
            )
    connected = {c.site.name for c in model.connections}
    idle = [s for s in model.sites if s.name not in connected]
    if idle:
        nodes.append(Node("sites:unconnected", "sites", (f"{len(idle)} sites", "no connection")))
    title = f"{len(model.sites)} sites, {len(model.devices)} devices (summarised: see the tables)"
    return ([Group("site:summary", "site", title, tuple(nodes))] if nodes else []), edges


SVG = "topology.svg"

# Graphviz prints its version in a comment; dropping it keeps the SVG the same for every release.
_VERSION_COMMENT = re.compile(r"<!-- Generated by graphviz version [^>]*-->\n")


def dot_available() -> bool:
    return shutil.which("dot") is not None


def svg(dot_text: str) -> str:
    """topology.dot -> SVG through Graphviz `dot`, without its version comment."""
    done = subprocess.run(
        ["dot", "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"dot failed on topology.dot: {done.stderr.decode('utf-8', 'replace')}")
    return _VERSION_COMMENT.sub("", done.stdout.decode("utf-8"))

"""The runbook: `README.md` for the engineer doing the change, plus the topology picture.

Files: `README.md` (with a Mermaid diagram), `topology.dot` (Graphviz source) and, when asked
(`Options.svg`) and Graphviz `dot` is installed, `topology.svg`. The runbook is written from the
model and the platform registry only (file names, apply steps, verification commands), never
from other targets' output, so it describes every family whether or not it is rendered.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import jinja2

from .. import plan, topology
from ..model import Device, Model, ResourceGroup, SecretRef, Tunnel, pending
from ..paths import device_file
from ..platforms import PLATFORMS, Platform
from ..render import render
from .base import Options, OutputFile

# Creating a VPN gateway takes up to about 45 minutes (secondary sources, not Microsoft's own page:
# https://qisltd.co.uk/vpn-gateway/ "up to 45 minutes";
# https://www.redkitecloud.com/docs/azure-networking/vpn-gateway.html "takes 30-45 minutes").
GATEWAY_MINUTES = "30-45"
STATE_FILE = "azure-state.json"


@dataclass(frozen=True, slots=True)
class Deployment:
    """One resource group's two ARM deployments, with the az CLI arguments they need."""

    rg: ResourceGroup
    location: str
    name: str  # deployment name
    stage1: str
    stage1_parameters: str
    stage1_secrets: tuple[str, ...]  # name="$VALUE" arguments
    stage2: str | None
    stage2_parameters: str | None
    stage2_secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeviceView:
    device: Device
    platform: Platform
    files: tuple[str, ...]  # relative to the output folder
    apply: tuple[str, ...]
    tunnels: tuple[Tunnel, ...]
    bgp_sessions: int
    pending: tuple[str, ...]  # placeholders still in this device's files


@dataclass(frozen=True, slots=True)
class Placeholder:
    text: str
    meaning: str
    devices: tuple[str, ...]


def secret_argument(secret: SecretRef) -> str:
    """az CLI --parameters argument that passes a key without writing it down."""
    value = f'"${secret.name}"' if secret.kind == "env" else f'"$(cat {secret.name})"'
    return f"{secret.parameter}={value}"


def deployments(model: Model) -> tuple[Deployment, ...]:
    result = []
    for rg in model.resource_groups:
        stem = f"azure/arm/{rg.name}"
        staged = bool(rg.links or rg.peerings)
        result.append(
            Deployment(
                rg=rg,
                location=rg.vnets[0].region,
                name=f"gen-{rg.name}"[:64],
                stage1=f"{stem}.json",
                stage1_parameters=f"{stem}.parameters.json",
                stage1_secrets=tuple(secret_argument(s) for s in rg.secrets),
                stage2=f"{stem}.links.json" if staged else None,
                stage2_parameters=f"{stem}.links.parameters.json" if staged else None,
                stage2_secrets=tuple(secret_argument(s) for s in rg.link_secrets),
            )
        )
    return tuple(result)


def devices(model: Model) -> tuple[DeviceView, ...]:
    views = []
    for d in model.devices:
        platform = PLATFORMS[d.platform]
        files = tuple(device_file(d, suffix) for suffix in platform.files)
        names = {"file" if i == 0 else f"file{i + 1}": path.rsplit("/", 1)[-1] for i, path in enumerate(files)}
        tunnels = model.device_tunnels.get(d.name, ())
        views.append(
            DeviceView(
                device=d,
                platform=platform,
                files=files,
                apply=tuple(step.format(**names) for step in platform.apply_steps),
                tunnels=tunnels,
                bgp_sessions=sum(1 for t in tunnels if t.bgp),
                pending=pending(tunnels),
            )
        )
    return tuple(views)


def placeholders(model: Model) -> tuple[Placeholder, ...]:
    meaning: dict[str, str] = {}
    for gw in model.gateways:
        for inst in gw.instances:
            meaning[inst.public_ip.placeholder] = f"public IP of gateway {gw.name}, instance {inst.index}"
            meaning[inst.default_bgp_ip.placeholder] = (
                f"BGP address of gateway {gw.name}, instance {inst.index} (from GatewaySubnet)"
            )
    users: dict[str, list[str]] = {}
    for t in model.tunnels:
        for value in (t.azure_public_ip, t.azure_bgp_ip):
            if value is not None and not value.known and t.device not in users.setdefault(value.placeholder, []):
                users[value.placeholder].append(t.device)
    return tuple(Placeholder(p, meaning.get(p, "assigned by Azure"), tuple(users.get(p, ()))) for p in model.pending)


class RunbookTarget:
    key = "runbook"
    description = "Runbook (README.md) with deployment order, tunnel and BGP tables, topology picture"

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        topo = topology.build(model)
        dot = render(env, "runbook/topology.dot.j2", model=model, topology=topo)
        readme = render(
            env,
            "runbook/README.md.j2",
            model=model,
            topology=topo,
            deployments=deployments(model),
            devices=devices(model),
            placeholders=placeholders(model),
            totals=plan.totals(model),
            budgets=[plan.gateway_budget(model, gw) for gw in model.gateways],
            sessions=plan.bgp_sessions(model),
            inventory_file=model.source.replace("\\", "/").rsplit("/", 1)[-1],
            gateway_minutes=GATEWAY_MINUTES,
            state_file=STATE_FILE,
        )
        files = [OutputFile("README.md", readme), OutputFile("topology.dot", dot)]
        if options.svg and topology.dot_available():
            files.append(OutputFile(topology.SVG, topology.svg(dot)))
        return files

    def verify(self, files: list[OutputFile]) -> list[str]:
        problems = []
        for f in files:
            if f.path == "README.md" and "```mermaid" not in f.text:
                problems.append(f"{f.path}: no Mermaid diagram")
            if f.path == "topology.dot" and not f.text.startswith("graph "):
                problems.append(f"{f.path}: not a Graphviz graph")
            if f.path.endswith(".svg"):
                try:
                    root = ET.fromstring(f.text)
                except ET.ParseError as exc:
                    problems.append(f"{f.path}: not XML: {exc}")
                    continue
                if root.tag != "{http://www.w3.org/2000/svg}svg":
                    problems.append(f"{f.path}: root element is {root.tag}, not svg")
        return problems

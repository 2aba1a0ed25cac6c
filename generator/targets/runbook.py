"""The runbook: `README.md` for the engineer doing the change, plus the topology picture.

Files: `README.md` (with a Mermaid diagram), `topology.dot` (Graphviz source) and, when asked
(`Options.svg`) and Graphviz `dot` is installed, `topology.svg`. The runbook is written from the
model and the platform registry only (file names, apply steps, verification commands), never
from other targets' output, so it describes every family whether or not it is rendered.
"""

from __future__ import annotations

import posixpath
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import jinja2

from .. import plan, topology
from ..durations import GATEWAY_TIME
from ..model import Device, Model, ResourceGroup, SecretRef, Tunnel, pending
from ..paths import device_file
from ..platforms import PLATFORMS, Platform
from ..render import render
from .azure_items import stage2, stage3
from .base import Options, OutputFile

# Keys go to ARM through a parameters file in a private temporary folder, never on a command line
# (an argument is visible in the process list and the shell history). The folder is made with
# umask 077 (0700, files 0600) and removed at the end.
KEYS_DIR = "$GEN_KEYS"
STATE_FILE = "azure-state.json"


@dataclass(frozen=True, slots=True)
class Deployment:
    """One resource group's two ARM deployments, with the az CLI arguments they need."""

    rg: ResourceGroup
    location: str
    name: str  # deployment name
    stage1: str
    stage1_parameters: str
    stage1_keys: str | None  # the keys parameters file in KEYS_DIR, if the stage takes keys
    stage2: str | None
    stage2_parameters: str | None
    stage2_keys: str | None
    keys: tuple[tuple[str, tuple[SecretRef, ...]], ...]  # (keys file, secrets it holds)
    stage3: str | None  # peerings waiting for another group's transit peering
    stage3_parameters: str | None


@dataclass(frozen=True, slots=True)
class DeviceView:
    device: Device
    platform: Platform
    files: tuple[str, ...]  # relative to the output folder
    apply: tuple[str, ...]
    tunnels: tuple[Tunnel, ...]
    bgp_sessions: int
    pending: tuple[str, ...]  # placeholders still in this device's files
    verify: tuple[str, ...]  # Platform.verify: IPsec always, BGP per Azure neighbour only with BGP


@dataclass(frozen=True, slots=True)
class Placeholder:
    text: str
    meaning: str
    devices: tuple[str, ...]


def key_source(secret: SecretRef) -> str:
    """Python expression, read by the keys-file writer, that yields one key without a command line."""
    if secret.kind == "env":
        return f"os.environ[{secret.name!r}]"
    return f"open({secret.name!r}).read().rstrip(chr(10))"


def keys_writer(deps: tuple[Deployment, ...]) -> tuple[str, ...]:
    """Lines of the Python program (fed on stdin) that writes every stage's keys parameters file.

    An ARM parameters file rejects parameters the template does not declare, hence one per stage:
    https://learn.microsoft.com/azure/azure-resource-manager/templates/parameter-files
    """
    lines = ["import json, os, sys", "files = {"]
    for d in deps:
        for path, secrets in d.keys:
            values = ", ".join(f"{s.parameter!r}: {key_source(s)}" for s in secrets)
            lines.append(f"    {path.rsplit('/', 1)[-1]!r}: {{{values}}},")
    lines += [
        "}",
        "for name, keys in files.items():",
        "    body = {k: {'value': v} for k, v in keys.items()}",
        "    doc = {'$schema': 'https://schema.management.azure.com/schemas/2019-04-01/"
        "deploymentParameters.json#', 'contentVersion': '1.0.0.0', 'parameters': body}",
        "    with open(os.path.join(sys.argv[1], name), 'w') as f:",
        "        json.dump(doc, f)",
    ]
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class Commands:
    """The gen commands the runbook gives, with the real inventory path and output folder.

    They run from the folder that holds the output folder: gen replaces the output folder as a
    whole, so a shell standing inside it would be left in a deleted folder (gen refuses `-o .`).
    """

    render: str  # gen render INVENTORY -o FOLDER
    check: str
    folder: str  # the output folder's name, to cd back into
    key_variables: tuple[SecretRef, ...]  # keys the device files take from the environment (--secrets)
    key_files: tuple[str, ...]  # ... and from files (chmod 600), relative to the folder above the output
    vault_only: tuple[SecretRef, ...]  # device keys only in Key Vault: --secrets refuses them


def commands(model: Model, output: str | None) -> Commands:
    """`output` as given to -o (None in goldens: `out`, the inventory path as the model shows it)."""
    from ..secrets import used_secrets

    source = model.source.replace("\\", "/")
    if output is None:
        folder, inventory = "out", source
    else:
        out = posixpath.abspath(posixpath.normpath(output.replace("\\", "/")))
        folder = posixpath.basename(out)
        inventory = posixpath.relpath(posixpath.abspath(source), posixpath.dirname(out))
        if inventory.startswith("../../"):  # far away: its absolute path reads better
            inventory = posixpath.abspath(source)
    directory = posixpath.dirname(inventory)
    args = f"{shlex.quote(inventory)} -o {shlex.quote(folder)}"
    used = used_secrets(model)
    return Commands(
        render=f"gen render {args}",
        check=f"gen check {args}",
        folder=shlex.quote(folder),
        key_variables=tuple(s for s in used if s.kind == "env"),
        key_files=tuple(
            shlex.quote(posixpath.normpath(posixpath.join(directory, s.name))) for s in used if s.kind == "file"
        ),
        vault_only=tuple(s for s in used if s.kind == "keyvault"),
    )


def deployments(model: Model) -> tuple[Deployment, ...]:
    result = []
    for rg in model.resource_groups:
        stem = f"azure/arm/{rg.name}"
        staged = bool(stage2(rg))
        late = bool(stage3(rg))
        # Key Vault keys are references in the stage's own parameters file: Azure reads them.
        given1 = tuple(s for s in rg.secrets if s.keyvault is None)
        given2 = tuple(s for s in rg.link_secrets if s.keyvault is None)
        keys1 = f"{KEYS_DIR}/{rg.name}.keys.json" if given1 else None
        keys2 = f"{KEYS_DIR}/{rg.name}.links.keys.json" if staged and given2 else None
        keys = tuple((path, secrets) for path, secrets in ((keys1, given1), (keys2, given2)) if path is not None)
        result.append(
            Deployment(
                rg=rg,
                location=rg.vnets[0].region,
                name=f"gen-{rg.name}"[:64],
                stage1=f"{stem}.json",
                stage1_parameters=f"{stem}.parameters.json",
                stage1_keys=keys1,
                stage2=f"{stem}.links.json" if staged else None,
                stage2_parameters=f"{stem}.links.parameters.json" if staged else None,
                stage2_keys=keys2,
                keys=keys,
                stage3=f"{stem}.transit.json" if late else None,
                stage3_parameters=f"{stem}.transit.parameters.json" if late else None,
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
                verify=platform.verify(tunnels, d),
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
        deps = deployments(model)
        dot = render(env, "runbook/topology.dot.j2", model=model, topology=topo)
        readme = render(
            env,
            "runbook/README.md.j2",
            model=model,
            topology=topo,
            deployments=deps,
            keys_writer=keys_writer(deps) if any(d.keys for d in deps) else (),
            keys_dir=KEYS_DIR,
            devices=devices(model),
            placeholders=placeholders(model),
            brownfield=[gw for gw in model.gateways if gw.brownfield_changes],
            brownfield_checks=[gw for gw in model.gateways if gw.brownfield_checks],
            totals=plan.totals(model),
            budgets=[plan.gateway_budget(model, gw) for gw in model.gateways],
            sessions=plan.bgp_sessions(model),
            inventory_file=model.source.replace("\\", "/").rsplit("/", 1)[-1],
            gateway_time=GATEWAY_TIME,
            state_file=STATE_FILE,
            gen=commands(model, options.output),
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

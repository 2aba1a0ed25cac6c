"""Read what Azure prints into normalised gateway state, one reader for every shape.

Accepted shapes (each maps to the same GatewayState):
- gen's own state file (schemas/azure-state.schema.json), also as the `azureState` output of an
  `az deployment group show` (`properties.outputs.azureState.value`) or its `outputs` only;
- a REST GET body / `az resource show` of a virtualNetworkGateways resource (values under
  `properties`): https://learn.microsoft.com/rest/api/network-gateway/virtual-network-gateways/get
- `az network vnet-gateway show` / `list`, which print the same object with `properties` lifted to
  the top level (camelCase): https://learn.microsoft.com/cli/azure/network/vnet-gateway#az-network-vnet-gateway-show
- `Get-AzVirtualNetworkGateway | ConvertTo-Json -Depth 10`, the same fields in PascalCase:
  https://learn.microsoft.com/powershell/module/az.network/get-azvirtualnetworkgateway
- a list of any of these: a JSON array, or a REST list body (`{"value": [...]}`).

Per instance, the public IP is `bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses` and the
default BGP addresses `defaultBgpIpAddresses`, matched to the gateway's ipConfigurations by
`ipconfigurationId` (instance order = ipConfigurations order, as Azure numbers the instances).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GenError, format_path
from .jsonpos import JsonPath, JsonPositionError, Parsed, parse
from .resources import resource_path

MAX_BYTES = 10 * 1024 * 1024
GATEWAY_TYPE = "microsoft.network/virtualnetworkgateways"
_RG = re.compile(r"/resourcegroups/([^/]+)/", re.IGNORECASE)


@dataclass(frozen=True)
class InstanceState:
    public_ip: str | None
    bgp_ips: tuple[str, ...]
    path: JsonPath
    public_ip_path: JsonPath
    bgp_paths: tuple[JsonPath, ...]


@dataclass(frozen=True)
class GatewayState:
    name: str
    resource_group: str | None
    asn: int | None
    instances: tuple[InstanceState, ...]
    path: JsonPath
    asn_path: JsonPath
    instances_path: JsonPath


@dataclass
class StateFile:
    """One parsed state file: its gateways, and how to print a position in it."""

    file: str
    parsed: Parsed
    gateways: list[GatewayState] = field(default_factory=list)

    def error(self, path: JsonPath, message: str, rule: str) -> str:
        line, column = self.parsed.at(path)
        return f"{self.file}:{line}:{column}: {format_path(path)}: {message} (rule {rule})"


def read_json(path: Path, rules: str = "state") -> Parsed:
    """Parse a JSON file with positions; refuse it from its size before reading (rule state-size).

    `rules` names the family of the rule ids: `state` (--azure-state) or `import` (gen import/drift)."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise GenError([f"{path}: {size} bytes, over the {MAX_BYTES} byte limit (rule {rules}-size)"])
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GenError([f"{path}: cannot read the file: {exc} (rule {rules}-file)"]) from None
    try:
        return parse(text)
    except JsonPositionError as exc:
        where = format_path(exc.path)
        rule = exc.rule.replace("state-file", f"{rules}-json").replace("state-", f"{rules}-")
        if rules == "state":
            rule = exc.rule
        raise GenError([f"{path}:{exc.line}:{exc.column}: {where}: {exc.message} (rule {rule})"]) from None


def _get(obj: Mapping[str, Any], key: str) -> tuple[Any, str | None]:
    """A member by case-insensitive name (camelCase from az/REST, PascalCase from Az PowerShell)."""
    if key in obj:
        return obj[key], key
    lower = key.lower()
    for k, v in obj.items():
        if k.lower() == lower:
            return v, k
    return None, None


def _is_gateway(obj: Mapping[str, Any]) -> bool:
    kind, _ = _get(obj, "type")
    if isinstance(kind, str):
        return kind.lower() == GATEWAY_TYPE
    body, _ = _get(obj, "properties")
    body = body if isinstance(body, dict) else obj
    return _get(body, "bgpSettings")[0] is not None and _get(body, "ipConfigurations")[0] is not None


def _gen_state(obj: Any, path: JsonPath) -> tuple[Any, JsonPath] | None:
    """gen's state document inside obj (itself, or a deployment's azureState output), if any."""
    if not isinstance(obj, dict):
        return None
    if "gen_azure_state" in obj:
        return obj, path
    props = obj.get("properties")
    if isinstance(props, dict) and isinstance(props.get("outputs"), dict):
        obj, path = props["outputs"], path + ("properties", "outputs")
    elif isinstance(obj.get("outputs"), dict):
        obj, path = obj["outputs"], path + ("outputs",)
    output = obj.get("azureState")
    if isinstance(output, dict) and "value" in output:
        return output["value"], path + ("azureState", "value")
    return None


def _from_gen(state: Mapping[str, Any], path: JsonPath) -> Iterator[GatewayState]:
    for name, gw in state["gateways"].items():
        gpath = path + ("gateways", name)
        instances = tuple(
            InstanceState(
                inst.get("public_ip"),
                tuple(inst.get("bgp_ips", ())),
                gpath + ("instances", i),
                gpath + ("instances", i, "public_ip"),
                tuple(gpath + ("instances", i, "bgp_ips", k) for k in range(len(inst.get("bgp_ips", ())))),
            )
            for i, inst in enumerate(gw["instances"])
        )
        yield GatewayState(
            name, gw.get("resource_group"), gw.get("asn"), instances, gpath, gpath + ("asn",), gpath + ("instances",)
        )


def _from_resource(obj: Mapping[str, Any], path: JsonPath) -> GatewayState:
    """A virtualNetworkGateways resource in any of the REST / az / Az PowerShell shapes."""
    name, _ = _get(obj, "name")
    body, body_key = _get(obj, "properties")
    if isinstance(body, dict):
        bpath = path + (body_key,)
    else:
        body, bpath = obj, path
    rg, _ = _get(obj, "resourceGroup")
    if rg is None:
        rg, _ = _get(obj, "resourceGroupName")
    rid, _ = _get(obj, "id")
    if rg is None and isinstance(rid, str) and (m := _RG.search(rid)):
        rg = m.group(1)
    settings, skey = _get(body, "bgpSettings")
    settings = settings if isinstance(settings, dict) else {}
    spath = bpath + (skey or "bgpSettings",)
    asn, akey = _get(settings, "asn")
    peering, pkey = _get(settings, "bgpPeeringAddresses")
    peering = peering if isinstance(peering, list) else []
    configs, _ = _get(body, "ipConfigurations")
    configs = configs if isinstance(configs, list) else []
    by_config: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for k, entry in enumerate(peering):
        if isinstance(entry, dict):
            cid, _ = _get(entry, "ipconfigurationId")
            if isinstance(cid, str):
                by_config[cid.lower()] = (k, entry)
    instances = []
    for config in configs:
        cid, _ = _get(config, "id") if isinstance(config, dict) else (None, None)
        found = by_config.get(cid.lower()) if isinstance(cid, str) else None
        if found is None:
            continue
        k, entry = found
        epath = spath + (pkey, k)
        tunnel, tkey = _get(entry, "tunnelIpAddresses")
        default, dkey = _get(entry, "defaultBgpIpAddresses")
        tunnel = tunnel if isinstance(tunnel, list) else []
        default = default if isinstance(default, list) else []
        instances.append(
            InstanceState(
                tunnel[0] if tunnel else None,
                tuple(default),
                epath,
                epath + (tkey, 0),
                tuple(epath + (dkey, j) for j in range(len(default))),
            )
        )
    if not name or not isinstance(name, str):
        raise ValueError("the gateway has no 'name'")
    return GatewayState(
        name, rg, asn if isinstance(asn, int) else None, tuple(instances), path, spath + (akey or "asn",), spath
    )


def gateways(parsed: Parsed, file: str) -> StateFile:
    """Every gateway described by the document, in document order; raise GenError if none or malformed."""
    from jsonschema import Draft202012Validator

    result = StateFile(file, parsed)
    schema = json.loads(resource_path("schemas", "azure-state.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    document = parsed.value
    items: list[tuple[Any, JsonPath]]
    if isinstance(document, list):
        items = [(item, (i,)) for i, item in enumerate(document)]
    elif isinstance(document, dict) and isinstance(document.get("value"), list) and "gen_azure_state" not in document:
        items = [(item, ("value", i)) for i, item in enumerate(document["value"])]
    else:
        items = [(document, ())]
    errors = []
    for item, path in items:
        state = _gen_state(item, path)
        if state is not None:
            value, spath = state
            found = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
            errors += [result.error(spath + tuple(e.absolute_path), e.message, "state-file") for e in found]
            if not found:
                result.gateways += _from_gen(value, spath)
        elif isinstance(item, dict) and _is_gateway(item):
            try:
                result.gateways.append(_from_resource(item, path))
            except ValueError as exc:
                errors.append(result.error(path, str(exc), "state-file"))
        else:
            errors.append(
                result.error(
                    path,
                    "not an Azure state: expected gen's state file, an 'az deployment group show' with an "
                    "'azureState' output, or a virtualNetworkGateways resource (REST, az or Az PowerShell JSON)",
                    "state-file",
                )
            )
    if errors:
        raise GenError(errors)
    return result


# ---------------------------------------------------------------------------------------------------
# Resources of every kind gen imports (gen import, gen drift): one normalised view per resource,
# whatever printed it. Shapes: an ARM template (`az group export`, the portal's "Export template",
# or gen's own render: https://learn.microsoft.com/azure/azure-resource-manager/templates/export-template-cli),
# REST GET / `az resource show` (values under `properties`), the flattened `az network ... list/show`
# objects, and `Get-Az* | ConvertTo-Json -Depth 10` (PascalCase; member names are compared
# case-insensitively, so all of them read alike).

NETWORK = "Microsoft.Network/"
TYPES = {  # lower-case type -> canonical type, for every type gen maps
    t.lower(): t
    for t in (
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/virtualNetworks/subnets",
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "Microsoft.Network/virtualNetworkGateways",
        "Microsoft.Network/localNetworkGateways",
        "Microsoft.Network/connections",
        "Microsoft.Network/loadBalancers",
        "Microsoft.Network/publicIPAddresses",
    )
}
# Without a `type` member (Get-Az* objects), the members that tell the kind.
_SHAPES = (
    ("gatewayType", "Microsoft.Network/virtualNetworkGateways"),
    ("gatewayIpAddress", "Microsoft.Network/localNetworkGateways"),
    ("localNetworkAddressSpace", "Microsoft.Network/localNetworkGateways"),
    ("connectionType", "Microsoft.Network/connections"),
    ("peeringState", "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"),
    ("remoteVirtualNetwork", "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"),
    ("frontendIpConfigurations", "Microsoft.Network/loadBalancers"),
    ("addressSpace", "Microsoft.Network/virtualNetworks"),
    ("publicIpAllocationMethod", "Microsoft.Network/publicIPAddresses"),
)
_TYPE_FORM = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+/[A-Za-z][A-Za-z0-9]*(/[A-Za-z][A-Za-z0-9]*)*$")
_SEGMENTS = re.compile(r"/providers/([^/]+)/(.+)$", re.IGNORECASE)


def parse_id(rid: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(resource group, lower-case type, names) of an Azure resource id, e.g.
    /subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/GatewaySubnet
    -> ('rg', 'microsoft.network/virtualnetworks/subnets', ('v', 'GatewaySubnet'))."""
    rg = m.group(1) if (m := _RG.search(rid + "/")) else None
    found = _SEGMENTS.search(rid)
    if not found:
        return rg, None, ()
    parts = found.group(2).strip("/").split("/")
    kinds, names = parts[0::2], parts[1::2]
    return rg, (found.group(1) + "/" + "/".join(kinds)).lower(), tuple(names)


class Node:
    """A JSON value with its path; members found case-insensitively, template expressions evaluated."""

    __slots__ = ("value", "path", "context")

    def __init__(self, value: Any, path: JsonPath, context: Template | None = None):
        self.value, self.path, self.context = value, path, context

    def get(self, key: str) -> Node | None:
        if not isinstance(self.value, dict):
            return None
        value, found = _get(self.value, key)
        return None if found is None else Node(value, self.path + (found,), self.context)

    def val(self, key: str, default: Any = None) -> Any:
        """The plain value of a member (a template expression evaluated; None when it cannot be)."""
        node = self.get(key)
        if node is None or node.value is None:
            return default
        return node.plain()

    def plain(self) -> Any:
        if self.context is not None:
            return self.context.evaluate(self.value)
        return self.value

    def items(self, key: str) -> list[Node]:
        node = self.get(key)
        if node is None or not isinstance(node.value, list):
            return []
        return [Node(v, node.path + (i,), self.context) for i, v in enumerate(node.value)]

    def ref(self, key: str) -> str | None:
        """The id of a reference member ({"id": ...})."""
        node = self.get(key)
        return node.val("id") if node is not None else None


@dataclass
class Resource:
    type: str  # canonical (TYPES) or as printed
    name: str
    resource_group: str | None
    location: str | None
    node: Node  # the whole object
    body: Node  # its properties (the object itself when flattened)
    file: str
    template: Template | None = None
    parsed: Parsed | None = None  # the document it came from (positions for messages)

    @property
    def kind(self) -> str:
        return self.type.lower()

    @property
    def where(self) -> str:
        return f"{self.resource_group or '?'}/{self.name}"


class Template:
    """An ARM template being read: parameters (default values), variables, its resource group."""

    def __init__(self, document: Mapping[str, Any], resource_group: str | None):
        self.parameters = document.get("parameters") if isinstance(document.get("parameters"), dict) else {}
        self.variables = document.get("variables") if isinstance(document.get("variables"), dict) else {}
        self.resource_group = resource_group

    def evaluate(self, value: Any) -> Any:
        """A template expression's value (strings '[...]'), or None when gen cannot know it (reference(), ...)."""
        if isinstance(value, str) and value.startswith("[") and not value.startswith("[[") and value.endswith("]"):
            try:
                result, rest = self._expr(value[1:-1].strip())
            except (ValueError, IndexError, KeyError, TypeError):
                return None
            return result if not rest.strip() else None
        if isinstance(value, dict):
            return {k: self.evaluate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.evaluate(v) for v in value]
        return value

    def parameter_description(self, name: str) -> str:
        entry = self.parameters.get(name)
        meta = entry.get("metadata") if isinstance(entry, dict) else None
        return str(meta.get("description", "")) if isinstance(meta, dict) else ""

    def _expr(self, text: str) -> tuple[Any, str]:
        text = text.lstrip()
        if text.startswith("'"):
            out, i = [], 1
            while True:
                if text[i] == "'":
                    if text[i + 1 : i + 2] == "'":
                        out.append("'")
                        i += 2
                        continue
                    return "".join(out), text[i + 1 :]
                out.append(text[i])
                i += 1
        m = re.match(r"-?\d+", text)
        if m:
            return int(m.group()), text[m.end() :]
        m = re.match(r"([A-Za-z][A-Za-z0-9]*)\s*\(", text)
        if not m:
            raise ValueError(text)
        name, rest = m.group(1).lower(), text[m.end() :]
        args = []
        rest = rest.lstrip()
        while not rest.startswith(")"):
            arg, rest = self._expr(rest)
            args.append(arg)
            rest = rest.lstrip()
            if rest.startswith(","):
                rest = rest[1:]
        rest = rest[1:]
        if rest.lstrip()[:1] in (".", "["):
            raise ValueError("property access")  # reference(...).x, resourceGroup().location: unknown here
        return self._call(name, args), rest

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "parameters":
            entry = self.parameters[args[0]]
            if "defaultValue" not in entry:
                return Param(args[0])
            return self.evaluate(entry["defaultValue"])
        if name == "variables":
            return self.evaluate(self.variables[args[0]])
        if name == "concat":
            if all(isinstance(a, list) for a in args):
                return [x for a in args for x in a]
            return "".join(str(a) for a in args)
        if name == "format":
            return str(args[0]).format(*args[1:])
        if name in ("tolower", "toupper"):
            return str(args[0]).lower() if name == "tolower" else str(args[0]).upper()
        if name == "resourceid":
            strings = [str(a) for a in args]
            at = next(i for i, a in enumerate(strings) if "/" in a and "." in a.split("/")[0])
            rg = strings[at - 1] if at >= 1 else self.resource_group
            kind, names = strings[at], strings[at + 1 :]
            namespace, *types = kind.split("/")
            path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
            return f"/subscriptions/-/resourceGroups/{rg}/providers/{namespace}/{path}"
        raise ValueError(name)


@dataclass(frozen=True)
class Param:
    """A template parameter without a default value (a secure parameter such as a shared key)."""

    name: str

    def __str__(self) -> str:
        return f"[parameters('{self.name}')]"


def _location(value: Any) -> str | None:
    return value.replace(" ", "").lower() if isinstance(value, str) else None


def _resource_of(
    node: Node, file: str, template: Template | None, parent: Resource | None = None, parsed: Parsed | None = None
) -> Resource | str:
    """The Resource of one object, or why it is none (a message for rule import-unknown-type)."""
    kind = node.val("type")
    body = node.get("properties")
    if body is None or not isinstance(body.value, dict):
        body = node
    if kind is None:
        kind = next((t for member, t in _SHAPES if body.get(member) is not None), None)
        if kind is None:
            return "not an Azure resource: no 'type', and no member that tells its kind"
    if not isinstance(kind, str) or not (_TYPE_FORM.match(kind) or (parent and "/" not in kind)):
        return f"{_show(kind)} is not an Azure resource type (Namespace/type, e.g. Microsoft.Network/virtualNetworks)"
    if parent is not None and "/" not in kind:  # a child in a template's nested `resources`
        kind = f"{parent.type}/{kind}"
    name = node.val("name")
    if not isinstance(name, str) or not name:
        return "the resource has no 'name'"
    rid = node.val("id")
    rg = node.val("resourceGroup") or node.val("resourceGroupName")
    if rg is None and isinstance(rid, str):
        rg = parse_id(rid)[0]
    if rg is None and template is not None:
        rg = template.resource_group
    if parent is not None and "/" not in name:
        name = f"{parent.name}/{name}"
    canonical = TYPES.get(kind.lower(), kind)
    return Resource(canonical, name, rg, _location(node.val("location")), node, body, file, template, parsed)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def is_template(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("resources"), list)
        and ("deploymentTemplate" in str(document.get("$schema", "")) or "contentVersion" in document)
    )


def is_parameters_file(document: Any) -> bool:
    """An ARM deployment parameters file (its $schema is deploymentParameters.json): values, no resources.
    https://learn.microsoft.com/azure/azure-resource-manager/templates/parameter-files"""
    return isinstance(document, dict) and "deploymentParameters" in str(document.get("$schema", ""))


_STAGE = re.compile(r"\bof resource group (\S+) from inventory\b")


def template_resource_group(document: Mapping[str, Any], file: str) -> str:
    """A template carries no resource group: gen's own say it in their description, else the file's
    name gives it (`az group export -g RG > RG.json`; gen's stage-2 files are RG.links.json)."""
    meta = document.get("metadata")
    if isinstance(meta, dict) and (m := _STAGE.search(str(meta.get("description", "")))):
        return m.group(1)
    stem = Path(file).name
    for suffix in (".json", ".links", ".parameters"):
        stem = stem.removesuffix(suffix)
    return stem


def resources(parsed: Parsed, file: str) -> tuple[list[Resource], list[str]]:
    """Every resource of one document (template, list, list body or single object) and the problems."""
    result = StateFile(file, parsed)
    found: list[Resource] = []
    problems: list[str] = []
    document = parsed.value
    if is_parameters_file(document):  # beside the templates of an export (`*.json`): holds no resource
        return [], []
    if isinstance(document, dict) and is_template(document.get("template")):  # az deployment ... export
        document, base = document["template"], ("template",)
    else:
        base = ()
    if is_template(document):
        template = Template(document, template_resource_group(document, file))
        queue = [(Node(v, base + ("resources", i), template), None) for i, v in enumerate(document["resources"])]
    elif isinstance(document, list):
        template, queue = None, [(Node(v, (i,)), None) for i, v in enumerate(document)]
    elif isinstance(document, dict) and isinstance(document.get("value"), list):
        template, queue = None, [(Node(v, ("value", i)), None) for i, v in enumerate(document["value"])]
    elif isinstance(document, dict) and document:
        template, queue = None, [(Node(document, ()), None)]
    else:
        return [], [result.error((), "no Azure resource in the file", "import-unknown-type")]
    while queue:
        node, parent = queue.pop(0)
        if not isinstance(node.value, dict):
            problems.append(
                result.error(node.path, "expected an Azure resource (a JSON object)", "import-unknown-type")
            )
            continue
        res = _resource_of(node, file, template, parent, parsed)
        if isinstance(res, str):
            problems.append(result.error(node.path, res, "import-unknown-type"))
            continue
        found.append(res)
        queue += [(child, res) for child in node.items("resources")]
    return found, problems


def position(parsed: Parsed, file: str, path: JsonPath) -> str:
    line, column = parsed.at(path)
    return f"{file}:{line}:{column}: {format_path(path)}"

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


def read_json(path: Path) -> Parsed:
    """Parse a JSON file with positions; refuse it from its size before reading (rule state-size)."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise GenError([f"{path}: {size} bytes, over the {MAX_BYTES} byte limit (rule state-size)"])
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GenError([f"{path}: cannot read the file: {exc} (rule state-file)"]) from None
    try:
        return parse(text)
    except JsonPositionError as exc:
        where = format_path(exc.path)
        raise GenError([f"{path}:{exc.line}:{exc.column}: {where}: {exc.message} (rule {exc.rule})"]) from None


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

"""The Azure state file: values Azure assigns at deployment (gateway public IPs, default BGP IPs).

Written by the generated PowerShell (`azure-state.json`), taken from the `azureState` output of
the ARM/Bicep deployments (`az deployment group show`), or what Azure prints for the gateways
(REST, `az network vnet-gateway show`, `Get-AzVirtualNetworkGateway | ConvertTo-Json`): every
shape is read by generator/azure_read.py. Its JSON Schema is schemas/azure-state.schema.json.

Each file is checked against the inventory before it is used: the gateway exists, its ASN is the
inventory's, it has one instance (two when active-active:
https://learn.microsoft.com/azure/vpn-gateway/active-active-portal), and its BGP addresses are
real IPv4 addresses inside GatewaySubnet (Azure's default BGP IPs come from it:
https://learn.microsoft.com/azure/vpn-gateway/bgp-howto) or among the gateway's custom APIPA
addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import AddressValueError, IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from . import facts
from .azure_read import GatewayState, StateFile, gateways, read_json
from .errors import GenError
from .rulebook import STATE_RULES

RULES = STATE_RULES  # the state-file rules live in the rulebook


def _ipv4(text: Any) -> IPv4Address | None:
    """A strict dotted-decimal IPv4 address (Python refuses leading zeros and octets over 255)."""
    if not isinstance(text, str):
        return None
    try:
        return IPv4Address(text)
    except (AddressValueError, ValueError):
        return None


def _inventory_gateways(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Gateway name -> what the state file must agree with."""
    result = {}
    for vnet in data.get("azure", {}).get("vnets", []):
        raw = vnet.get("gateway")
        if raw is None:
            continue
        subnet = next((s["prefix"] for s in vnet["subnets"] if s["name"] == facts.GATEWAY_SUBNET), None)
        bgp = raw.get("bgp")
        result[raw.get("name", f"{vnet['name']}-gw")] = {
            "asn": bgp["asn"] if bgp else facts.AZURE_DEFAULT_ASN,
            "instances": 2 if raw.get("active_active") else 1,
            "subnet": IPv4Network(subnet) if subnet else None,
            "apipa": {IPv4Address(a) for lst in (bgp or {}).get("apipa_addresses", []) for a in lst},
        }
    return result


def _check(state: StateFile, gw: GatewayState, known: Mapping[str, dict[str, Any]]) -> list[str]:
    errors = []
    for inst in gw.instances:
        if inst.public_ip is not None and _ipv4(inst.public_ip) is None:
            errors.append(state.error(inst.public_ip_path, f"{inst.public_ip!r} is not an IPv4 address", "state-ipv4"))
        for ip, path in zip(inst.bgp_ips, inst.bgp_paths, strict=True):
            if _ipv4(ip) is None:
                errors.append(state.error(path, f"{ip!r} is not an IPv4 address", "state-ipv4"))
    expected = known.get(gw.name)
    if expected is None:
        names = ", ".join(sorted(known)) or "none"
        return errors + [
            state.error(
                gw.path, f"gateway {gw.name!r} is not in the inventory (its gateways: {names})", "state-gateway-unknown"
            )
        ]
    if gw.asn is not None and gw.asn != expected["asn"]:
        errors.append(
            state.error(
                gw.asn_path,
                f"ASN {gw.asn} differs from the inventory's {expected['asn']}: fix the inventory or the gateway",
                "state-asn-mismatch",
            )
        )
    if len(gw.instances) != expected["instances"]:
        mode = "active-active" if expected["instances"] == 2 else "active-standby"
        errors.append(
            state.error(
                gw.instances_path,
                f"{len(gw.instances)} instance(s), but the inventory makes {gw.name!r} {mode} "
                f"({expected['instances']} instance(s))",
                "state-instance-count",
            )
        )
    subnet, apipa = expected["subnet"], expected["apipa"]
    for inst in gw.instances:
        for ip, path in zip(inst.bgp_ips, inst.bgp_paths, strict=True):
            address = _ipv4(ip)
            if address is not None and not ((subnet and address in subnet) or address in apipa):
                errors.append(
                    state.error(
                        path,
                        f"BGP address {ip} is neither inside GatewaySubnet {subnet} nor a custom APIPA address "
                        f"of {gw.name!r}",
                        "state-bgp-ip-outside",
                    )
                )
    return errors


def read_state(paths: tuple[Path, ...], inventory: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read, check and merge state files: gateway name -> {"instances": [{"public_ip", "bgp_ips"}]}."""
    merged: dict[str, Any] = {}
    errors: list[str] = []
    known = _inventory_gateways(inventory) if inventory is not None else None
    for path in paths:
        try:
            state = gateways(read_json(Path(path)), str(path))
        except GenError as exc:
            errors += exc.lines
            continue
        for gw in state.gateways:
            if known is not None:
                found = _check(state, gw, known)
                if found:
                    errors += found
                    continue
            merged[gw.name] = {
                "resource_group": gw.resource_group,
                "asn": gw.asn,
                "instances": [{"public_ip": inst.public_ip, "bgp_ips": list(inst.bgp_ips)} for inst in gw.instances],
            }
    if errors:
        raise GenError(errors)
    return merged

"""The Azure state file: values Azure assigns at deployment (gateway public IPs, default BGP IPs).

Written by the generated PowerShell (`azure-state.json`), or taken from the `azureState` output of
the ARM/Bicep deployments (`az deployment group show ... --query properties.outputs`). Its JSON
Schema is schemas/azure-state.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import GenError
from .resources import resource_path


def _gateways(document: Any) -> Mapping[str, Any] | None:
    """Accept the state file itself, a deployment's outputs, or `az deployment group show` output."""
    if not isinstance(document, dict):
        return None
    if "gen_azure_state" in document:
        return document
    if "properties" in document and isinstance(document["properties"], dict):
        document = document["properties"].get("outputs", {})
    if "outputs" in document and isinstance(document["outputs"], dict):
        document = document["outputs"]
    output = document.get("azureState") if isinstance(document, dict) else None
    if isinstance(output, dict) and isinstance(output.get("value"), dict):
        return output["value"]
    return None


def read_state(paths: tuple[Path, ...]) -> dict[str, Any]:
    """Merge state files: gateway name -> {"instances": [{"public_ip", "bgp_ips"}]}."""
    if not paths:
        return {}
    from jsonschema import Draft202012Validator

    schema = json.loads(resource_path("schemas", "azure-state.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GenError([f"{path}:1:1: cannot read the Azure state file: {exc} (rule state-file)"]) from None
        state = _gateways(document)
        if state is None:
            raise GenError(
                [f"{path}:1:1: not an Azure state file (no 'gen_azure_state' or 'azureState' output) (rule state-file)"]
            )
        errors = sorted(validator.iter_errors(state), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            raise GenError(
                [
                    f"{path}:1:1: {'.'.join(map(str, e.absolute_path)) or '$'}: {e.message} (rule state-file)"
                    for e in errors
                ]
            )
        merged.update(state["gateways"])
    return merged

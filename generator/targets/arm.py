"""ARM templates: per resource group, `<rg>.json` (stage 1) and `<rg>.links.json` (stage 2).

Stage 1 holds what the resource group owns (VNets, gateways, local network gateways, site-to-site
connections, load balancers); stage 2 what needs other groups' resources to exist first
(VNet-to-VNet connections, peerings). Jinja renders JSON with every value through `tojson`; the
result is parsed back and written canonically (2-space indent, template order).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jinja2

from ..jsonfmt import reformat
from ..model import Model, ResourceGroup
from ..render import render
from .azure_items import stage1, stage2, stage3
from .base import Options, OutputFile


def canonical_json(text: str, name: str) -> str:
    try:
        return reformat(text)
    except json.JSONDecodeError as exc:  # a template bug, not a user error
        raise AssertionError(f"{name}: rendered ARM is not JSON: {exc}") from None


class ArmTarget:
    key = "arm"
    description = "ARM deployment templates and parameter files, per resource group"

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        files = []
        for rg in model.resource_groups:
            files += self._stage(
                env, model, rg, "resource-group.json.j2", f"azure/arm/{rg.name}", rg.secrets, stage1(rg)
            )
            links = stage2(rg)
            if links:
                files += self._stage(
                    env, model, rg, "links.json.j2", f"azure/arm/{rg.name}.links", rg.link_secrets, links
                )
            late = stage3(rg)
            if late:
                files += self._stage(env, model, rg, "transit.json.j2", f"azure/arm/{rg.name}.transit", (), late)
        return files

    def _stage(
        self, env, model: Model, rg: ResourceGroup, template: str, stem: str, secrets, items
    ) -> list[OutputFile]:
        body = render(env, f"arm/{template}", model=model, rg=rg, secrets=secrets, items=items)
        params = render(env, "arm/parameters.json.j2", model=model, rg=rg, secrets=secrets)
        return [
            OutputFile(f"{stem}.json", canonical_json(body, stem)),
            OutputFile(f"{stem}.parameters.json", canonical_json(params, stem)),
        ]

    def verify(self, files: list[OutputFile]) -> list[str]:
        problems = []
        for f in files:
            try:
                doc = json.loads(f.text)
            except json.JSONDecodeError as exc:
                problems.append(f"{f.path}: not JSON: {exc}")
                continue
            for value in _shared_keys(doc):
                if not (isinstance(value, str) and _PARAMETER_REFERENCE.fullmatch(value)):
                    problems.append(f"{f.path}: a sharedKey is not a parameter reference")
            if "resources" in doc and not isinstance(doc["resources"], list):
                problems.append(f"{f.path}: resources is not a list")
        return problems


_PARAMETER_REFERENCE = re.compile(r"\[parameters\('[^']+'\)\]")


def _shared_keys(node: Any) -> Iterator[Any]:
    """Every `sharedKey` property value in a template (names that merely contain the word do not count)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sharedKey":
                yield value
            else:
                yield from _shared_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _shared_keys(item)

"""The one rule registry: structural rules (loader, schema, resolver), semantic rules on the model
(Azure side, per platform, PowerShell), each with an id, a severity and a one-line summary.

Rule modules register with @rule and are listed in RULE_MODULES; they import this module, never
each other, so there is no import circle. `check(model)` runs every registered rule; `registry()`
is the table docs/rules.md is generated from.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import Problem, Severity
from .model import Model

# semantic rules on the Azure side, the on-prem devices and their platforms, the PowerShell scripts
RULE_MODULES = ("rules", "rules_azure", "rules_onprem", "rules_powershell")

Check = Callable[[Model], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Check


_RULES: dict[str, Rule] = {}

# Rules enforced while loading and resolving (not functions here), listed for the docs.
STRUCTURAL_RULES: dict[str, str] = {
    "yaml-syntax": "The inventory is valid YAML (tabs in indentation, unclosed quotes, bad tags are refused).",
    "yaml-encoding": "The inventory is UTF-8.",
    "yaml-duplicate-key": "No key appears twice in one mapping (YAML would keep only the last).",
    "yaml-alias-bomb": "Aliases may not expand the document beyond 1,000,000 values.",
    "yaml-too-deep": "The document nests at most 32 levels.",
    "yaml-alias-recursive": "No alias refers to the mapping or list that contains it (a cycle has no value).",
    "yaml-too-many-items": "No list or mapping has more than 10,000 entries (refused while reading, before the schema).",
    "yaml-number-too-long": "No number has more than 4,300 characters (Python's limit for reading an integer).",
    "inventory-empty": "The inventory is not empty.",
    "inventory-too-large": "The inventory is at most 10 MiB.",
    "inventory-unreadable": "The inventory is a regular file that can be read (not a folder, FIFO or device).",
    "schema-*": "Every field matches schemas/inventory.schema.json (unknown fields get a 'did you mean').",
    "unknown-reference": "Every VNet, site, subnet and probe named by another item exists.",
    "duplicate-name": "VNet, subnet, gateway, site, device and load-balancer names are unique (case-insensitive); each pair is linked or connected once.",
    "connection-needs-gateway": "A site-to-site connection's VNet has a gateway.",
    "link-needs-gateway": "Every VNet in a VNet-to-VNet link has a gateway.",
    "lb-ha-ports": "An HA-ports rule gives no protocol or ports.",
    "lb-rule-incomplete": "A load-balancing rule gives protocol and frontend_port unless it is HA ports.",
}


def rule(rule_id: str, summary: str, severity: Severity = "error") -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        assert rule_id not in _RULES, rule_id
        _RULES[rule_id] = Rule(rule_id, severity, summary, function)
        return function

    return register


def check(model: Model) -> list[Problem]:
    """Run every rule; problems carry the rule's id and severity."""
    found = []
    for entry in registry().values():
        for problem in entry.check(model):
            found.append(Problem(problem.path, problem.message, entry.id, entry.severity, problem.at_key))
    return found


def registry() -> dict[str, Rule]:
    """Every semantic rule, by id (the rule modules are imported once, on first use)."""
    for name in RULE_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return _RULES

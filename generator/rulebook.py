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
RULE_MODULES = ("rules", "rules_azure", "rules_onprem", "rules_routing", "rules_powershell")

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
    "unknown-reference": "Every VNet, site, subnet, probe and backend pool named by another item exists.",
    "duplicate-name": "VNet, subnet, gateway, NSG, route table, security rule, route, site, device and load-balancer names are unique (case-insensitive); each pair is linked or connected once.",
    "connection-needs-gateway": "A site-to-site connection's VNet has a gateway.",
    "link-needs-gateway": "Every VNet in a VNet-to-VNet link has a gateway.",
    "lb-ha-ports": "An HA-ports rule gives no protocol or ports.",
    "lb-rule-incomplete": "A load-balancing rule gives protocol and frontend_port unless it is HA ports.",
    "secret-one-source": "A `psk:` gives env or file, not both (beside keyvault at most one of them).",
    "keyvault-subscription": "A Key Vault key names the vault's subscription (keyvault.subscription, or azure.subscription for the deployment's): ARM parameter files refer to the vault by its full resource id.",
    "subnet-reference-name": "An existing NSG or route table is named and carries no rules or routes (gen only associates it).",
    "lb-pool-missing": "A load balancer gives either backend_pool (one pool by NIC) or backend_pools, not both.",
    "device-platform-unknown": "Every device has a platform: `gen import` writes `platform: unknown` (Azure does not record the device) for the user to fill in.",
}


STATE_RULES: dict[str, str] = {
    "state-file": "An `--azure-state` file is JSON in one of the accepted shapes: gen's state file "
    "(schemas/azure-state.schema.json), an `az deployment group show` with an `azureState` output, or "
    "virtualNetworkGateways resources as REST, `az network vnet-gateway show/list` or "
    "`Get-AzVirtualNetworkGateway | ConvertTo-Json -Depth 10` print them.",
    "state-size": "A state file is at most 10 MiB (refused from its size, before it is read), nested at most "
    "64 levels, with numbers of at most 40 characters.",
    "state-ipv4": "Every address in a state file is a real IPv4 address in dotted-decimal form "
    "(no octet over 255, no leading zeros).",
    "state-gateway-unknown": "Every gateway in a state file is a gateway of the inventory.",
    "state-asn-mismatch": "A gateway's ASN in the state file equals the inventory's (65515 without `bgp`).",
    "state-instance-count": "A gateway has two instances in the state file when the inventory makes it "
    "active-active, one otherwise.",
    "state-bgp-ip-outside": "A gateway's BGP addresses lie inside its VNet's GatewaySubnet or among the "
    "gateway's custom APIPA addresses.",
}

# Rules of gen import and gen drift (the JSON Azure prints), generator/azure_import.py.
IMPORT_RULES: dict[str, str] = {
    "import-file": "Every file given to `gen import` / `gen drift` exists and can be read.",
    "import-size": "An imported file is at most 10 MiB (refused from its size, before it is read), nested at most 64 levels, with numbers of at most 40 characters.",
    "import-json": "An imported file is complete JSON (a truncated export is refused at the position where it ends).",
    "import-unknown-type": "Every object is an Azure resource (a `type` of the form Namespace/type, or the members of a `Get-Az*` object); a near miss of a type gen maps is refused with a 'did you mean'.",
    "import-dangling-reference": "Every resource a mapped resource refers to (a gateway's VNet, a connection's gateways and local network gateway, a peering's remote VNet, a load balancer's subnet) is among the files.",
    "import-empty": "The files hold at least one virtual network.",
    "import-invalid-value": "Every value gen maps has the form Azure prints (prefixes, addresses, numbers, lists where Azure has lists).",
    "drift": "`gen drift`: what Azure has equals the inventory in every field gen manages (exit 1 and a table when not).",
}

# Checks made while reading state files, rendering and writing (not inventory rules).
RUN_CHECKS: dict[str, str] = {
    "placeholders-remain": "`gen render --strict`: no Azure-assigned value is still a placeholder (pass `--azure-state`).",
    "secret-missing": "With `--secrets`, every referenced pre-shared key (environment variable or file) can be read.",
    "secret-file-mode": "With `--secrets`, a key file (`psk: {file: PATH}`) is readable by its owner only (`chmod 600`), as ssh demands of its key files.",
    "secret-keyvault-only": "With `--secrets`, a key that lives only in Key Vault (`psk: {keyvault: ...}`) also names an env or file for the device files: gen never reads Key Vault.",
    "secret-invalid": "With `--secrets`, every key is 1-128 printable ASCII characters without space, '-' or '~' (Azure's rule).",
    "template-error": "Every template (built-in or from `--templates`) renders; the message names the template and line.",
    "cross-check": "The rendered device files and the ARM templates agree on every tunnel (addresses, ASNs, algorithms), read back by generator/crosscheck.py.",
    "verify-output": "Every rendered file parses back in its own syntax (JSON, Markdown with Mermaid, DOT, ...).",
    "output-write": "The output folder (`-o`) is a folder, or does not exist yet, and can be written.",
    "output-contains-cwd": "`gen render -o` is neither the working directory nor a folder that holds it: the output folder is replaced as a whole, which would leave the shell in a deleted folder.",
    "lab-environment": "`gen lab` can run here: root, Linux network namespaces, strongSwan and FRR installed, the lab's names free.",
    "cli-usage": "The command line is complete and known (options, arguments); the message names `gen COMMAND --help`.",
    **STATE_RULES,
    **IMPORT_RULES,
    "output-not-ours": "gen never overwrites a file it did not write (one missing from the output folder's `.gen-manifest.json`).",
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

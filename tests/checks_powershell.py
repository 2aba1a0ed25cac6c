"""Real checks for rendered PowerShell: the tree-sitter-powershell grammar and the cmdlet catalogs.

`check_files({relative path: text})` returns one line per problem (empty when every .ps1 passes):
- the file parses with no ERROR or MISSING node;
- every Az/AzureRM cmdlet exists in the official catalog of its module
  (../shared/reference/powershell-cmdlets/az.json or azurerm.json), every parameter used exists
  (name or alias, case-insensitive; PowerShell's common parameters where the cmdlet supports them),
  and some parameter set holds all the parameters used (named and positional) and all of that set's
  mandatory ones;
- `deploy.azurerm.ps1` calls only *-AzureRm* cmdlets, `deploy.az.ps1` only *-Az* ones;
- any other command is a function the script defines (its parameters checked against its param
  block) or a core cmdlet from CORE_CMDLETS below, with known parameters.
Splatting and piping into a catalog cmdlet are reported, not guessed: the catalog cannot check them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from conftest import CMDLET_CATALOGS

SUPPLEMENT = Path(__file__).parent / "data" / "powershell" / "catalog"

# PowerShell common parameters (about_CommonParameters); WhatIf/Confirm are listed per cmdlet in the catalogs.
COMMON = {
    "verbose",
    "debug",
    "erroraction",
    "warningaction",
    "informationaction",
    "progressaction",
    "errorvariable",
    "warningvariable",
    "informationvariable",
    "outvariable",
    "outbuffer",
    "pipelinevariable",
}

# Core cmdlets the scripts may call (not in the Az/AzureRM catalogs), with the parameters allowed and
# how many positional arguments they take. Source: the PowerShell reference for
# Microsoft.PowerShell.Utility / Core / Management (learn.microsoft.com/powershell/module/...).
CORE_CMDLETS: dict[str, tuple[frozenset[str], int]] = {
    "write-host": (frozenset({"object", "nonewline", "separator", "foregroundcolor", "backgroundcolor"}), 1),
    "write-warning": (frozenset({"message"}), 1),
    "write-progress": (
        frozenset(
            {
                "activity",
                "status",
                "id",
                "percentcomplete",
                "secondsremaining",
                "currentoperation",
                "parentid",
                "completed",
            }
        ),
        2,
    ),
    "read-host": (frozenset({"prompt", "assecurestring", "maskinput"}), 1),
    "set-strictmode": (frozenset({"version", "off"}), 0),
    "wait-job": (frozenset({"job", "any", "timeout", "force"}), 0),
    "receive-job": (frozenset({"job", "keep", "wait", "autoremovejob", "norecurse", "force"}), 0),
    "remove-job": (frozenset({"job", "force"}), 0),
    "where-object": (frozenset({"filterscript", "property", "value"}), 1),
    "foreach-object": (frozenset({"process", "begin", "end", "membername"}), 1),
    "select-object": (frozenset({"property", "first", "last", "expandproperty", "unique"}), 1),
    "format-table": (frozenset({"property", "autosize", "wrap"}), 1),
    "convertto-json": (frozenset({"inputobject", "depth", "compress"}), 1),
    "new-object": (frozenset({"typename", "argumentlist", "property"}), 2),
    "sort-object": (frozenset({"property", "descending", "unique"}), 1),
    "start-sleep": (frozenset({"seconds", "milliseconds"}), 1),
}
CORE_SWITCHES = {"nonewline", "completed", "assecurestring", "maskinput", "off", "any", "force", "keep", "wait"}
CORE_SWITCHES |= {"autoremovejob", "norecurse", "unique", "autosize", "wrap", "compress", "descending"}

MODULE_OF_FILE = {".azurerm.ps1": "azurerm", ".az.ps1": "az"}
CMDLET_MODULE = re.compile(r"^[A-Za-z]+-(?:(AzureRm)|(Az))[A-Z]", re.IGNORECASE)


@cache
def parser():
    try:
        import tree_sitter_powershell
        from tree_sitter import Language, Parser
    except ImportError as exc:  # fail, never skip: the check is part of the contract
        raise AssertionError(f"tree-sitter-powershell is not installed ({exc}); pip install -e '.[test]'") from None
    return Parser(Language(tree_sitter_powershell.language()))


@cache
def catalog(module: str) -> dict[str, dict]:
    path = CMDLET_CATALOGS / f"{module}.json"
    if not path.exists():
        raise AssertionError(f"cmdlet catalog missing: {path} (set GEN_SHARED)")
    entries = {name.lower(): entry for name, entry in json.loads(path.read_text(encoding="utf-8")).items()}
    # Cmdlets the shared catalogs lack (NSGs, route tables, delegations), from their help pages:
    # tests/data/powershell/catalog/README.md says where each entry comes from. Shared entries win.
    extra = SUPPLEMENT / f"{module}.json"
    for name, entry in json.loads(extra.read_text(encoding="utf-8")).items():
        entries.setdefault(name.lower(), entry)
    return entries


@dataclass
class Call:
    name: str
    line: int
    named: list[str] = field(default_factory=list)  # parameter names as written, without '-'
    positional: int = 0
    splats: list[str] = field(default_factory=list)  # @name arguments, resolved by `hashtables`
    piped: bool = False  # receives pipeline input
    dangling: list[str] = field(default_factory=list)  # parameters written last with no value
    literals: dict[str, str] = field(default_factory=dict)  # parameter -> literal value ('x' or bare word)


def walk(node):
    """Every node under `node`, in document order (iterative: the expression trees are deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def syntax_problems(path: str, root) -> list[str]:
    if not root.has_error:
        return []
    return [
        f"{path}:{n.start_point[0] + 1}:{n.start_point[1] + 1}: syntax: {'MISSING ' + n.type if n.is_missing else 'ERROR'} near {n.text.decode(errors='replace')[:40]!r}"
        for n in walk(root)
        if n.type == "ERROR" or n.is_missing
    ]


def functions(nodes) -> dict[str, set[str]]:
    """Functions the script defines -> their parameter names (lower case)."""
    found = {}
    for n in nodes:
        if n.type == "function_statement":
            name = next(c for c in n.children if c.type == "function_name").text.decode().lower()
            params = {
                v.text.decode()[1:].lower()
                for p in walk(n)
                if p.type == "script_parameter"
                for v in p.children
                if v.type == "variable"
            }
            found[name] = params
    return found


def calls(nodes, switches) -> list[Call]:
    """Every command with a literal name; `switches(name) -> set` says which parameters take no value."""
    result = []
    for n in nodes:
        if n.type != "command":
            continue
        name_node = n.child_by_field_name("command_name")
        if name_node is None or name_node.type != "command_name":
            continue
        call = Call(name_node.text.decode(), n.start_point[0] + 1)
        chain = n.parent
        call.piped = (
            chain is not None and chain.type == "pipeline_chain" and chain.children[0].start_byte != n.start_byte
        )
        is_switch = switches(call.name)
        elements = next((c for c in n.children if c.type == "command_elements"), None)
        pending = None  # a parameter waiting for its value
        colon = False
        for e in elements.children if elements else ():
            if e.type == "command_argument_sep":
                colon = ":" in e.text.decode()
                continue
            if e.type == "command_parameter":
                if pending is not None:
                    call.dangling.append(pending)
                text = e.text.decode()[1:]
                colon = text.endswith(":")
                name = text.rstrip(":")
                call.named.append(name)
                pending = None if name.lower() in is_switch and not colon else name
                continue
            splat = [v.text.decode()[1:] for v in walk(e) if v.type == "variable" and v.text.decode().startswith("@")]
            if splat:
                call.splats += splat
                continue
            if pending is not None:
                literal = re.fullmatch(r"'([^']*)'|([A-Za-z0-9][A-Za-z0-9_.-]*)", e.text.decode())
                if literal:
                    call.literals[pending] = literal.group(1) if literal.group(1) is not None else literal.group(2)
                pending = None
            elif colon:
                colon = False
            else:
                call.positional += 1
        if pending is not None:
            call.dangling.append(pending)
        result.append(call)
    return result


def hashtables(nodes) -> list[tuple[int, str, list[str] | None]]:
    """`$name = @{...}` assignments: (line, name, literal keys or None when a key is computed)."""
    found = []
    for n in nodes:
        if n.type != "assignment_expression":
            continue
        left, right = n.children[0], n.children[-1]
        if not right.text.decode().lstrip().startswith("@{"):
            continue
        table = next(h for h in walk(right) if h.type == "hash_literal_expression")
        keys: list[str] | None = []
        for entry in table.children[1].children if len(table.children) > 2 else ():
            if entry.type != "hash_entry":
                continue
            key = entry.children[0].text.decode().strip("'\"")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
                keys = None
                break
            keys.append(key)
        found.append((n.start_point[0] + 1, left.text.decode().lstrip("$").lower(), keys))
    return found


def resolve_splats(call: Call, tables) -> None:
    """Replace each @name of `call` by the keys of the last literal `$name = @{...}` before it."""
    unresolved = []
    for name in call.splats:
        earlier = [keys for line, table, keys in tables if table == name.lower() and line < call.line]
        if earlier and earlier[-1] is not None:
            call.named += earlier[-1]
        else:
            unresolved.append(name)
    call.splats = unresolved


def _lookup(params: dict[str, dict], written: str) -> str | None:
    lower = written.lower()
    for name, spec in params.items():
        if name.lower() == lower or lower in (a.lower() for a in spec.get("aliases", ())):
            return name.lower()
    return None


def check_catalog_call(call: Call, entry: dict) -> list[str]:
    """Problems of one call against its catalog entry (empty when some parameter set fits)."""
    where = f"{call.name} (line {call.line})"
    if call.splats:
        return [f"{where}: splatting @{call.splats[0]} is not a literal hashtable assigned earlier in the script"]
    if call.piped:
        return [f"{where}: pipeline input cannot be checked against the catalog; pass parameters by name"]
    sets = entry["parameter_sets"]
    every = {name: spec for params in sets.values() for name, spec in params.items()}
    problems, used = [], set()
    for written in call.named:
        if written.lower() in COMMON and entry.get("supports_common_parameters", True):
            continue
        name = _lookup(every, written)
        if name is None:
            problems.append(f"{where}: no parameter -{written}")
        else:
            used.add(name)
    for written in call.dangling:
        problems.append(f"{where}: -{written} has no value")
    for written, value in call.literals.items():
        name = _lookup(every, written)
        specs = [spec for params in sets.values() for k, spec in params.items() if k.lower() == name]
        accepted = next((spec["accepted_values"] for spec in specs if spec.get("accepted_values")), None)
        if accepted and value.lower() not in (a.lower() for a in accepted):
            problems.append(f"{where}: -{written} {value!r} is not one of {', '.join(accepted)}")
    if problems:
        return problems
    reasons = []
    for set_name, params in sets.items():
        lowered = {k.lower(): v for k, v in params.items()}
        if not used <= set(lowered):
            reasons.append(f"{set_name}: lacks {', '.join(sorted(used - set(lowered)))}")
            continue
        positions = sorted((spec["position"], k) for k, spec in lowered.items() if "position" in spec and k not in used)
        if call.positional > len(positions):
            reasons.append(f"{set_name}: {call.positional} positional argument(s), {len(positions)} position(s) free")
            continue
        bound = used | {k for _, k in positions[: call.positional]}
        missing = sorted(k for k, spec in lowered.items() if spec.get("mandatory") and k not in bound)
        if missing:
            reasons.append(f"{set_name}: mandatory {', '.join(missing)} not given")
            continue
        return []
    return [f"{where}: no parameter set fits ({'; '.join(reasons)})"]


def check_text(path: str, text: str) -> list[str]:
    root = parser().parse(text.encode("utf-8")).root_node
    problems = syntax_problems(path, root)
    nodes = list(walk(root))
    module = next((m for suffix, m in MODULE_OF_FILE.items() if path.endswith(suffix)), None)
    defined = functions(nodes)
    tables = hashtables(nodes)

    def switches(name: str) -> set[str]:
        lower = name.lower()
        match = CMDLET_MODULE.match(name)
        if match:
            entry = catalog("azurerm" if match.group(1) else "az").get(lower)
            if entry:
                return {
                    k.lower()
                    for params in entry["parameter_sets"].values()
                    for k, spec in params.items()
                    if spec.get("type") == "SwitchParameter"
                }
            return set()
        return CORE_SWITCHES if lower in CORE_CMDLETS else set()

    for call in calls(nodes, switches):
        resolve_splats(call, tables)
        lower = call.name.lower()
        match = CMDLET_MODULE.match(call.name)
        if match:
            cmdlet_module = "azurerm" if match.group(1) else "az"
            if module is not None and cmdlet_module != module:
                problems.append(f"{path}: {call.name} (line {call.line}) is not a {module} cmdlet")
                continue
            entry = catalog(cmdlet_module).get(lower)
            if entry is None:
                problems.append(f"{path}: {call.name} (line {call.line}) is not in the {cmdlet_module} cmdlet catalog")
                continue
            problems += [f"{path}: {p}" for p in check_catalog_call(call, entry)]
        elif lower in defined:
            unknown = [n for n in call.named if n.lower() not in defined[lower] and n.lower() not in COMMON]
            problems += [f"{path}: {call.name} (line {call.line}): no parameter -{n}" for n in unknown]
        elif lower in catalog("az") or lower in catalog("azurerm"):  # e.g. ConvertTo-SecureString
            entry = catalog(module or "az").get(lower) or catalog("azurerm")[lower]
            problems += [f"{path}: {p}" for p in check_catalog_call(call, entry)]
        elif lower in CORE_CMDLETS:
            allowed, positional = CORE_CMDLETS[lower]
            unknown = [n for n in call.named if n.lower() not in allowed and n.lower() not in COMMON]
            problems += [f"{path}: {call.name} (line {call.line}): no parameter -{n}" for n in unknown]
            if call.positional > positional:
                problems.append(f"{path}: {call.name} (line {call.line}): too many positional arguments")
        else:
            problems.append(
                f"{path}: {call.name} (line {call.line}) is neither a catalog cmdlet, a core cmdlet nor a function of the script"
            )
    return problems


def check_files(files: dict[str, str]) -> list[str]:
    """Parse and catalog-check every .ps1 in `files` (relative path -> text)."""
    problems = []
    for path, text in sorted(files.items()):
        if path.endswith(".ps1"):
            problems += check_text(path, text)
    return problems


def cmdlet_names(text: str) -> set[str]:
    """Names of every command the script calls (for the module-prefix tests)."""
    root = parser().parse(text.encode("utf-8")).root_node
    return {c.name for c in calls(walk(root), lambda name: set())}

"""Bicep files and .bicepparam files, per resource group, equivalent to the ARM target's output.

Same split as ARM (targets/azure_items.py): `<rg>.bicep` (stage 1) and, when the group has
VNet-to-VNet links or peerings, `<rg>.links.bicep` (stage 2), each with a `.bicepparam` beside
it. One file per deployment rather than a `main.bicep` with modules: the two stages must be
deployed in order across resource groups (stage 2 of a group needs stage 1 of the others), which
a per-group main file cannot express without a subscription-scope deployment; and the files stay
one-to-one with the ARM templates, which the equivalence test relies on.

Dependencies are implicit (symbolic references); anything not created by the file is an
`existing` resource (brownfield VNets and gateways, stage-1 resources seen from stage 2, other
resource groups' resources with `scope: resourceGroup(...)`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import jinja2

from ..azure_kinds import BY_BICEP_KEY, BY_KEY, KINDS
from ..model import Model, ResourceGroup, ResourceRef, SecretRef
from ..render import bicep_string, render, symbol
from .azure_items import Item, stage1, stage2, stage3
from .base import Options, OutputFile

# Words a symbolic name must not take: Bicep keywords, the functions the templates call, and
# names of the namespaces (a symbol would shadow them).
_KEYWORDS = "metadata param var resource output module type import func existing if for in true false null"
_MORE = "targetScope using extension with as assert az sys"
_FUNCTIONS = "resourceGroup resourceId range readEnvironmentVariable subscription tenant managementGroup"
_OURS = "tags pipName ipConfigName i"  # the tags parameter and the loop variables of the templates
RESERVED = frozenset(" ".join((_KEYWORDS, _MORE, _FUNCTIONS, _OURS)).split())
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SUFFIX = {k.resource_type: k.bicep_suffix for k in KINDS}  # appended when a symbol is already taken


@dataclass(frozen=True, slots=True)
class Existing:
    """A resource the file reads but does not create."""

    ref: ResourceRef
    symbol: str
    scoped: bool  # in another resource group: `scope: resourceGroup(...)`


class Symbols:
    """Symbolic names for one Bicep file: unique, readable, never a keyword or a parameter."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(RESERVED) | set(taken)
        self.by_ref: dict[ResourceRef, str] = {}  # ref -> expression naming the resource
        self.pips: dict[str, str] = {}  # gateway name -> symbol of its looped public IPs

    def add(self, ref: ResourceRef, name: str, kind: str | None = None) -> str:
        base = symbol(name)
        candidate, n = base, 2
        if candidate in self.taken:
            candidate = base + _SUFFIX.get(kind or ref.type, "Resource")
        while candidate in self.taken:
            candidate, n = f"{base}{n}", n + 1
        self.taken.add(candidate)
        self.by_ref[ref] = candidate
        return candidate

    def parent_of(self, ref: ResourceRef) -> str:
        """Symbol of a child resource's parent (declared or existing in this file)."""
        return self.by_ref[ResourceRef(ref.type.rsplit("/", 1)[0], ref.names[:-1], ref.resource_group)]

    def id_of(self, ref: ResourceRef, inside: ResourceRef | None = None) -> str:
        """Bicep expression for a resource id: `sym.id`, `'${parent.id}/child/name'` or resourceId().

        `inside` is the resource being declared: its own symbol cannot be used in its body.
        """
        if ref in self.by_ref:
            return f"{self.by_ref[ref]}.id"
        parent = ResourceRef(ref.type.rsplit("/", 1)[0], ref.names[:-1], ref.resource_group)
        if parent in self.by_ref and parent != inside:
            tail = bicep_string(f"/{ref.type.rsplit('/', 1)[1]}/{ref.names[-1]}")[1:-1]
            return "'${" + self.by_ref[parent] + ".id}" + tail + "'"
        # A sub-resource of the resource being declared (load balancer parts, gateway ipconfigs):
        # its own symbol cannot be used inside its body.
        return "resourceId(" + ", ".join(bicep_string(a) for a in (ref.type, *ref.names)) + ")"


def bicep_key(key: str) -> str:
    """An object key: bare when it is an identifier, else a quoted string."""
    return key if _IDENTIFIER.match(key) else bicep_string(key)


def env_variable(secret: SecretRef) -> str:
    """The environment variable the .bicepparam reads a key from."""
    if secret.kind == "env":
        return secret.name
    return "GEN_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", secret.parameter).upper()


def _group(items: list[Item]) -> list[Item]:
    """Bicep's items: a kind that loops (public IPs) becomes one item per object it loops over."""
    grouped: list[Item] = []
    for item in items:
        kind = BY_KEY[item.kind]
        if kind.bicep_key == kind.key:
            grouped.append(item)
            continue
        obj = kind.bicep_object(item.obj)
        if not (grouped and grouped[-1].kind == kind.bicep_key and grouped[-1].obj is obj):
            grouped.append(Item(kind.bicep_key, obj))
    return grouped


class BicepTarget:
    key = "bicep"
    description = "Bicep files and .bicepparam files, per resource group (equivalent to the ARM output)"

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        files = []
        for rg in model.resource_groups:
            files += self._stage(env, model, rg, "resource-group", rg.name, rg.secrets, stage1(rg), stage=1)
            links = stage2(rg)
            if links:
                files += self._stage(env, model, rg, "links", f"{rg.name}.links", rg.link_secrets, links, stage=2)
            late = stage3(rg)
            if late:
                files += self._stage(env, model, rg, "transit", f"{rg.name}.transit", (), late, stage=3)
        return files

    def _stage(
        self,
        env: jinja2.Environment,
        model: Model,
        rg: ResourceGroup,
        template: str,
        stem: str,
        secrets: tuple[SecretRef, ...],
        items: list[Item],
        stage: int,
    ) -> list[OutputFile]:
        symbols = Symbols(s.parameter for s in secrets)
        items = _group(items)
        existing = _existing(rg, items, symbols) if stage >= 2 else _existing_stage1(rg, items, symbols)
        for item in items:
            _declare(item, symbols)
        context = dict(
            model=model,
            rg=rg,
            secrets=secrets,
            items=items,
            existing=existing,
            sym=symbols.by_ref,
            id_of=symbols.id_of,
            parent_of=symbols.parent_of,
            pips=symbols.pips,
            uses_tags=any(i.kind != "peering" for i in items),
            key=bicep_key,
            env_variable=env_variable,
            stem=stem,
        )
        body = render(env, f"bicep/{template}.bicep.j2", **context)
        params = render(env, "bicep/bicepparam.j2", **context)
        return [
            OutputFile(f"azure/bicep/{stem}.bicep", re.sub(r"\n{3,}", "\n\n", body).rstrip("\n") + "\n"),
            OutputFile(f"azure/bicep/{stem}.bicepparam", params.rstrip("\n") + "\n"),
        ]

    def verify(self, files: list[OutputFile]) -> list[str]:
        """Cheap structural checks (the real parsers run in the tests): balanced, no literal keys."""
        problems = []
        for f in files:
            problem = _balance(f.text)
            if problem:
                problems.append(f"{f.path}: {problem}")
            for line in f.text.splitlines():
                if re.match(r"\s*sharedKey:\s*'", line):
                    problems.append(f"{f.path}: a sharedKey is a string literal, not a parameter")
        return problems


def _declare(item: Item, symbols: Symbols) -> None:
    """Give every resource an item declares its symbolic name."""
    BY_BICEP_KEY[item.kind].bicep_declare(item.obj, symbols)


def _reads(rg: ResourceGroup, items: list[Item]) -> dict[ResourceRef, None]:
    return {ref: None for i in items for ref in BY_BICEP_KEY[i.kind].bicep_reads(i.obj, rg)}


def _existing_stage1(rg: ResourceGroup, items: list[Item], symbols: Symbols) -> list[Existing]:
    """Brownfield VNets and gateways that stage 1 uses but does not create."""
    created = {ref for i in items for ref in BY_BICEP_KEY[i.kind].bicep_declares(i.obj)}
    refs = _reads(rg, items) | {gw.ref: None for gw in rg.existing_gateways}  # azureState reads them
    return [Existing(r, symbols.add(r, r.names[-1]), r.resource_group != rg.name) for r in refs if r not in created]


def _existing(rg: ResourceGroup, items: list[Item], symbols: Symbols) -> list[Existing]:
    """Stage 2 creates links and peerings; their gateways and VNets all exist by then."""
    return [Existing(r, symbols.add(r, r.names[-1]), r.resource_group != rg.name) for r in _reads(rg, items)]


_TOKENS = re.compile(r"//[^\n]*|'(?:[^'\\\n]|\\.)*'|'|[()\[\]{}]")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _balance(text: str) -> str | None:
    """First unbalanced bracket or unterminated string outside comments, if any."""
    stack: list[str] = []
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == "/" or len(token) > 1:  # a comment or a whole string
            continue
        if token == "'":
            return f"unterminated string on line {text.count(chr(10), 0, match.start()) + 1}"
        if token in "([{":
            stack.append(token)
        elif not stack or stack.pop() != _PAIRS[token]:
            return f"unbalanced '{token}' on line {text.count(chr(10), 0, match.start()) + 1}"
    return f"unclosed '{stack[-1]}'" if stack else None

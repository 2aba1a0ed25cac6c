"""VyOS `set` commands against VyOS's own configuration definitions: check_files(files) -> problems.

The definitions are the XML interface definitions of vyos/vyos-1x (`interface-definitions/`,
read from ../shared/reference/vyos/, see its SOURCE.md). Each `set a b c value` line walks that
tree: a `node` consumes its name, a `tagNode` its name and one tag (checked against the tag
node's constraint), a `leafNode` its name and exactly one value (none when `valueless`). A value
must satisfy the leaf's `<constraint>`: any one of its `<regex>` (anchored, as VyOS does) or
`<validator>`s. Validators are programs in vyos-1x `src/validators/`; the ones implemented here
follow their documented behaviour (`numeric --range A-B`, `--positive`, `--non-negative`,
`ipv4-address`/`ip-address` a single address, `ipv4-prefix` a network with no host bits,
`ipv4-host`/`ip-host` an address with prefix length, ...). A validator that is not implemented, or
one that needs the live system (`file-path --lookup-path /sys/class/net`), does not pass: the value
must then satisfy another part of the constraint. Further:

- a completion `<list>` constrains where the leaf has no `<constraint>` and its documented
  formats (`<valueHelp><format>`) are exactly that list's words;
- a completion `<path>` (e.g. `vti bind` -> `interfaces vti`) must name something the same file
  configures (VyOS refuses a dangling reference at commit);
- a non-`multi` leaf set twice with two values is reported (VyOS keeps only the last).

What this proves: every command exists in VyOS 1.4/1.5 and every value is one VyOS's CLI accepts.
What it does not: that the combination commits (the Python `verify()` of each conf script).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GEN_SHARED", ROOT.parent / "shared"))
DEFINITIONS = SHARED / "reference" / "vyos" / "interface-definitions"
# VyOS's regexes are PCRE: POSIX classes inside brackets, spelled out for Python's re
POSIX = {
    "[:alnum:]": "A-Za-z0-9",
    "[:alpha:]": "A-Za-z",
    "[:digit:]": "0-9",
    "[:xdigit:]": "0-9A-Fa-f",
    "[:lower:]": "a-z",
    "[:upper:]": "A-Z",
    "[:space:]": r" \t\n\r\f\v",
    "[:ascii:]": r"\x00-\x7f",
    "[:punct:]": r"!-/:-@\[-`{-~",
}
INCLUDE = re.compile(r"^\s*#include <([^>]+)>\s*$", re.M)
KINDS = ("node", "tagNode", "leafNode")


class Node:
    """One definition node: its kind, properties and children (includes resolved, duplicates merged)."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.children: dict[str, Node] = {}
        self.regexes: list[str] = []
        self.validators: list[str] = []
        self.valueless = False
        self.multi = False
        self.completion_list: list[str] = []
        self.completion_paths: list[str] = []
        self.formats: list[str] = []
        self.help = ""

    def merge(self, element: ET.Element) -> None:
        props = element.find("properties")
        if props is not None:
            constraint = props.find("constraint")
            if constraint is not None and not (self.regexes or self.validators):
                self.regexes = [r.text or "" for r in constraint.iter("regex")]
                self.validators = [
                    v.get("name", "") + " " + v.get("argument", "") for v in constraint.iter("validator")
                ]
            self.valueless |= props.find("valueless") is not None
            self.multi |= props.find("multi") is not None
            for lst in props.iterfind("completionHelp/list"):
                self.completion_list += (lst.text or "").split()
            for path in props.iterfind("completionHelp/path"):
                self.completion_paths.append((path.text or "").strip())
            self.formats += [(f.text or "").strip() for f in props.iterfind("valueHelp/format")]
            self.help = self.help or (props.findtext("help") or "").strip()
        children = element.find("children")
        if children is not None:
            add_children(self, children)


def add_children(parent: Node, container: ET.Element) -> None:
    for child in container:
        if child.tag in KINDS:
            name = child.get("name", "")
            node = parent.children.get(name)
            if node is None:
                node = parent.children[name] = Node(child.tag, name)
            node.merge(child)


def expand(text: str, depth: int = 0) -> str:
    """The text with every `#include <include/...>` replaced by that file (recursively)."""
    if depth > 20:
        raise AssertionError("VyOS definitions: #include nesting deeper than 20")
    return INCLUDE.sub(lambda m: expand((DEFINITIONS / m.group(1)).read_text(encoding="utf-8"), depth + 1), text)


@cache
def tree() -> Node:
    if not DEFINITIONS.is_dir():
        raise AssertionError(f"VyOS definitions missing at {DEFINITIONS} (../shared/reference/vyos, see its SOURCE.md)")
    root = Node("node", "")
    for path in sorted(DEFINITIONS.glob("*.xml.in")):
        text = expand(path.read_text(encoding="utf-8"))
        add_children(root, ET.fromstring(text))
    return root


# ---------------------------------------------------------------- validators
def _network(value: str, strict: bool) -> bool:
    try:
        ipaddress.ip_network(value, strict=strict)
    except ValueError:
        return False
    return "/" in value


def _host(value: str, version: int) -> bool:
    """ipaddrcheck --is-ipvN-host: address/length, not the network address (below /31)."""
    if "/" not in value:
        return False
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError:
        return False
    net = interface.network
    edge = net.prefixlen < net.max_prefixlen - 1 and interface.ip == net.network_address
    return interface.version == version and not edge


def _address(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _numeric(value: str, argument: str) -> bool:
    words = argument.split()
    allow_range = "--allow-range" in words
    parts = value.split("-", 1) if allow_range and re.fullmatch(r"\d+-\d+", value) else [value]
    if not all(re.fullmatch(r"-?\d+", p) for p in parts):
        return False
    numbers = [int(p) for p in parts]
    ranges = [tuple(int(x) for x in words[i + 1].split("-", 1)) for i, w in enumerate(words) if w == "--range"]
    for n in numbers:
        if "--positive" in words and n <= 0:
            return False
        if "--non-negative" in words and n < 0:
            return False
        if ranges and not any(low <= n <= high for low, high in ranges):
            return False
    return True


VALIDATORS = {
    "ipv4-address": lambda v, a: _address(v, 4),
    "ipv6-address": lambda v, a: _address(v, 6),
    "ip-address": lambda v, a: _address(v, 4) or _address(v, 6),
    "ipv4-prefix": lambda v, a: _network(v, True) and ipaddress.ip_network(v).version == 4,
    "ipv6-prefix": lambda v, a: _network(v, True) and ipaddress.ip_network(v).version == 6,
    "ip-prefix": lambda v, a: _network(v, True),
    "ipv4-host": lambda v, a: _host(v, 4),
    "ipv6-host": lambda v, a: _host(v, 6),
    "ip-host": lambda v, a: _host(v, 4) or _host(v, 6),
    "numeric": _numeric,
    # src/validators/as-number-list: every space-separated word passes `numeric --range 1-4294967294`
    "as-number-list": lambda v, a: bool(v.split()) and all(_numeric(w, "--range 1-4294967294") for w in v.split()),
}


@cache
def pcre(regex: str) -> str:
    for posix, spelled in POSIX.items():
        regex = regex.replace(posix, spelled)
    return regex


def value_ok(node: Node, value: str) -> bool:
    if not (node.regexes or node.validators):
        words = set(node.completion_list)
        if words and node.formats and set(node.formats) <= words:
            return value in words
        return True
    if any(re.fullmatch(pcre(regex), value) for regex in node.regexes):
        return True
    for validator in node.validators:
        name, _, argument = validator.strip().partition(" ")
        check = VALIDATORS.get(name)
        if check is not None and check(value, argument):
            return True
    return False


def _why(node: Node) -> str:
    parts = [f"regex {r}" for r in node.regexes] + [f"validator {v.strip()}" for v in node.validators]
    text = " or ".join(parts) or f"one of {' '.join(node.completion_list)}"
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------- walking
def walk(words: list[str]) -> tuple[str | None, Node | None, str | None]:
    """(problem, leaf node, value) for one `set` command's words."""
    node = tree()
    i = 0
    while i < len(words):
        word = words[i]
        child = node.children.get(word)
        if child is None:
            return f"'{word}' is no child of '{' '.join(words[:i]) or 'the root'}'", None, None
        i += 1
        if child.kind == "tagNode":
            if i == len(words):
                return f"tag node '{' '.join(words[:i])}' needs a name", None, None
            if not value_ok(child, words[i]):
                return f"tag '{words[i]}' of '{' '.join(words[:i])}' fails {_why(child)}", None, None
            i += 1
        elif child.kind == "leafNode":
            rest = words[i:]
            if child.valueless:
                return (f"'{' '.join(words[:i])}' takes no value" if rest else None), child, None
            if len(rest) != 1:
                return f"'{' '.join(words[:i])}' takes exactly one value, got {len(rest)}", None, None
            if not value_ok(child, rest[0]):
                return f"value '{rest[0]}' of '{' '.join(words[:i])}' fails {_why(child)}", None, None
            return None, child, rest[0]
        node = child
    return None, None, None


def check_text(text: str) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, ...], str] = {}
    configured: list[tuple[str, ...]] = []
    references: list[tuple[int, str, str]] = []
    versions: list[tuple[int, tuple[str, ...], str]] = []  # leaves the definitions mark "(IKEvN only)"
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            problems.append(f"line {number}: cannot split: {exc}")
            continue
        if words[0] != "set":
            problems.append(f"line {number}: not a set command: {words[0]}")
            continue
        problem, leaf, value = walk(words[1:])
        if problem:
            problems.append(f"line {number}: {problem}")
            continue
        configured.append(tuple(words[1:]))
        if leaf is not None and value is not None:
            path = tuple(words[1:-1])
            if not leaf.multi and seen.setdefault(path, value) != value:
                problems.append(f"line {number}: '{' '.join(path)}' set twice ('{seen[path]}', then '{value}')")
            for reference in leaf.completion_paths:
                references.append((number, reference, value))
        if leaf is not None:
            for version in ("IKEv1", "IKEv2"):
                if f"({version} only)" in leaf.help:
                    versions.append((number, tuple(words[1:5]), version))
    for number, reference, value in references:
        want = (*reference.split(), value)
        if not any(c[: len(want)] == want for c in configured):
            problems.append(f"line {number}: '{value}' refers to '{reference} {value}', which the file does not set")
    for number, group, version in versions:  # e.g. dead-peer-detection timeout under key-exchange ikev2
        other = "ikev2" if version == "IKEv1" else "ikev1"
        if (*group, "key-exchange", other) in configured:
            problems.append(f"line {number}: '{' '.join(group)}' is {other}, and this leaf is {version} only")
    return problems


def check_files(files: dict[str, str]) -> list[str]:
    """Problems of every `*.vyos` file under onprem/ (empty when all pass)."""
    problems = []
    for path, text in sorted(files.items()):
        if path.startswith("onprem/") and path.endswith(".vyos"):
            problems += [f"{path}: {p}" for p in check_text(text)]
    return problems

"""FortiOS CLI files against a table of what Fortinet's CLI reference documents: check_files(files) -> problems.

Fortinet publishes no offline configuration checker, so this is a structural parse written here,
independent of the platform's own read-back parser (generator/platforms/fortigate.py):

- the file is tokenised as the FortiOS CLI does (words, double-quoted strings with backslash
  escapes); an unterminated quote is an error;
- `config` / `edit` / `next` / `end` are balanced: `edit` only inside a table, `next` closes an
  `edit`, `end` closes a `config`, nothing is left open at the end of the file;
- every `config` path (top level, and nested ones such as `router bgp` -> `neighbor`) is in TABLE,
  with whether it is a table (entries by `edit`) or a single object, and every `set` keyword is one
  the CLI reference lists for that block (URL per block below); enumerated keywords must take one
  of their documented values, numbers must be numbers in the documented range, addresses addresses;
- references resolve: a phase 2 names a phase 1 of the file, a tunnel interface / zone member /
  route device / BGP update-source is a phase 1 (or a named outside/LAN interface), a route-map
  names a prefix-list of the file, a neighbour names route-maps of the file, an address group and a
  policy name addresses and groups of the file;
- what Azure needs is there: IKEv2, MSS 1350 on every tunnel interface, any-to-any phase 2
  selectors, one /32 route into its tunnel for every BGP neighbour, multihop and update-source on
  every neighbour;
- the commented removal section (`# config ...` after "---- to remove") parses the same way, with
  `delete` allowed.

What this proves: every block and keyword is one Fortinet documents for FortiOS 7.x and every
object the file refers to is defined in it. What it does not: that a FortiGate accepts the
combination (e.g. an interface name that does not exist on the box, a model without that port),
nor anything about runtime behaviour. Keyword lists: FortiOS 7.4 CLI Reference
(https://docs.fortinet.com/document/fortigate/7.4.4/cli-reference), cross-checked with Fortinet's
FortiOS Ansible collection module schemas (generated from the FortiOS CLI schema per release).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field

ANSIBLE = "https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_{}_module.html"
ENABLE = ("enable", "disable")
_PHASE1_PROPOSALS = {
    f"{enc}-{h}"
    for enc in ("des", "3des", "aes128", "aes192", "aes256")
    for h in ("md5", "sha1", "sha256", "sha384", "sha512")
} | {f"{g}-prf{h}" for g in ("aes128gcm", "aes256gcm") for h in ("sha1", "sha256", "sha384", "sha512")}
_PHASE2_PROPOSALS = (
    {
        f"{enc}-{h}"
        for enc in ("null", "des", "3des", "aes128", "aes192", "aes256")
        for h in ("md5", "sha1", "sha256", "sha384", "sha512")
    }
    | {f"{enc}-null" for enc in ("des", "3des", "aes128", "aes192", "aes256")}
    | {"aes128gcm", "aes256gcm", "chacha20poly1305"}
)
_DH = ("1", "2", "5", "14", "15", "16", "17", "18", "19", "20", "21", "27", "28", "29", "30", "31", "32")


@dataclass(frozen=True)
class Block:
    url: str
    table: bool  # entries by `edit <name>` (True) or one object (False)
    keywords: dict[str, object]  # keyword -> None (any), tuple of values, "int:A-B", "ipmask", "ip", "list"
    children: tuple[str, ...] = ()


# Keyword tables: the keywords the 7.4 CLI reference lists for each block, restricted to those a
# site-to-site configuration can use (a keyword outside the table is reported, so the table is what
# this project has checked against the reference, not the full CLI).
TABLE: dict[str, Block] = {
    "system settings": Block(
        "https://docs.fortinet.com/document/fortigate/7.2.9/cli-reference/130421147",
        False,
        {
            "allow-subnet-overlap": ENABLE,
            "asymroute": ENABLE,
            "auxiliary-session": ENABLE,
            "ecmp-max-paths": "int:1-255",
        },
    ),
    "vpn ipsec phase1-interface": Block(
        "https://docs.fortinet.com/document/container-fortios/7.2.1/cli-reference/305883427 "
        + ANSIBLE.format("vpn_ipsec_phase1_interface"),
        True,
        {
            "type": ("static", "dynamic", "ddns"),
            "interface": None,
            "ike-version": ("1", "2"),
            "peertype": ("any", "one", "dialup", "peer", "peergrp"),
            "net-device": ENABLE,
            "proposal": ("list", _PHASE1_PROPOSALS),
            "dhgrp": ("list", set(_DH)),
            "localid-type": ("auto", "fqdn", "user-fqdn", "keyid", "address", "asn1dn"),
            "localid": None,
            "keylife": "int:120-172800",
            "dpd": ("disable", "on-idle", "on-demand"),
            "dpd-retryinterval": "int:1-3600",
            "dpd-retrycount": "int:0-10",
            "remote-gw": "ip",
            "local-gw": "ip",
            "psksecret": None,
            "authmethod": ("psk", "signature"),
            "nattraversal": ("enable", "disable", "forced"),
            "add-route": ENABLE,
            "auto-negotiate": ENABLE,
            "comments": None,
        },
    ),
    "vpn ipsec phase2-interface": Block(
        "https://docs.fortinet.com/document/fortigate/7.0.3/cli-reference/372620 "
        + ANSIBLE.format("vpn_ipsec_phase2_interface"),
        True,
        {
            "phase1name": None,
            "proposal": ("list", _PHASE2_PROPOSALS),
            "pfs": ENABLE,
            "dhgrp": ("list", set(_DH)),
            "keylife-type": ("seconds", "kbs", "both"),
            "keylifeseconds": "int:120-172800",
            "keylifekbs": "int:5120-4294967295",
            "auto-negotiate": ENABLE,
            "replay": ENABLE,
            "src-addr-type": ("subnet", "range", "ip", "name"),
            "dst-addr-type": ("subnet", "range", "ip", "name"),
            "src-subnet": "ipmask",
            "dst-subnet": "ipmask",
            "comments": None,
        },
    ),
    "system interface": Block(
        ANSIBLE.format("system_interface"),
        True,
        {
            "vdom": None,
            "ip": "ipmask",
            "remote-ip": "ipmask",
            "allowaccess": ("list", {"ping", "https", "ssh", "snmp", "http", "telnet", "fgfm", "probe-response"}),
            "tcp-mss": "int:48-65535",
            "description": None,
            "alias": None,
            "type": None,
            "interface": None,
            "mtu-override": ENABLE,
            "mtu": "int:68-9216",
        },
    ),
    "system zone": Block(
        ANSIBLE.format("system_zone"), True, {"intrazone": ("allow", "deny"), "interface": "list", "description": None}
    ),
    "router static": Block(
        ANSIBLE.format("router_static"),
        True,
        {
            "dst": "ipmask",
            "gateway": "ip",
            "device": None,
            "distance": "int:1-255",
            "priority": "int:0-65535",
            "blackhole": ENABLE,
            "comment": None,
            "status": ENABLE,
        },
    ),
    "router prefix-list": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.3/cli-reference/197238270",
        True,
        {"comments": None},
        ("rule",),
    ),
    "router prefix-list/rule": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.3/cli-reference/197238270",
        True,
        {"action": ("permit", "deny"), "prefix": "ipmask", "ge": "int:0-32", "le": "int:0-32"},
    ),
    "router route-map": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.0/cli-reference/519620", True, {"comments": None}, ("rule",)
    ),
    "router route-map/rule": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.0/cli-reference/519620",
        True,
        {
            "action": ("permit", "deny"),
            "match-ip-address": None,
            "set-aspath-action": ("prepend", "replace"),
            "set-aspath": "list",
            "set-local-preference": "int:0-4294967295",
            "set-metric": "int:0-4294967295",
            "set-community": "list",
        },
    ),
    "router bgp": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.2/cli-reference/542620 " + ANSIBLE.format("router_bgp"),
        False,
        {
            "as": "int:1-4294967295",
            "router-id": "ip",
            "ebgp-multipath": ENABLE,
            "keepalive-timer": "int:0-65535",
            "holdtime-timer": "int:3-65535",
            "log-neighbour-changes": ENABLE,
            "graceful-restart": ENABLE,
            "network-import-check": ENABLE,
        },
        ("neighbor", "network"),
    ),
    "router bgp/neighbor": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.2/cli-reference/542620 " + ANSIBLE.format("router_bgp"),
        True,
        {
            "description": None,
            "remote-as": "int:1-4294967295",
            "ebgp-enforce-multihop": ENABLE,
            "ebgp-multihop-ttl": "int:1-255",
            "update-source": None,
            "soft-reconfiguration": ENABLE,
            "route-map-in": None,
            "route-map-out": None,
            "prefix-list-in": None,
            "prefix-list-out": None,
            "maximum-prefix": "int:1-4294967295",
            "maximum-prefix-threshold": "int:1-100",
            "maximum-prefix-warning-only": ENABLE,
            "keep-alive-timer": "int:0-65535",
            "holdtime-timer": "int:3-65535",
            "connect-timer": "int:1-65535",
            "allowas-in-enable": ENABLE,
            "allowas-in": "int:1-10",
            "bfd": ENABLE,
            "link-down-failover": ENABLE,
        },
    ),
    "router bgp/network": Block(
        "https://docs.fortinet.com/document/fortigate/7.4.2/cli-reference/542620 " + ANSIBLE.format("router_bgp"),
        True,
        {"prefix": "ipmask", "route-map": None},
    ),
    "firewall address": Block(
        ANSIBLE.format("firewall_address"),
        True,
        {"type": ("ipmask", "iprange", "fqdn"), "subnet": "ipmask", "comment": None, "allow-routing": ENABLE},
    ),
    "firewall addrgrp": Block(ANSIBLE.format("firewall_addrgrp"), True, {"member": "list", "comment": None}),
    "firewall policy": Block(
        ANSIBLE.format("firewall_policy"),
        True,
        {
            "name": None,
            "srcintf": "list",
            "dstintf": "list",
            "srcaddr": "list",
            "dstaddr": "list",
            "action": ("accept", "deny", "ipsec"),
            "schedule": None,
            "service": "list",
            "logtraffic": ("all", "utm", "disable"),
            "nat": ENABLE,
            "comments": None,
            "tcp-mss-sender": "int:0-65535",
            "tcp-mss-receiver": "int:0-65535",
        },
    ),
}


@dataclass
class Entry:
    path: str
    name: str
    line: int
    sets: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[Entry]] = field(default_factory=dict)


def _value_problems(block: str, key: str, spec: object, values: list[str]) -> list[str]:
    if not values:
        return [f"{block}: set {key} without a value"]
    if spec is None:
        return [] if len(values) == 1 else [f"{block}: set {key} takes one value, got {values}"]
    if spec == "list":
        return []
    if isinstance(spec, tuple) and spec and spec[0] == "list" and isinstance(spec[1], set):
        bad = [v for v in values if v not in spec[1]]
        return [f"{block}: set {key}: {bad} not documented values"] if bad else []
    if isinstance(spec, tuple):
        return [] if len(values) == 1 and values[0] in spec else [f"{block}: set {key} {values}: not one of {spec}"]
    if isinstance(spec, str) and spec.startswith("int:"):
        low, high = (int(x) for x in spec[4:].split("-"))
        ok = len(values) == 1 and values[0].isdigit() and low <= int(values[0]) <= high
        return [] if ok else [f"{block}: set {key} {values}: not an integer {low}-{high}"]
    try:
        if spec == "ip" and len(values) == 1:
            ipaddress.IPv4Address(values[0])
            return []
        if spec == "ipmask" and len(values) == 2:
            ipaddress.IPv4Network(f"{values[0]}/{values[1]}", strict=key not in ("ip", "remote-ip"))
            return []
    except ValueError as exc:
        return [f"{block}: set {key} {values}: {exc}"]
    return [f"{block}: set {key} {values}: not an {spec}"]


def parse(text: str, allow_delete: bool = False) -> tuple[dict[str, list[Entry]], list[str]]:
    """Top-level blocks -> entries (an object block is one entry named ''), and problems."""
    top: dict[str, list[Entry]] = {}
    problems: list[str] = []
    # stack items: (kind, path, entry); kind "config" or "edit"
    stack: list[tuple[str, str, Entry | None]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, posix=True)
        except ValueError as exc:
            problems.append(f"line {n}: {exc}: {line}")
            continue
        head, rest = words[0], words[1:]
        where = f"line {n}"
        if head == "config":
            name = " ".join(rest)
            parent = stack[-1] if stack else None
            if parent is None:
                path = name
            elif parent[0] == "edit" or not TABLE.get(parent[1], Block("", True, {})).table:
                path = f"{parent[1]}/{name}"
            else:
                problems.append(f"{where}: config {name} directly inside table {parent[1]} (needs edit)")
                path = f"{parent[1]}/{name}"
            block = TABLE.get(path)
            if block is None:
                problems.append(f"{where}: config {path.replace('/', ' > ')} is not in the checked CLI table")
            elif parent is not None and name not in TABLE[parent[1]].children:
                problems.append(f"{where}: config {name} is not a sub-block of {parent[1]}")
            entry = Entry(path, "", n) if block is not None and not block.table else None
            if entry is not None:
                owner = next((s[2] for s in reversed(stack) if s[2] is not None), None)
                if owner is None:
                    top.setdefault(path, []).append(entry)
                else:
                    owner.children.setdefault(name, []).append(entry)
            stack.append(("config", path, entry))
        elif head == "edit":
            if not stack or stack[-1][0] != "config":
                problems.append(f"{where}: edit outside a config block")
                continue
            path = stack[-1][1]
            if path in TABLE and not TABLE[path].table:
                problems.append(f"{where}: edit inside {path}, which is a single object")
            if len(rest) != 1:
                problems.append(f"{where}: edit takes one name, got {rest}")
            entry = Entry(path, rest[0] if rest else "", n)
            owner = next((s[2] for s in reversed(stack[:-1]) if s[2] is not None), None)
            if owner is None:
                top.setdefault(path, []).append(entry)
            else:
                owner.children.setdefault(path.rsplit("/", 1)[-1], []).append(entry)
            stack.append(("edit", path, entry))
        elif head == "next":
            if not stack or stack[-1][0] != "edit":
                problems.append(f"{where}: next without edit")
                continue
            stack.pop()
        elif head == "end":
            if not stack or stack[-1][0] != "config":
                problems.append(f"{where}: end without config (or an edit left open)")
                continue
            stack.pop()
        elif head in ("set", "unset"):
            if not stack:
                problems.append(f"{where}: {head} outside any config block")
                continue
            kind, path, entry = stack[-1]
            block = TABLE.get(path)
            if block is not None and block.table and kind != "edit":
                problems.append(f"{where}: {head} directly inside table {path} (needs edit)")
                continue
            if not rest:
                problems.append(f"{where}: {head} without a keyword")
                continue
            if block is not None:
                if rest[0] not in block.keywords:
                    problems.append(
                        f"{where}: {path}: '{rest[0]}' is not a documented keyword ({block.url.split()[0]})"
                    )
                elif head == "set":
                    problems += [
                        f"{where}: {p}" for p in _value_problems(path, rest[0], block.keywords[rest[0]], rest[1:])
                    ]
            if entry is not None and head == "set":
                if rest[0] in entry.sets:
                    problems.append(f"{where}: {path}: {rest[0]} set twice in one entry")
                entry.sets[rest[0]] = rest[1:]
        elif head == "delete" and allow_delete:
            if not stack or stack[-1][0] != "config" or len(rest) != 1:
                problems.append(f"{where}: delete must name one entry inside a config block")
        else:
            problems.append(f"{where}: '{head}' is not a configuration command")
    for kind, path, _entry in stack:
        problems.append(f"{kind} {path} never closed at the end of the file")
    return top, problems


def _names(top: dict[str, list[Entry]], path: str) -> set[str]:
    return {e.name for e in top.get(path, [])}


def structure(top: dict[str, list[Entry]]) -> list[str]:
    """References resolve and what Azure needs is there."""
    problems: list[str] = []
    phase1 = {e.name: e for e in top.get("vpn ipsec phase1-interface", [])}
    if not phase1:
        problems.append("no vpn ipsec phase1-interface")
    for name, p1 in phase1.items():
        if len(name) > 15:
            problems.append(f"phase1-interface {name}: longer than 15 characters")
        for key, want in (("ike-version", ["2"]), ("type", ["static"])):
            if p1.sets.get(key) != want:
                problems.append(f"phase1-interface {name}: {key} is {p1.sets.get(key)}, not {want}")
        for need in ("interface", "remote-gw", "psksecret", "proposal", "dhgrp", "keylife"):
            if need not in p1.sets:
                problems.append(f"phase1-interface {name}: no {need}")
    phase2 = top.get("vpn ipsec phase2-interface", [])
    for p2 in phase2:
        ref = p2.sets.get("phase1name", [""])[0]
        if ref not in phase1:
            problems.append(f"phase2-interface {p2.name}: phase1name {ref!r} is not a phase1-interface of the file")
        for key in ("src-subnet", "dst-subnet"):
            if p2.sets.get(key) != ["0.0.0.0", "0.0.0.0"]:
                problems.append(f"phase2-interface {p2.name}: {key} is not any (0.0.0.0 0.0.0.0)")
        if p2.sets.get("pfs") == ["enable"] and "dhgrp" not in p2.sets:
            problems.append(f"phase2-interface {p2.name}: pfs enable without dhgrp")
    if {p.sets.get("phase1name", [""])[0] for p in phase2} != set(phase1):
        problems.append("not every phase1-interface has a phase2-interface")
    tunnels = {e.name: e for e in top.get("system interface", []) if e.name in phase1}
    for name in phase1:
        iface = tunnels.get(name)
        if iface is None or iface.sets.get("tcp-mss") != ["1350"]:
            problems.append(f"tunnel interface {name}: no tcp-mss 1350")
    ips = [tuple(e.sets["ip"]) for e in tunnels.values() if "ip" in e.sets]
    if len(ips) != len(set(ips)):
        settings = top.get("system settings", [Entry("", "", 0)])[0]
        if settings.sets.get("allow-subnet-overlap") != ["enable"]:
            problems.append("two tunnel interfaces share an address without allow-subnet-overlap enable")
    zones = {e.name: e for e in top.get("system zone", [])}
    for zone in zones.values():
        for member in zone.sets.get("interface", []):
            if member not in phase1:
                problems.append(f"zone {zone.name}: member {member} is not a tunnel interface of the file")
    routes = top.get("router static", [])
    for r in routes:
        device = r.sets.get("device", [""])[0]
        if r.sets.get("blackhole") != ["enable"] and device not in phase1:
            problems.append(f"static route {r.sets.get('dst')}: device {device!r} is not a tunnel of the file")
    lists = _names(top, "router prefix-list")
    maps = {e.name: e for e in top.get("router route-map", [])}
    for rm in maps.values():
        for rule in rm.children.get("rule", []):
            ref = rule.sets.get("match-ip-address", [""])[0]
            if ref not in lists:
                problems.append(f"route-map {rm.name} rule {rule.name}: prefix-list {ref!r} not defined")
    for bgp in top.get("router bgp", []):
        neighbors = bgp.children.get("neighbor", [])
        if not neighbors:
            problems.append("router bgp without neighbours")
        for nb in neighbors:
            for need in ("remote-as", "ebgp-enforce-multihop", "update-source", "route-map-in", "route-map-out"):
                if need not in nb.sets:
                    problems.append(f"neighbour {nb.name}: no {need}")
            for key in ("route-map-in", "route-map-out"):
                if key in nb.sets and nb.sets[key][0] not in maps:
                    problems.append(f"neighbour {nb.name}: {key} {nb.sets[key][0]!r} not defined")
            source = nb.sets.get("update-source", [""])[0]
            into = {r.sets.get("device", [""])[0] for r in routes if r.sets.get("dst") == [nb.name, "255.255.255.255"]}
            if source not in phase1 or source not in into:
                problems.append(f"neighbour {nb.name}: no /32 route into its update-source tunnel {source!r}")
    addresses = _names(top, "firewall address")
    groups = {e.name: e for e in top.get("firewall addrgrp", [])}
    for group in groups.values():
        for member in group.sets.get("member", []):
            if member not in addresses:
                problems.append(f"addrgrp {group.name}: member {member!r} not defined")
    for policy in top.get("firewall policy", []):
        label = policy.sets.get("name", [policy.name])[0]
        for key in ("srcaddr", "dstaddr"):
            for ref in policy.sets.get(key, []):
                if ref not in addresses | set(groups) | {"all"}:
                    problems.append(f"policy {label}: {key} {ref!r} not defined")
        for key in ("srcintf", "dstintf"):
            if not policy.sets.get(key):
                problems.append(f"policy {label}: no {key}")
        if policy.sets.get("action") != ["accept"]:
            problems.append(f"policy {label}: action is not accept")
    return problems


REMOVAL = re.compile(r"^# ---- to remove what this file added.*$", re.M)


def check_text(text: str) -> list[str]:
    top, problems = parse(text)
    problems += structure(top) if not problems else []
    found = REMOVAL.search(text)
    if not found:
        return problems + ["no removal section"]
    removal = "\n".join(
        line[2:] for line in text[found.end() :].splitlines() if line.startswith("# ") and not line.startswith("# (")
    )
    _, undo = parse(removal, allow_delete=True)
    return problems + [f"removal section: {p}" for p in undo]


def check_files(files: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for path, text in sorted(files.items()):
        if path.endswith(".fortios.conf"):
            problems += [f"{path}: {p}" for p in check_text(text)]
    return problems

"""Structural validator for Cisco ASA files (`*.asa.cfg`): ciscoconfparse2 with syntax='asa'.

No offline ASA parser exists (the ASA CLI parser runs only on the device or ASAv), so this proves the
structure ciscoconfparse2 gives a config, against what Cisco documents for each block (the
sources are cited in generator/platforms/cisco_asa.py):

- every top-level command is one of the commands the platform renders, and every child of every
  block is a command that block takes, with values from the documented value lists (IKEv2
  encryption/integrity/group/PRF, ESP encryption/integrity, PFS groups, DPD ranges);
- references resolve: VTI -> IPsec profile -> IPsec proposal; VTI destination -> an ipsec-l2l tunnel
  group of that name with both pre-shared keys equal; VTI source -> a nameif with `crypto ikev2
  enable`; routes -> a VTI nameif; route-map -> prefix-list; BGP neighbour -> route-maps;
- values Azure dictates: IKE lifetime <= 28800 s, child SA lifetime <= 27000 s, AES-GCM with
  integrity null, `sysopt connection tcpmss 1350`, BGP timers 60 180, multihop, a maximum-prefix, and
  each neighbour's /32 route over a VTI whose /31 address is the BGP source;
- no /32 interface mask (ASA refuses it) and no access rule (a VTI needs none).

What it cannot prove: that the ASA accepts each line (command syntax beyond these lists, release
differences), that the keys or Azure's addresses are right (the cross-side check does that), or
that IKE and BGP come up (no ASA in the lab).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

IKE_ENCRYPTION = {"aes", "aes-192", "aes-256", "aes-gcm", "aes-gcm-192", "aes-gcm-256", "3des", "des"}
IKE_INTEGRITY = {"md5", "sha", "sha256", "sha384", "sha512", "null"}
PRF = {"md5", "sha", "sha256", "sha384", "sha512"}
DH_GROUPS = {"1", "2", "5", "14", "15", "16", "19", "20", "21", "24", "31"}
ESP_ENCRYPTION = {
    "aes",
    "aes-192",
    "aes-256",
    "aes-gcm",
    "aes-gcm-192",
    "aes-gcm-256",
    "aes-gmac",
    "3des",
    "des",
    "null",
}
ESP_INTEGRITY = {"md5", "sha-1", "sha-256", "sha-384", "sha-512", "null"}
PFS = {f"group{n}" for n in (1, 2, 5, 14, 15, 16, 19, 20, 21, 24, 31)}
NAMEIF = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,47}")

# the children each block takes (regex per child line, stripped)
CHILDREN = {
    r"crypto ikev2 policy \d+": (
        r"encryption (\S+)",
        r"integrity (\S+)",
        r"group (\S+)",
        r"prf (\S+)",
        r"lifetime seconds (\d+)",
    ),
    r"crypto ipsec ikev2 ipsec-proposal \S+": (r"protocol esp encryption (\S+)", r"protocol esp integrity (\S+)"),
    r"crypto ipsec profile \S+": (
        r"set ikev2 ipsec-proposal (\S+)",
        r"set pfs (\S+)",
        r"set security-association lifetime seconds (\d+)",
    ),
    r"tunnel-group \S+ ipsec-attributes": (
        r"ikev2 remote-authentication pre-shared-key (\S+)",
        r"ikev2 local-authentication pre-shared-key (\S+)",
        r"isakmp keepalive threshold (\d+) retry (\d+)",
    ),
    r"interface Tunnel\d+": (
        r"description .+",
        r"nameif (\S+)",
        r"ip address (\S+) (\S+)",
        r"tunnel source interface (\S+)",
        r"tunnel destination (\S+)",
        r"tunnel mode ipsec ipv4",
        r"tunnel protection ipsec profile (\S+)",
    ),
    r"route-map \S+ permit \d+": (
        r"match ip address prefix-list (\S+)",
        r"set as-path prepend [\d ]+",
        r"set local-preference \d+",
    ),
    r"router bgp \d+": (r"bgp log-neighbor-changes", r"address-family ipv4 unicast", r"exit-address-family"),
    r"address-family ipv4 unicast": (
        r"neighbor (\S+) remote-as \d+",
        r"neighbor (\S+) description .+",
        r"neighbor (\S+) ebgp-multihop \d+",
        r"neighbor (\S+) timers (\d+) (\d+)",
        r"neighbor (\S+) activate",
        r"neighbor (\S+) route-map (\S+) (in|out)",
        r"neighbor (\S+) maximum-prefix \d+ \d+ restart \d+",
        r"network \S+ mask \S+",
    ),
}
# top-level commands without children
LEAVES = (
    r"crypto ikev2 enable \S+",
    r"crypto isakmp identity address",
    r"tunnel-group \S+ type ipsec-l2l",
    r"sysopt connection tcpmss \d+",
    r"route \S+ \S+ \S+ \S+ \d+",
    r"prefix-list \S+ seq \d+ (?:permit|deny) \S+",
    r"end",
)


def check_files(files: dict[str, str]) -> list[str]:
    """Problems of every `*.asa.cfg` file (empty when all pass)."""
    problems = []
    for path, text in sorted(files.items()):
        if path.endswith(".asa.cfg"):
            problems += [f"{path}: {p}" for p in check_text(text)]
    return problems


def _match(patterns, line: str):
    return next((m for p in patterns if (m := re.fullmatch(p, line))), None)


def check_text(text: str) -> list[str]:
    from ciscoconfparse2 import CiscoConfParse

    parse = CiscoConfParse(text.splitlines(), syntax="asa")
    problems: list[str] = []
    top = [o for o in parse.find_objects(r"^\S") if not o.text.startswith("!")]
    blocks: dict[str, list[str]] = {}
    for obj in top:
        line = obj.text.strip()
        kind = next((k for k in CHILDREN if re.fullmatch(k, line)), None)
        if kind is None:
            if not _match(LEAVES, line):
                problems.append(f"line {obj.linenum + 1}: unknown top-level command {line!r}")
            elif obj.children:
                problems.append(f"line {obj.linenum + 1}: {line!r} takes no children")
            continue
        kids = []
        for child in obj.children:
            kid = child.text.strip()
            sub = next((k for k in CHILDREN if re.fullmatch(k, kid)), None)
            if sub is not None and sub != kind and kind == r"router bgp \d+":
                for grandchild in child.children:
                    if not _match(CHILDREN[sub], grandchild.text.strip()):
                        problems.append(f"{line} / {kid}: unknown child {grandchild.text.strip()!r}")
                    kids.append(grandchild.text.strip())
            if not _match(CHILDREN[kind], kid):
                problems.append(f"{line}: unknown child {kid!r}")
            kids.append(kid)
        blocks[line] = kids
    lines = [o.text.strip() for o in top]

    def children(pattern: str) -> dict[str, list[str]]:
        return {k: v for k, v in blocks.items() if re.fullmatch(pattern, k)}

    def value(kids: list[str], pattern: str) -> re.Match | None:
        return next((m for k in kids if (m := re.fullmatch(pattern, k))), None)

    # IKEv2 policies
    for name, kids in children(r"crypto ikev2 policy \d+").items():
        enc, integ = value(kids, r"encryption (\S+)"), value(kids, r"integrity (\S+)")
        group, prf, life = (
            value(kids, r"group (\S+)"),
            value(kids, r"prf (\S+)"),
            value(kids, r"lifetime seconds (\d+)"),
        )
        if not (enc and integ and group and prf and life):
            problems.append(f"{name}: needs encryption, integrity, group, prf and lifetime seconds")
            continue
        if (
            enc[1] not in IKE_ENCRYPTION
            or integ[1] not in IKE_INTEGRITY
            or group[1] not in DH_GROUPS
            or prf[1] not in PRF
        ):
            problems.append(f"{name}: value not in Cisco's lists: {kids}")
        if enc[1].startswith("aes-gcm") != (integ[1] == "null"):
            problems.append(f"{name}: AES-GCM needs integrity null (and only AES-GCM)")
        if int(life[1]) > 28800:
            problems.append(f"{name}: IKE lifetime {life[1]} above Azure's 28800")
    enabled = {m[1] for line in lines if (m := re.fullmatch(r"crypto ikev2 enable (\S+)", line))}
    # IPsec proposals and profiles
    proposals = children(r"crypto ipsec ikev2 ipsec-proposal \S+")
    for name, kids in proposals.items():
        enc, integ = value(kids, r"protocol esp encryption (\S+)"), value(kids, r"protocol esp integrity (\S+)")
        if not (enc and integ) or enc[1] not in ESP_ENCRYPTION or integ[1] not in ESP_INTEGRITY:
            problems.append(f"{name}: needs protocol esp encryption/integrity from Cisco's lists: {kids}")
        elif enc[1].startswith("aes-gcm") != (integ[1] == "null"):
            problems.append(f"{name}: AES-GCM needs integrity null (and only AES-GCM)")
    profiles = children(r"crypto ipsec profile \S+")
    for name, kids in profiles.items():
        ref, pfs = value(kids, r"set ikev2 ipsec-proposal (\S+)"), value(kids, r"set pfs (\S+)")
        life = value(kids, r"set security-association lifetime seconds (\d+)")
        if not ref or f"crypto ipsec ikev2 ipsec-proposal {ref[1]}" not in proposals:
            problems.append(f"{name}: ipsec-proposal missing or unknown")
        if pfs and pfs[1] not in PFS:
            problems.append(f"{name}: pfs {pfs[1]} not one of Cisco's groups")
        if not life or int(life[1]) > 27000:
            problems.append(f"{name}: child SA lifetime missing or above Azure's 27000")
    # tunnel groups
    groups = {m[1] for line in lines if (m := re.fullmatch(r"tunnel-group (\S+) type ipsec-l2l", line))}
    for name, kids in children(r"tunnel-group \S+ ipsec-attributes").items():
        peer = name.split()[1]
        remote = value(kids, r"ikev2 remote-authentication pre-shared-key (\S+)")
        local = value(kids, r"ikev2 local-authentication pre-shared-key (\S+)")
        dpd = value(kids, r"isakmp keepalive threshold (\d+) retry (\d+)")
        if peer not in groups:
            problems.append(f"{name}: no 'tunnel-group {peer} type ipsec-l2l' before it")
        if not (remote and local) or remote[1] != local[1]:
            problems.append(f"{name}: local and remote pre-shared keys missing or different")
        if not dpd or not (10 <= int(dpd[1]) <= 3600 and 2 <= int(dpd[2]) <= 10):
            problems.append(f"{name}: isakmp keepalive threshold 10-3600 retry 2-10 missing")
    # VTIs
    vtis: dict[str, IPv4Network] = {}
    for name, kids in children(r"interface Tunnel\d+").items():
        nameif, address = value(kids, r"nameif (\S+)"), value(kids, r"ip address (\S+) (\S+)")
        source, dest = value(kids, r"tunnel source interface (\S+)"), value(kids, r"tunnel destination (\S+)")
        profile = value(kids, r"tunnel protection ipsec profile (\S+)")
        if not nameif or not NAMEIF.fullmatch(nameif[1]):
            problems.append(f"{name}: nameif missing or invalid")
            continue
        if not address:
            problems.append(f"{name}: no ip address")
            continue
        net = IPv4Network(f"{address[1]}/{address[2]}", strict=False)
        if net.prefixlen == 32:
            problems.append(f"{name}: a /32 interface mask (ASA takes /31 at most)")
        vtis[nameif[1]] = net
        if not source or source[1] not in enabled:
            problems.append(f"{name}: tunnel source missing, or IKEv2 not enabled on it")
        if not dest or dest[1] not in groups:
            problems.append(f"{name}: destination without an ipsec-l2l tunnel-group of that name")
        if "tunnel mode ipsec ipv4" not in kids:
            problems.append(f"{name}: not tunnel mode ipsec ipv4")
        if not profile or f"crypto ipsec profile {profile[1]}" not in profiles:
            problems.append(f"{name}: ipsec profile missing or unknown")
    if "sysopt connection tcpmss 1350" not in lines:
        problems.append("no sysopt connection tcpmss 1350")
    if any(line.startswith(("access-list", "access-group")) for line in lines):
        problems.append("access rules rendered (a VTI needs none)")
    routes: dict[str, str] = {}
    for line in lines:
        if m := re.fullmatch(r"route (\S+) (\S+) (\S+) (\S+) (\d+)", line):
            if m[1] not in vtis:
                problems.append(f"{line!r}: not over a VTI of this file")
            IPv4Network(f"{m[2]}/{m[3]}")  # raises on a bad network/mask
            if m[3] == "255.255.255.255":
                routes[m[2]] = m[1]
    # route policy
    prefix_lists: set[str] = set()
    for line in lines:
        if m := re.fullmatch(r"prefix-list (\S+) seq \d+ (?:permit|deny) (\S+)", line):
            IPv4Network(m[2])  # raises on a non-network prefix
            prefix_lists.add(m[1])
    route_maps = set()
    for name, kids in children(r"route-map \S+ permit \d+").items():
        route_maps.add(name.split()[1])
        ref = value(kids, r"match ip address prefix-list (\S+)")
        if not ref or ref[1] not in prefix_lists:
            problems.append(f"{name}: prefix-list missing or unknown")
    # BGP
    for name, kids in children(r"router bgp \d+").items():
        if "address-family ipv4 unicast" not in kids or "exit-address-family" not in kids:
            problems.append(f"{name}: neighbours belong in address-family ipv4 unicast")
        neighbors = {m[1] for k in kids if (m := re.fullmatch(r"neighbor (\S+) remote-as \d+", k))}
        for n in neighbors:
            mine = [k for k in kids if k.startswith(f"neighbor {n} ")]
            for need in ("ebgp-multihop", "timers 60 180", "activate", "maximum-prefix"):
                if not any(k.startswith(f"neighbor {n} {need}") for k in mine):
                    problems.append(f"{name}: neighbour {n} has no {need}")
            for direction in ("in", "out"):
                ref = [k.split()[3] for k in mine if re.fullmatch(rf"neighbor \S+ route-map \S+ {direction}", k)]
                if not ref or ref[0] not in route_maps:
                    problems.append(f"{name}: neighbour {n} has no known route-map {direction}")
            if n not in routes:
                problems.append(f"{name}: neighbour {n} has no /32 route over a VTI")
    return problems

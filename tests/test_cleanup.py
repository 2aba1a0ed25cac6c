"""Each device file ends with a commented removal section that takes back exactly what the file adds.

Checked on every golden device file (tests/golden/<inventory>/onprem/): every `set` command of a
Junos or VyOS file falls under one of its `delete` lines (or is named as kept on purpose), and every
object an IOS-XE or FRR file creates (crypto, interfaces, routes, prefix-lists, route-maps, BGP
neighbours and networks) has its `no` line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = sorted(
    p
    for p in GOLDEN.glob("*/onprem/*/*")
    if p.suffix in (".set", ".vyos", ".ios") or p.name.endswith((".frr.conf", ".asa.cfg"))
)
KEPT = {
    ".set": (),  # a Junos file names what it keeps in its "(kept, ...: a, b)" line
    ".vyos": (
        "protocols bgp system-as",
        "protocols bgp parameters router-id",
        "vpn ipsec interface",
        "protocols bgp address-family ipv4-unicast maximum-paths",
    ),
}


def removal(text: str, mark: str) -> list[str]:
    section = text.split("---- to remove what th", 1)[1]
    return [line[len(mark) + 1 :].strip() for line in section.splitlines() if line.startswith(mark + " ")]


def declared_kept(text: str) -> tuple[str, ...]:
    """What the removal section says it keeps on purpose: `# (kept, ...: a, b)`."""
    found = re.search(r"^# \(kept, [^:]*: (.*)\)$", text, re.M)
    return tuple(item.strip() for item in found.group(1).split(",")) if found else ()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(GOLDEN)) for p in FILES])
def test_the_removal_section_covers_what_the_file_adds(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".set", ".vyos"):
        deletes = [d.removeprefix("delete ") for d in removal(text, "#") if d.startswith("delete ")]
        assert deletes
        for line in text.splitlines():
            if not line.startswith("set "):
                continue
            body = line.removeprefix("set ")
            covered = any(body == d or body.startswith(d + " ") for d in deletes)
            kept = body.startswith(KEPT[path.suffix] + declared_kept(text))
            assert covered or kept, (path.name, line)
        return
    undo = removal(text, "!")
    body = text.split("---- to remove what th", 1)[0]
    asa = path.name.endswith(".asa.cfg")
    kept = re.search(r"^! \(kept: (.*?), which", text, re.M)
    kept_lines = tuple(k.strip() for k in kept.group(1).split(" and ")) if asa and kept else ()
    top = [
        line
        for line in body.splitlines()
        if line and not line.startswith(("!", " ", "end", "frr ", "hostname", "log "))
    ]
    for line in top:
        if line.startswith(("router bgp", "exit")) or line in kept_lines:
            continue
        if asa and (m := re.match(r"^tunnel-group (\S+) ", line)):
            want = f"clear configure tunnel-group {m.group(1)}"  # ASA removes a tunnel group whole
        elif m := re.match(r"^(ip prefix-list \S+|prefix-list \S+|route-map \S+|crypto ikev2 policy \S+)", line):
            want = f"no {m.group(1).split(' permit')[0]}"
        elif line.startswith("crypto "):
            want = "no " + " ".join(line.split()[:4])  # crypto <kind> <kind> NAME [settings]
        elif line.startswith(("interface Loopback", "interface lo")):
            continue  # the address is removed inside the interface (below), the interface may be the user's
        else:
            want = f"no {line}"
        assert any(u == want or u.startswith(want) for u in undo), (path.name, line, want)
    for neighbor in re.findall(r"^  ?neighbor (\S+) remote-as ", body, re.M):
        assert f"no neighbor {neighbor}" in undo, (path.name, neighbor)
    for network in re.findall(r"^  network (.+)$", body, re.M):
        assert f"no network {network}" in undo, (path.name, network)

"""What every router platform provides: the `Platform` base class and the read-back facts.

A platform is one module under generator/platforms/ (one `Platform` subclass) plus its template
folder templates/onprem/<key>/. Everything that is that vendor's lives there: names, file
suffixes, interface defaults, algorithm tokens, capabilities, template filters, the read-back
parser of the cross-side check and the runbook's apply/verify commands. The pipeline asks the
registry (generator/platforms/__init__.py) and never names a platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import crypto
from ..model import Device, IpsecPolicy

# Capabilities the rules and the lab ask about (Platform.capabilities).
POLICY_BASED_SELECTORS = "policy-based-selectors"  # renders one IPsec selector per prefix pair
STATEFUL_FIREWALL = "stateful-firewall"  # drops asymmetric return traffic (zone-based flow sessions)
# IPsec traffic selectors cannot be combined with BGP on the tunnel interface (Junos: "dynamic routing
# protocols configured on st0 interfaces" are unsupported with traffic-selector; facts-2026-12 §9.6).
NO_BGP_WITH_SELECTORS = "no-bgp-with-selectors"
# One tunnel per Azure gateway and one BGP tunnel per device: the BGP source is the tunnel's own address
# (a local network gateway holds one BGP address, an address sits on one interface) and connections are
# bound to one interface, so no active-active gateway (rules onprem-active-active-platform, onprem-bgp-source-tunnel).
ONE_TUNNEL_PER_GATEWAY = "one-tunnel-per-gateway"

# Optional device fields only some platforms take (Device attributes; rule device-field-platform).
PLATFORM_DEVICE_FIELDS = ("security_zones", "existing_bgp", "logical_router")
# Can present an FQDN as its IKE identity (a device given as `fqdn`, rule device-fqdn).
FQDN_IDENTITY = "fqdn-identity"
# Can be told to only respond to IKE, never initiate nor rekey itself (a connection with
# connection_mode InitiatorOnly, where the Azure gateway alone initiates; rule onprem-connection-mode).
RESPONDER_ONLY = "responder-only"
# Renders the optional iBGP session between a site's two devices (bgp.ibgp, rule site-ibgp-platform).
IBGP_PAIR = "ibgp-pair"


@dataclass(frozen=True, slots=True)
class Vendor:
    """One vendor's names for Azure's algorithm values; a missing key = not supported."""

    ike_encryption: dict[str, str]
    ike_integrity: dict[str, str]
    dh_group: dict[str, str]
    ipsec_encryption: dict[str, str]
    ipsec_integrity: dict[str, str]  # GCM integrity is implied by GCM encryption: value ""
    pfs_group: dict[str, str]  # "None" -> "" (no PFS)


@dataclass
class TunnelFacts:
    """What one device file says about one tunnel (normalised per platform)."""

    peer: str = ""
    local_id: str = ""
    psk: str = ""
    ike: Any = None
    esp: Any = None
    routes: set[str] = field(default_factory=set)  # prefixes routed into this tunnel
    initiates: bool | None = None  # the device opens IKE itself (False: it only responds; None: not read)


@dataclass
class NeighborPolicy:
    """What a device file applies to one BGP neighbour: prefixes each direction lets through, limit."""

    inbound: set[str] | None = None  # None: no inbound filter at all
    outbound: set[str] | None = None
    max_prefix: int | None = None
    prepend: tuple[int, ...] = ()
    local_preference: int | None = None
    hold: int | None = None


@dataclass
class DeviceFacts:
    """What a device's rendered files say, read back by the platform's parser."""

    tunnels: dict[int, TunnelFacts] = field(default_factory=dict)
    asn: int | None = None
    bgp_source: str | None = None
    neighbors: dict[str, int] = field(default_factory=dict)  # BGP neighbour -> remote AS
    policies: dict[str, NeighborPolicy] = field(default_factory=dict)  # BGP neighbour -> its route policy
    next_hop_self: set[str] = field(default_factory=set)  # BGP neighbours sent this device as next hop


def route_map_filters(lines: Iterable[str]) -> dict[str, NeighborPolicy]:
    """Route-map name -> what it permits, for the prefix-list + route-map syntax IOS-XE and FRR share.

    Reads `ip prefix-list NAME seq N permit|deny PREFIX` (exact entries only) and `route-map NAME
    permit N` blocks with `match ip address prefix-list`, `set as-path prepend`, `set local-preference`.
    A route-map permits the prefixes its prefix-list permits (a deny entry permits nothing).
    """
    lists: dict[str, set[str]] = {}
    maps: dict[str, NeighborPolicy] = {}
    current: NeighborPolicy | None = None
    for raw in lines:
        line = raw.strip()
        if m := re.match(r"^ip prefix-list (\S+) seq \d+ (permit|deny) (\S+)$", line):
            found = lists.setdefault(m.group(1), set())
            if m.group(2) == "permit":
                found.add(m.group(3))
            current = None
        elif m := re.match(r"^route-map (\S+) permit \d+$", line):
            current = maps.setdefault(m.group(1), NeighborPolicy(inbound=set()))
        elif current is not None and raw.startswith(" "):
            if m := re.match(r"^match ip address prefix-list (\S+)$", line):
                current.inbound = lists.get(m.group(1), set())
            elif m := re.match(r"^set as-path prepend ([\d ]+)$", line):
                current.prepend = tuple(int(x) for x in m.group(1).split())
            elif m := re.match(r"^set local-preference (\d+)$", line):
                current.local_preference = int(m.group(1))
        elif not raw.startswith(" "):
            current = None
    return maps


def neighbor_policies(lines: Iterable[str], maps: dict[str, NeighborPolicy]) -> dict[str, NeighborPolicy]:
    """Neighbour -> policy from `neighbor X route-map NAME in|out`, `maximum-prefix N`, `timers K H`."""
    found: dict[str, NeighborPolicy] = {}
    for raw in lines:
        line = raw.strip()
        if m := re.match(r"^neighbor (\S+) route-map (\S+) (in|out)$", line):
            policy = found.setdefault(m.group(1), NeighborPolicy())
            rm = maps.get(m.group(2), NeighborPolicy(inbound=set()))
            if m.group(3) == "in":
                policy.inbound, policy.local_preference = rm.inbound, rm.local_preference
            else:
                policy.outbound, policy.prepend = rm.inbound, rm.prepend
        elif m := re.match(r"^neighbor (\S+) maximum-prefix (\d+)", line):
            found.setdefault(m.group(1), NeighborPolicy()).max_prefix = int(m.group(2))
        elif m := re.match(r"^neighbor (\S+) timers \d+ (\d+)$", line):
            found.setdefault(m.group(1), NeighborPolicy()).hold = int(m.group(2))
    return found


class Platform:
    """One router platform. Subclasses set the class attributes and implement `parse`."""

    key: ClassVar[str]  # used in inventories: `platform: <key>`
    title: ClassVar[str]  # shown in the runbook and file headers
    files: ClassVar[tuple[str, ...]]  # output file suffixes: out/onprem/<site>/<device><suffix>
    outside_interface: ClassVar[str]  # default interface facing the Internet
    loopback_interface: ClassVar[str]  # default interface holding the BGP source address
    vendor: ClassVar[Vendor]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    device_fields: ClassVar[frozenset[str]] = frozenset()  # which of PLATFORM_DEVICE_FIELDS it takes
    tunnel_interface: ClassVar[str]  # name of tunnel interface number {n}, e.g. "Tunnel{n}" (onprem-tunnel-numbers)
    # Azure values the device can name but refuses (or its vendor says must not be used), by field:
    # {field: {Azure value: why}}. Rules onprem-platform-crypto and onprem-default-policy-refused.
    refused: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    # How the engineer applies the files (runbook). `{file}` is the first output file, `{file2}`,
    # `{file3}` the next ones in the order of `files`.
    apply_steps: ClassVar[tuple[str, ...]]
    verify_commands: ClassVar[tuple[str, ...]]  # run on the device after pasting (IPsec: every device)
    # BGP devices only: the summary, then per Azure neighbour (`{neighbor}`) what the device
    # advertises to it and what it accepted from it (after the inbound filter)
    bgp_verify_commands: ClassVar[tuple[str, ...]] = ()
    bgp_neighbor_commands: ClassVar[tuple[str, ...]] = ()
    allowas_in: ClassVar[str]  # how the device accepts routes carrying its own ASN (shared site ASNs)
    filters: ClassVar[Mapping[str, Callable[..., Any]]] = {}  # template filters of this vendor's syntax
    # role -> suffix for a platform whose files `gen lab` runs unchanged (empty: emulated from the model)
    lab_files: ClassVar[Mapping[str, str]] = {}

    def template(self, suffix: str) -> str:
        """`.swanctl.conf` -> onprem/<key>/swanctl.conf.j2"""
        return f"onprem/{self.key}/{suffix.lstrip('.')}.j2"

    def verify(self, tunnels: Iterable[Any], device: Any = None) -> tuple[str, ...]:
        """The device's verify commands: IPsec always; BGP ones only with BGP tunnels, per neighbour
        (`bgp_commands` may pick them by device)."""
        neighbors = [str(t.azure_bgp_ip) for t in tunnels if t.bgp]
        if not neighbors:
            return self.verify_commands
        summary, each = self.bgp_commands(device)
        per_neighbor = tuple(c.format(neighbor=n) for n in neighbors for c in each)
        return self.verify_commands + summary + per_neighbor

    def bgp_commands(self, device: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(summary commands, per-neighbour commands) for the device's BGP."""
        return self.bgp_verify_commands, self.bgp_neighbor_commands

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    # ------------------------------------------------------------ crypto capability
    def unsupported(self, policy: IpsecPolicy) -> Iterator[tuple[str, str, str]]:
        """(field, Azure value, what to change) for each part of the policy the platform cannot render
        or refuses."""
        for name in crypto.FIELDS:
            table = getattr(self.vendor, name)
            value = getattr(policy, name)
            refused = self.refused.get(name, {})
            usable = ", ".join(v for v in table if v not in refused)
            if value not in table:
                yield name, value, f"cannot use {name} {value}; choose one of {usable}"
            elif value in refused:
                yield name, value, f"refuses {name} {value} ({refused[value]}); choose one of {usable}"

    def accepts(self, policy: IpsecPolicy) -> bool:
        return not any(self.unsupported(policy))

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        """(ike, esp) in the normalised form `parse` returns for a tunnel with this policy."""
        raise NotImplementedError

    def offers_ike(self, expected: Any, found: Any) -> bool:
        """Whether the device's IKE proposal(s) as parsed include the expected one."""
        return expected == found

    # ------------------------------------------------------------ device checks
    def device_problems(self, device: Device) -> Iterator[tuple[str, str]]:
        """(field, message) for device values this platform cannot take (rule onprem-interface-name)."""
        return iter(())

    def lab_proposals(self, policy: IpsecPolicy) -> tuple[str, str]:
        """(IKE, ESP) proposal strings for `gen lab`'s strongSwan peers (platforms with `lab_files`)."""
        raise NotImplementedError

    # ------------------------------------------------------------ read-back
    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        """Read the device's rendered files (path -> text; stem = path without suffix) back, or None."""
        raise NotImplementedError

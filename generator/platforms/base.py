"""What every router platform provides: the `Platform` base class and the read-back facts.

A platform is one module under generator/platforms/ (one `Platform` subclass) plus its template
folder templates/onprem/<key>/. Everything that is that vendor's lives there: names, file
suffixes, interface defaults, algorithm tokens, capabilities, template filters, the read-back
parser of the cross-side check and the runbook's apply/verify commands. The pipeline asks the
registry (generator/platforms/__init__.py) and never names a platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import crypto
from ..model import Device, IpsecPolicy

# Capabilities the rules and the lab ask about (Platform.capabilities).
POLICY_BASED_SELECTORS = "policy-based-selectors"  # renders one IPsec selector per prefix pair
STATEFUL_FIREWALL = "stateful-firewall"  # drops asymmetric return traffic (zone-based flow sessions)
# Can present an FQDN as its IKE identity (a device given as `fqdn`, rule device-fqdn).
FQDN_IDENTITY = "fqdn-identity"


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


@dataclass
class DeviceFacts:
    """What a device's rendered files say, read back by the platform's parser."""

    tunnels: dict[int, TunnelFacts] = field(default_factory=dict)
    asn: int | None = None
    bgp_source: str | None = None
    neighbors: dict[str, int] = field(default_factory=dict)  # BGP neighbour -> remote AS


class Platform:
    """One router platform. Subclasses set the class attributes and implement `parse`."""

    key: ClassVar[str]  # used in inventories: `platform: <key>`
    title: ClassVar[str]  # shown in the runbook and file headers
    files: ClassVar[tuple[str, ...]]  # output file suffixes: out/onprem/<site>/<device><suffix>
    outside_interface: ClassVar[str]  # default interface facing the Internet
    loopback_interface: ClassVar[str]  # default interface holding the BGP source address
    vendor: ClassVar[Vendor]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # How the engineer applies the files (runbook). `{file}` is the first output file, `{file2}`,
    # `{file3}` the next ones in the order of `files`.
    apply_steps: ClassVar[tuple[str, ...]]
    verify_commands: ClassVar[tuple[str, ...]]  # run on the device after pasting
    allowas_in: ClassVar[str]  # how the device accepts routes carrying its own ASN (shared site ASNs)
    filters: ClassVar[Mapping[str, Callable[..., Any]]] = {}  # template filters of this vendor's syntax
    # role -> suffix for a platform whose files `gen lab` runs unchanged (empty: emulated from the model)
    lab_files: ClassVar[Mapping[str, str]] = {}

    def template(self, suffix: str) -> str:
        """`.swanctl.conf` -> onprem/<key>/swanctl.conf.j2"""
        return f"onprem/{self.key}/{suffix.lstrip('.')}.j2"

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    # ------------------------------------------------------------ crypto capability
    def unsupported(self, policy: IpsecPolicy) -> Iterator[tuple[str, str, str]]:
        """(field, Azure value, what to change) for each part of the policy the platform cannot render."""
        for name in crypto.FIELDS:
            table = getattr(self.vendor, name)
            value = getattr(policy, name)
            if value not in table:
                yield name, value, f"cannot use {name} {value}; choose one of {', '.join(table)}"

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

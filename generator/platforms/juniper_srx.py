"""Juniper SRX (Junos `set` commands): route-based st0 units with IKEv2.

Structure: Microsoft's SRX sample and Juniper's route-based VPN documentation as summarised in
router-facts.md (SRX steps of section 6, item 198 for host-inbound-traffic); algorithm tokens:
router-facts.md section 4.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import crypto
from ..model import Device, IpsecPolicy, SecurityZones, Tunnel
from .base import (
    FQDN_IDENTITY,
    NO_BGP_WITH_SELECTORS,
    POLICY_BASED_SELECTORS,
    STATEFUL_FIREWALL,
    DeviceFacts,
    NeighborPolicy,
    Platform,
    TunnelFacts,
    Vendor,
)

VENDOR = Vendor(
    ike_encryption={
        "AES256": "aes-256-cbc",
        "AES192": "aes-192-cbc",
        "AES128": "aes-128-cbc",
        "GCMAES256": "aes-256-gcm",
        "GCMAES128": "aes-128-gcm",
    },
    ike_integrity={"SHA384": "sha-384", "SHA256": "sha-256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "group24",
        "ECP384": "group20",
        "ECP256": "group19",
        "DHGroup14": "group14",
        "DHGroup2048": "group14",
        "DHGroup2": "group2",
        "DHGroup1": "group1",
    },
    ipsec_encryption={
        "GCMAES256": "aes-256-gcm",
        "GCMAES192": "aes-192-gcm",
        "GCMAES128": "aes-128-gcm",
        "AES256": "aes-256-cbc",
        "AES192": "aes-192-cbc",
        "AES128": "aes-128-cbc",
        "DES3": "3des-cbc",
        "DES": "des-cbc",
    },
    ipsec_integrity={
        "SHA256": "hmac-sha-256-128",
        "SHA1": "hmac-sha1-96",
        "MD5": "hmac-md5-96",
        **crypto.GCM_INTEGRITY,
    },
    pfs_group=crypto.PFS_GROUP_NAMES,
)

# Junos derives the IKE PRF from the GCM key size (no authentication-algorithm with GCM in IKE);
# Azure's ike_integrity is the PRF then, so it must be the one Junos uses.
GCM_PRF = {"GCMAES128": "SHA256", "GCMAES256": "SHA384"}

_UNIT = re.compile(r"^[a-z][a-z0-9/-]*\.\d+$")


def junos_ike_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `security ike proposal` (no authentication-algorithm with GCM)."""
    lines = [
        "authentication-method pre-shared-keys",
        f"dh-group {VENDOR.dh_group[policy.dh_group]}",
        f"encryption-algorithm {VENDOR.ike_encryption[policy.ike_encryption]}",
    ]
    if not crypto.is_gcm(policy.ike_encryption):
        lines.insert(1, f"authentication-algorithm {VENDOR.ike_integrity[policy.ike_integrity]}")
    return lines


def junos_ipsec_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `security ipsec proposal`."""
    lines = ["protocol esp"]
    integrity = VENDOR.ipsec_integrity[policy.ipsec_integrity]
    if integrity:
        lines.append(f"authentication-algorithm {integrity}")
    lines.append(f"encryption-algorithm {VENDOR.ipsec_encryption[policy.ipsec_encryption]}")
    return lines


def junos_pfs(policy: IpsecPolicy) -> str:
    return VENDOR.pfs_group[policy.pfs_group]


# Zone names when the device gives none (security_zones): the factory-default trust/untrust plus a
# zone of its own for the tunnels.
DEFAULT_ZONES = SecurityZones(outside="untrust", tunnel="azure", inside="trust")


def srx_zones(device: Device) -> SecurityZones:
    return device.security_zones or DEFAULT_ZONES


def srx_kept(device: Device, tunnels: Sequence[Tunnel]) -> list[str]:
    """What the removal section leaves in place because other configuration may rely on it."""
    kept = [f"security zones security-zone {srx_zones(device).outside} interfaces {device.outside_interface}"]
    kept.append("security flow tcp-mss ipsec-vpn")
    if any(t.bgp for t in tunnels) and not device.existing_bgp:
        kept.insert(0, "routing-options autonomous-system")
    return kept


def junos_interface(name: str) -> str:
    """`lo0.0` -> `lo0 unit 0` (a logical unit in `set interfaces` syntax)."""
    return name.replace(".", " unit ", 1)


# ---------------------------------------------------------------- read-back
def parse_junos(text: str) -> DeviceFacts:
    lines = [line.strip()[4:] for line in text.splitlines() if line.startswith("set ")]
    device = DeviceFacts()
    by_head: dict[tuple[str, ...], list[str]] = {}  # lines by their first three words: queries scan one group
    for line in lines:
        by_head.setdefault(tuple(line.split(" ", 3)[:3]), []).append(line)

    def values(prefix: str) -> list[str]:
        words = prefix.split(" ")
        group = by_head.get(tuple(words[:3]), ()) if len(words) > 3 else lines
        return [line[len(prefix) :].strip() for line in group if line.startswith(prefix)]

    def one(prefix: str) -> str:
        found = values(prefix)
        return found[0] if found else ""

    def statements(kind: str, name: str, skip: tuple[str, ...] = ("lifetime-seconds",)) -> tuple[str, ...]:
        return tuple(sorted(v for v in values(f"security {kind} {name} ") if not v.startswith(skip)))

    routes: dict[int, set[str]] = {}
    for value in values("routing-options static route "):
        if m := re.match(r"^(\S+) next-hop st0\.(\d+)$", value):
            routes.setdefault(int(m.group(2)), set()).add(m.group(1))
    vpns = {v.split()[0] for v in values("security ipsec vpn ")}
    for vpn in sorted(vpns):
        bind = one(f"security ipsec vpn {vpn} bind-interface st0.")
        if not bind.isdigit():
            continue
        index = int(bind)
        gateway = one(f"security ipsec vpn {vpn} ike gateway ")
        ipsec_policy = one(f"security ipsec vpn {vpn} ike ipsec-policy ")
        ike_policy = one(f"security ike gateway {gateway} ike-policy ")
        t = device.tunnels[index] = TunnelFacts(
            peer=one(f"security ike gateway {gateway} address "),
            local_id=one(f"security ike gateway {gateway} local-identity inet ")
            or one(f"security ike gateway {gateway} local-identity hostname "),
            psk=crypto.unquote(one(f"security ike policy {ike_policy} pre-shared-key ascii-text ")),
            routes=routes.get(index, set()),
        )
        t.ike = statements("ike proposal", one(f"security ike policy {ike_policy} proposals "))
        t.esp = (
            statements("ipsec proposal", one(f"security ipsec policy {ipsec_policy} proposals ")),
            one(f"security ipsec policy {ipsec_policy} perfect-forward-secrecy keys "),
        )
    asn = one("routing-options autonomous-system ")
    if not asn:  # existing_bgp: the file names the router's own AS in a comment instead of setting it
        m = re.search(r"^# existing BGP: autonomous-system (\d+) ", text, re.M)
        asn = m.group(1) if m else ""
    device.asn = int(asn) if asn.isdigit() else None
    device.bgp_source = one("protocols bgp group AZURE local-address ") or None
    for value in values("protocols bgp group AZURE neighbor "):
        if m := re.match(r"^(\S+) peer-as (\d+)$", value):
            device.neighbors[m.group(1)] = int(m.group(2))
    group = "protocols bgp group AZURE "
    limit = one(f"{group}family inet unicast accepted-prefix-limit maximum ")
    hold = one(f"{group}hold-time ")
    policy = NeighborPolicy(
        inbound=_accepted(values, one(f"{group}import ")) if one(f"{group}import ") else None,
        outbound=_accepted(values, one(f"{group}export ")) if one(f"{group}export ") else None,
        max_prefix=int(limit) if limit.isdigit() else None,
        hold=int(hold) if hold.isdigit() else None,
    )
    for statement in (one(f"{group}import "), one(f"{group}export ")):
        for value in values(f"policy-options policy-statement {statement} term "):
            if m := re.match(r'^\S+ then as-path-prepend "([\d ]+)"$', value):
                policy.prepend = tuple(int(x) for x in m.group(1).split())
            elif m := re.match(r"^\S+ then local-preference (\d+)$", value):
                policy.local_preference = int(m.group(1))
    device.policies = {n: policy for n in device.neighbors}  # group-level policy: every neighbour
    return device


def _accepted(values, statement: str) -> set[str]:
    """Prefixes a policy-statement accepts: `route-filter P exact` of the terms that end in accept."""
    terms: dict[str, set[str]] = {}
    accepting: set[str] = set()
    for value in values(f"policy-options policy-statement {statement} term "):
        if m := re.match(r"^(\S+) from route-filter (\S+) exact$", value):
            terms.setdefault(m.group(1), set()).add(m.group(2))
        elif m := re.match(r"^(\S+) then accept$", value):
            accepting.add(m.group(1))
    return {p for term in accepting for p in terms.get(term, {"<any route: a term without route-filter>"})}


def junos_identity(t: Tunnel) -> str:
    """`local-identity ...` of the IKE gateway: `hostname <name>` or `inet <ip>`.

    Junos CLI reference, "local-identity (Security IKE Gateway)": inet, inet6, hostname,
    user-at-hostname, distinguished-name.
    """
    return f"hostname {t.device_ike_id}" if t.device_ike_fqdn else f"inet {t.device_ike_id}"


class JuniperSrx(Platform):
    key = "juniper_srx"
    title = "Juniper SRX (Junos set commands)"
    files = (".set",)
    outside_interface = "ge-0/0/0.0"
    loopback_interface = "lo0.0"
    vendor = VENDOR
    capabilities = frozenset({POLICY_BASED_SELECTORS, STATEFUL_FIREWALL, NO_BGP_WITH_SELECTORS, FQDN_IDENTITY})
    device_fields = frozenset({"security_zones", "existing_bgp"})
    tunnel_interface = "st0.{n}"
    apply_steps = (
        "`configure`, then `load set terminal`, paste `{file}` and end with Ctrl-D",
        "`show | compare`, `commit check`, then `commit confirmed 10` and `commit` once the tunnels are up",
    )
    verify_commands = (
        "show security ike security-associations",
        "show security ipsec security-associations",
    )
    bgp_verify_commands = ("show bgp summary", "show route protocol bgp")
    # show route advertising-protocol bgp NEIGHBOR / receive-protocol bgp NEIGHBOR
    bgp_neighbor_commands = (
        "show route advertising-protocol bgp {neighbor}",
        "show route receive-protocol bgp {neighbor}",
    )
    allowas_in = "family inet unicast loops 2 in the BGP group (Junos)"
    filters = {
        "junos_ike_proposal": junos_ike_proposal,
        "junos_ipsec_proposal": junos_ipsec_proposal,
        "junos_pfs": junos_pfs,
        "srx_zones": srx_zones,
        "srx_kept": srx_kept,
        "junos_interface": junos_interface,
        "junos_identity": junos_identity,
    }

    def unsupported(self, policy: IpsecPolicy) -> Iterator[tuple[str, str, str]]:
        yield from super().unsupported(policy)
        prf = GCM_PRF.get(policy.ike_encryption)
        if prf and policy.ike_integrity != prf and policy.ike_integrity in VENDOR.ike_integrity:
            yield (
                "ike_integrity",
                policy.ike_integrity,
                f"derives the IKE PRF from {policy.ike_encryption}: set ike_integrity to {prf}",
            )

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        return tuple(sorted(junos_ike_proposal(policy))), (
            tuple(sorted(junos_ipsec_proposal(policy))),
            junos_pfs(policy),
        )

    def device_problems(self, device: Device) -> Iterator[tuple[str, str]]:
        for name in ("outside_interface", "loopback_interface"):
            value = getattr(device, name)
            if not _UNIT.match(value):
                yield name, f"'{value}' is not a Junos logical interface; write it as <name>.<unit>, e.g. ge-0/0/0.0"
        z = srx_zones(device)
        if z.tunnel in (z.outside, z.inside):
            yield "security_zones", f"the tunnel zone '{z.tunnel}' must be a zone of its own (not outside or inside)"

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        text = files.get(f"{stem}.set")
        return None if text is None else parse_junos(text)

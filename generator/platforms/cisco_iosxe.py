"""Cisco IOS-XE (CSR1000v, Catalyst 8000v, ISR 4000): route-based VTIs with IKEv2.

Structure: Microsoft's CSR1000v example with two tunnels to an active-active gateway
(https://learn.microsoft.com/azure/expressroute/site-to-site-vpn-over-microsoft-peering; router-facts.md
item 2 and the IOS-XE steps of section 6); algorithm tokens: router-facts.md section 4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import crypto
from ..model import IpsecPolicy, Tunnel
from .base import FQDN_IDENTITY, DeviceFacts, Platform, TunnelFacts, Vendor, neighbor_policies, route_map_filters
from .readback import first_after, indented_blocks, mask_length

VENDOR = Vendor(
    ike_encryption={
        "AES256": "aes-cbc-256",
        "AES192": "aes-cbc-192",
        "AES128": "aes-cbc-128",
        "GCMAES256": "aes-gcm-256",
        "GCMAES128": "aes-gcm-128",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "24",
        "ECP384": "20",
        "ECP256": "19",
        "DHGroup14": "14",
        "DHGroup2048": "14",
        "DHGroup2": "2",
        "DHGroup1": "1",
    },
    ipsec_encryption={
        "GCMAES256": "esp-gcm 256",
        "GCMAES192": "esp-gcm 192",
        "GCMAES128": "esp-gcm 128",
        "AES256": "esp-aes 256",
        "AES192": "esp-aes 192",
        "AES128": "esp-aes 128",
        "DES3": "esp-3des",
        "DES": "esp-des",
        "None": "esp-null",
    },
    ipsec_integrity={
        "SHA256": "esp-sha256-hmac",
        "SHA1": "esp-sha-hmac",
        "MD5": "esp-md5-hmac",
        **crypto.GCM_INTEGRITY,
    },
    pfs_group=crypto.PFS_GROUP_NAMES,
)


# Cisco field notice FN72510 (https://www.cisco.com/c/en/us/support/docs/field-notices/725/fn72510.html,
# rev 1.5; facts-2026-12 §7): from these releases IOS-XE rejects weak algorithms by default and IPsec
# negotiation fails ("crypto engine compliance shield", on by default; disabling it needs a reboot
# and is not recommended). 17.6.1-17.10 only warn. By release: the earliest release per family.
FN72510_FROM = {
    "ASR1000, ISR4000, ISR1100, Catalyst 8000 / 8000V": "17.11.1a",
    "ASR920, ASR903, NCS520, NCS4200": "17.12.1",
    "Catalyst 9800, CG418-E, CG522-E": "17.13.1",
    "IR1101, IR1800, IR8140H, IR8340, ESR6300": "17.14.1",
    "Catalyst 9200, 9300, 9400, 9500": "17.15.1",
}
# There is no OS version in the inventory: an unknown release counts as one that refuses them.
_FN72510 = "IOS-XE 17.11 and later reject it by default, Cisco FN72510"
REFUSED = {
    "ike_encryption": {},
    "ike_integrity": {"MD5": _FN72510},
    "dh_group": {"DHGroup1": _FN72510, "DHGroup2": _FN72510, "DHGroup24": _FN72510},
    "ipsec_encryption": {"DES": _FN72510, "DES3": _FN72510, "None": _FN72510},
    "ipsec_integrity": {"MD5": _FN72510},
    "pfs_group": {"PFS1": _FN72510, "PFS2": _FN72510, "PFS24": _FN72510},
}


def ios_ike_proposal(policy: IpsecPolicy) -> list[str]:
    """Lines of `crypto ikev2 proposal` (AEAD: prf instead of integrity)."""
    key = "prf" if crypto.is_gcm(policy.ike_encryption) else "integrity"
    return [
        f"encryption {VENDOR.ike_encryption[policy.ike_encryption]}",
        f"{key} {VENDOR.ike_integrity[policy.ike_integrity]}",
        f"group {VENDOR.dh_group[policy.dh_group]}",
    ]


def ios_transform_set(policy: IpsecPolicy) -> str:
    """Transforms of `crypto ipsec transform-set` (GCM carries its own integrity)."""
    parts = [VENDOR.ipsec_encryption[policy.ipsec_encryption], VENDOR.ipsec_integrity[policy.ipsec_integrity]]
    return " ".join(p for p in parts if p)


def ios_identity(t: Tunnel) -> str:
    """`identity local ...` of the IKEv2 profile: `fqdn <name>` or `address <ip>`.

    Cisco IOS-XE Security Configuration Guide, "Configuring Internet Key Exchange Version 2":
    identity local {address | dn | email | fqdn | key-id}.
    """
    return f"fqdn {t.device_ike_id}" if t.device_ike_fqdn else f"address {t.device_ike_id}"


def ios_pfs(policy: IpsecPolicy) -> str:
    """`set pfs` group, or '' without PFS."""
    return VENDOR.pfs_group[policy.pfs_group]


# ---------------------------------------------------------------- read-back
def parse_ios(text: str) -> DeviceFacts:
    blocks = indented_blocks(text)
    device = DeviceFacts()
    proposals = {
        key.split()[-1]: tuple(lines) for key, lines in blocks.items() if key.startswith("crypto ikev2 proposal ")
    }
    offered = tuple(
        proposals.get(line.split()[1])
        for key, lines in blocks.items()
        if key.startswith("crypto ikev2 policy ")
        for line in lines
        if line.startswith("proposal ")
    )
    routes: dict[int, set[str]] = {}
    for key in blocks:
        m = re.match(r"^ip route (\S+) (\S+) Tunnel(\d+)$", key)
        if m:
            prefix = f"{m.group(1)}/{mask_length(m.group(2))}"
            routes.setdefault(int(m.group(3)), set()).add(prefix)
    for key, lines in blocks.items():
        m = re.match(r"^interface Tunnel(\d+)$", key)
        if not m:
            continue
        index = int(m.group(1))
        t = device.tunnels[index] = TunnelFacts(peer=first_after(lines, "tunnel destination "))
        ipsec = blocks.get(f"crypto ipsec profile {first_after(lines, 'tunnel protection ipsec profile ')}", [])
        transform = first_after(blocks, f"crypto ipsec transform-set {first_after(ipsec, 'set transform-set ')} ")
        t.esp = (transform, first_after(ipsec, "set pfs "))
        t.ike = offered
        profile = blocks.get(f"crypto ikev2 profile {first_after(ipsec, 'set ikev2-profile ')}", [])
        t.local_id = first_after(profile, "identity local address ") or first_after(profile, "identity local fqdn ")
        remote = first_after(profile, "match identity remote address ").split()
        keyring = blocks.get(f"crypto ikev2 keyring {first_after(profile, 'keyring local ')}", [])
        if (remote[:1] or [""])[0] != t.peer or first_after(keyring, "address ") != t.peer:
            t.peer = f"{t.peer} (profile/keyring disagree)"
        t.psk = first_after(keyring, "pre-shared-key ")
        t.routes = routes.get(index, set())
    for key, lines in blocks.items():
        if key.startswith("router bgp "):
            device.asn = int(key.split()[2])
            for line in lines:
                if m := re.match(r"^neighbor (\S+) remote-as (\d+)$", line):
                    device.neighbors[m.group(1)] = int(m.group(2))
                if m := re.match(r"^neighbor \S+ update-source (\S+)$", line):
                    address = first_after(blocks.get(f"interface {m.group(1)}", []), "ip address ").split()
                    device.bgp_source = address[0] if address else m.group(1)
    device.policies = neighbor_policies(text.splitlines(), route_map_filters(text.splitlines()))
    return device


class CiscoIosXe(Platform):
    key = "cisco_iosxe"
    title = "Cisco IOS-XE (CSR1000v, Catalyst 8000v, ISR 4000)"
    files = (".ios",)
    outside_interface = "GigabitEthernet1"
    loopback_interface = "Loopback0"
    vendor = VENDOR
    refused = REFUSED
    device_fields = frozenset({"existing_bgp"})
    tunnel_interface = "Tunnel{n}"
    capabilities = frozenset({FQDN_IDENTITY})  # VTIs with any-to-any selectors only: no policy-based selectors
    apply_steps = (
        "`configure terminal`, paste `{file}`, then `end`",
        "check the result, then `copy running-config startup-config`",
    )
    verify_commands = ("show crypto ikev2 sa", "show crypto ipsec sa")
    bgp_verify_commands = ("show ip bgp summary", "show ip route bgp")
    # show ip bgp neighbors ADDRESS advertised-routes | routes (the accepted ones, after the route-map)
    bgp_neighbor_commands = (
        "show ip bgp neighbors {neighbor} advertised-routes",
        "show ip bgp neighbors {neighbor} routes",
    )
    allowas_in = "neighbor <Azure BGP IP> allowas-in (IOS-XE)"
    filters = {
        "ios_ike_proposal": ios_ike_proposal,
        "ios_transform_set": ios_transform_set,
        "ios_pfs": ios_pfs,
        "ios_identity": ios_identity,
    }

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        return tuple(ios_ike_proposal(policy)), (ios_transform_set(policy), ios_pfs(policy))

    def offers_ike(self, expected: Any, found: Any) -> bool:
        return expected in (found or ())  # one `crypto ikev2 policy` offers every connection's proposal

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        text = files.get(f"{stem}.ios")
        return None if text is None else parse_ios(text)

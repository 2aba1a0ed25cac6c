"""Cisco ASA 9.8+ (routed, single context): route-based VTIs with IKEv2 and BGP over the VTI.

Sources, per block of templates/onprem/cisco_asa/asa.cfg.j2 (Cisco's pages are the authority; the
Azure examples only for the structure):

- IKEv2 VTI (ASA 9.8(1) added IKEv2 to VTIs): release notes
  https://www.cisco.com/c/en/us/td/docs/security/asa/asa98/release/notes/asarn98.html and the VTI
  chapter https://www.cisco.com/c/en/us/td/docs/security/asa/asa915/configuration/vpn/asa-915-vpn-config/vpn-vti.html
  (`crypto ikev2 policy`, `crypto ipsec ikev2 ipsec-proposal`, `crypto ipsec profile` with `set ikev2
  ipsec-proposal` / `set pfs` / `set security-association lifetime`, `tunnel-group <peer> type
  ipsec-l2l` + `ipsec-attributes` with `ikev2 local-authentication|remote-authentication
  pre-shared-key`, `interface Tunnel N` with `nameif`, `ip address`, `tunnel source interface`,
  `tunnel destination`, `tunnel mode ipsec ipv4`, `tunnel protection ipsec profile`; "Tunnel group
  name must match what the peer will send as its IKEv1 or IKEv2 identity": Azure sends its public IP).
  VTIs are supported in routed, single-context mode only.
- Azure with an ASA VTI: Cisco's walkthrough
  https://www.cisco.com/c/en/us/support/docs/security/adaptive-security-appliance-asa-software/214109-configure-asa-ipsec-vti-connection-to-az.html
  (ASA 9.8.1 or later) and Microsoft's engineer's example github.com/yinghli/azure-vpn-asa (BGP source
  = the VTI's address, given to Azure as the local network gateway's BGP peer address, a static route
  to the Azure BGP address over the VTI with that address as next hop, `ebgp-multihop`). Where they
  differ from this file: their IKE lifetime 86400 is above Azure's 28800 (the cause of "random drop
  of the tunnel", MicrosoftDocs/azure-docs#73889); we render 28800 and Azure's child SA lifetime.
- Interface masks: ASA takes a /31 but not a /32 on an interface
  (https://www.cisco.com/c/en/us/td/docs/security/asa/asa914/configuration/general/asa-914-general-config/interface-routed-tfw.html),
  so every VTI gets a /31: the BGP address (bgp_ip) on BGP tunnels, a link address from
  169.254.250.0/23 (outside Azure's APIPA range 169.254.21.0-169.254.22.255) on static ones.
- DPD: `isakmp keepalive threshold <10-3600> retry <2-10>` in the tunnel group's ipsec-attributes
  (the VPN chapter "Connection Profiles", same configuration guide).
- MSS: `sysopt connection tcpmss 1350` (global; Azure requires 1350,
  https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-devices#ipsec).
- BGP: https://www.cisco.com/c/en/us/td/docs/security/asa/asa919/configuration/general/asa-919-general-config/route-bgp.html
  and https://www.cisco.com/c/en/us/support/docs/security/asa-5500-x-series-next-generation-firewalls/118050-config-bgp-00.html
  (ASA 9.2.1+; `router bgp`, neighbours inside `address-family ipv4 unicast`: `remote-as`,
  `ebgp-multihop`, `timers`, `activate`, `route-map in|out`, `maximum-prefix N threshold restart M`,
  `network ... mask ...`; `prefix-list NAME seq N permit P` (no `ip` keyword on ASA), `route-map`
  with `match ip address prefix-list`, `set as-path prepend`, `set local-preference`). Timers 60/180:
  Azure's fixed values (https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp).
- No security policy is rendered, because a VTI needs none: decrypted traffic from a tunnel bypasses
  the interface access lists by default (`sysopt connection permit-vpn`, on by default,
  https://www.cisco.com/c/en/us/td/docs/security/asa/asa917/configuration/vpn/asa-917-vpn-config/vpn-params.html),
  traffic from the inside (security level 100) to lower levels is permitted by default, and BGP to
  the VTI's own address is to-the-box traffic, which access rules do not filter.
- Apply: `configure terminal`, paste, `end`, `write memory`.

Decisions (issue 18):

(a) BGP source. ASA 9.18/9.19 added loopback interfaces; whether `neighbor ... update-source
    <loopback>` is supported for BGP on the release in use could not be confirmed from Cisco's
    configuration guides available here, and it does not exist on 9.8-9.17. Safe side: the BGP
    source is the VTI's own address (what works on every ASA 9.8+), which is the device's bgp_ip and
    so the local network gateway's bgpPeeringAddress (resolve.py gives both from the one value).
(b) Active-active. One local network gateway holds one BGP peer address ("the LNG can only point
    at a single BGP Peer address", MicrosoftDocs/azure-docs#112249; for ASA: #24523), and an ASA
    cannot hold the same address on two VTIs. Two local network gateways with the same public IP
    toward one gateway, one per tunnel, is not a design Microsoft documents for a single device
    (its active-active guide gives each local network gateway its own device public IP,
    https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-highlyavailable), and an ASA binds
    each connection to one interface, so return traffic over the other instance's tunnel is
    dropped. Safe side: connections of an ASA to an active-active gateway are refused (capability
    ONE_TUNNEL_PER_GATEWAY, rule onprem-active-active-platform); what works: an active-standby
    gateway, with two ASAs at the site for device redundancy. For the same reason an ASA has at most
    one BGP connection (rule onprem-bgp-source-tunnel): its bgp_ip sits on that one VTI.

Refused algorithms: Cisco removed DH groups 1, 2, 5 and 24, DES/3DES and MD5 from IKEv2 in ASA 9.13/9.15
(ASA release notes 9.13(1) and 9.15(1), "removal of weak ciphers"); the exact release per value
differs between the notes and later guides, so the safe side refuses them on every release (as the
IOS-XE unit does for FN72510). Without a custom policy, Azure's default proposals (DH group 2) are
refused too (rule onprem-default-policy-refused suggests a policy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from ipaddress import IPv4Address
from typing import Any

from .. import crypto
from ..model import Device, IpsecPolicy, Tunnel
from .base import (
    ONE_TUNNEL_PER_GATEWAY,
    STATEFUL_FIREWALL,
    DeviceFacts,
    Platform,
    TunnelFacts,
    Vendor,
    neighbor_policies,
    route_map_filters,
)
from .readback import first_after, indented_blocks, mask_length

VENDOR = Vendor(
    ike_encryption={
        "AES256": "aes-256",
        "AES192": "aes-192",
        "AES128": "aes",
        "DES3": "3des",
        "DES": "des",
        "GCMAES256": "aes-gcm-256",
        "GCMAES128": "aes-gcm",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha", "MD5": "md5"},
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
        "GCMAES256": "aes-gcm-256",
        "GCMAES192": "aes-gcm-192",
        "GCMAES128": "aes-gcm",
        "AES256": "aes-256",
        "AES192": "aes-192",
        "AES128": "aes",
        "DES3": "3des",
        "DES": "des",
        "None": "null",
    },
    # GCM carries its own integrity: ASA then wants `protocol esp integrity null`
    ipsec_integrity={"SHA256": "sha-256", "SHA1": "sha-1", "MD5": "md5", **crypto.GCM_INTEGRITY},
    pfs_group=crypto.PFS_GROUP_NAMES,  # `set pfs group14`, `group20`, ...
)

_WEAK = "removed from IKEv2 in ASA 9.13/9.15 (Cisco ASA release notes)"
REFUSED = {
    "ike_encryption": {"DES": _WEAK, "DES3": _WEAK},
    "ike_integrity": {"MD5": _WEAK},
    "dh_group": {"DHGroup1": _WEAK, "DHGroup2": _WEAK, "DHGroup24": _WEAK},
    "ipsec_encryption": {"DES": _WEAK, "DES3": _WEAK, "None": "no encryption"},
    "ipsec_integrity": {"MD5": _WEAK},
    "pfs_group": {"PFS1": _WEAK, "PFS2": _WEAK, "PFS24": _WEAK},
}

# nameif: letters, digits, '-', '_' and '.', up to 48 characters (ASA interface chapter)
_NAMEIF = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,47}")
LINK_BASE = IPv4Address("169.254.250.0")  # /31 links of static tunnels (module docstring)


def asa_ike_policy(policy: IpsecPolicy) -> list[str]:
    """Lines of `crypto ikev2 policy N` (AES-GCM: integrity null, the PRF named on its own)."""
    hash_ = VENDOR.ike_integrity[policy.ike_integrity]
    gcm = crypto.is_gcm(policy.ike_encryption)
    return [
        f"encryption {VENDOR.ike_encryption[policy.ike_encryption]}",
        f"integrity {'null' if gcm else hash_}",
        f"group {VENDOR.dh_group[policy.dh_group]}",
        f"prf {hash_}",
    ]


def asa_esp_proposal(policy: IpsecPolicy) -> list[str]:
    """Lines of `crypto ipsec ikev2 ipsec-proposal NAME`."""
    integrity = VENDOR.ipsec_integrity[policy.ipsec_integrity] or "null"
    return [
        f"protocol esp encryption {VENDOR.ipsec_encryption[policy.ipsec_encryption]}",
        f"protocol esp integrity {integrity}",
    ]


def asa_pfs(policy: IpsecPolicy) -> str:
    """`set pfs` group, or '' without PFS."""
    return VENDOR.pfs_group[policy.pfs_group]


def asa_nameif(tunnel: Tunnel) -> str:
    """The VTI's nameif (what `route` and `show` name it by)."""
    return f"azure-t{tunnel.device_index}"


def asa_vti_address(tunnel: Tunnel) -> str:
    """The VTI's own address: the BGP address on a BGP tunnel, else a /31 link address."""
    if tunnel.bgp and tunnel.device_bgp_ip is not None:
        return str(tunnel.device_bgp_ip)
    return str(LINK_BASE + 2 * tunnel.device_index)


def asa_next_hop(tunnel: Tunnel) -> str:
    """Next hop of the routes over the VTI: the Azure BGP address, else the link's other address."""
    if tunnel.bgp and tunnel.azure_bgp_ip is not None:
        return str(tunnel.azure_bgp_ip)
    return str(LINK_BASE + 2 * tunnel.device_index + 1)


# ---------------------------------------------------------------- read-back
def parse_asa(text: str) -> DeviceFacts:
    blocks = indented_blocks(text)
    device = DeviceFacts()
    # every `crypto ikev2 policy` is global (any may match a peer), its lifetime included
    offered = tuple(tuple(lines) for key, lines in blocks.items() if re.match(r"^crypto ikev2 policy \d+$", key))
    enabled = {key.split()[-1] for key in blocks if key.startswith("crypto ikev2 enable ")}
    identity = ""
    if "crypto isakmp identity address" in blocks:  # the outside address, named in the comment beside it
        identity = first_after(text.splitlines(), "! IKE identity: ").split(" ")[0]
    nameifs: dict[str, int] = {}
    for key, lines in blocks.items():
        if m := re.match(r"^interface Tunnel(\d+)$", key):
            nameifs[first_after(lines, "nameif ")] = int(m.group(1))
    routes: dict[int, set[str]] = {}
    for key in blocks:
        if (m := re.match(r"^route (\S+) (\S+) (\S+) \S+(?: \d+)?$", key)) and m.group(1) in nameifs:
            routes.setdefault(nameifs[m.group(1)], set()).add(f"{m.group(2)}/{mask_length(m.group(3))}")
    for key, lines in blocks.items():
        m = re.match(r"^interface Tunnel(\d+)$", key)
        if not m:
            continue
        index = int(m.group(1))
        peer = first_after(lines, "tunnel destination ")
        t = device.tunnels[index] = TunnelFacts(peer=peer, local_id=identity, ike=offered)
        source = first_after(lines, "tunnel source interface ")
        if source not in enabled or first_after(lines, "tunnel mode ") != "ipsec ipv4":
            t.peer = f"{peer} (IKEv2 not enabled on {source or 'no source'}, or not an IPsec VTI)"
        elif f"tunnel-group {peer} type ipsec-l2l" not in blocks:
            t.peer = f"{peer} (no ipsec-l2l tunnel-group of that name)"
        profile = blocks.get(f"crypto ipsec profile {first_after(lines, 'tunnel protection ipsec profile ')}", [])
        proposal = blocks.get(
            f"crypto ipsec ikev2 ipsec-proposal {first_after(profile, 'set ikev2 ipsec-proposal ')}", []
        )
        t.esp = (tuple(proposal), first_after(profile, "set pfs "))
        attributes = blocks.get(f"tunnel-group {peer} ipsec-attributes", [])
        local = first_after(attributes, "ikev2 local-authentication pre-shared-key ")
        remote = first_after(attributes, "ikev2 remote-authentication pre-shared-key ")
        t.psk = local if local == remote else f"{local} (local and remote keys differ)"
        t.routes = routes.get(index, set())
    for key, lines in blocks.items():
        if not key.startswith("router bgp "):
            continue
        device.asn = int(key.split()[2])
        for line in lines:
            if m := re.match(r"^neighbor (\S+) remote-as (\d+)$", line):
                device.neighbors[m.group(1)] = int(m.group(2))
        # the BGP source is the address of the VTI that carries the neighbour's /32 (no update-source)
        for neighbor in device.neighbors:
            via = next((i for i, r in sorted(routes.items()) if f"{neighbor}/32" in r), None)
            address = first_after(blocks.get(f"interface Tunnel{via}", []), "ip address ").split()
            device.bgp_source = address[0] if address else None
    # `prefix-list NAME ...` on ASA is `ip prefix-list NAME ...` on IOS: one reader for both
    lines = ["ip " + line if line.startswith("prefix-list ") else line for line in text.splitlines()]
    device.policies = neighbor_policies(lines, route_map_filters(lines))
    return device


class CiscoAsa(Platform):
    key = "cisco_asa"
    title = "Cisco ASA 9.8+ (route-based VTI, IKEv2)"
    files = (".asa.cfg",)
    outside_interface = "outside"  # a nameif: `tunnel source interface` and `crypto ikev2 enable` take it
    loopback_interface = "Loopback0"  # unused: the BGP source is the VTI's own address (module docstring)
    vendor = VENDOR
    refused = REFUSED
    tunnel_interface = "Tunnel{n}"
    capabilities = frozenset({STATEFUL_FIREWALL, ONE_TUNNEL_PER_GATEWAY})
    apply_steps = (
        "`configure terminal`, paste `{file}`, then `end`",
        "check the result, then `write memory`",
        "to roll back: in `configure terminal` paste the removal section at the end of `{file}` without its "
        "leading `! `, then `write memory`",
    )
    # show crypto ikev2 sa / show crypto ipsec sa / show vpn-sessiondb l2l (VPN chapter, 214109)
    verify_commands = ("show crypto ikev2 sa", "show crypto ipsec sa", "show vpn-sessiondb l2l")
    bgp_verify_commands = ("show bgp summary", "show route bgp")
    bgp_neighbor_commands = (
        "show bgp neighbors {neighbor} advertised-routes",
        "show bgp neighbors {neighbor} routes",
    )
    allowas_in = "none on ASA (no allowas-in in its BGP): give each site its own ASN"
    filters = {
        "asa_ike_policy": asa_ike_policy,
        "asa_esp_proposal": asa_esp_proposal,
        "asa_pfs": asa_pfs,
        "asa_nameif": asa_nameif,
        "asa_vti_address": asa_vti_address,
        "asa_next_hop": asa_next_hop,
    }

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        ike = (*asa_ike_policy(policy), f"lifetime seconds {crypto.IKE_LIFETIME_SECONDS}")
        return ike, (tuple(asa_esp_proposal(policy)), asa_pfs(policy))

    def offers_ike(self, expected: Any, found: Any) -> bool:
        return expected in (found or ())  # the `crypto ikev2 policy` entries are global: any may match

    def device_problems(self, device: Device) -> Iterator[tuple[str, str]]:
        if not _NAMEIF.fullmatch(device.outside_interface):
            yield (
                "outside_interface",
                f"'{device.outside_interface}' is not an ASA nameif (the outside interface's name, e.g. outside)",
            )
        if device.behind_nat:
            yield (
                "local_address",
                "an ASA sends its interface address as IKE identity and cannot send its public IP behind NAT; "
                "give it the public address itself (remove local_address) or use another platform",
            )

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        text = files.get(f"{stem}.asa.cfg")
        return None if text is None else parse_asa(text)

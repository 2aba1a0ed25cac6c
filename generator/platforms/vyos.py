"""VyOS 1.4 / 1.5 (`set` commands): route-based VTIs (`vti bind`) with IKEv2 and BGP over FRR.

Structure after VyOS's own Azure examples, which are the reference for the structure only:
https://docs.vyos.io/en/latest/configexamples/azure-vpn-bgp.html and
https://docs.vyos.io/en/latest/configexamples/azure-vpn-dual-bgp.html (vyos/vyos-documentation,
docs/configexamples/azure-vpn-bgp.rst and azure-vpn-dual-bgp.rst): one `site-to-site peer` per
Azure gateway instance bound to its own VTI, `authentication local-id` / `remote-id`,
`local-address` the device's own (private, when NATed) address while the IKE identity stays its
public IP, a /32 interface route to each Azure BGP address over its VTI, MSS clamped to 1350.
Where this differs from those examples, and why:

- BGP timers 60/180: "Azure VPN Gateways use fixed timer values ... on-premises devices should be
  configured with matching timer values" (https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp,
  facts-2026-12 §5); the examples' 10/30 go against it.
- Who initiates follows the connection's `connection_mode`: the examples' `connection-type respond`
  waits for Azure, which never comes for a `ResponderOnly` connection, nor for BGP over APIPA
  ("When you use APIPA addresses, Azure VPN Gateway doesn't initiate the BGP peering session",
  https://learn.microsoft.com/azure/vpn-gateway/bgp-howto), nor a device behind NAT ("ensure
  that the on-premises device initiates the IPSec tunnel", VPN FAQ). Only `InitiatorOnly` (the
  gateway initiates, `connectionMode` in
  https://learn.microsoft.com/azure/templates/microsoft.network/connections; router-facts A16)
  makes the device respond; bgpd opens its BGP sessions itself either way.
- The BGP source is the device's BGP address on a dummy interface (`update-source` +
  `ebgp-multihop`, as on the other platforms: the Azure peer is never directly connected), not an
  address on each VTI with `disable-connected-check`.

- DPD: `dead-peer-detection action restart` and `interval` only; VyOS's `timeout` is "Dead Peer
  Detection keep-alive timeout (IKEv1 only)" (vpn_ipsec.xml.in), so it is not rendered for these
  IKEv2 groups. With IKEv2, strongSwan declares the peer dead when its retransmissions run out
  (https://docs.strongswan.org/docs/latest/config/retransmission.html, 165 s with the defaults,
  which VyOS's CLI does not expose), and VyOS's updown script then sets the VTI down (since 1.4.0 a
  bound VTI is enabled only by the IPsec daemon: https://vyos.dev/T6085).
- Failover: no BGP drop before the hold time. The session to an Azure BGP address outlives the SA,
  because the VNet prefix learned over the other tunnel covers that address. FRR drops a multihop
  session early only if zebra's nexthop tracking reports the peer unreachable. A `blackhole` /32
  backstop with `bgp fast-convergence` is not enough: measured on FRR 8.4, the session stayed
  Established with NHT "Waiting for NHT" on the blackhole. That takes `ip nht bgp route-map`
  (what the strongswan_frr platform renders), and VyOS's CLI has no such command; its definitions
  offer only `system ip nht no-resolve-via-default`. A blackhole backstop alone would be worse
  than none: the dead peer's routes would stay valid and resolve into it until the hold time. So
  VyOS keeps the 180 s hold time (docs/onprem.md).

Commands and value ranges: the vyos-1x XML interface definitions (vpn_ipsec.xml.in,
interfaces_vti.xml.in, interfaces_dummy.xml.in, protocols_bgp.xml.in, protocols_static.xml.in),
checked for every rendered line by tests/checks_vyos.py. Algorithm names: the `encryption`,
`hash`, `prf`, `dh-group` and `pfs` value lists of vpn_ipsec.xml.in; VyOS hands them to strongSwan
(https://docs.vyos.io/en/latest/configuration/vpn/ipsec.html), where an AES-GCM with a 16-octet ICV
(Azure's GCMAES*, RFC 4106) is `aes256gcm128` in VyOS's naming. Azure's DES (ESP) has no VyOS
name: refused by rule onprem-platform-crypto.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from .. import crypto
from ..model import Device, IpsecPolicy, Tunnel
from .base import FQDN_IDENTITY, IBGP_PAIR, RESPONDER_ONLY, DeviceFacts, NeighborPolicy, Platform, TunnelFacts, Vendor

VENDOR = Vendor(
    ike_encryption={
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "DES3": "3des",
        "GCMAES256": "aes256gcm128",
        "GCMAES128": "aes128gcm128",
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
        "GCMAES256": "aes256gcm128",
        "GCMAES192": "aes192gcm128",
        "GCMAES128": "aes128gcm128",
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "DES3": "3des",
        "None": "null",
    },
    ipsec_integrity={"SHA256": "sha256", "SHA1": "sha1", "MD5": "md5", **crypto.GCM_INTEGRITY},
    pfs_group={
        "PFS24": "dh-group24",
        "ECP384": "dh-group20",
        "ECP256": "dh-group19",
        "PFS2048": "dh-group14",
        "PFS2": "dh-group2",
        "PFS1": "dh-group1",
        "None": "disable",  # VyOS's default `enable` would reuse the IKE group: say "no PFS" explicitly
    },
)

# vyos-1x include/constraint/interface-name.xml.i (the names VyOS accepts); the BGP source is a dummy
_INTERFACE = re.compile(r"(bond|br|eth|peth|pppoe|veth|vxlan|wlan|wwan)[0-9]+(\.\d+)?")
_DUMMY = re.compile(r"dum[0-9]+")


def vyos_ike_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `ike-group <name> proposal 1`: with AES-GCM the integrity value is the PRF."""
    hash_ = VENDOR.ike_integrity[policy.ike_integrity]
    lines = [
        f"dh-group {VENDOR.dh_group[policy.dh_group]}",
        f"encryption {VENDOR.ike_encryption[policy.ike_encryption]}",
        f"hash {hash_}",  # VyOS's default would be sha1; strongSwan ignores it in an AEAD proposal
    ]
    if crypto.is_gcm(policy.ike_encryption):
        lines.append(f"prf prf{hash_}")
    return lines


def vyos_esp_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `esp-group <name> proposal 1` (AES-GCM carries its own integrity)."""
    lines = [f"encryption {VENDOR.ipsec_encryption[policy.ipsec_encryption]}"]
    integrity = VENDOR.ipsec_integrity[policy.ipsec_integrity]
    if integrity:
        lines.append(f"hash {integrity}")
    return lines


def vyos_pfs(policy: IpsecPolicy) -> str:
    return VENDOR.pfs_group[policy.pfs_group]


def vyos_connection_type(tunnel: Tunnel) -> str:
    """`initiate` unless Azure is the only initiator of the connection (module docstring)."""
    return "initiate" if tunnel.device_initiates else "respond"


def vyos_quote(value: object) -> str:
    """A single-quoted word for the VyOS shell (vbash); a quote inside is closed, escaped, reopened."""
    return "'" + str(value).replace("'", "'\\''") + "'"


# ---------------------------------------------------------------- read-back
def parse_vyos(text: str) -> DeviceFacts:
    commands = [shlex.split(line)[1:] for line in text.splitlines() if line.startswith("set ")]
    device = DeviceFacts()

    def values(*prefix: str) -> list[list[str]]:
        n = len(prefix)
        return [c[n:] for c in commands if tuple(c[:n]) == prefix]

    def one(*prefix: str) -> str:
        found = [v[0] for v in values(*prefix) if len(v) == 1]
        return found[0] if found else ""

    def group(kind: str, name: str) -> tuple[str, ...]:
        return tuple(sorted(" ".join(v) for v in values("vpn", "ipsec", kind, name, "proposal", "1")))

    routes: dict[int, set[str]] = {}
    for rest in values("protocols", "static", "route"):
        if len(rest) == 3 and rest[1] == "interface" and (m := re.fullmatch(r"vti(\d+)", rest[2])):
            routes.setdefault(int(m.group(1)), set()).add(rest[0])
    secrets: dict[str, str] = {}
    for name in {v[0] for v in values("vpn", "ipsec", "authentication", "psk") if v}:
        secret = one("vpn", "ipsec", "authentication", "psk", name, "secret")
        for address in values("vpn", "ipsec", "authentication", "psk", name, "id"):
            secrets.setdefault(address[0], secret)
    for name in sorted({v[0] for v in values("vpn", "ipsec", "site-to-site", "peer") if v}):
        peer = ("vpn", "ipsec", "site-to-site", "peer", name)
        bind = re.fullmatch(r"vti(\d+)", one(*peer, "vti", "bind"))
        if not bind:
            continue
        index = int(bind.group(1))
        remote = one(*peer, "remote-address")
        t = device.tunnels[index] = TunnelFacts(
            peer=remote,
            local_id=one(*peer, "authentication", "local-id"),
            psk=secrets.get(remote, ""),
            ike=group("ike-group", one(*peer, "ike-group")),
            routes=routes.get(index, set()),
            initiates={"initiate": True, "respond": False}.get(one(*peer, "connection-type")),
        )
        esp = one(*peer, "vti", "esp-group")
        t.esp = (group("esp-group", esp), one("vpn", "ipsec", "esp-group", esp, "pfs"))
        if one(*peer, "authentication", "remote-id") != remote:
            t.peer = f"{remote} (remote-id disagrees)"
    asn = one("protocols", "bgp", "system-as")
    device.asn = int(asn) if asn.isdigit() else None
    for rest in values("protocols", "bgp", "neighbor"):
        if len(rest) == 3 and rest[1] == "remote-as" and rest[2].isdigit():
            device.neighbors[rest[0]] = int(rest[2])
        elif len(rest) == 3 and rest[1] == "update-source":
            device.bgp_source = rest[2]
        elif rest[1:] == ["address-family", "ipv4-unicast", "nexthop-self"]:
            device.next_hop_self.add(rest[0])

    def permitted(prefix_list: str) -> set[str]:
        rules = {v[0] for v in values("policy", "prefix-list", prefix_list, "rule") if v}
        return {
            one("policy", "prefix-list", prefix_list, "rule", r, "prefix")
            for r in rules
            if one("policy", "prefix-list", prefix_list, "rule", r, "action") == "permit"
        }

    def route_map(name: str) -> NeighborPolicy:
        rules = {v[0] for v in values("policy", "route-map", name, "rule") if v}
        found = NeighborPolicy(inbound=set())
        for r in rules:
            rule = ("policy", "route-map", name, "rule", r)
            if one(*rule, "action") != "permit":
                continue
            found.inbound |= permitted(one(*rule, "match", "ip", "address", "prefix-list"))
            prepend = one(*rule, "set", "as-path", "prepend")
            found.prepend = tuple(int(x) for x in prepend.split()) or found.prepend
            pref = one(*rule, "set", "local-preference")
            found.local_preference = int(pref) if pref.isdigit() else found.local_preference
        return found

    for neighbor in device.neighbors:
        family = ("protocols", "bgp", "neighbor", neighbor, "address-family", "ipv4-unicast")
        imp, exp = one(*family, "route-map", "import"), one(*family, "route-map", "export")
        limit, hold = (
            one(*family, "maximum-prefix"),
            one("protocols", "bgp", "neighbor", neighbor, "timers", "holdtime"),
        )
        rin, rout = route_map(imp), route_map(exp)
        device.policies[neighbor] = NeighborPolicy(
            inbound=rin.inbound if imp else None,
            outbound=rout.inbound if exp else None,
            max_prefix=int(limit) if limit.isdigit() else None,
            prepend=rout.prepend,
            local_preference=rin.local_preference,
            hold=int(hold) if hold.isdigit() else None,
        )
    return device


class Vyos(Platform):
    key = "vyos"
    title = "VyOS 1.4 / 1.5 (set commands)"
    files = (".vyos",)
    outside_interface = "eth0"
    loopback_interface = "dum0"
    vendor = VENDOR
    tunnel_interface = "vti{n}"
    # VTIs with any-to-any selectors only, no firewall rendered. `authentication local-id` is free text
    # that VyOS hands to strongSwan as the local `id`: a DNS name there is an FQDN identity.
    capabilities = frozenset({FQDN_IDENTITY, RESPONDER_ONLY, IBGP_PAIR})
    # https://docs.vyos.io/en/latest/cli.html (configure, compare, commit-confirm, confirm, save)
    apply_steps = (
        "`configure`, paste `{file}`, then `compare`",
        "`commit-confirm 10`, then `confirm` once the tunnels are up, and `save`",
    )
    # https://docs.vyos.io/en/latest/configuration/vpn/ipsec.html (operation mode)
    verify_commands = ("show vpn ike sa", "show vpn ipsec sa")
    bgp_verify_commands = ("show ip bgp summary", "show ip route bgp")
    bgp_neighbor_commands = (
        "show ip bgp neighbors {neighbor} advertised-routes",
        "show ip bgp neighbors {neighbor} routes",
    )
    allowas_in = "set protocols bgp neighbor <Azure BGP IP> address-family ipv4-unicast allowas-in number 1 (VyOS)"
    filters = {
        "vyos_ike_proposal": vyos_ike_proposal,
        "vyos_esp_proposal": vyos_esp_proposal,
        "vyos_pfs": vyos_pfs,
        "vyos_connection_type": vyos_connection_type,
        "vyos_quote": vyos_quote,
    }

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        return tuple(sorted(vyos_ike_proposal(policy))), (tuple(sorted(vyos_esp_proposal(policy))), vyos_pfs(policy))

    def device_problems(self, device: Device) -> Iterator[tuple[str, str]]:
        if not _INTERFACE.fullmatch(device.outside_interface):
            yield (
                "outside_interface",
                f"'{device.outside_interface}' is not a VyOS interface name, e.g. eth0 or eth0.10",
            )
        if not _DUMMY.fullmatch(device.loopback_interface):
            yield (
                "loopback_interface",
                f"'{device.loopback_interface}' is not a VyOS dummy interface; write dumN, e.g. dum0",
            )

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        text = files.get(f"{stem}.vyos")
        return None if text is None else parse_vyos(text)

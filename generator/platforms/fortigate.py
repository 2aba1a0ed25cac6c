"""Fortinet FortiGate (FortiOS 7.4 CLI; every command used here exists unchanged in 7.2 and 7.6).

One file per device (`.fortios.conf`): CLI `config ... end` blocks pasted into the FortiGate's CLI
(each block is applied when its `end` is read; FortiOS saves the configuration by itself). Per Azure
gateway instance one route-based IPsec tunnel: a `phase1-interface` (which creates the tunnel
interface of the same name), a `phase2-interface` with any-to-any selectors, and the tunnel
interface's addresses and TCP MSS in `config system interface`.

Sources, per block (FortiOS 7.4 CLI Reference, https://docs.fortinet.com/document/fortigate/7.4.4/cli-reference;
keyword names and values cross-checked with Fortinet's FortiOS Ansible collection, whose module
schemas are generated from the FortiOS CLI schema per release,
https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/):

- `config vpn ipsec phase1-interface`: type static, interface, ike-version 2, peertype any,
  localid-type address + localid (Azure identifies the device by the local network gateway's
  gatewayIpAddress, which is the device's public address also behind NAT; `localid-type fqdn` with the
  device's fqdn when the inventory gives one, FortiOS 7.4.5 CLI reference
  https://docs.fortinet.com/document/fortigate/7.4.5/cli-reference/305883427), proposal, dhgrp, keylife,
  dpd on-idle with dpd-retryinterval / dpd-retrycount, remote-gw, psksecret:
  https://docs.fortinet.com/document/container-fortios/7.2.1/cli-reference/305883427 and
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_vpn_ipsec_phase1_interface_module.html
- `config vpn ipsec phase2-interface`: phase1name, proposal, pfs + dhgrp, keylife-type seconds,
  keylifeseconds, auto-negotiate (disabled when the connection is InitiatorOnly: Azure alone
  initiates), src-subnet / dst-subnet 0.0.0.0 0.0.0.0 (any-to-any, what a route-based Azure
  connection negotiates):
  https://docs.fortinet.com/document/fortigate/7.0.3/cli-reference/372620 and
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_vpn_ipsec_phase2_interface_module.html
- `config system settings` `set allow-subnet-overlap enable`: lets two tunnel interfaces carry the same
  /32, Fortinet's own pattern for one BGP address on both tunnels of an active-active gateway
  (https://docs.fortinet.com/document/fortigate/7.2.9/cli-reference/130421147; Fortinet's GRE-over-IPsec
  example enables it the same way, https://docs.fortinet.com/document/fortigate/7.2.0/administration-guide/799752).
- `config system interface` (tunnel interface created by the phase 1): ip, remote-ip (/32 each),
  allowaccess ping, tcp-mss 1350 (Azure requires MSS 1350, router-facts A3), description:
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_system_interface_module.html
- `config system zone` (the tunnel interfaces in one zone the firewall policies name; intrazone deny):
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_system_zone_module.html
- `config router static` (`edit 0` = the next free sequence number, so pasting never overwrites an
  existing route): dst, device, comment, blackhole, distance:
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_router_static_module.html
- `config router prefix-list` (a rule without ge/le matches the prefix exactly; no match = deny):
  https://docs.fortinet.com/document/fortigate/7.4.3/cli-reference/197238270 and the FortiOS 6.0 reference's
  description of the implicit deny, https://docs.fortinet.com/document/fortigate/6.0.0/cli-reference/498606
- `config router route-map` (match-ip-address, set-aspath, set-local-preference; a route matching no
  rule is denied): https://docs.fortinet.com/document/fortigate/7.4.0/cli-reference/519620 and
  https://docs.fortinet.com/document/fortigate/7.4.4/administration-guide/535228
- `config router bgp`: as, router-id, ebgp-multipath, neighbour remote-as, ebgp-enforce-multihop,
  ebgp-multihop-ttl, update-source, soft-reconfiguration, route-map-in/out, maximum-prefix,
  maximum-prefix-threshold, keep-alive-timer, holdtime-timer, link-down-failover (the session drops
  as soon as its tunnel interface goes down with the SA, instead of waiting out the hold time),
  description; `config network`:
  https://docs.fortinet.com/document/fortigate/7.4.2/cli-reference/542620 and
  https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_router_bgp_module.html
  FortiOS has no restart interval for maximum-prefix (the neighbour's `restart-time` is the graceful
  restart delay): a session torn down by the limit stays down until `execute router clear bgp ip
  <neighbour>`; the runbook says so (the other platforms restart after rp.restart_minutes).
- `config firewall address` / `addrgrp` / `policy` (`edit 0` = next free policy ID; srcintf/dstintf
  take interfaces or zones): https://docs.ansible.com/ansible/latest/collections/fortinet/fortios/fortios_firewall_policy_module.html,
  .../fortios_firewall_address_module.html, .../fortios_firewall_addrgrp_module.html
- verify commands (`get vpn ipsec tunnel summary`, `diagnose vpn ike gateway list`,
  `get router info bgp summary`, `get router info bgp neighbors <ip> advertised-routes|routes`):
  FortiOS 7.4 Administration Guide, IPsec VPN troubleshooting and BGP,
  https://docs.fortinet.com/document/fortigate/7.4.4/administration-guide/ (sections "IPsec VPN
  troubleshooting", "BGP").

Azure's side (IKEv2, lifetimes, MSS 1350, the device's IKE identity, BGP timers) as in the other
platforms: router-facts.md §4 and azure-facts §5 (Microsoft Learn, "About cryptographic requirements
and Azure VPN gateways", https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-compliance-crypto).
Compared with published Azure+FortiGate examples: Azure-vpn-config-samples'
Fortinet/Current/fortigate_show full-configuration.txt (FortiOS 5.4, static routing; its lifetimes
10800/3600 are not Azure's, router-facts §5.5) and the active-active BGP/ECMP walk-through
blog.pichuang.com.tw/20240306-azure-aa-vpn-with-fortigate.html (tunnel /32 + remote-ip, allow-subnet-overlap,
ebgp-multipath), which this follows.

FortiOS names no 192-bit AES-GCM for ESP, no DH/PFS group 24 and no GCM PRF with MD5: those Azure
values are refused by rule onprem-platform-crypto. FortiOS refuses no algorithm by default (FIPS-CC
mode does, which this does not model), so nothing is listed in `refused`.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from .. import crypto
from ..model import Device, IpsecPolicy, SecurityZones
from .base import FQDN_IDENTITY, STATEFUL_FIREWALL, DeviceFacts, NeighborPolicy, Platform, TunnelFacts, Vendor

VENDOR = Vendor(
    # phase1 `proposal` is <encryption>-<integrity>, or <gcm>-prf<hash> for AES-GCM
    ike_encryption={
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "GCMAES256": "aes256gcm",
        "GCMAES128": "aes128gcm",
        "DES3": "3des",
        "DES": "des",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "ECP384": "20",
        "ECP256": "19",
        "DHGroup14": "14",
        "DHGroup2048": "14",
        "DHGroup2": "2",
        "DHGroup1": "1",
    },
    # phase2 `proposal`: <encryption>-<integrity>; AES-GCM carries its own integrity (aes128gcm, aes256gcm)
    ipsec_encryption={
        "GCMAES256": "aes256gcm",
        "GCMAES128": "aes128gcm",
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "DES3": "3des",
        "DES": "des",
        "None": "null",
    },
    ipsec_integrity={
        "SHA256": "sha256",
        "SHA1": "sha1",
        "MD5": "md5",
        **crypto.GCM_INTEGRITY,
    },
    pfs_group={"ECP384": "20", "ECP256": "19", "PFS2048": "14", "PFS2": "2", "PFS1": "1", "None": ""},
)

# The LAN side the firewall policies name when the device gives no security_zones: FortiGate-VM's
# second port (the first, port1, faces the Internet); `inside` may be an interface or a zone name.
DEFAULT_ZONES = SecurityZones(outside="port1", tunnel="azure", inside="port2")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$")  # FortiOS interface / zone names: at most 15 characters


def fortios_ike_proposal(policy: IpsecPolicy) -> str:
    """phase1 `proposal`: aes256-sha256, or aes256gcm-prfsha384 with GCM."""
    enc, integ = VENDOR.ike_encryption[policy.ike_encryption], VENDOR.ike_integrity[policy.ike_integrity]
    return f"{enc}-prf{integ}" if crypto.is_gcm(policy.ike_encryption) else f"{enc}-{integ}"


def fortios_ipsec_proposal(policy: IpsecPolicy) -> str:
    """phase2 `proposal`: aes256-sha256, null-sha256, or aes256gcm."""
    enc, integ = VENDOR.ipsec_encryption[policy.ipsec_encryption], VENDOR.ipsec_integrity[policy.ipsec_integrity]
    return f"{enc}-{integ}" if integ else enc


def fortios_dhgrp(policy: IpsecPolicy) -> str:
    return VENDOR.dh_group[policy.dh_group]


def fortios_pfs(policy: IpsecPolicy) -> str:
    """phase2 PFS DH group, or '' without PFS (`set pfs disable`)."""
    return VENDOR.pfs_group[policy.pfs_group]


def fortios_localid_type(tunnel: Any) -> str:
    """phase1 `localid-type`: fqdn for a device given by DNS name, else address."""
    return "fqdn" if tunnel.device_ike_fqdn else "address"


def fortios_zones(device: Device) -> SecurityZones:
    return device.security_zones or DEFAULT_ZONES


def fortios_mask(prefix: object) -> str:
    """`10.1.0.0/16` -> `10.1.0.0 255.255.0.0`, as FortiOS writes subnets."""
    net = ipaddress.IPv4Network(str(prefix))
    return f"{net.network_address} {net.netmask}"


def fortios_policy_prefixes(tunnels: Any, rp: Any) -> dict[str, list[str]]:
    """The firewall policy's address sets: the route policy's (BGP) or the tunnels' static prefixes."""
    if rp is not None:
        return {"site": [str(p) for p in rp.outbound], "azure": [str(p) for p in rp.inbound]}
    site = dict.fromkeys(str(p) for t in tunnels for p in t.local_prefixes)
    azure = dict.fromkeys(str(p) for t in tunnels for p in t.remote_prefixes)
    return {"site": list(site), "azure": list(azure)}


# ---------------------------------------------------------------- read-back
class Node:
    """One `config` block or `edit` entry of a FortiOS configuration: its settings, sub-blocks, entries."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.sets: dict[str, list[str]] = {}
        self.configs: dict[str, Node] = {}
        self.entries: list[Node] = []

    def one(self, key: str) -> str:
        return " ".join(self.sets.get(key, []))

    def sub(self, path: str) -> Node:
        return self.configs.get(path) or Node(path)


def parse_tree(text: str) -> Node:
    """config/edit/set/next/end lines (comments `#` skipped) into a tree; lenient: the validator is strict."""
    root = Node()
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, posix=True)
        head, rest = words[0], words[1:]
        if head == "config":
            node = stack[-1].configs.setdefault(" ".join(rest), Node(" ".join(rest)))
            stack.append(node)
        elif head == "edit":
            entry = Node(" ".join(rest))
            stack[-1].entries.append(entry)
            stack.append(entry)
        elif head in ("next", "end") and len(stack) > 1:
            stack.pop()
        elif head == "set" and rest:
            stack[-1].sets[rest[0]] = rest[1:]
    return root


def _cidr(value: str) -> str:
    """`10.1.0.0 255.255.0.0` -> `10.1.0.0/16`; a placeholder address (`<GW-bgp1>`) stays as it is."""
    address, _, mask = value.partition(" ")
    try:
        length = ipaddress.IPv4Network(f"0.0.0.0/{mask or 32}").prefixlen
    except ValueError:
        return value
    try:
        return str(ipaddress.IPv4Network(f"{address}/{length}", strict=False))
    except ValueError:
        return f"{address}/{length}"


def _id_type(local_id: str) -> str:
    """The `localid-type` a localid needs: address for an IP address, fqdn for a DNS name."""
    try:
        ipaddress.ip_address(local_id)
    except ValueError:
        return "fqdn"
    return "address"


def _permitted(tree: Node, route_map: str) -> NeighborPolicy:
    """What a route-map permits (prefix-list rules without ge/le, action permit), its prepend / local-pref."""
    lists = {
        e.name: {_cidr(r.one("prefix")) for r in e.sub("rule").entries if r.one("action") in ("", "permit")}
        for e in tree.sub("router prefix-list").entries
        if not any(r.sets.get("ge") or r.sets.get("le") for r in e.sub("rule").entries)
    }
    policy = NeighborPolicy(inbound=set())
    for entry in tree.sub("router route-map").entries:
        if entry.name != route_map:
            continue
        for rule in entry.sub("rule").entries:
            if rule.one("action") not in ("", "permit"):
                continue
            policy.inbound |= lists.get(rule.one("match-ip-address"), set())
            if rule.sets.get("set-aspath"):
                policy.prepend = tuple(int(x) for x in rule.sets["set-aspath"])
            if rule.one("set-local-preference").isdigit():
                policy.local_preference = int(rule.one("set-local-preference"))
    return policy


def parse_fortios(text: str, tunnel_pattern: str) -> DeviceFacts:
    tree = parse_tree(text)
    device = DeviceFacts()
    interfaces = {e.name: e for e in tree.sub("system interface").entries}
    phase2 = {e.one("phase1name"): e for e in tree.sub("vpn ipsec phase2-interface").entries}
    routes: dict[str, set[str]] = {}
    for route in tree.sub("router static").entries:
        if route.one("device") and route.one("blackhole") != "enable":
            routes.setdefault(route.one("device"), set()).add(_cidr(route.one("dst")))
    for p1 in tree.sub("vpn ipsec phase1-interface").entries:
        m = re.fullmatch(tunnel_pattern, p1.name)
        if not m:
            continue
        p2 = phase2.get(p1.name, Node())
        t = device.tunnels[int(m.group(1))] = TunnelFacts(
            peer=p1.one("remote-gw"), local_id=p1.one("localid"), psk=p1.one("psksecret")
        )
        if p1.one("ike-version") != "2" or p1.one("localid-type") != _id_type(t.local_id):
            t.peer = f"{t.peer} (not IKEv2 with an identity of the localid's type)"
        t.ike = (p1.one("proposal"), p1.one("dhgrp"), p1.one("keylife"))
        pfs = p2.one("dhgrp") if p2.one("pfs") == "enable" else ""
        t.esp = (p2.one("proposal"), pfs, p2.one("keylifeseconds"))
        t.routes = routes.get(p1.name, set())
    bgp = tree.configs.get("router bgp")
    if bgp is None:
        return device
    asn = bgp.one("as")
    if not asn:  # existing_bgp: the file names the router's own AS in a comment instead of setting it
        m = re.search(r"^# existing BGP: as (\d+) ", text, re.M)
        asn = m.group(1) if m else ""
    device.asn = int(asn) if asn.isdigit() else None
    for n in bgp.sub("neighbor").entries:
        if n.one("remote-as").isdigit():
            device.neighbors[n.name] = int(n.one("remote-as"))
        source = interfaces.get(n.one("update-source"))
        if source is not None and source.sets.get("ip"):
            device.bgp_source = source.sets["ip"][0]
        inbound = _permitted(tree, n.one("route-map-in")) if n.one("route-map-in") else None
        outbound = _permitted(tree, n.one("route-map-out")) if n.one("route-map-out") else None
        limit, hold = n.one("maximum-prefix"), n.one("holdtime-timer")
        device.policies[n.name] = NeighborPolicy(
            inbound=inbound.inbound if inbound else None,
            outbound=outbound.inbound if outbound else None,
            max_prefix=int(limit) if limit.isdigit() else None,
            prepend=outbound.prepend if outbound else (),
            local_preference=inbound.local_preference if inbound else None,
            hold=int(hold) if hold.isdigit() else None,
        )
    return device


class Fortigate(Platform):
    key = "fortigate"
    title = "Fortinet FortiGate (FortiOS 7.4 CLI)"
    files = (".fortios.conf",)
    outside_interface = "port1"
    # FortiOS carries the BGP address on the tunnel interfaces themselves (Fortinet's Azure pattern);
    # no loopback is created. The name is only what rule onprem-tunnel-numbers compares with.
    loopback_interface = "loopback0"
    vendor = VENDOR
    capabilities = frozenset({STATEFUL_FIREWALL, FQDN_IDENTITY})
    device_fields = frozenset({"security_zones", "existing_bgp"})
    tunnel_interface = "azure{n}"
    apply_steps = (
        "back up the configuration first (`execute backup config` to FTP/TFTP/USB, or System > Configuration > Backup)",
        "paste `{file}` into the CLI (SSH or console, not the GUI widget for long pastes): each "
        "`config ... end` block is applied at its `end`, FortiOS saves it by itself (no commit)",
        "to roll back: paste the commented removal section at the end of the file, or restore the backup "
        "(`execute restore config`, the device reboots)",
    )
    verify_commands = ("get vpn ipsec tunnel summary", "diagnose vpn ike gateway list")
    bgp_verify_commands = ("get router info bgp summary", "get router info routing-table bgp")
    bgp_neighbor_commands = (
        "get router info bgp neighbors {neighbor} advertised-routes",
        "get router info bgp neighbors {neighbor} routes",
    )
    allowas_in = "set allowas-in-enable enable + set allowas-in 1 on the Azure neighbours (FortiOS)"
    filters = {
        "fortios_ike_proposal": fortios_ike_proposal,
        "fortios_ipsec_proposal": fortios_ipsec_proposal,
        "fortios_dhgrp": fortios_dhgrp,
        "fortios_pfs": fortios_pfs,
        "fortios_localid_type": fortios_localid_type,
        "fortios_zones": fortios_zones,
        "fortios_mask": fortios_mask,
        "fortios_policy_prefixes": fortios_policy_prefixes,
    }

    def unsupported(self, policy: IpsecPolicy) -> Iterator[tuple[str, str, str]]:
        yield from super().unsupported(policy)
        if crypto.is_gcm(policy.ike_encryption) and policy.ike_integrity == "MD5":
            yield (
                "ike_integrity",
                "MD5",
                f"has no {policy.ike_encryption} proposal with an MD5 PRF; set ike_integrity to SHA256 or SHA384",
            )

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        from ..crypto import IKE_LIFETIME_SECONDS

        ike = (fortios_ike_proposal(policy), fortios_dhgrp(policy), str(IKE_LIFETIME_SECONDS))
        esp = (fortios_ipsec_proposal(policy), fortios_pfs(policy), str(crypto.child_lifetime(policy)))
        return ike, esp

    def device_problems(self, device: Device) -> Iterator[tuple[str, str]]:
        for name in ("outside_interface",):
            value = getattr(device, name)
            if not _NAME.match(value):
                yield name, f"'{value}' is not a FortiOS interface name (at most 15 letters, digits, '.', '-', '_')"
        z = fortios_zones(device)
        for role in ("tunnel", "inside"):
            if not _NAME.match(getattr(z, role)):
                yield "security_zones", f"the {role} name '{getattr(z, role)}' is longer than FortiOS's 15 characters"
        if z.tunnel in (z.inside, device.outside_interface):
            yield "security_zones", f"the tunnel zone '{z.tunnel}' must be a zone of its own (not inside or outside)"

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        text = files.get(f"{stem}.fortios.conf")
        pattern = re.escape(self.tunnel_interface).replace(re.escape("{n}"), r"(\d+)")
        return None if text is None else parse_fortios(text, pattern)

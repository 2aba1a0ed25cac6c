"""Linux as the VPN router: strongSwan (swanctl) for IPsec, FRR for BGP, XFRM interfaces.

Proposal keywords: https://docs.strongswan.org/docs/latest/config/proposals.html; swanctl.conf:
https://docs.strongswan.org/docs/latest/swanctl/swanctlConf.html; FRR BGP:
https://docs.frrouting.org/en/latest/bgp.html (router-facts.md, strongSwan + FRR steps of section 6).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import crypto
from ..model import Device, IpsecPolicy, Tunnel
from .base import (
    FQDN_IDENTITY,
    POLICY_BASED_SELECTORS,
    DeviceFacts,
    Platform,
    TunnelFacts,
    Vendor,
    neighbor_policies,
    route_map_filters,
)

VENDOR = Vendor(
    ike_encryption={
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "GCMAES256": "aes256gcm16",
        "GCMAES128": "aes128gcm16",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "modp2048s256",
        "ECP384": "ecp384",
        "ECP256": "ecp256",
        "DHGroup14": "modp2048",
        "DHGroup2048": "modp2048",
        "DHGroup2": "modp1024",
        "DHGroup1": "modp768",
    },
    ipsec_encryption={
        "GCMAES256": "aes256gcm16",
        "GCMAES192": "aes192gcm16",
        "GCMAES128": "aes128gcm16",
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "DES3": "3des",
        "DES": "des",
        "None": "null",
    },
    ipsec_integrity={"SHA256": "sha256", "SHA1": "sha1", "MD5": "md5", **crypto.GCM_INTEGRITY},
    pfs_group={
        "PFS24": "modp2048s256",
        "ECP384": "ecp384",
        "ECP256": "ecp256",
        "PFS2048": "modp2048",
        "PFS2": "modp1024",
        "PFS1": "modp768",
        "None": "",
    },
)


# strongSwan's security recommendations list these as weak, "must not be used" (its default proposals
# neither offer nor accept them, 3DES and SHA1 excepted): encryption des, 3des; integrity/PRF md5,
# sha1; groups modp768, modp1024, modp1536, modp2048s256 (and smaller).
# https://docs.strongswan.org/docs/latest/howtos/securityRecommendations.html
_WEAK = "weak per strongSwan's security recommendations"
REFUSED = {
    "ike_encryption": {},
    "ike_integrity": {"MD5": _WEAK, "SHA1": _WEAK},
    "dh_group": {"DHGroup1": _WEAK, "DHGroup2": _WEAK, "DHGroup24": _WEAK},
    "ipsec_encryption": {"DES": _WEAK, "DES3": _WEAK, "None": "no encryption"},
    "ipsec_integrity": {"MD5": _WEAK, "SHA1": _WEAK},
    "pfs_group": {"PFS1": _WEAK, "PFS2": _WEAK, "PFS24": _WEAK},
}


def swan_ike_proposal(policy: IpsecPolicy) -> str:
    """`proposals` value, e.g. aes256-sha256-modp2048 or aes256gcm16-prfsha384-ecp384."""
    integrity = VENDOR.ike_integrity[policy.ike_integrity]
    middle = f"prf{integrity}" if crypto.is_gcm(policy.ike_encryption) else integrity
    return "-".join((VENDOR.ike_encryption[policy.ike_encryption], middle, VENDOR.dh_group[policy.dh_group]))


def swan_esp_proposal(policy: IpsecPolicy) -> str:
    """`esp_proposals` value; the PFS group is the key-exchange suffix."""
    parts = [
        VENDOR.ipsec_encryption[policy.ipsec_encryption],
        VENDOR.ipsec_integrity[policy.ipsec_integrity],
        VENDOR.pfs_group[policy.pfs_group],
    ]
    return "-".join(p for p in parts if p)


def swan_start_action(tunnel: Tunnel) -> str:
    """Who opens the tunnel follows `connection_mode` (swanctl.conf `start_action`/`close_action`):
    `InitiatorOnly` (only the Azure gateway initiates) makes the device respond only (`none`);
    otherwise (`Default`, `ResponderOnly`) the device starts it and re-starts it when closed.
    https://docs.strongswan.org/docs/latest/swanctl/swanctlConf.html"""
    return "none" if tunnel.connection_mode == "InitiatorOnly" else "start"


def swan_dpd_action(tunnel: Tunnel) -> str:
    """A responder-only device clears a dead peer's SAs and waits for Azure; else it re-initiates."""
    return "clear" if tunnel.connection_mode == "InitiatorOnly" else "restart"


# Where the runbook installs a device's files (the systemd unit runs them from there at boot).
INSTALL_DIR = "/etc/gen"


def linux_installed(device: Device, suffix: str) -> str:
    """Installed path of one of the device's files, e.g. /etc/gen/dc1-linux1.nft."""
    return f"{INSTALL_DIR}/{device.name}{suffix}"


def linux_unit(device: Device) -> str:
    """The device's systemd unit name: its `.service` file's name, as the runbook installs it."""
    return f"{device.name}.service"


def linux_xfrm_names(tunnels: Iterable[Tunnel]) -> str:
    """The tunnels' XFRM interfaces as an nftables set body: "xfrm1", "xfrm2"."""
    return ", ".join(f'"xfrm{t.device_index}"' for t in tunnels)


def linux_remote_prefixes(tunnels: Iterable[Tunnel]) -> list[str]:
    """Every VNet prefix behind the device's tunnels, once each, in address order."""
    return sorted({str(p) for t in tunnels for p in t.remote_prefixes}, key=ipaddress.IPv4Network)


def systemd_escape(name: str) -> str:
    """`systemd-escape` of an interface name for a device unit (eth0 -> eth0, br-lan -> br\\x2dlan)."""
    return "".join(c if c.isalnum() or c in "_." else f"\\x{ord(c):02x}" for c in name)


def swan_section(name: object) -> str:
    """A swanctl section name: letters, digits, '-' and '_' only ('.' would open a subsection)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))


# ---------------------------------------------------------------- read-back
def _swanctl_tree(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.strip().startswith("secret") else raw.strip()
        if not line:
            continue
        if line.endswith("{"):
            child: dict[str, Any] = {}
            stack[-1][line[:-1].strip()] = child
            stack.append(child)
        elif line == "}":
            stack.pop()
        elif "=" in line:
            key, value = line.split("=", 1)
            stack[-1][key.strip()] = value.strip()
    return root


def parse_strongswan(swanctl: str, frr: str) -> DeviceFacts:
    device = DeviceFacts()
    tree = _swanctl_tree(swanctl)
    secrets = {s.get("id-2"): crypto.unquote(s.get("secret", "")) for s in tree.get("secrets", {}).values()}
    routes: dict[int, set[str]] = {}
    for line in frr.splitlines():
        if m := re.match(r"^ip route (\S+) xfrm(\d+)$", line.strip()):
            routes.setdefault(int(m.group(2)), set()).add(m.group(1))
    for conn in tree.get("connections", {}).values():
        index = int(conn.get("if_id_out", "0"))
        children = list(conn.get("children", {}).values())
        t = device.tunnels[index] = TunnelFacts(
            peer=conn.get("remote_addrs", ""),
            local_id=conn.get("local", {}).get("id", ""),
            psk=secrets.get(conn.get("remote_addrs"), ""),
            ike=conn.get("proposals"),
            esp=tuple(sorted({c.get("esp_proposals") for c in children})),
            routes=routes.get(index, set()),
        )
        if conn.get("if_id_in") != conn.get("if_id_out") or conn.get("remote", {}).get("id") != t.peer:
            t.peer = f"{t.peer} (if_id or remote id disagree)"
    for line in frr.splitlines():
        line = line.strip()
        if m := re.match(r"^router bgp (\d+)$", line):
            device.asn = int(m.group(1))
        elif m := re.match(r"^neighbor (\S+) remote-as (\d+)$", line):
            device.neighbors[m.group(1)] = int(m.group(2))
        elif m := re.match(r"^neighbor \S+ update-source (\S+)$", line):
            device.bgp_source = m.group(1)
    device.policies = neighbor_policies(frr.splitlines(), route_map_filters(frr.splitlines()))
    return device


class StrongswanFrr(Platform):
    key = "strongswan_frr"
    title = "Linux: strongSwan (swanctl) + FRR"
    files = (".swanctl.conf", ".frr.conf", ".interfaces.sh", ".nft", ".service")
    outside_interface = "eth0"
    loopback_interface = "lo"
    vendor = VENDOR
    refused = REFUSED
    device_fields = frozenset({"existing_bgp"})
    tunnel_interface = "xfrm{n}"
    # swanctl.conf `local.id`: a value that is neither an IP address nor holds '@' or '=' is an FQDN
    # identity (strongSwan docs, swanctl.conf "connections.<conn>.local<suffix>.id").
    capabilities = frozenset({POLICY_BASED_SELECTORS, FQDN_IDENTITY})
    apply_steps = (
        f"copy `{{file3}}` and `{{file4}}` to `{INSTALL_DIR}/`, `{{file5}}` to `/etc/systemd/system/`, then "
        "`systemctl daemon-reload` and `systemctl enable --now {file5}` (firewall, forwarding, tunnel interfaces; "
        "at every boot before the network)",
        "install `{file}` as `/etc/swanctl/conf.d/` file and run `swanctl --load-all`",
        "apply `{file2}` with `vtysh -f` (or merge it into `/etc/frr/frr.conf` and reload FRR; bgpd and staticd on)",
    )
    verify_commands = ("swanctl --list-sas",)
    # https://docs.frrouting.org/en/latest/bgp.html (show bgp ... neighbors PEER advertised-routes / routes)
    bgp_verify_commands = ("vtysh -c 'show bgp summary'", "vtysh -c 'show ip route bgp'")
    bgp_neighbor_commands = (
        "vtysh -c 'show ip bgp neighbors {neighbor} advertised-routes'",
        "vtysh -c 'show ip bgp neighbors {neighbor} routes'",
    )
    allowas_in = "neighbor <Azure BGP IP> allowas-in (FRR)"
    filters = {
        "swan_section": swan_section,
        "swan_start_action": swan_start_action,
        "swan_dpd_action": swan_dpd_action,
        "swan_ike_proposal": swan_ike_proposal,
        "swan_esp_proposal": swan_esp_proposal,
        "linux_installed": linux_installed,
        "linux_unit": linux_unit,
        "linux_xfrm_names": linux_xfrm_names,
        "linux_remote_prefixes": linux_remote_prefixes,
        "systemd_escape": systemd_escape,
    }
    lab_files = {"swanctl": ".swanctl.conf", "frr": ".frr.conf", "interfaces": ".interfaces.sh", "nft": ".nft"}

    def expected_crypto(self, policy: IpsecPolicy) -> tuple[Any, Any]:
        return swan_ike_proposal(policy), (swan_esp_proposal(policy),)

    def parse(self, files: Mapping[str, str], stem: str) -> DeviceFacts | None:
        swanctl = files.get(f"{stem}.swanctl.conf")
        return None if swanctl is None else parse_strongswan(swanctl, files.get(f"{stem}.frr.conf", ""))

    def lab_proposals(self, policy: IpsecPolicy) -> tuple[str, str]:
        return swan_ike_proposal(policy), swan_esp_proposal(policy)

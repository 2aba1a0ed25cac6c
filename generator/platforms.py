"""On-prem device platforms: one row each, shared by the device targets, the runbook and the rules.

Adding a platform = one row here + one template folder templates/onprem/<key>/ (see
docs/new-platform.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Platform:
    key: str
    title: str
    files: tuple[str, ...]  # output file suffixes: out/onprem/<site>/<device><suffix>
    verify_commands: tuple[str, ...]  # what the engineer runs on the device after pasting


PLATFORMS: dict[str, Platform] = {
    "cisco_iosxe": Platform(
        "cisco_iosxe",
        "Cisco IOS-XE (CSR1000v, Catalyst 8000v, ISR 4000)",
        (".ios",),
        ("show crypto ikev2 sa", "show crypto ipsec sa", "show ip bgp summary", "show ip route bgp"),
    ),
    "juniper_srx": Platform(
        "juniper_srx",
        "Juniper SRX (Junos set commands)",
        (".set",),
        (
            "show security ike security-associations",
            "show security ipsec security-associations",
            "show bgp summary",
            "show route protocol bgp",
        ),
    ),
    "strongswan_frr": Platform(
        "strongswan_frr",
        "Linux: strongSwan (swanctl) + FRR",
        (".swanctl.conf", ".frr.conf", ".interfaces.sh"),
        ("swanctl --list-sas", "vtysh -c 'show bgp summary'", "vtysh -c 'show ip route bgp'"),
    ),
}

# How the engineer applies a device's files, per platform (shown in the runbook). `{file}` is the
# first output file (`{file2}`, `{file3}` the next ones, in the order of Platform.files).
APPLY_STEPS: dict[str, tuple[str, ...]] = {
    "cisco_iosxe": (
        "`configure terminal`, paste `{file}`, then `end`",
        "check the result, then `copy running-config startup-config`",
    ),
    "juniper_srx": (
        "`configure`, then `load set terminal`, paste `{file}` and end with Ctrl-D",
        "`show | compare`, `commit check`, then `commit confirmed 10` and `commit` once the tunnels are up",
    ),
    "strongswan_frr": (
        "run `{file3}` as root (creates the tunnel interfaces)",
        "install `{file}` as `/etc/swanctl/conf.d/` file and run `swanctl --load-all`",
        "apply `{file2}` with `vtysh -f` (or merge it into `/etc/frr/frr.conf` and reload FRR)",
    ),
}

"""Deterministic synthetic inventories of N on-prem devices, valid under `gen validate` (all rules).

    python bench/make_inventory.py N [--seed S] [-o FILE]     (default: stdout)

Shape: sites with one or two devices (a mix of cisco_iosxe, juniper_srx and strongswan_frr), each
site connected to one hub VNet. Hubs have active-active VpnGw4AZ gateways (100 connections each,
the largest budget) filled to at most HUB_DEVICES connections, plus a VNet-to-VNet mesh of the
first three hubs. Every hub runs BGP; every fourth hub also has custom APIPA addresses and some of
its devices peer from an APIPA address; some single-device sites use static routing.

Addresses: device public IPs come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking; the
documentation ranges hold only 768 addresses), hubs use 10.<h>.0.0/16, sites 100.64.0.0/10.
"""

from __future__ import annotations

import argparse
import random
import sys
from ipaddress import IPv4Address

HUB_DEVICES = 90  # connections per hub gateway: under VpnGw4AZ's 100, with room for 2 VNet links
MESH_HUBS = 3
PLATFORMS = ("cisco_iosxe", "juniper_srx", "strongswan_frr")
REGIONS = ("westeurope", "northeurope", "eastus", "westus2", "southeastasia")
POLICIES = (
    {
        "ike_encryption": "AES256",
        "ike_integrity": "SHA256",
        "dh_group": "DHGroup14",
        "ipsec_encryption": "AES256",
        "ipsec_integrity": "SHA256",
        "pfs_group": "PFS2048",
        "sa_lifetime_seconds": 27000,
        "sa_datasize_kilobytes": 102400000,
    },
    {
        "ike_encryption": "GCMAES256",
        "ike_integrity": "SHA384",
        "dh_group": "ECP384",
        "ipsec_encryption": "GCMAES256",
        "ipsec_integrity": "GCMAES256",
        "pfs_group": "ECP384",
        "sa_lifetime_seconds": 3600,
        "sa_datasize_kilobytes": 102400000,
    },
)
PUBLIC_BASE = int(IPv4Address("198.18.0.0"))
SITE_BASE = int(IPv4Address("100.64.0.0"))
SITE_BLOCK = 512  # a /23 per site: prefixes in the first /24, loopbacks in the second
APIPA_GATEWAY = ("169.254.21.", "169.254.22.")  # .0-.63 for gateway instances 0 and 1
APIPA_DEVICE_POOL = [f"169.254.{x}.{y}" for x in (21, 22) for y in range(64, 256)]
MAX_DEVICES = 5000  # the schema allows 5000 sites; hubs: 200 VNets


def _ip(value: int) -> str:
    return str(IPv4Address(value))


def _sites(n: int, rng: random.Random) -> list[int]:
    """Devices per site (1 or 2), summing to n."""
    sizes = []
    left = n
    while left:
        size = 2 if left >= 2 and rng.random() < 0.35 else 1
        sizes.append(size)
        left -= size
    return sizes


def make(n: int, seed: int = 42) -> str:
    """The inventory as YAML text (written by hand: one flow mapping per device keeps it compact)."""
    if not 1 <= n <= MAX_DEVICES:
        raise ValueError(f"N must be 1..{MAX_DEVICES}")
    rng = random.Random(seed)
    sizes = _sites(n, rng)
    # hubs filled in order, never past HUB_DEVICES connections
    hub_of, hub_load = [], [0]
    for size in sizes:
        if hub_load[-1] + size > HUB_DEVICES:
            hub_load.append(0)
        hub_of.append(len(hub_load) - 1)
        hub_load[-1] += size
    hubs = len(hub_load)
    apipa_hubs = {h for h in range(hubs) if h % 4 == 1}
    out = [
        f"# Synthetic benchmark inventory: {n} devices, {len(sizes)} sites, {hubs} hubs (bench/make_inventory.py {n} --seed {seed})",
        f"name: bench-{n}",
        f"description: Synthetic estate of {n} on-prem devices for benchmarks",
        "azure:",
        "  vnets:",
    ]
    for h in range(hubs):
        apipa = ""
        if h in apipa_hubs:
            apipa = f", apipa_addresses: [[{APIPA_GATEWAY[0]}{h // 4}], [{APIPA_GATEWAY[1]}{h // 4}]]"
        out += [
            f"    - name: hub{h:03d}-vnet",
            f"      resource_group: rg-hub{h:03d}",
            f"      region: {REGIONS[h % len(REGIONS)]}",
            f"      address_space: [10.{h}.0.0/16]",
            f"      subnets: [{{name: GatewaySubnet, prefix: 10.{h}.255.0/27}}, {{name: workload, prefix: 10.{h}.1.0/24}}]",
            f"      gateway: {{sku: VpnGw4AZ, active_active: true, bgp: {{asn: {64512 + h}{apipa}}}}}",
        ]
    if hubs >= 2:
        mesh = ", ".join(f"hub{h:03d}-vnet" for h in range(min(hubs, MESH_HUBS)))
        out += [
            "  vnet_links:",
            f"    - full_mesh: [{mesh}]",
            "      psk: {env: GEN_PSK_HUB_MESH}",
            "      ipsec_policy: {" + ", ".join(f"{k}: {v}" for k, v in POLICIES[0].items()) + "}",
        ]
    out += ["onprem:", "  sites:"]
    device = 0
    apipa_pool = iter(APIPA_DEVICE_POOL)
    static_sites = set()
    for i, size in enumerate(sizes):
        block = SITE_BASE + i * SITE_BLOCK
        prefixes = [f"{_ip(block)}/24"] + ([f"{_ip(block + 256)}/26"] if rng.random() < 0.5 else [])
        static = size == 1 and rng.random() < 0.1
        if static:
            static_sites.add(i)
        out += [
            f"    - name: site{i:05d}",
            f"      location: Branch {i}",
            f"      asn: {4_200_000_000 + i}",  # RFC 6996 private 4-byte ASNs: one per site (shared ones warn)
            f"      prefixes: [{', '.join(prefixes)}]",
        ]
        if size == 2 and not static and "juniper_srx" in {PLATFORMS[(device + j) % len(PLATFORMS)] for j in range(2)}:
            out.append(
                "      redundancy: primary-backup"
            )  # a stateful firewall in the pair (rule stateful-active-active)
        out += [
            "      devices:",
        ]
        for j in range(size):
            fields = [
                f"name: site{i:05d}-r{j + 1}",
                f"platform: {PLATFORMS[device % len(PLATFORMS)]}",
                f"public_ip: {_ip(PUBLIC_BASE + device + 1)}",
            ]
            if not static:
                bgp_ip = None
                if hub_of[i] in apipa_hubs and device % 2 == 0:
                    bgp_ip = next(apipa_pool, None)
                fields.append(f"bgp_ip: {bgp_ip or _ip(block + 256 + 200 + j)}")
            out.append("        - {" + ", ".join(fields) + "}")
            device += 1
    out.append("  connections:")
    for i in range(len(sizes)):
        fields = [f"site: site{i:05d}", f"vnet: hub{hub_of[i]:03d}-vnet", f"psk: {{env: GEN_PSK_SITE{i:05d}}}"]
        if i in static_sites:
            fields.append("bgp: false")
        if i % 7 == 3:
            fields.append("dpd_timeout_seconds: 30")
        policy = POLICIES[i % len(POLICIES)]
        fields.append("ipsec_policy: {" + ", ".join(f"{k}: {v}" for k, v in policy.items()) + "}")
        out.append("    - {" + ", ".join(fields) + "}")
    return "\n".join(out) + "\n"


def prefix_list(size: int = 10_000_000) -> str:
    """One site whose prefix list fills `size` bytes (issue 17's 10 MB case): refused while reading,
    after the first 10,000 entries (rule yaml-too-many-items), so it costs a fraction of its parse."""
    head = make(1).split("      prefixes: [", 1)
    lines, used, i = [], len(head[0]) + 200, 0
    while used < size:
        line = f"        - 172.{16 + (i >> 16) % 16}.{(i >> 8) & 255}.{i & 255}/32\n"
        lines.append(line)
        used += len(line)
        i += 1
    rest = head[1].split("]\n", 1)[1]
    return head[0] + "      prefixes:\n" + "".join(lines) + rest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help=f"number of on-prem devices (1..{MAX_DEVICES})")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = make(args.n, args.seed)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()

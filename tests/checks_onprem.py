"""Real validators for the on-prem family: check_files(files) -> problems (empty when all pass).

- `*.frr.conf`: `vtysh --dryrun -f` (FRR's own parser; exit 0 or the offending line).
- `*.swanctl.conf`: loaded into a real charon in a private network namespace; swanctl exits 0
  on syntax errors, so its output must say `successfully loaded N connections` for every
  connection of the file and `loaded ike secret` for every secret.
- `*.interfaces.sh`: `sh -n` syntax check.
- `*.nft`: `nft -c -f` (nftables' own parser, nothing applied); `*.service`: `systemd-analyze verify`.
- per Linux device (`linux_router`): forwarding on, rp_filter loose, no kernel routes, the WAN accepts
  exactly IKE/NAT-T/ESP and the XFRM interfaces BGP, the unit runs the installed files, each
  route-based CHILD_SA has the updown hook that sets its XFRM interface down.
- `*.ios` / `*.set`: ciscoconfparse2 structure checks (every reference resolves, MSS 1350, BGP
  neighbours have multihop + source + a /32 route into a tunnel).
- every registered platform with a `tests/checks_<key>.py` (docs/new-platform.md): its
  `check_files(files)` on the rendered files.

Needs root (network namespaces) and the Debian packages tests/run.sh installs; a missing tool is
a failure, never a skip. Placeholders (`<...>`) are reported: render with an Azure state file
(`state_for(model)` builds one for any model).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

PLACEHOLDER = re.compile(r"<[A-Za-z0-9][A-Za-z0-9._-]*>")
CHARON = "/usr/lib/ipsec/charon"


def check_files(files: dict[str, str]) -> list[str]:
    problems: list[str] = []
    onprem = {p: t for p, t in files.items() if p.startswith("onprem/")}
    for path, text in sorted(onprem.items()):
        if path.endswith((".frr.conf", ".swanctl.conf", ".interfaces.sh")) and PLACEHOLDER.search(text):
            problems.append(
                f"{path}: placeholders left ({PLACEHOLDER.search(text).group(0)}); render with an Azure state file"
            )
    if problems:
        return problems
    problems += check_frr({p: t for p, t in onprem.items() if p.endswith(".frr.conf")})
    problems += check_swanctl({p: t for p, t in onprem.items() if p.endswith(".swanctl.conf")})
    problems += check_shell({p: t for p, t in onprem.items() if p.endswith(".interfaces.sh")})
    problems += check_nft({p: t for p, t in onprem.items() if p.endswith(".nft")})
    problems += check_systemd({p: t for p, t in onprem.items() if p.endswith(".service")})
    for path in sorted(p for p in onprem if p.endswith(".interfaces.sh")):
        problems += linux_router(onprem, path.removesuffix(".interfaces.sh"))
    for path, text in sorted(onprem.items()):
        if path.endswith(".ios"):
            problems += [f"{path}: {p}" for p in ios_structure(text)]
        elif path.endswith(".set"):
            problems += [f"{path}: {p}" for p in junos_structure(text)]
    return problems + platform_checks(onprem)


def platform_checks(files: dict[str, str]) -> list[str]:
    """Each registered platform's own validator, tests/checks_<key>.py, on that platform's files."""
    from generator.platforms import PLATFORMS

    problems: list[str] = []
    for key, platform in PLATFORMS.items():
        if not (Path(__file__).parent / f"checks_{key}.py").is_file():
            continue
        mine = {p: t for p, t in files.items() if p.endswith(platform.files)}
        if mine:
            problems += importlib.import_module(f"checks_{key}").check_files(mine)
    return problems


def _need(tool: str) -> str:
    found = shutil.which(tool) or (tool if os.path.exists(tool) else None)
    if not found:
        raise AssertionError(f"{tool} is missing: install the Debian packages in tests/run.sh")
    return found


# ---------------------------------------------------------------- FRR
def check_frr(files: dict[str, str]) -> list[str]:
    if not files:
        return []
    vtysh = _need("vtysh")
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in sorted(files.items()):
            conf = Path(tmp) / "frr.conf"
            conf.write_text(text, encoding="utf-8")
            run = subprocess.run([vtysh, "--dryrun", "-f", str(conf)], capture_output=True, text=True, timeout=60)
            if run.returncode != 0:
                problems.append(
                    f"{path}: vtysh --dryrun exit {run.returncode}: {(run.stdout + run.stderr).strip()[:500]}"
                )
    return problems


# ---------------------------------------------------------------- shell
def check_shell(files: dict[str, str]) -> list[str]:
    problems = []
    for path, text in sorted(files.items()):
        run = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            problems.append(f"{path}: sh -n: {run.stderr.strip()}")
    return problems


# ---------------------------------------------------------------- nftables, systemd, Linux as a router
def check_nft(files: dict[str, str]) -> list[str]:
    nft = _need("nft")
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in sorted(files.items()):
            ruleset = Path(tmp) / "ruleset.nft"
            ruleset.write_text(text, encoding="utf-8")
            run = subprocess.run([nft, "-c", "-f", str(ruleset)], capture_output=True, text=True, timeout=30)
            if run.returncode != 0:
                problems.append(f"{path}: nft -c exit {run.returncode}: {run.stderr.strip()[:500]}")
    return problems


def check_systemd(files: dict[str, str]) -> list[str]:
    analyze = _need("systemd-analyze")
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in sorted(files.items()):
            unit = Path(tmp) / Path(path).name  # the name the runbook installs it under
            unit.write_text(text, encoding="utf-8")
            run = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
            if run.returncode != 0 or run.stderr.strip():
                problems.append(f"{path}: systemd-analyze verify exit {run.returncode}: {run.stderr.strip()[:500]}")
    return problems


def linux_router(files: dict[str, str], stem: str) -> list[str]:
    """What makes the strongswan_frr files a router that survives a reboot (facts-2026-12 §8)."""
    script, nft = files[f"{stem}.interfaces.sh"], files.get(f"{stem}.nft", "")
    service, swanctl = files.get(f"{stem}.service", ""), files.get(f"{stem}.swanctl.conf", "")
    device = Path(stem).name
    problems = []
    outside = re.search(r"^OUTSIDE='(\S+)'$", script, re.M)
    for need in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=2", '"net.ipv4.conf.$OUTSIDE.rp_filter=2"'):
        if f"sysctl -qw {need}" not in script:
            problems.append(f"{stem}.interfaces.sh: no sysctl {need}")
    if re.search(r"^\s*ip route ", script, re.M):
        problems.append(f"{stem}.interfaces.sh: kernel routes (FRR staticd owns the routes into the tunnels)")
    xfrms = sorted(set(re.findall(r"ip link add '(xfrm\d+)' type xfrm", script)))
    if outside and nft:
        wan = outside.group(1)
        accepted = set(re.findall(rf'^\s*iifname "{re.escape(wan)}" (.+?) accept(?: comment .*)?$', nft, re.M))
        if accepted != {"udp dport { 500, 4500 }", "meta l4proto esp"}:
            problems.append(f"{stem}.nft: the WAN accepts {sorted(accepted)}, not exactly IKE, NAT-T and ESP")
        names = ", ".join(f'"{x}"' for x in xfrms)
        if f"iifname {{ {names} }} tcp dport 179 accept" not in nft:
            problems.append(f"{stem}.nft: BGP (tcp/179) not accepted on the XFRM interfaces {names}")
    else:
        problems.append(f"{stem}: no nftables ruleset or no OUTSIDE in the script")
    for installed in (f"/usr/sbin/nft -f /etc/gen/{device}.nft", f"/bin/sh /etc/gen/{device}.interfaces.sh"):
        if f"ExecStart={installed}" not in service:
            problems.append(f"{stem}.service: does not run {installed} at boot")
    if "Before=network-pre.target" not in service or "WantedBy=multi-user.target" not in service:
        problems.append(f"{stem}.service: not ordered before the network / not enabled at boot")
    if "local_ts = 0.0.0.0/0" in swanctl:
        hooks = set(
            re.findall(rf"updown = /bin/sh /etc/gen/{re.escape(device)}\.interfaces\.sh updown (xfrm\d+)", swanctl)
        )
        if hooks != set(xfrms):
            problems.append(f"{stem}.swanctl.conf: updown hooks for {sorted(hooks)}, XFRM interfaces {xfrms}")
    problems += _frr_failover(files.get(f"{stem}.frr.conf", ""), stem)
    return problems


def _frr_failover(frr: str, stem: str) -> list[str]:
    """Each Azure BGP peer resolves only through its own tunnel: its /32 into xfrmN, a blackhole /32
    behind it, an AZURE-PEERS entry that AZURE-NHT denies when blackholed, `ip nht bgp route-map
    AZURE-NHT` and `bgp fast-convergence` (so the session drops when the tunnel's SA goes)."""
    peers = re.findall(r"^ neighbor (\S+) remote-as \d+$", frr, re.M)
    if not peers:
        return []
    problems = []
    listed = set(re.findall(r"^ip prefix-list AZURE-PEERS seq \d+ permit (\S+)/32$", frr, re.M))
    for peer in peers:
        p = re.escape(peer)
        if not re.search(rf"^ip route {p}/32 xfrm\d+$", frr, re.M):
            problems.append(f"{stem}.frr.conf: no route for {peer} into a tunnel")
        if not re.search(rf"^ip route {p}/32 blackhole 250$", frr, re.M):
            problems.append(f"{stem}.frr.conf: no blackhole behind the route for {peer}")
        if peer not in listed:
            problems.append(f"{stem}.frr.conf: {peer} not in AZURE-PEERS")
    deny = "route-map AZURE-NHT deny 10\n match ip address prefix-list AZURE-PEERS\n match ip next-hop type blackhole\n"
    for need in (deny, "\nip nht bgp route-map AZURE-NHT\n", "\n bgp fast-convergence\n"):
        if need not in frr:
            problems.append(f"{stem}.frr.conf: missing {need.strip().splitlines()[0]!r}")
    return problems


# ---------------------------------------------------------------- strongSwan
def _swanctl_sections(text: str, section: str) -> list[str]:
    """Names of the direct children of a top-level section (connections / secrets)."""
    names, depth, inside = [], 0, False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            if depth == 0:
                inside = name == section
            elif depth == 1 and inside:
                names.append(name)
            depth += 1
        elif line == "}":
            depth -= 1
    return names


class Charon:
    """A charon in its own network namespace, reachable through a vici socket in a temp dir."""

    def __init__(self) -> None:
        _need(CHARON)
        self.swanctl = _need("swanctl")
        _need("ip")
        self.work = Path(tempfile.mkdtemp(prefix="gen-charon-"))
        self.ns = f"gen{uuid.uuid4().hex[:10]}"
        self.socket = self.work / "charon.vici"
        (self.work / "run").mkdir()
        (self.work / "strongswan.conf").write_text(
            "charon {\n  load_modular = yes\n  install_routes = no\n  plugins {\n"
            "    include /etc/strongswan.d/charon/*.conf\n"
            f"    vici {{\n      socket = unix://{self.socket}\n    }}\n  }}\n"
            f"  filelog {{\n    main {{\n      path = {self.work}/charon.log\n      default = 1\n    }}\n  }}\n}}\n",
            encoding="utf-8",
        )
        subprocess.run(["ip", "netns", "add", self.ns], check=True, capture_output=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True, capture_output=True)
        env = dict(os.environ, STRONGSWAN_CONF=str(self.work / "strongswan.conf"))
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "sh", "-c", f"mount --bind {self.work}/run /run && exec {CHARON}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (self.work / "charon.log").read_text(errors="replace")
                    if (self.work / "charon.log").exists()
                    else ""
                )
                self.close()
                raise AssertionError(f"charon did not start: {log[-1000:]}")
            time.sleep(0.05)

    def load(self, text: str) -> str:
        conf = self.work / "swanctl.conf"
        conf.write_text(text, encoding="utf-8")
        run = subprocess.run(
            [self.swanctl, "--load-all", "--noprompt", "--file", str(conf), "--uri", f"unix://{self.socket}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        noise = ("plugin '", "opening directory")
        lines = [line for line in (run.stdout + run.stderr).splitlines() if not line.startswith(noise)]
        return f"exit {run.returncode}\n" + "\n".join(lines)

    def close(self) -> None:
        if getattr(self, "process", None) and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)


def check_swanctl(files: dict[str, str]) -> list[str]:
    if not files:
        return []
    problems = []
    charon = Charon()
    try:
        for path, text in sorted(files.items()):
            connections = _swanctl_sections(text, "connections")
            secrets = _swanctl_sections(text, "secrets")
            output = charon.load(text)
            # one charon serves every file: loading the next one unloads the previous file's connections
            loaded = re.search(r"successfully loaded (\d+) connections, \d+ unloaded", output)
            if not connections or not loaded or int(loaded.group(1)) != len(connections):
                problems.append(
                    f"{path}: charon did not load all {len(connections)} connections: {output.strip()[:800]}"
                )
            for name in secrets:
                if f"loaded ike secret '{name}'" not in output:
                    problems.append(f"{path}: charon did not load secret {name}: {output.strip()[:800]}")
            if not secrets:
                problems.append(f"{path}: no secrets section")
    finally:
        charon.close()
    return problems


# ---------------------------------------------------------------- IOS-XE structure
def _children(parent) -> list[str]:
    return [c.text.strip() for c in parent.children]


def ios_structure(text: str) -> list[str]:
    """proposal -> policy -> keyring -> profile -> ipsec profile -> tunnel -> route/BGP references."""
    from ciscoconfparse2 import CiscoConfParse

    parse = CiscoConfParse(text.splitlines(), syntax="ios")
    problems = []

    def names(pattern: str) -> set[str]:
        return {re.match(pattern, o.text).group(1) for o in parse.find_objects(pattern)}

    proposals = names(r"^crypto ikev2 proposal (\S+)")
    keyrings = names(r"^crypto ikev2 keyring (\S+)")
    profiles = names(r"^crypto ikev2 profile (\S+)")
    transforms = names(r"^crypto ipsec transform-set (\S+)")
    ipsec_profiles = names(r"^crypto ipsec profile (\S+)")
    for policy in parse.find_objects(r"^crypto ikev2 policy "):
        for line in _children(policy):
            if line.startswith("proposal ") and line.split()[1] not in proposals:
                problems.append(f"{policy.text}: unknown {line}")
    for profile in parse.find_objects(r"^crypto ikev2 profile "):
        kids = _children(profile)
        refs = [k.split()[-1] for k in kids if k.startswith("keyring local ")]
        if not refs or refs[0] not in keyrings:
            problems.append(f"{profile.text}: keyring missing or unknown")
    for profile in parse.find_objects(r"^crypto ipsec profile "):
        kids = _children(profile)
        ts = [k.split()[-1] for k in kids if k.startswith("set transform-set ")]
        ike = [k.split()[-1] for k in kids if k.startswith("set ikev2-profile ")]
        if not ts or ts[0] not in transforms:
            problems.append(f"{profile.text}: transform-set missing or unknown")
        if not ike or ike[0] not in profiles:
            problems.append(f"{profile.text}: ikev2-profile missing or unknown")
    tunnels = parse.find_objects(r"^interface Tunnel\d+$")
    if not tunnels:
        problems.append("no tunnel interface")
    for tunnel in tunnels:
        kids = _children(tunnel)
        if "ip tcp adjust-mss 1350" not in kids:
            problems.append(f"{tunnel.text}: no ip tcp adjust-mss 1350")
        protection = [k.split()[-1] for k in kids if k.startswith("tunnel protection ipsec profile ")]
        if not protection or protection[0] not in ipsec_profiles:
            problems.append(f"{tunnel.text}: tunnel protection missing or unknown")
        if "tunnel mode ipsec ipv4" not in kids:
            problems.append(f"{tunnel.text}: not a VTI (tunnel mode ipsec ipv4)")
    routes = {
        m.group(1): m.group(2)
        for o in parse.find_objects(r"^ip route ")
        if (m := re.match(r"^ip route (\S+) 255\.255\.255\.255 (Tunnel\d+)$", o.text))
    }
    tunnel_names = {t.text.split()[1] for t in tunnels}
    for bgp in parse.find_objects(r"^router bgp "):
        lines = [c.text.strip() for c in bgp.all_children]
        neighbors = {m.group(1) for line in lines if (m := re.match(r"neighbor (\S+) remote-as \d+$", line))}
        if not neighbors:
            problems.append("router bgp without neighbours")
        for n in neighbors:
            for need in (f"neighbor {n} ebgp-multihop", f"neighbor {n} update-source", f"neighbor {n} activate"):
                if not any(line.startswith(need) for line in lines):
                    problems.append(f"neighbour {n}: no '{need}'")
            if routes.get(n) not in tunnel_names:
                problems.append(f"neighbour {n}: no /32 route into a tunnel")
    return problems


# ---------------------------------------------------------------- Junos structure
def junos_structure(text: str) -> list[str]:
    """vpn -> gateway -> ike policy -> proposal; vpn -> ipsec policy -> proposal; st0 units; MSS."""
    from ciscoconfparse2 import CiscoConfParse

    parse = CiscoConfParse(text.splitlines(), syntax="junos", comment_delimiters=["#"])
    lines = [o.text.strip() for o in parse.find_objects(r"^set ")]
    problems = []

    def values(pattern: str) -> list[tuple[str, ...]]:
        return [m.groups() for line in lines if (m := re.match(pattern, line))]

    defined = {
        kind: {g[0] for g in values(rf"^set security {kind} (\S+) ")}
        for kind in ("ike proposal", "ike policy", "ike gateway", "ipsec proposal", "ipsec policy")
    }
    for name, ref in values(r"^set security ike policy (\S+) proposals (\S+)$"):
        if ref not in defined["ike proposal"]:
            problems.append(f"ike policy {name}: unknown proposal {ref}")
    for name, ref in values(r"^set security ipsec policy (\S+) proposals (\S+)$"):
        if ref not in defined["ipsec proposal"]:
            problems.append(f"ipsec policy {name}: unknown proposal {ref}")
    for name, ref in values(r"^set security ike gateway (\S+) ike-policy (\S+)$"):
        if ref not in defined["ike policy"]:
            problems.append(f"ike gateway {name}: unknown ike policy {ref}")
    for gateway in defined["ike gateway"]:
        if f"set security ike gateway {gateway} version v2-only" not in lines:
            problems.append(f"ike gateway {gateway}: not v2-only")
    units = {g[0] for g in values(r"^set interfaces st0 unit (\d+) family inet")}
    zone_ifs = {g[0] for g in values(r"^set security zones security-zone \S+ interfaces (\S+)(?: |$)")}
    # host-inbound-traffic on an interface overrides the zone's (Juniper): only zone-level lists
    problems += [
        f"interface-level host-inbound-traffic: {line}"
        for line in lines
        if re.match(r"^set security zones security-zone \S+ interfaces \S+ host-inbound-traffic", line)
    ]
    zone_of = {g[1]: g[0] for g in values(r"^set security zones security-zone (\S+) interfaces (\S+)$")}
    inbound = {g for g in values(r"^set security zones security-zone (\S+) host-inbound-traffic (.+)$")}
    vpns = {g[0] for g in values(r"^set security ipsec vpn (\S+) ")}
    if not vpns:
        problems.append("no ipsec vpn")
    for vpn in vpns:
        bind = values(rf"^set security ipsec vpn {re.escape(vpn)} bind-interface st0\.(\d+)$")
        gw = values(rf"^set security ipsec vpn {re.escape(vpn)} ike gateway (\S+)$")
        pol = values(rf"^set security ipsec vpn {re.escape(vpn)} ike ipsec-policy (\S+)$")
        if not bind or bind[0][0] not in units or f"st0.{bind[0][0]}" not in zone_ifs:
            problems.append(f"vpn {vpn}: bind-interface missing, or st0 unit not defined or not in a zone")
        if not gw or gw[0][0] not in defined["ike gateway"]:
            problems.append(f"vpn {vpn}: ike gateway missing or unknown")
        if not pol or pol[0][0] not in defined["ipsec policy"]:
            problems.append(f"vpn {vpn}: ipsec-policy missing or unknown")
    if "set security flow tcp-mss ipsec-vpn mss 1350" not in lines:
        problems.append("no security flow tcp-mss ipsec-vpn mss 1350")
    routes = {g[0]: g[1] for g in values(r"^set routing-options static route (\S+)/32 next-hop (st0\.\d+)$")}
    neighbors = {g[0] for g in values(r"^set protocols bgp group \S+ neighbor (\S+) peer-as \d+$")}
    if neighbors:
        for need in ("multihop ttl", "local-address", "type external"):
            if not any(re.match(rf"^set protocols bgp group \S+ {need}", line) for line in lines):
                problems.append(f"bgp group: no {need}")
        for n in neighbors:
            if n not in routes or routes[n].split(".")[1] not in units:
                problems.append(f"neighbour {n}: no /32 route into an st0 unit")
            elif (zone_of.get(routes[n]), "protocols bgp") not in inbound:
                problems.append(f"neighbour {n}: the zone of {routes[n]} does not take BGP (zone-level host-inbound)")
        source = next(iter(values(r"^set protocols bgp group \S+ local-address (\S+)$")), ("",))[0]
        loopback = next(
            (g[0] for g in values(rf"^set interfaces (\S+ unit \d+) family inet address {re.escape(source)}/32$")), None
        )
        if loopback:
            lo_zone, st_zone = zone_of.get(loopback.replace(" unit ", ".")), zone_of.get(next(iter(routes.values())))
            if not lo_zone or (lo_zone, "protocols bgp") not in inbound:
                problems.append(f"BGP source {loopback}: not in a zone that takes BGP")
            policy = rf"^set security policies from-zone {st_zone} to-zone {lo_zone} policy (\S+) match .*application junos-bgp$"
            if not values(policy):
                problems.append(f"no policy from {st_zone} to the loopback zone {lo_zone} for junos-bgp (KB30997)")
        if any(re.match(r"^set protocols bgp group \S+ multipath", line) for line in lines):
            exports = {g[0] for g in values(r"^set routing-options forwarding-table export (\S+)$")}
            balanced = {
                g[0] for g in values(r"^set policy-options policy-statement (\S+) then load-balance per-packet$")
            }
            if not exports & balanced:
                problems.append("multipath without a forwarding-table export that load-balances per packet")
        for prefix in {g[0] for g in values(r"^set routing-options static route (\S+) discard$")}:
            if f"set routing-options static route {prefix} preference 254" not in lines:
                problems.append(f"static discard {prefix} at the default preference 5 beats learned routes")
    return problems


def state_for(model) -> dict:
    """An Azure state document (schemas/azure-state.schema.json) with documentation addresses."""
    gateways = {}
    for g, gw in enumerate(model.gateways):
        subnet = next(s.prefix for v in model.vnets if v.gateway is gw for s in v.subnets if s.name == "GatewaySubnet")
        gateways[gw.name] = {
            "resource_group": gw.resource_group,
            "asn": gw.asn,
            "instances": [
                {"public_ip": f"192.0.2.{(2 * g + i) % 250 + 1}", "bgp_ips": [str(subnet.network_address + 4 + i)]}
                for i, _ in enumerate(gw.instances)
            ],
        }
    return {"gen_azure_state": 1, "gateways": gateways}

"""Bring a lab up, wait for every tunnel and BGP session, report, and (unless kept) tear it down."""

from __future__ import annotations

import copy
import os
import re
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from .daemons import Charon, Frr, wait_for
from .plan import Endpoint, LabTunnel, Plan, Timers, build_plan, throwaway_keys, write_state
from .system import LAB_ROOT, LabError, Registry, detect_mode, ip_binary, preflight, run

MATRIX_STABLE = 3.0  # s without a change before a matrix that cannot be whole (something down) is taken
LIBIPSEC_TABLE = "2200"  # device side: what enters an xfrm stand-in leaves through ipsec0
REASONS = (  # (reason, pattern in charon's log)
    (
        "AUTHENTICATION_FAILED",
        re.compile(r"AUTHENTICATION_FAILED|authentication of '.*' with pre-shared key failed|MAC mismatched"),
    ),
    ("NO_PROPOSAL_CHOSEN", re.compile(r"NO_PROPOSAL_CHOSEN|no acceptable proposal found|no matching proposal found")),
    ("TS_UNACCEPTABLE", re.compile(r"TS_UNACCEPTABLE|no acceptable traffic selectors")),
    ("no matching peer config", re.compile(r"no matching peer config found|peer config not found")),
    ("peer not responding", re.compile(r"giving up after \d+ retransmits")),
)


@dataclass
class TunnelStatus:
    key: str
    device: str  # the on-prem device, or for a VNet-to-VNet link tunnel its side b
    source: str  # verified | emulated
    kind: str = "tunnel"  # tunnel (site-to-VNet) | link (VNet-to-VNet)
    ike: str = "-"
    child: str = "-"
    azure_ike: str = "-"
    bgp: str = "-"
    azure_bgp: str = "-"
    bgp_expected: bool = True
    learned_onprem: list[str] = field(default_factory=list)
    learned_azure: list[str] = field(default_factory=list)
    expected_onprem: list[str] = field(default_factory=list)
    expected_azure: list[str] = field(default_factory=list)
    ping: str = "-"
    reasons: list[str] = field(default_factory=list)
    failed: bool = False  # a definitive failure (no point waiting)
    paired: bool = False  # both ends hold the same IKE SA and CHILD_SA, and neither a stale one (poll_ipsec)

    @property
    def ike_up(self) -> bool:
        return (
            self.paired and self.ike == "ESTABLISHED" and self.child == "INSTALLED" and self.azure_ike == "ESTABLISHED"
        )

    @property
    def bgp_up(self) -> bool:
        if not self.bgp_expected:
            return True
        return (
            self.bgp == "Established"
            and self.azure_bgp == "Established"
            and set(self.expected_onprem) <= set(self.learned_onprem)
            and set(self.expected_azure) <= set(self.learned_azure)
        )

    @property
    def ok(self) -> bool:
        return self.ike_up and self.bgp_up and self.ping in ("ok", "n/a") and not self.reasons


@dataclass
class LabResult:
    name: str
    mode: str
    tunnels: list[TunnelStatus]
    seconds_to_established: float | None
    kept: bool
    endpoints: list[Endpoint]
    namespaces: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)  # every process the lab started
    links: list[TunnelStatus] = field(default_factory=list)  # VNet-to-VNet link tunnels
    timers: str = ""
    matrix: dict[str, str] = field(default_factory=dict)  # reachability cell -> ok | degraded | lost
    drill: object = None  # drill.DrillResult with --drill
    bgp_checks: list = field(default_factory=list)  # bgp_checks.BgpCheck: route policy, primary-backup, prefix limit

    @property
    def up(self) -> bool:
        return bool(self.tunnels or self.links) and all(t.ok for t in self.tunnels + self.links)

    @property
    def ok(self) -> bool:
        return self.up and (self.drill is None or self.drill.ok) and all(c.ok for c in self.bgp_checks)


@dataclass
class Hop:
    """A tunnel between two lab namespaces: device -> Azure instance, or link side a -> side b."""

    key: str
    kind: str  # tunnel | link
    left: Endpoint
    right: Endpoint
    left_bgp: str | None
    right_bgp: str | None
    left_conn: str | None  # connection name in left's charon (None: find it by remote address)
    right_conn: str
    skip: str = ""


def hops(plan: Plan) -> list[Hop]:
    result = [
        Hop(t.key, "tunnel", t.device, t.azure, t.device_bgp_ip, t.azure_bgp_ip, None, t.tunnel.device, t.skip)
        for t in plan.tunnels
    ]
    for link in plan.links:
        name = lambda ep: ep.key.removeprefix("az:").replace(".i", "-i")  # noqa: E731 (as plan names them)
        result.append(
            Hop(link.key, "link", link.a, link.b, link.a_bgp_ip if link.bgp else None,
                link.b_bgp_ip if link.bgp else None, name(link.b), name(link.a))
        )  # fmt: skip
    return result


def default_name(model_name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", model_name.lower())[:16] or "lab"


class Lab:
    def __init__(self, plan: Plan, registry: Registry, inet: str, log=None):
        self.plan, self.registry, self.inet = plan, registry, inet
        self.log = log or (lambda message: None)
        self.charons: dict[str, Charon] = {}
        self.frrs: dict[str, Frr] = {}
        self.status = {
            t.key: TunnelStatus(
                key=t.key,
                device=t.tunnel.device,
                source=t.device.source,
                bgp_expected=bool(t.azure_bgp_ip and t.device_bgp_ip and t.tunnel.bgp),
                expected_onprem=[str(p) for p in t.tunnel.remote_prefixes],
                expected_azure=[str(p) for p in t.tunnel.local_prefixes],
            )
            for t in plan.tunnels
        }
        for link in plan.links:
            self.status[link.key] = TunnelStatus(
                key=link.key,
                device=link.b.title,
                source="emulated",
                kind="link",
                bgp_expected=link.bgp,
                expected_onprem=[str(p) for p in link.b.prefixes],  # learned by side a
                expected_azure=[str(p) for p in link.a.prefixes],  # learned by side b
            )
        self.hops = hops(plan)
        self.ports: dict[str, str] = {}  # endpoint key -> the port in the "internet" a drill takes down
        self.bridges: dict[str, str] = {}  # endpoint key -> the bridge its port joins
        self.pool = ThreadPoolExecutor(max_workers=8)
        # hop key -> SAs only one end holds, as (endpoint key, "ike" | "child", unique id) (poll_ipsec)
        self.stale: dict[str, list[tuple[str, str, str]]] = {}

    def folder(self, endpoint: Endpoint) -> Path:
        return self.registry.dir / endpoint.netns

    # ------------------------------------------------------------------ network
    def build_network(self) -> None:
        inet = self.inet
        run(["ip", "-n", inet, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", inet, "link", "set", "br0", "up"])
        for ep in self.plan.endpoints:
            self.registry.add_netns(ep.netns)
        # The planted flaw "shared-outside": every device of the site reaches the internet through one
        # uplink (bridge s<k> behind port u<k>); taking a device's outside down takes that uplink down.
        uplinks = {}
        for k, site in enumerate(sorted(set(self.plan.plants.values())), start=1):
            run(["ip", "-n", inet, "link", "add", f"s{k}", "type", "bridge"])
            run(["ip", "-n", inet, "link", "add", f"u{k}", "type", "veth", "peer", "name", f"v{k}"])
            run(["ip", "-n", inet, "link", "set", f"u{k}", "master", "br0", "up"])
            run(["ip", "-n", inet, "link", "set", f"v{k}", "master", f"s{k}", "up"])
            run(["ip", "-n", inet, "link", "set", f"s{k}", "up"])
            uplinks[site] = (f"s{k}", f"u{k}")
        for n, ep in enumerate(self.plan.endpoints):
            bridge, port = uplinks.get(ep.site, ("br0", f"p{n}")) if ep.kind == "device" else ("br0", f"p{n}")
            self.ports[ep.key], self.bridges[ep.key] = port, bridge
        list(self.pool.map(self.build_endpoint, range(len(self.plan.endpoints)), self.plan.endpoints))

    def build_endpoint(self, n: int, ep: Endpoint) -> None:
        inet = self.inet
        ns = ep.netns
        folder = self.folder(ep)
        folder.mkdir(parents=True, exist_ok=True)
        for key, value in (
            ("ipv4/ip_forward", "1"),
            ("ipv4/conf/all/rp_filter", "0"),
            ("ipv4/conf/default/rp_filter", "0"),
            ("ipv4/conf/all/accept_local", "1"),
        ):
            run(["sh", "-c", f"echo {value} > /proc/sys/net/{key}"], netns=ns)
        port = f"p{n}"
        run(["ip", "-n", inet, "link", "add", port, "type", "veth", "peer", "name", ep.outside, "netns", ns])
        run(["ip", "-n", inet, "link", "set", port, "master", self.bridges.get(ep.key, "br0"), "up"])
        run(["ip", "-n", ns, "addr", "add", f"{ep.public_ip}/32", "dev", ep.outside])
        run(["ip", "-n", ns, "link", "set", ep.outside, "up"])
        for peer in ep.peers:
            run(["ip", "-n", ns, "route", "add", f"{peer}/32", "dev", ep.outside])
        for prefix in ep.prefixes:  # the site LAN or the VNet behind this endpoint
            run(["ip", "-n", ns, "route", "add", "blackhole", str(prefix)])
        for host in ep.hosts + (ep.bgp_ips if ep.kind == "azure" else []):
            run(["ip", "-n", ns, "addr", "add", f"{host}/32", "dev", "lo"])

    # ------------------------------------------------------------------ daemons
    def start_daemons(self) -> None:
        for ep in self.plan.endpoints:
            folder = self.folder(ep)
            self.charons[ep.key] = Charon(self.registry, ep.netns, folder, ep.title, self.plan.mode)
            conf = folder / "frr.conf"
            self.frrs[ep.key] = Frr(self.registry, ep.netns, folder, ep.title, conf if conf.exists() else None)
        for ep in self.plan.endpoints:
            wait_for(self.charons[ep.key].ready, 15, f"charon in {ep.netns}")
            wait_for(self.frrs[ep.key].zebra_ready, 15, f"zebra in {ep.netns}")
        if self.plan.mode == "libipsec":
            for ep in self.plan.endpoints:
                wait_for(
                    lambda ns=ep.netns: run(["ip", "-n", ns, "link", "show", "ipsec0"], check=False).returncode == 0,
                    10,
                    f"ipsec0 in {ep.netns}",
                )
                self.drop_table_220(ep.netns)

    def drop_table_220(self, netns: str) -> None:
        """kernel-libipsec routes everything into ipsec0 via table 220; without the rule only routes that
        point at the tunnel are encrypted, which is route-based behaviour (validators.md 3)."""
        while run(["ip", "-n", netns, "rule", "del", "table", "220"], check=False).returncode == 0:
            pass

    def configure_interfaces(self) -> None:
        shim_dir = self.registry.dir / "bin"
        shim_dir.mkdir(exist_ok=True)
        shim = shim_dir / "ip"
        shim.write_text((Path(__file__).with_name("ipshim.sh")).read_text(encoding="utf-8"), encoding="utf-8")
        shim.chmod(0o755)
        real_ip = ip_binary()
        for ep in self.plan.endpoints:
            ns = ep.netns
            if ep.kind == "device":
                env = dict(os.environ)
                if self.plan.mode == "libipsec":
                    run(["ip", "-n", ns, "route", "add", "default", "dev", "ipsec0", "table", LIBIPSEC_TABLE])
                    env.update(
                        PATH=f"{shim_dir}:{env.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}",
                        GEN_LAB_REAL_IP=real_ip,
                        GEN_LAB_TABLE=LIBIPSEC_TABLE,
                    )
                # what the device's systemd unit runs at boot, in its order: the firewall, then the script
                if "nft" in ep.files:  # a device run from its rendered files (emulated ones have none)
                    run(["nft", "-f", str(self.folder(ep) / "ruleset.nft")], netns=ns)
                script = self.folder(ep) / "interfaces.sh"
                run(["sh", str(script)], netns=ns, env=env)
                if self.plan.mode == "libipsec":
                    # The script sets rp_filter loose on `all` and the outside: on real XFRM interfaces the
                    # decrypted packets carry a secpath and skip the check. The stand-ins here (veth twins,
                    # charon's TUN ipsec0) carry none, so loose mode would drop them: `all` goes back to 0;
                    # the outside keeps the script's loose check.
                    run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"], netns=ns)
            else:
                routes = [  # (BGP peer /32 or the prefixes behind a static peer) per tunnel, as plan numbers them
                    [f"{t.device_bgp_ip}/32"]
                    if self.status[t.key].bgp_expected
                    else [str(p) for p in t.tunnel.local_prefixes]
                    for t in self.plan.tunnels
                    if t.azure is ep
                ]
                for link in self.plan.links:
                    if ep in (link.a, link.b):
                        peer, peer_ip = (link.b, link.b_bgp_ip) if ep is link.a else (link.a, link.a_bgp_ip)
                        routes.append([f"{peer_ip}/32"] if link.bgp else [str(p) for p in peer.prefixes])
                for n, prefixes in enumerate(routes, start=1):
                    dev = "ipsec0"
                    if self.plan.mode == "xfrm":
                        dev = f"xfrm{n}"
                        run(["ip", "-n", ns, "link", "add", dev, "type", "xfrm", "if_id", str(n), "dev", ep.outside])
                        run(["ip", "-n", ns, "link", "set", dev, "mtu", "1400", "up"])
                    for prefix in prefixes:
                        run(["ip", "-n", ns, "route", "replace", prefix, "dev", dev])

    def write_files(self) -> None:
        names = {"swanctl": "swanctl.conf", "frr": "frr.conf", "interfaces": "interfaces.sh", "nft": "ruleset.nft"}
        for ep in self.plan.endpoints:
            for role, text in ep.files.items():
                path = self.folder(ep) / names[role]
                if role == "swanctl" and "interfaces" in ep.files:
                    # the updown hook names the script where the runbook installs it; here it is in the lab folder
                    text = re.sub(
                        r"(updown = /bin/sh )\S+\.interfaces\.sh",
                        rf"\g<1>{self.folder(ep) / names['interfaces']}",
                        text,
                    )
                if role == "swanctl" and self.plan.mode == "libipsec":
                    text = fixed_reqids(text)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the throwaway keys
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)

    def load_ipsec(self) -> None:
        for kind in ("azure", "device"):  # responders first
            for ep in self.plan.endpoints:
                if ep.kind == kind:
                    self.charons[ep.key].load(self.folder(ep) / "swanctl.conf")

    def start_bgp(self) -> None:
        """Start staticd and bgpd with each frr.conf once the tunnels are settled (a first TCP attempt
        into a tunnel that is not up yet would wait out bgpd's connect-retry timer)."""
        list(
            self.pool.map(
                lambda ep: self.frrs[ep.key].start_protocols(self.folder(ep) / "frr.conf"), self.plan.endpoints
            )
        )
        for ep in self.plan.endpoints:
            wait_for(self.frrs[ep.key].ready, 15, f"staticd and bgpd in {ep.netns}")

    # ------------------------------------------------------------------ state
    def sa_for(self, sas: list[dict], remote: str) -> tuple[str, dict]:
        """The IKE SA with `remote`; of several (both ends initiated after a restore, or a stale one its DPD
        has not cleared yet) the one that carries an installed CHILD_SA, as traffic does."""
        found = _with(sas, remote)
        return next((e for e in found if _carries(e[1])), found[0] if found else ("", {}))

    def poll_ipsec(self) -> dict[str, list[dict]]:
        """Each hop's SA states, from both ends. A hop is up only when the two ends hold the SAME IKE SA
        (its SPI pair) and the same CHILD_SA (one end's inbound SPI is the other's outbound): each end
        showing ESTABLISHED/INSTALLED is not enough. An end that still holds an SA its peer has deleted
        (the DELETE was lost while the drill had the path down) sends into it, and with kernel-libipsec,
        which picks the outbound SA by selectors alone, the newest such SA wins: the tunnel looks up on
        both ends and carries nothing. The same holds for a CHILD_SA inside the shared IKE SA that the
        other end lacks (a CREATE_CHILD_SA or DELETE lost in flight while the path came back). Such SAs
        are listed in `self.stale` for the drill's restore to delete."""
        sas = dict(zip(self.charons, self.pool.map(_sas, self.charons.values()), strict=True))
        self.stale = {}
        for h in self.hops:
            st = self.status[h.key]
            if h.skip:
                st.reasons, st.failed = [h.skip], True
                continue
            lefts = _with(sas[h.left.key], h.right.public_ip)
            rights = _with(sas[h.right.key], h.left.public_ip)
            pair = next(
                ((a, b) for a in lefts for b in rights if _same_ike(a[1], b[1]) and _shared_child(a[1], b[1])), None
            )
            _, left = pair[0] if pair else self.sa_for(sas[h.left.key], h.right.public_ip)
            _, right = pair[1] if pair else self.sa_for(sas[h.right.key], h.left.public_ip)
            st.ike = left.get("state", "-")
            children = [c.get("state", "-") for c in (left.get("child-sas") or {}).values()]
            st.child = "INSTALLED" if "INSTALLED" in children else (children[0] if children else "-")
            st.azure_ike = right.get("state", "-")
            orphans = [
                (h.left.key, sa) for _, sa in lefts if _carries(sa) and not any(_same_ike(sa, b) for _, b in rights)
            ]
            orphans += [
                (h.right.key, sa) for _, sa in rights if _carries(sa) and not any(_same_ike(sa, a) for _, a in lefts)
            ]
            stale = [(key, "ike", str(sa.get("uniqueid", ""))) for key, sa in orphans]
            if pair:
                stale += _orphan_children(h.left.key, pair[0][1], pair[1][1])
                stale += _orphan_children(h.right.key, pair[1][1], pair[0][1])
            st.paired = pair is not None and not stale
            if not st.paired and st.child == "INSTALLED":
                st.child = "STALE SA" if stale else "UNPAIRED"  # shown in the table; not up
            if stale:
                self.stale[h.key] = stale
            if not st.ike_up:
                reason = self.ike_reason(h)
                if reason:
                    st.reasons, st.failed = [reason], True
        return sas

    def ike_reason(self, h: Hop) -> str:
        """The failure reason from charon's own log: the left side's lines for this connection, then the right's."""
        if h.left_conn is None:
            conns = self.charons[h.left.key].conns()
            names = [n for n, c in conns.items() if h.right.public_ip in (c.get("remote_addrs") or [])]
        else:
            names = [h.left_conn]
        for ep, marks in (
            (h.left, [f"<{n}|" for n in names]),
            (h.right, [f"<{h.right_conn}|", h.left.public_ip]),
        ):
            log = self.folder(ep) / "charon.log"
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
            mine = [line for line in lines if any(m in line for m in marks)]
            for reason, pattern in REASONS:
                hit = next((line for line in mine if pattern.search(line)), None)
                if hit:
                    side = ("on-prem" if ep.kind == "device" else "Azure") if h.kind == "tunnel" else ep.title
                    return f"IKE {reason} ({side} charon: {hit.split('> ', 1)[-1].strip()})"
        return ""

    def poll_bgp(self) -> dict:
        states = dict(zip(self.frrs, self.pool.map(lambda f: f.bgp_state(), self.frrs.values()), strict=True))
        for h in self.hops:
            st = self.status[h.key]
            if not st.bgp_expected or not st.ike_up:
                continue
            left_neighbors, left_learned = states[h.left.key]
            right_neighbors, right_learned = states[h.right.key]
            left, right = left_neighbors.get(h.right_bgp, {}), right_neighbors.get(h.left_bgp, {})
            st.bgp, st.azure_bgp = left.get("bgpState", "-"), right.get("bgpState", "-")
            st.learned_onprem = left_learned.get(h.right_bgp, [])
            st.learned_azure = right_learned.get(h.left_bgp, [])
            st.reasons = []
            if st.bgp != "Established" or st.azure_bgp != "Established":
                names = ("on-prem", "Azure") if h.kind == "tunnel" else (h.left.title, h.right.title)
                reason = _bgp_reason(left, names[0]) or _bgp_reason(right, names[1])
                if reason:
                    st.reasons = [reason]
                    st.failed = "Bad Peer AS" in reason or "OPEN Message Error" in reason
        return states

    def ping(self) -> None:
        def one(t: LabTunnel) -> tuple[str, str]:
            st = self.status[t.key]
            if not st.ike_up:
                return t.key, "-"
            for _ in range(3):
                proc = run(
                    ["ping", "-c", "1", "-W", "1", "-I", t.ping_from, t.ping_to],
                    netns=t.device.netns,
                    check=False,
                )
                if proc.returncode == 0:
                    return t.key, "ok"
            return t.key, "lost"

        for key, result in self.pool.map(one, self.plan.tunnels):
            self.status[key].ping = result
        for link in self.plan.links:  # the emulated Azure ends: their BGP addresses, when BGP runs
            st = self.status[link.key]
            if not link.bgp or not st.ike_up:
                st.ping = "n/a" if st.ike_up else "-"
                continue
            args = ["ping", "-c", "1", "-W", "1", "-I", link.a_bgp_ip, link.b_bgp_ip]
            ok = any(run(args, netns=link.a.netns, check=False).returncode == 0 for _ in range(3))
            st.ping = "ok" if ok else "lost"

    def settled(self, phase: str) -> bool:
        def done(st: TunnelStatus) -> bool:
            return st.failed or (st.ike_up if phase == "ipsec" else st.bgp_up)

        return all(done(st) for st in self.status.values())

    def initiate_links(self) -> None:
        """Side a of each VNet-to-VNet link tunnel opens IKE (both Azure ends may; the lab picks one)."""
        for h in self.hops:
            if h.kind == "link" and self.status[h.key].ike == "-":
                self.pool.submit(self.charons[h.left.key].initiate, h.left_conn)

    def initiate_missing(self) -> None:
        """Devices whose files do not start their connections: initiate them as the engineer would."""
        for t in self.plan.tunnels:
            st = self.status[t.key]
            if st.ike == "-" and not st.failed and not t.skip:
                charon = self.charons[t.device.key]
                for _name, conn in charon.conns().items():
                    if t.azure_public_ip in (conn.get("remote_addrs") or []):
                        for child in conn.get("children") or {}:
                            charon.initiate(child)


def run_lab(
    inventory: Path,
    *,
    name: str | None = None,
    keep: bool = False,
    timeout: float = 60.0,
    faults: dict[str, str] | None = None,
    log=None,
    timers: Timers | None = None,
    plants: dict[str, str] | None = None,
    drill=None,
    bgp_checks: bool = True,
) -> LabResult:
    """Build, run and check the lab of INVENTORY; with `drill` (drill.DrillOptions) run the drill on it
    once everything is up. Raises GenError (bad inventory) or LabError."""
    from ..pipeline import build_model
    from ..render import environment

    preflight()
    log = log or (lambda message: None)
    model = build_model(inventory).model
    name = name or default_name(model.name)
    registry = Registry(name)
    if registry.exists():
        raise LabError(f"a lab named {name} exists ({registry.dir}); remove it with: gen lab --down {name}")
    registry.save()
    previous = signal.signal(signal.SIGTERM, _interrupt) if _main_thread() else None
    lab = None
    started = time.monotonic()
    try:
        inet = f"gl-{name}-0-inet"
        registry.add_netns(inet)
        mode = detect_mode(inet)
        log(
            f"kernel: {'XFRM interfaces + ESP' if mode == 'xfrm' else 'no XFRM interfaces/ESP -> strongSwan kernel-libipsec (TUN)'}"
        )
        model = build_model(inventory, (write_state(model, registry.dir),)).model
        plan = build_plan(model, environment(None), name, mode, throwaway_keys(model), faults, timers, plants)
        lab = Lab(plan, registry, inet, log)
        phase = _phases(log, started)
        lab.build_network()
        lab.write_files()
        phase("namespaces and links")
        lab.start_daemons()
        phase("charon and zebra started")
        lab.configure_interfaces()
        lab.load_ipsec()
        phase("swanctl loaded")
        deadline = started + timeout
        loaded = time.monotonic()
        lab.poll_ipsec()
        lab.initiate_links()
        initiated = False
        while not lab.settled("ipsec") and time.monotonic() < deadline:
            time.sleep(0.2)
            lab.poll_ipsec()
            if not initiated and time.monotonic() - loaded > 1:
                lab.initiate_missing()
                initiated = True
        if plan.mode == "libipsec":
            for ep in plan.endpoints:  # in case a daemon re-added it
                lab.drop_table_220(ep.netns)
        phase("IKE/CHILD SAs settled")
        lab.start_bgp()
        phase("staticd and bgpd started with each frr.conf")
        lab.poll_bgp()
        while not lab.settled("bgp") and time.monotonic() < deadline:
            time.sleep(0.25)
            lab.poll_bgp()
        phase("BGP settled")
        up = all(st.ike_up and st.bgp_up for st in lab.status.values())
        seconds = time.monotonic() - started if up else None
        from .drill import Matrix, run_drill

        matrix = Matrix(lab) if any(st.ike_up for st in lab.status.values()) else None
        view = matrix.evaluate(set(), set()) if matrix else {}
        # Each session up with its own prefixes is not yet the whole design: what a gateway learned over
        # another connection (a VNet-to-VNet link, a spoke behind the far hub) reaches the sites one BGP
        # update later. Wait for that too (within --timeout), or the matrix and a drill would start from
        # a snapshot taken halfway through the propagation.
        # With a tunnel or link down the matrix is never whole: wait until it has not changed for
        # MATRIX_STABLE seconds instead, so the cells that do come up are counted as up.
        stable_since = time.monotonic()
        while matrix and time.monotonic() < deadline:
            if all(v == "ok" for v in view.values()) or (not up and time.monotonic() - stable_since >= MATRIX_STABLE):
                break
            time.sleep(0.25)
            lab.poll_bgp()
            now = matrix.evaluate(set(), set())
            if now != view:
                view, stable_since = now, time.monotonic()
        if matrix and up:
            phase("routes propagated across the mesh" if all(v == "ok" for v in view.values()) else "matrix not whole")
        lab.ping()
        for st in lab.status.values():
            if not st.ok and not st.reasons:
                st.reasons = [_pending_reason(st, timeout)]
        # A snapshot: the drill goes on updating lab.status, and the table must show the bring-up
        # (a table read after the drills once passed for "down before any drill").
        statuses = [copy.deepcopy(st) for st in lab.status.values()]
        result = LabResult(
            name,
            mode,
            [st for st in statuses if st.kind == "tunnel"],
            seconds,
            keep,
            plan.endpoints,
            registry.namespaces,
            registry.pids,
            links=[st for st in statuses if st.kind == "link"],
            timers=plan.timers.label(),
        )
        result.matrix = view
        if drill is not None:
            result.drill = run_drill(lab, drill, log)
        if result.up and bgp_checks and drill is None:  # the drill's failures would disturb them
            from .bgp_checks import run_checks

            result.bgp_checks = run_checks(lab, log)
            phase("BGP route-policy checks done")
        return result
    except BaseException:
        keep = False
        raise
    finally:
        if lab is not None:
            lab.pool.shutdown(wait=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if not keep:
            left = registry.teardown()
            if left:
                print("gen lab: could not remove: " + "; ".join(left), file=sys.stderr)


def fixed_reqids(swanctl: str) -> str:
    """Give every CHILD_SA section of a swanctl.conf its own fixed reqid (1, 2, ... in file order), for
    kernel-libipsec only. strongSwan before 5.9.12 could hand two CHILD_SAs re-established at the same
    time (both tunnels of an endpoint restarted after DPD) one reqid for different traffic selectors
    (https://github.com/strongswan/strongswan/issues/1855, fixed by the 'reqid-refcount' merge
    ed2d548 in 5.9.12; Debian 12 ships 5.9.8). kernel-libipsec picks the outbound SA by reqid alone,
    so one tunnel's packets then leave in the other's SA and its BGP session never comes back; XFRM
    also matches the peer address, and the device files are used unchanged there. With every reqid
    fixed and unique nothing is allocated, so nothing collides (swanctl.conf `reqid`:
    https://docs.strongswan.org/docs/latest/swanctl/swanctlConf.html)."""
    out: list[str] = []
    sections: list[str] = []  # names of the open sections, outermost first
    count = 0
    for line in swanctl.splitlines():
        out.append(line)
        text = line.split("#", 1)[0].strip()
        if text.endswith("{"):
            parent = sections[-1] if sections else ""
            sections.append(text[:-1].strip())
            if parent == "children":
                count += 1
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}    reqid = {count}")
        elif text == "}" and sections:
            sections.pop()
    return "\n".join(out) + ("\n" if swanctl.endswith("\n") else "")


def _sas(charon: Charon) -> list[dict]:
    try:
        return charon.sas()
    except OSError:  # a charon busy restarting a connection; the next poll asks again
        return []


def _with(sas: list[dict], remote: str) -> list[tuple[str, dict]]:
    return [(name, sa) for item in sas for name, sa in item.items() if sa.get("remote-host") == remote]


def _carries(sa: dict) -> bool:
    children = (sa.get("child-sas") or {}).values()
    return sa.get("state") == "ESTABLISHED" and any(c.get("state") == "INSTALLED" for c in children)


def _installed(sa: dict) -> list[dict]:
    return [c for c in (sa.get("child-sas") or {}).values() if c.get("state") == "INSTALLED"]


def _spis(child: dict, flip: bool = False) -> tuple:
    """A CHILD_SA's (inbound, outbound) SPIs; flipped, as the other end of the same SA lists them."""
    pair = (child.get("spi-in"), child.get("spi-out"))
    return pair[::-1] if flip else pair


def _orphan_children(key: str, mine: dict, theirs: dict) -> list[tuple[str, str, str]]:
    """The installed CHILD_SAs of `mine` that the other end's view of the same IKE SA (`theirs`) does not
    hold: kernel-libipsec may send into such a one (newest SA for the selectors), and nothing arrives."""
    held = {_spis(c, flip=True) for c in _installed(theirs)}
    return [(key, "child", str(c.get("uniqueid", ""))) for c in _installed(mine) if _spis(c) not in held]


def _same_ike(a: dict, b: dict) -> bool:
    """The two ends' views of one IKE SA (vici list-sas: the SPI pair is the same on both ends)."""
    spis = ("initiator-spi", "responder-spi")
    return all(a.get(k) for k in spis) and all(a.get(k) == b.get(k) for k in spis)


def _shared_child(a: dict, b: dict) -> bool:
    """An installed CHILD_SA of both ends: one end's inbound SPI is the other's outbound and back."""
    return bool({_spis(c) for c in _installed(a)} & {_spis(c, flip=True) for c in _installed(b)})


def _bgp_reason(info: dict, side: str) -> str:
    """bgpd's own account of why a session is down (last notification / reset)."""
    keys = ("lastNotificationReason", "lastResetDueTo", "lastErrorCodeSubcode")
    parts = [f"{k}: {info[k]}" for k in keys if info.get(k)]
    return f"BGP {info.get('bgpState', '?')} ({side} bgpd: {'; '.join(parts)})" if parts else ""


def _phases(log, started: float):
    def phase(what: str) -> None:
        log(f"{time.monotonic() - started:6.2f} s  {what}")

    return phase


def _pending_reason(st: TunnelStatus, timeout: float) -> str:
    if not st.ike_up:
        return f"IKE not established within {timeout:.0f} s (on-prem {st.ike}/{st.child}, Azure {st.azure_ike})"
    if st.bgp_expected and (st.bgp != "Established" or st.azure_bgp != "Established"):
        return f"BGP not Established within {timeout:.0f} s (on-prem {st.bgp}, Azure {st.azure_bgp})"
    missing_onprem = sorted(set(st.expected_onprem) - set(st.learned_onprem))
    missing_azure = sorted(set(st.expected_azure) - set(st.learned_azure))
    if st.bgp_expected and (missing_onprem or missing_azure):
        return f"prefixes missing: on-prem lacks {missing_onprem}, Azure lacks {missing_azure}"
    return f"ping across the tunnel: {st.ping}"


def down(name: str) -> list[str]:
    """Tear down a kept lab; return what could not be removed."""
    registry = Registry.load(name)
    if not registry.exists():
        raise LabError(f"no lab named {name} (nothing under {LAB_ROOT})")
    return registry.teardown()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def prefixes(values: list[IPv4Network]) -> list[str]:
    return [str(v) for v in values]

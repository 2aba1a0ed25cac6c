"""Reachability matrix and single-failure drills on a running lab.

The matrix: for every site and VNet (and site-to-site, VNet-to-VNet where the design routes them), is
there a path end to end? It is read from the kernel FIBs of the lab's namespaces (what zebra installed
from BGP, plus the static routes), hop by hop: a next hop counts only over a tunnel whose IKE and CHILD
SAs are up on both ends and that the drill has not cut. With kernel-libipsec (no XFRM) the data path
carries only the BGP addresses, so the matrix is proven from FIBs, BGP tables and SA states, not by a
ping of every prefix; the per-tunnel ping proves the BGP addresses.

The expected matrix comes from the design alone (a graph of devices, gateway instances, tunnels and
links): transit through a gateway needs BGP on both connections ("To enable transit routing across
multiple VPN gateways, you must enable BGP on all intermediate connections", FAQ
https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp); devices do not transit.
A drill removes one element from that graph too: what the graph still reaches is what the design
claims to survive; what it no longer reaches is an expected single point of failure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_network

from .plan import CHARON_GIVE_UP_SECONDS, CHARON_LONGEST_RETRANSMIT
from .system import run

POLL = 0.5
# After a restore, bgpd's own first attempt over the restored tunnel (FRR's idle hold, then a TCP
# connect) gets this long before the lab re-opens a session that is still down.
REOPEN_GRACE = 3.0


@dataclass
class DrillOptions:
    only: tuple[str, ...] = ()  # failure names (kind:name) to drill; empty = every single failure


@dataclass
class Cell:
    source: str  # site or VNet name
    target: str
    kind: str  # site-vnet | vnet-site | site-site | vnet-vnet
    starts: list[str]  # endpoint keys where traffic of `source` enters the lab
    ends: list[str]  # endpoint keys that deliver `target`
    address: str  # a host of the target's first prefix

    @property
    def name(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass
class Drill:
    failure: str  # kind:name
    kind: str
    what: str
    expected_loss: list[str]  # cells the design loses with this failure (single point of failure)
    spof_reason: str = ""
    lost: list[str] = field(default_factory=list)  # cells degraded or lost at some point
    never: list[str] = field(default_factory=list)  # cells the design keeps but never came back
    recovery: float | None = None
    mechanism: str = ""
    restore: float | None = None
    restore_note: str = ""
    start: float = 0.0
    end: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.never

    def to_json(self) -> dict:
        return {
            "failure": self.failure,
            "what": self.what,
            "lost": self.lost,
            "expected_single_point_of_failure": self.expected_loss,
            "spof_reason": self.spof_reason,
            "never_recovered": self.never,
            "seconds_to_recovery": None if self.recovery is None else round(self.recovery, 1),
            "decided_by": self.mechanism,
            "seconds_to_restore": None if self.restore is None else round(self.restore, 1),
            "restore": self.restore_note,
            "ok": self.ok,
        }


@dataclass
class DrillResult:
    timers: str
    dpd: str
    mode: str
    cells: list[Cell]
    matrix: dict[str, str]  # cell name -> ok | degraded | lost, before the drills
    drills: list[Drill]
    timeline: list[tuple[float, dict[str, str]]]
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return all(v == "ok" for v in self.matrix.values()) and all(d.ok for d in self.drills) and not self.note

    def to_json(self) -> dict:
        return {
            "label": "recovery times come from the emulated Azure side (Azure's own reaction to a lost SA is "
            "not documented)",
            "mode": self.mode,
            "matrix_proof": MODE_PROOF[self.mode],
            "timers": self.timers,
            "dpd": self.dpd,
            "matrix": self.matrix,
            "drills": [d.to_json() for d in self.drills],
            "seconds": round(self.seconds, 1),
            "note": self.note,
            "ok": self.ok,
        }


MODE_PROOF = {
    "libipsec": "FIBs + BGP tables + SA states (kernel-libipsec carries only the BGP addresses; "
    "the per-tunnel ping proves those)",
    "xfrm": "FIBs + BGP tables + SA states (XFRM interfaces would carry every prefix; not exercised here)",
}


# ---------------------------------------------------------------------- the design graph
def _edges(lab) -> list[tuple[str, str, str, bool]]:
    """(hop key, left endpoint, right endpoint, BGP) for every tunnel and link tunnel."""
    return [(h.key, h.left.key, h.right.key, lab.status[h.key].bgp_expected) for h in lab.hops]


def reaches(lab, starts: list[str], ends: list[str], dead: set[str], cut: set[str]) -> bool:
    """Can the design route from `starts` to `ends` without the dead endpoints and cut hops?"""
    edges = [e for e in _edges(lab) if e[0] not in cut and e[1] not in dead and e[2] not in dead]
    kinds = {ep.key: ep.kind for ep in lab.plan.endpoints}
    todo = [(s, None) for s in starts if s not in dead]  # (node, BGP of the edge we arrived by; None = start)
    seen = set()
    while todo:
        node, came_bgp = todo.pop()
        if node in ends:
            return True
        if (node, came_bgp) in seen:
            continue
        seen.add((node, came_bgp))
        if came_bgp is not None and (kinds[node] == "device" or not came_bgp):
            continue  # devices do not transit; a gateway transits only between BGP connections
        for _, a, b, bgp in edges:
            for here, there in ((a, b), (b, a)):
                if here == node and (came_bgp is None or bgp):
                    todo.append((there, bgp))
    return False


def cells(lab) -> list[Cell]:
    """Every (source, target) pair the design routes, sites and VNets, both directions."""
    eps = lab.plan.endpoints
    sites = {}
    for ep in eps:
        if ep.kind == "device":
            sites.setdefault(ep.site, []).append(ep.key)
    vnets = {}
    for ep in eps:
        for v in ep.vnets:
            vnets.setdefault(v, []).append(ep.key)
    site_prefix = {s.name: s.prefixes[0] for s in lab.plan.model.sites}
    vnet_prefix = {v.name: v.address_space[0] for v in lab.plan.model.vnets}
    groups = [("site", n, k, site_prefix[n]) for n, k in sites.items()]
    groups += [("vnet", n, k, vnet_prefix[n]) for n, k in vnets.items()]
    model = lab.plan.model
    accepts = {  # site -> what its devices' route policy accepts from Azure (generator/routing.py)
        s.name: {n for d in s.devices if d.name in model.route_policies for n in model.route_policies[d.name].inbound}
        for s in model.sites
    }
    result = []
    for kind_a, a, starts, _ in groups:
        for kind_b, b, ends, prefix in groups:
            if a == b or not reaches(lab, starts, ends, set(), set()):
                continue
            if kind_a == kind_b == "site" and accepts[a] and prefix not in accepts[a]:
                continue  # the site's route policy refuses the other site's prefix (no bgp.transit_via_azure)
            result.append(Cell(a, b, f"{kind_a}-{kind_b}", starts, ends, str(next(prefix.hosts()))))
    return result


# ---------------------------------------------------------------------- the FIB walk
def _fib(lab, ep) -> list[tuple[IPv4Network, str, list[tuple[str, str]]]]:
    out = run(["ip", "-j", "-n", ep.netns, "route", "show"], check=False).stdout or "[]"
    routes = []
    for r in json.loads(out):
        dst = r.get("dst", "")
        net = ip_network("0.0.0.0/0" if dst == "default" else dst, strict=False)
        hops = [(n.get("gateway", ""), n.get("dev", "")) for n in r.get("nexthops", [])] or [
            (r.get("gateway", ""), r.get("dev", ""))
        ]
        routes.append((net, r.get("type", "unicast"), hops))
    return routes


def _index(lab) -> dict[tuple[str, str], tuple[str, str]]:
    """(endpoint key, next hop | dev:NAME | dst:PREFIX) -> (hop key, the endpoint at the far end)."""
    index = {}
    for h in lab.hops:
        if h.left_bgp and h.right_bgp:
            index[(h.left.key, h.right_bgp)] = (h.key, h.right.key)
            index[(h.right.key, h.left_bgp)] = (h.key, h.left.key)
        else:  # static routing: routes point at the tunnel's device (device side) or its prefixes (Azure)
            for p in h.right.prefixes:
                index[(h.left.key, f"dst:{p}")] = (h.key, h.right.key)
            for p in h.left.prefixes:
                index[(h.right.key, f"dst:{p}")] = (h.key, h.left.key)
    for t in lab.plan.tunnels:
        index[(t.device.key, f"dev:xfrm{t.tunnel.device_index}")] = (t.key, t.azure.key)
    return index


class Matrix:
    def __init__(self, lab):
        self.lab = lab
        self.cells = cells(lab)
        self.index = _index(lab)
        self.eps = {ep.key: ep for ep in lab.plan.endpoints}

    def evaluate(self, dead: set[str], cut: set[str]) -> dict[str, str]:
        live = [ep for ep in self.lab.plan.endpoints if ep.key not in dead]
        fibs = dict(zip([ep.key for ep in live], self.lab.pool.map(lambda ep: _fib(self.lab, ep), live), strict=True))
        up = {k for k, st in self.lab.status.items() if st.ike_up and k not in cut}
        return {c.name: self._cell(c, fibs, up, dead) for c in self.cells}

    def _cell(self, cell: Cell, fibs, up: set[str], dead: set[str]) -> str:
        dst = IPv4Address(cell.address)
        paths = []
        for start in cell.starts:
            if start in dead or _lpm(fibs.get(start, []), dst) is None:
                continue  # a live entry point with no route is not where the source sends this traffic
            paths += self._walk(start, dst, fibs, up, dead, {start}, cell.ends)
        if paths and all(paths):
            return "ok"
        return "degraded" if any(paths) else "lost"

    def _walk(self, node, dst, fibs, up, dead, seen, ends) -> list[bool]:
        route = _lpm(fibs.get(node, []), dst)
        if route is None:
            return [False]
        net, kind, nexthops = route
        if kind == "blackhole":
            return [node in ends and any(dst in p for p in self.eps[node].prefixes)]
        results = []
        for gateway, dev in nexthops:
            hop = (
                self.index.get((node, gateway))
                or self.index.get((node, f"dev:{dev}"))
                or self.index.get((node, f"dst:{net}"))
            )
            if hop is None or hop[0] not in up or hop[1] in dead or hop[1] in seen:
                results.append(False)
                continue
            results += self._walk(hop[1], dst, fibs, up, dead, seen | {hop[1]}, ends)
        return results


def _lpm(routes, dst: IPv4Address):
    best = None
    for route in routes:
        if dst in route[0] and (best is None or route[0].prefixlen > best[0].prefixlen):
            best = route
    return best


# ---------------------------------------------------------------------- failures
def failures(lab) -> list[tuple[str, str, set[str], set[str]]]:
    """(failure name, description, dead endpoints, cut hops) for every single failure."""
    result = []
    for ep in lab.plan.endpoints:
        if ep.kind == "azure":
            result.append((f"instance:{ep.key[3:]}", f"Azure gateway {ep.title} down", {ep.key}, set()))
    for ep in lab.plan.endpoints:
        if ep.kind == "device":
            result.append((f"device:{ep.title}", f"on-prem device {ep.title} down", {ep.key}, set()))
    for h in lab.hops:
        if h.kind == "tunnel":
            result.append((f"tunnel:{h.key}", f"tunnel {h.key} cut", set(), {h.key}))
    for link in dict.fromkeys(lt.link for lt in lab.plan.links):
        keys = {lt.key for lt in lab.plan.links if lt.link == link}
        result.append((f"link:{link}", f"VNet-to-VNet link {link} cut ({len(keys)} tunnels)", set(), keys))
    return result


def _apply(lab, dead: set[str], cut: set[str], down: bool) -> None:
    for key in dead:
        run(["ip", "-n", lab.inet, "link", "set", lab.ports[key], "down" if down else "up"])
    for h in lab.hops:
        if h.key in cut:
            for here, there in ((h.left, h.right), (h.right, h.left)):
                route = (
                    ["blackhole", f"{there.public_ip}/32"] if down else [f"{there.public_ip}/32", "dev", here.outside]
                )
                run(["ip", "-n", here.netns, "route", "replace", *route])


def _kick(lab, now: float, last: dict[str, float]) -> int:
    """The emulated Azure side opens the tunnels that are still down: Azure gateways initiate as well as
    respond in connection mode Default (router-facts A16); when it retries after a failure is not
    documented, so the lab does it at once after a restore and again each time an attempt has had its
    full retransmit schedule (CHARON_GIVE_UP_SECONDS) without result. Returns how many it opened."""
    count = 0
    for h in lab.hops:
        st = lab.status[h.key]
        if st.ike_up or now - last.get(h.key, -CHARON_GIVE_UP_SECONDS) < CHARON_GIVE_UP_SECONDS:
            continue
        last[h.key] = now
        count += 1
        if h.kind == "tunnel":
            lab.pool.submit(lab.charons[h.right.key].initiate, h.right_conn)
        else:
            lab.pool.submit(lab.charons[h.left.key].initiate, h.left_conn)
    return count


BGP_OPENING = ("OpenSent", "OpenConfirm", "Established")  # a session under way: leave it alone


def _reopen_bgp(lab, now: float, last: dict[str, float]) -> int:
    """Sessions still down over a tunnel that is up again are re-opened from the left side (device / link
    side a): otherwise FRR's connect-retry timer (120 s with `frr defaults traditional`) decides, and the
    lab's Azure side stays passive (the bring-up's FRR collision note in plan.py); the report says so.
    A session is cleared again only after a full retransmit schedule (a SYN lost in a tunnel that was
    not quite up yet). Returns how many it re-opened."""
    count = 0
    for h in lab.hops:
        st = lab.status[h.key]
        if not (st.bgp_expected and st.ike_up and h.right_bgp) or st.bgp_up:
            continue
        if st.bgp in BGP_OPENING and st.azure_bgp in BGP_OPENING:
            # under way, or Established without the expected prefixes: FRR 8.4 can keep learned routes
            # invalid after a connection collision (plan.py); cleared only if it stays so a full schedule
            if not (st.bgp == st.azure_bgp == "Established"):
                continue
            since = last.setdefault(f"{h.key} established", now)
            if now - since < CHARON_GIVE_UP_SECONDS:
                continue
            del last[f"{h.key} established"]
        if now - last.get(h.key, -CHARON_GIVE_UP_SECONDS) < CHARON_GIVE_UP_SECONDS:
            continue
        last[h.key] = now
        count += 1
        frr = lab.frrs[h.left.key]
        run(["vtysh", "--vty_socket", str(frr.dir), "-c", f"clear bgp ipv4 unicast {h.right_bgp}"], check=False)
    return count


def _clear_stale(lab, now: float, seen: dict) -> int:
    """Delete the SAs (IKE or CHILD) only one end of a hop still holds (Lab.poll_ipsec): the DELETE of its
    peer was lost while the path was down, and DPD does not notice (the peer answers over the other,
    fresh SA). An SA is taken for stale only after a full retransmit schedule (CHARON_GIVE_UP_SECONDS):
    an IKE_AUTH whose response is being retransmitted leaves the responder ESTABLISHED alone that long.
    Returns how many it deleted."""
    count = 0
    for key, held in lab.stale.items():
        for ep_key, kind, uid in held:
            first = seen.setdefault((key, ep_key, kind, uid), now)
            if uid and now - first >= CHARON_GIVE_UP_SECONDS and (key, ep_key, kind, uid, "deleted") not in seen:
                seen[(key, ep_key, kind, uid, "deleted")] = now
                lab.pool.submit(lab.charons[ep_key].terminate, kind, uid)
                count += 1
    return count


def _restore(lab, matrix: Matrix, timers, drill: Drill, result: DrillResult, t0: float, limit: float) -> None:
    """Wait until the lab is whole again after a restore, and stays whole for the settle window.

    Whole: every IKE/CHILD SA up on both ends, every BGP session Established with its prefixes, every
    matrix cell ok. Settled: whole without a break for CHARON_LONGEST_RETRANSMIT + one keepalive, so an
    IKE exchange that was in flight at the restore (a DPD check, a duplicate IKE_SA_INIT from both ends)
    has completed or been retried, and every session has carried a keepalive over the restored path;
    the next drill starts only then (a lab that looked whole for one poll and then lost an SA made
    later drills start from a broken lab)."""
    settle = CHARON_LONGEST_RETRANSMIT + timers.keepalive
    restored = time.monotonic()
    kicks, clears, stale = {}, {}, {}
    opened = reopened = breaks = deleted = 0
    whole_since = None
    while True:
        lab.poll_ipsec()
        lab.poll_bgp()
        now = time.monotonic() - restored
        view = matrix.evaluate(set(), set())
        result.timeline.append((time.monotonic() - t0, view))
        whole = all(st.ike_up and st.bgp_up for st in lab.status.values()) and all(v == "ok" for v in view.values())
        if whole:
            whole_since = now if whole_since is None else whole_since
            if now - whole_since >= settle:
                drill.restore = whole_since
                how = []
                if opened:
                    how.append(f"IKE re-opened {opened}x from the emulated Azure side")
                if deleted:
                    how.append(f"{deleted} stale SA(s) only one end held deleted")
                if reopened:
                    how.append(f"BGP re-opened {reopened}x by the lab after {REOPEN_GRACE:.0f} s")
                if breaks:
                    how.append(f"broke again {breaks}x before it settled")
                drill.restore_note = "; ".join(how) or "came back by itself"
                drill.restore_note += f" (stayed whole {settle:.1f} s)"
                return
        else:
            breaks += whole_since is not None
            whole_since = None
            deleted += _clear_stale(lab, now, stale)
            opened += _kick(lab, now, kicks)
            if now >= REOPEN_GRACE:
                reopened += _reopen_bgp(lab, now, clears)
        if now > limit:
            lab.ping()  # does the data path carry the BGP addresses? (_why_down says)
            down = [
                _why_down(k, st, lab.stale) for k, st in sorted(lab.status.items()) if not (st.ike_up and st.bgp_up)
            ]
            cells = sorted(c for c, v in view.items() if v != "ok")
            drill.restore_note = (
                f"the lab did not come back whole within {limit:.0f} s after the restore: "
                f"down {', '.join(down) or 'none'}; cells {', '.join(cells) or 'none'}"
            )
            drill.never = drill.never or ["(restore)"]
            return
        time.sleep(POLL)


def _neighbors(states: dict, key: str) -> dict:
    """An endpoint's `show bgp neighbors json` from Lab.poll_bgp (empty when the read failed)."""
    return (states.get(key) or ({}, {}))[0]


def _heard_since(lab, states: dict, seconds: float, dead: set[str], cut: set[str]) -> bool:
    """Has every BGP session the failure should not touch heard from its peer since the failure began?

    The matrix reads FIBs and SA states, and both lag a failure the design does not model (a planted
    shared uplink): a session whose peer is silently gone stays Established, and its routes stay in
    the FIB, until the hold timer expires. Recovery is accepted only once every Established session
    between live endpoints over an uncut hop has read a message (a keepalive at the latest) after the
    failure began: FRR's `bgpTimerLastRead`, the time since the last message read in milliseconds
    but counted in whole seconds (https://docs.frrouting.org/en/latest/bgp.html, `show bgp neighbors
    json`). A missing value counts as not heard, so a drill cannot pass on a session it could not read."""
    for h in lab.hops:
        if not (h.left_bgp and h.right_bgp) or h.key in cut or {h.left.key, h.right.key} & dead:
            continue
        for here, peer in ((h.left.key, h.right_bgp), (h.right.key, h.left_bgp)):
            neighbors = _neighbors(states, here)
            if peer not in neighbors:
                return False  # the read failed (a configured neighbour is always listed): nothing proven
            info = neighbors[peer]
            if info.get("bgpState") != "Established":
                continue  # its routes are withdrawn: the FIB walk already does not use them
            # whole seconds, truncated (seen: 0, 1000, 2000 ...): the read may be up to 999 ms older
            if info.get("bgpTimerLastRead", seconds * 1000) + 1000 > seconds * 1000:
                return False
    return True


def _bgp_events(lab, states: dict) -> dict[str, tuple[str, str]]:
    """hop key -> (state, reason) of its BGP session as the emulated Azure / side-b bgpd sees it."""
    result = {}
    for h in lab.hops:
        if not (h.left_bgp and h.right_bgp):
            continue
        info = _neighbors(states, h.right.key).get(h.left_bgp, {})
        reason = info.get("lastResetDueTo") or info.get("lastNotificationReason") or ""
        result[h.key] = (info.get("bgpState", "-"), reason)
    return result


def run_drill(lab, options: DrillOptions, log) -> DrillResult:
    started = time.monotonic()
    timers = lab.plan.timers
    dpd = (
        f"emulated Azure DPD: liveness check after dpd_delay s of silence (site tunnels: from the connection's "
        f"dpd_timeout_seconds; VNet links: 45 s), peer dead {CHARON_GIVE_UP_SECONDS} s of retransmits later"
        + ("" if timers.azure else f", scaled by {timers.scale:.3f} with the shortened timers")
        + "; devices: their own dpd_delay"
    )
    matrix = Matrix(lab)
    result = DrillResult(timers.label(), dpd, lab.plan.mode, matrix.cells, {}, [], [])
    if not all(st.ok for st in lab.status.values()):
        down = [_why_down(k, st, lab.stale) for k, st in sorted(lab.status.items()) if not st.ok]
        result.note = "the lab did not come up whole; no drill (down: " + "; ".join(down) + ")"
        return result
    base = matrix.evaluate(set(), set())
    result.matrix = base
    t0 = time.monotonic()
    result.timeline.append((0.0, base))
    chosen = [f for f in failures(lab) if not options.only or f[0] in options.only]
    window, restore_limit = _limits(timers, 0.0)
    for name, what, dead, cut in chosen:
        still = {c.name for c in matrix.cells if reaches(lab, c.starts, c.ends, dead, cut)}
        expected_loss = [c.name for c in matrix.cells if c.name not in still]
        drill = Drill(name, name.partition(":")[0], what, expected_loss)
        if expected_loss:
            drill.spof_reason = _spof(lab, name)
        polls: list[float] = []
        log(f"drill {name}: {what}")
        _apply(lab, dead, cut, True)
        start = time.monotonic()
        drill.start = start - t0
        last_event, events = ("", 0.0), {}
        bgp_before: dict[str, str] = {}  # hop key -> the last BGP state read
        while True:
            polled = time.monotonic()
            lab.poll_ipsec()
            states = lab.poll_bgp()
            bgp_now = _bgp_events(lab, states)
            now = time.monotonic() - start
            for key, (state, reason) in bgp_now.items():
                if state == "-":
                    continue  # this read failed: compare the next one with the last state actually read
                if bgp_before.get(key) == "Established" and state != "Established":
                    last_event = (f"BGP hold timer ({timers.hold} s) on {key}" + (f": {reason}" if reason else ""), now)
                bgp_before[key] = state
            for key, st in lab.status.items():
                if events.get(key, True) and not st.ike_up:
                    last_event = (f"DPD/IKE SA gone on {key}", now)
                events[key] = st.ike_up
            view = matrix.evaluate(dead, cut)
            polls.append(time.monotonic() - polled)
            window, restore_limit = _limits(timers, max(polls))
            result.timeline.append((time.monotonic() - t0, view))
            for cell, state in view.items():
                if state != "ok" and cell not in drill.lost:
                    drill.lost.append(cell)
            if all(view[c] == "ok" for c in still) and _heard_since(lab, states, polled - start, dead, cut):
                drill.recovery = now
                if not set(drill.lost) - set(expected_loss):
                    drill.mechanism = "nothing else lost" if drill.lost else "unaffected: no path in use crossed it"
                else:
                    drill.mechanism = last_event[0] or "FIB update"
                break
            if now > window:
                drill.never = sorted(c for c in still if view[c] != "ok")
                drill.mechanism = f"never within {window:.0f} s while the failure lasted"
                break
            time.sleep(POLL)
        _apply(lab, dead, cut, False)
        _restore(lab, matrix, timers, drill, result, t0, restore_limit)
        drill.end = time.monotonic() - t0
        result.drills.append(drill)
        log(
            f"  lost {len(drill.lost)} cell(s), recovery "
            + (f"{drill.recovery:.1f} s ({drill.mechanism})" if drill.recovery is not None else drill.mechanism)
        )
        if "(restore)" in drill.never:
            # never drill a lab that is not whole: every later result would measure this drill's leftover
            left = [f[0] for f in chosen[len(result.drills) :]]
            result.note = f"drills stopped after {name}: {drill.restore_note}" + (
                f"; not run: {', '.join(left)}" if left else ""
            )
            log(f"  {result.note}")
            break
    result.seconds = time.monotonic() - started
    return result


def _limits(timers, poll: float) -> tuple[float, float]:
    """How long a drill waits for recovery, and how long a restore may take, from the timers alone plus
    the time one poll takes on this machine (measured: on a loaded machine one poll of every daemon can
    take seconds, and a deadline must not expire between two looks).

    Recovery: the slowest detector of the design is the BGP hold timer (Azure has no BFD, FAQ
    https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq#bgp), an IKE exchange in flight
    takes up to CHARON_GIVE_UP_SECONDS, and the new best path reaches the far end with the next update
    (at most a keepalive interval later; the advertisement interval is 0 in FRR 8.4).
    Restore: the initiator's attempt under way at the restore runs its full schedule and the lab's
    re-initiation another (2 x CHARON_GIVE_UP_SECONDS); a stale SA is deleted one schedule after it is
    seen; the far end of a session keeps a half-open session until its hold timer expires; the lab
    re-opens BGP after REOPEN_GRACE and again after a schedule; then the settle window
    (CHARON_LONGEST_RETRANSMIT + a keepalive)."""
    slack = 3 * poll
    recovery = timers.hold + CHARON_GIVE_UP_SECONDS + timers.keepalive + slack
    restore = (
        3 * CHARON_GIVE_UP_SECONDS
        + timers.hold
        + REOPEN_GRACE
        + CHARON_GIVE_UP_SECONDS
        + CHARON_LONGEST_RETRANSMIT
        + timers.keepalive
        + slack
    )
    return recovery, restore


def _why_down(key: str, st, stale: dict) -> str:
    """One hop that is not up, and what is wrong with it."""
    if key in stale:
        held = ", ".join(f"{ep} {kind.upper()} #{uid}" for ep, kind, uid in stale[key])
        return f"{key} (stale SA held by one end only: {held})"
    if not st.ike_up:
        return f"{key} (IKE {st.ike}/{st.child}, far end {st.azure_ike})"
    if not st.bgp_up:
        return f"{key} (BGP {st.bgp}/{st.azure_bgp}, ping {st.ping})"
    return f"{key} ({'; '.join(st.reasons) or 'ping ' + st.ping})"


def _spof(lab, name: str) -> str:
    kind, _, what = name.partition(":")
    model = lab.plan.model
    if kind == "instance":
        gateway = next(g for g in model.gateways if what.startswith(g.name + ".i"))
        if not gateway.active_active:
            return (
                f"{gateway.name} is active-standby: one instance in the lab (Azure's own standby takeover, "
                "'connectivity is restored quickly' for planned maintenance, is not emulated)"
            )
        return f"{gateway.name} is active-active, yet a cell lost its path"
    if kind == "device":
        device = next(d for d in model.devices if d.name == what)
        site = next(s for s in model.sites if s.name == device.site)
        if len(site.devices) < 2:
            return f"{site.name} has a single device"
        return f"{site.name}'s other devices do not carry these routes"
    if kind == "tunnel":
        return "no other tunnel of the site carries these routes"
    return "no other path of BGP links joins these VNets"

"""Route-policy checks `gen lab` runs once every tunnel and BGP session is up (issue: BGP that is safe
on a production network). Each check changes the running lab, looks at both sides, and undoes what it
changed:

- route policy: every device offers a default route and an extra prefix (static blackhole routes +
  `network` in its bgpd); its outbound filter must keep both from the emulated Azure side, while the
  site prefixes still arrive there;
- primary-backup: for a site with `redundancy: primary-backup`, each emulated Azure instance that
  peers with both devices must select the primary's path for the site prefixes;
- prefix limit: each emulated Azure instance sends more prefixes than the largest device maximum;
  with the filters as rendered every session stays up and accepts none of them; with each
  device's inbound prefix-list widened by hand (the mistake the limit guards against) every
  session must be torn down by its maximum-prefix;
- SA loss: for each device run from its rendered files, the emulated Azure instance of its first BGP
  tunnel goes away as in a gateway reset: it deletes the tunnel's IKE SA and refuses new ones (its
  connection unloaded) until it returns. The device's BGP session over that tunnel must leave
  Established within SA_LOSS_LIMIT seconds (the rendered updown hook, blackhole route, nexthop-tracking
  filter and `bgp fast-convergence`), far below the 180 s hold time; then the instance returns and
  the tunnel and the session must come back.

The Azure side here is emulated (generator/lab/plan.py); what is proven is the device side: the
rendered frr.conf for strongSwan + FRR devices, the model's RoutePolicy in the emulation for others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from ipaddress import IPv4Network

from .daemons import Frr, _closing
from .system import run

EXTRA_PREFIX = IPv4Network("198.18.0.0/24")  # RFC 2544 benchmarking range: in no inventory
FLOOD = IPv4Network("198.19.0.0/16")  # the prefix-limit check's prefixes: /24s of this
SETTLE_SECONDS = 4.0  # after the advertisement interval: time for an update to cross a tunnel
SA_LOSS_LIMIT = 10.0  # s: the session must be down by then (hold time 180 s: "well below")
RECOVERY_SECONDS = 60.0  # s: the tunnel and the session back after the Azure instance returns


@dataclass
class BgpCheck:
    name: str  # route-policy | primary-backup | prefix-limit | sa-loss
    device: str
    ok: bool
    detail: str


def configure(frr: Frr, *lines: str) -> None:
    args = ["vtysh", "--vty_socket", str(frr.dir), "-c", "configure terminal"]
    for line in lines:
        args += ["-c", line]
    run(args, check=False)


def _advertisement_wait(frr: Frr) -> float:
    """The longest advertisement interval of this bgpd's sessions, in seconds (MRAI; 0 in FRR 8.4)."""
    neighbors = frr.show("show bgp neighbors json")
    values = [n.get("minBtwnAdvertisementRunsTimerMsecs", 0) for n in neighbors.values() if isinstance(n, dict)]
    return max(values + [0]) / 1000


def _from_peer(frr: Frr, peer: str) -> set[str]:
    """Prefixes this bgpd holds from `peer` (its BGP address)."""
    table = frr.show("show bgp ipv4 unicast json").get("routes") or {}
    return {prefix for prefix, paths in table.items() if any(p.get("peerId") == peer for p in paths)}


def _best(path: dict) -> bool:
    """FRR's JSON marks the selected path `"bestpath": true` (a table) or `{"overall": true}` (one prefix)."""
    value = path.get("bestpath")
    return value is True or (isinstance(value, dict) and bool(value.get("overall")))


class Checks:
    def __init__(self, lab, log=None):
        self.lab = lab
        self.log = log or (lambda message: None)
        self.model = lab.plan.model
        self.devices = [
            ep for ep in lab.plan.endpoints if ep.kind == "device" and ep.title in self.model.route_policies
        ]
        self.bgp_ip = {d.name: str(d.bgp_ip) for d in self.model.devices if d.bgp_ip}
        self.site_of = {d.name: d.site for d in self.model.devices}

    def azure_peers(self, device: str) -> list:
        """Azure endpoints this device has a BGP session with."""
        return [t.azure for t in self.lab.plan.tunnels if t.tunnel.device == device and t.tunnel.bgp]

    def run(self) -> list[BgpCheck]:
        results = self.route_policy()
        results += self.primary_backup()
        results += self.prefix_limit()
        results += self.sa_loss()
        return results

    # ------------------------------------------------------------------ SA loss
    def sa_loss(self) -> list[BgpCheck]:
        results = []
        for ep in self.devices:
            if ep.source != "verified":  # emulated from the model: no device mechanism to measure
                continue
            tunnel = next((t for t in self.lab.plan.tunnels if t.device is ep and t.tunnel.bgp), None)
            if tunnel is not None:
                results.append(self.lose_sa(ep, tunnel))
        return results

    def _state(self, ep, peer: str) -> str:
        return self.lab.frrs[ep.key].show(f"show bgp neighbors {peer} json").get(peer, {}).get("bgpState", "?")

    def lose_sa(self, ep, tunnel) -> BgpCheck:
        """The Azure instance of `tunnel` unloads the device's connection and deletes its IKE SAs;
        time until the device's session over it leaves Established; then the connection is loaded
        again, the instance initiates (as Azure does) and the session must come back."""
        peer, azure, conn = str(tunnel.azure_bgp_ip), tunnel.azure, tunnel.tunnel.device
        charon = self.lab.charons[azure.key]
        ids = [
            sa.get("uniqueid")
            for item in charon.sas()
            for sa in item.values()
            if sa.get("remote-host") == ep.public_ip and sa.get("state") == "ESTABLISHED"
        ]
        before = self._state(ep, peer)
        if not ids or before != "Established":
            return BgpCheck("sa-loss", ep.title, False, f"not measured: IKE SAs {ids or 'none'}, BGP {before}")
        with _closing(charon.session()) as session:
            session.unload_conn({"name": conn})
            started = time.monotonic()
            for ike_id in ids:
                for _ in session.terminate({"ike-id": ike_id, "timeout": -1}):
                    pass
        down_after, state = None, before
        while time.monotonic() - started < SA_LOSS_LIMIT:
            state = self._state(ep, peer)
            if state != "Established":
                down_after = time.monotonic() - started
                break
            time.sleep(0.05)
        gone = time.monotonic() - started
        charon.load(self.lab.folder(azure) / "swanctl.conf")
        back_after = self.recover(ep, peer, charon, conn)
        ok = down_after is not None and back_after is not None
        hold = self.model.route_policies[ep.title].hold
        detail = (
            f"{azure.title} deleted the IKE SA of {tunnel.key} and refused new ones for {gone:.1f} s; BGP to {peer} "
            + (f"down after {down_after:.2f} s ({state})" if down_after is not None else f"still {state}")
            + f" (limit {SA_LOSS_LIMIT:.0f} s, hold time {hold} s); "
            + (
                f"tunnel and session back {back_after:.1f} s after the instance returned"
                if back_after is not None
                else f"NOT back within {RECOVERY_SECONDS:.0f} s"
            )
        )
        return BgpCheck("sa-loss", ep.title, ok, detail)

    def recover(self, ep, peer: str, charon, conn: str) -> float | None:
        """Seconds until the session is Established again, the Azure instance initiating, or None."""
        started = time.monotonic()
        charon.initiate(conn)
        while time.monotonic() - started < RECOVERY_SECONDS:
            if self._state(ep, peer) == "Established":
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    # ------------------------------------------------------------------ route policy
    def route_policy(self) -> list[BgpCheck]:
        offered = ("0.0.0.0/0", str(EXTRA_PREFIX))
        for ep in self.devices:
            asn = next(s.asn for s in self.model.sites if s.name == self.site_of[ep.title])
            configure(
                self.lab.frrs[ep.key],
                *(f"ip route {p} blackhole 254" for p in offered),
                f"router bgp {asn}",
                "address-family ipv4 unicast",
                *(f"network {p}" for p in offered),
            )
        wait = max([_advertisement_wait(self.lab.frrs[ep.key]) for ep in self.devices] + [0]) + SETTLE_SECONDS
        time.sleep(wait)
        results = []
        for ep in self.devices:
            frr = self.lab.frrs[ep.key]
            own = frr.show("show bgp ipv4 unicast json").get("routes") or {}
            missing_locally = [p for p in offered if p not in own]
            site = next(s for s in self.model.sites if s.name == self.site_of[ep.title])
            leaked, arrived = set(), set()
            for azure in self.azure_peers(ep.title):
                got = _from_peer(self.lab.frrs[azure.key], self.bgp_ip[ep.title])
                leaked |= got & set(offered)
                arrived |= got
            wanted = {str(p) for p in site.prefixes}
            ok = not missing_locally and not leaked and wanted <= arrived
            detail = (
                f"offered {', '.join(offered)} (bgpd holds them: {'no, ' + ', '.join(missing_locally) if missing_locally else 'yes'}); "
                f"Azure side learned {', '.join(sorted(leaked)) or 'neither'} after {wait:.0f} s; "
                f"site prefixes there: {'yes' if wanted <= arrived else 'NO'}"
            )
            results.append(BgpCheck("route-policy", ep.title, ok, detail))
        for ep in self.devices:  # undo
            asn = next(s.asn for s in self.model.sites if s.name == self.site_of[ep.title])
            configure(
                self.lab.frrs[ep.key],
                f"router bgp {asn}",
                "address-family ipv4 unicast",
                *(f"no network {p}" for p in offered),
                "exit-address-family",
                "exit",
                *(f"no ip route {p} blackhole 254" for p in offered),
            )
        return results

    # ------------------------------------------------------------------ primary-backup
    def primary_backup(self) -> list[BgpCheck]:
        results = []
        for site in self.model.sites:
            if site.redundancy != "primary-backup" or len(site.devices) != 2:
                continue
            primary, backup = site.devices
            peers = {a.key: a for a in self.azure_peers(primary.name)} if primary.name in self.bgp_ip else {}
            shared = [a for a in self.azure_peers(backup.name) if a.key in peers]
            if not shared:
                continue
            wrong = []
            for azure in shared:
                table = self.lab.frrs[azure.key].show("show bgp ipv4 unicast json").get("routes") or {}
                for prefix in site.prefixes:
                    best = [p for p in table.get(str(prefix), []) if _best(p)]
                    chosen = best[0].get("peerId") if best else None
                    if chosen != str(primary.bgp_ip):
                        wrong.append(f"{azure.title}: {prefix} via {chosen}")
            detail = (
                f"{len(shared)} Azure instances peer with both; each selects {primary.name} ({primary.bgp_ip}) "
                f"for {', '.join(str(p) for p in site.prefixes)}"
                if not wrong
                else "Azure side does not prefer the primary: " + "; ".join(wrong)
            )
            results.append(BgpCheck("primary-backup", f"{primary.name} over {backup.name}", not wrong, detail))
        return results

    # ------------------------------------------------------------------ prefix limit
    def prefix_limit(self) -> list[BgpCheck]:
        """Azure floods more than the largest maximum. First with the filters as rendered: the
        sessions stay up and nothing of the flood is accepted. Then with each device's inbound
        prefix-list widened by hand (an operator's mistake): the maximum-prefix must tear the
        sessions down. The widening is undone and the sessions cleared afterwards."""
        if not self.devices:
            return []
        limit = max(self.model.route_policies[ep.title].max_prefix for ep in self.devices)
        flood = [str(n) for n in list(FLOOD.subnets(new_prefix=24))[: limit + 1]]
        azures = {a.key: a for ep in self.devices for a in self.azure_peers(ep.title)}
        for azure in azures.values():
            self.inject(azure, flood, add=True)
        wait = max([_advertisement_wait(self.lab.frrs[a]) for a in azures] + [0]) + SETTLE_SECONDS
        time.sleep(wait)
        filtered = {ep.title: self.untouched(ep, set(flood)) for ep in self.devices}
        for ep in self.devices:
            self.widen(ep, add=True)
        deadline = time.monotonic() + 30
        reacted: dict[str, tuple[bool, str]] = {}
        while time.monotonic() < deadline:
            reacted = {ep.title: self.tripped(ep) for ep in self.devices}
            if all(ok for ok, _ in reacted.values()):
                break
            time.sleep(0.5)
        for azure in azures.values():
            self.inject(azure, flood, add=False)
        for ep in self.devices:  # undo, and bring the sessions back without waiting for the restart timer
            self.widen(ep, add=False)
            run(["vtysh", "--vty_socket", str(self.lab.frrs[ep.key].dir), "-c", "clear bgp *"], check=False)
        results = []
        for ep in self.devices:
            (kept, kept_detail), (tripped, trip_detail) = filtered[ep.title], reacted[ep.title]
            results.append(
                BgpCheck(
                    "prefix-limit",
                    ep.title,
                    kept and tripped,
                    f"Azure side sent {len(flood)} extra prefixes (device maximum "
                    f"{self.model.route_policies[ep.title].max_prefix}); filter as rendered: {kept_detail}; "
                    f"filter widened by hand: {trip_detail}",
                )
            )
        return results

    def widen(self, ep, add: bool) -> None:
        no = "" if add else "no "
        configure(self.lab.frrs[ep.key], f"{no}ip prefix-list AZURE-IN seq 9999 permit 0.0.0.0/0 le 32")

    def untouched(self, ep, flood: set[str]) -> tuple[bool, str]:
        """Sessions still Established and none of the flood accepted."""
        neighbors = self.lab.frrs[ep.key].show("show bgp neighbors json")
        ok, states = True, []
        for ip in self.azure_ips(ep):
            up = neighbors.get(ip, {}).get("bgpState") == "Established"
            got = _from_peer(self.lab.frrs[ep.key], ip) & flood
            ok = ok and up and not got
            states.append(f"{ip} {'Established' if up else 'DOWN'}, {len(got)} accepted")
        return ok, "; ".join(states)

    def azure_ips(self, ep) -> list[str]:
        return [str(t.azure_bgp_ip) for t in self.lab.plan.tunnels if t.tunnel.device == ep.title and t.tunnel.bgp]

    def inject(self, azure, prefixes: list[str], add: bool) -> None:
        no = "" if add else "no "
        gateway = next(g for g in self.model.gateways if g.name == azure.gateway)
        configure(
            self.lab.frrs[azure.key],
            *(f"{no}ip route {p} blackhole 254" for p in prefixes),
            f"router bgp {gateway.asn}",
            "address-family ipv4 unicast",
            *(f"{no}network {p}" for p in prefixes),
        )

    def tripped(self, ep) -> tuple[bool, str]:
        """Whether every Azure session of the device was torn down by its prefix limit."""
        neighbors = self.lab.frrs[ep.key].show("show bgp neighbors json")
        ok, states = True, []
        for ip in self.azure_ips(ep):
            info = neighbors.get(ip, {})
            # bgpd: state Idle, last reset "BGP Notification send", notification Cease/Maximum Number of Prefixes Reached
            reason = "; ".join(str(info[k]) for k in ("lastResetDueTo", "lastNotificationReason") if info.get(k))
            down = info.get("bgpState") != "Established" and "prefix" in reason.lower()
            ok = ok and down
            states.append(f"{ip} {info.get('bgpState', '?')}" + (f" ({reason})" if reason else ""))
        return ok, "; ".join(states)


def run_checks(lab, log=None) -> list[BgpCheck]:
    return Checks(lab, log).run()


def text(checks: list[BgpCheck]) -> str:
    lines = ["BGP route-policy checks:"]
    for c in checks:
        lines.append(f"  {'passed' if c.ok else 'FAILED'}  {c.name:15} {c.device}: {c.detail}")
    return "\n".join(lines)

"""Start strongSwan (charon) and FRR (zebra, staticd, bgpd) inside one namespace, and query them."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .system import CHARON, FRR_DAEMONS, LabError, Registry, run

STRONGSWAN_CONF = """\
# gen lab: charon for {title}
charon {{
  load_modular = yes
  install_virtual_ip = no
{install_routes}  retransmit_tries = 3
  retransmit_timeout = 1.0
  plugins {{
    include /etc/strongswan.d/charon/*.conf
{libipsec}    vici {{
      socket = unix://{dir}/charon.vici
    }}
  }}
  filelog {{
    lab {{
      path = {dir}/charon.log
      default = 1
      ike = 2
      cfg = 2
      ike_name = yes
      flush_line = yes
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
"""
# Debian ships kernel-libipsec with load = no; it must load before kernel-netlink (validators.md 3).
LIBIPSEC = "    kernel-libipsec {\n      load = 10\n    }\n"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")


class Charon:
    def __init__(self, registry: Registry, netns: str, folder: Path, title: str, mode: str):
        self.netns, self.dir, self.title = netns, folder, title
        self.socket = folder / "charon.vici"
        self.log = folder / "charon.log"
        (folder / "run").mkdir(parents=True, exist_ok=True)
        conf = folder / "strongswan.conf"
        conf.write_text(
            STRONGSWAN_CONF.format(
                title=title,
                dir=folder,
                libipsec=LIBIPSEC if mode == "libipsec" else "",
                install_routes="" if mode == "libipsec" else "  install_routes = no\n",
            ),
            encoding="utf-8",
        )
        # /var/run/charon.pid is compiled in: give each charon a private /run (ip netns exec unshares mounts)
        script = f"mount --bind {folder / 'run'} /run && exec {CHARON}"
        env = {"STRONGSWAN_CONF": str(conf), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        self.proc = registry.spawn(netns, ["sh", "-c", script], folder / "charon.out", env=env)

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise LabError(f"charon for {self.title} exited ({self.proc.returncode}); see {self.dir}/charon.out")
        return self.socket.exists()

    def session(self):
        import vici

        sock = socket.socket(socket.AF_UNIX)
        sock.connect(str(self.socket))
        return vici.Session(sock)

    def load(self, conf: Path) -> None:
        """Load a swanctl.conf with swanctl itself (its parser); fail on any connection not loaded."""
        proc = run(
            ["swanctl", "--load-all", "--noprompt", "--file", str(conf), "--uri", f"unix://{self.socket}"], check=False
        )
        out = proc.stdout + proc.stderr
        loaded = re.search(r"successfully loaded (\d+) connections, (\d+) unloaded", out)
        if proc.returncode != 0 or not loaded or re.search(r"loading .* failed|invalid config", out):
            problems = "; ".join(
                line for line in out.splitlines() if "plugin" not in line and "opening directory" not in line
            )
            raise LabError(f"swanctl could not load {conf.name} for {self.title}: {problems}")

    def sas(self) -> list[dict]:
        with _closing(self.session()) as s:
            return [_text(sa) for sa in s.list_sas()]

    def conns(self) -> dict[str, dict]:
        with _closing(self.session()) as s:
            result = {}
            for item in s.list_conns():
                result.update(_text(item))
            return result

    def initiate(self, child: str) -> None:
        with _closing(self.session()) as s:
            try:
                for _ in s.initiate({"child": child, "timeout": -1}):
                    pass
            except Exception:  # the reason lands in charon's log, which the report reads
                pass

    def terminate(self, kind: str, unique_id: str) -> None:
        """Delete one SA by its unique id: an IKE SA ("ike", with its CHILD SAs) or one CHILD_SA ("child");
        the peer gets an INFORMATIONAL DELETE."""
        with _closing(self.session()) as s:
            try:
                for _ in s.terminate({f"{kind}-id": unique_id, "timeout": -1}):
                    pass
            except Exception:  # already gone: the next poll sees it
                pass


class _closing:
    def __init__(self, session):
        self.session = session

    def __enter__(self):
        return self.session

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            self.session.handler.transport.socket.close()


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


class Frr:
    def __init__(self, registry: Registry, netns: str, folder: Path, title: str, conf: Path | None = None):
        """zebra starts at once and reads `conf` (its part of frr.conf: nexthop-tracking filters, the
        prefix-lists and route-maps they use), as it would from the integrated frr.conf on a device."""
        self.netns, self.title, self.registry = netns, title, registry
        self.dir = folder / "frr"
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir, "frr", "frr")
        self.procs: list[subprocess.Popen] = []
        if conf is not None:
            shutil.chown(conf, "root", "frr")
            conf.chmod(0o640)
        self.start("zebra", conf)

    def start(self, daemon: str, conf: Path | None = None) -> None:
        d = self.dir
        args = [
            f"{FRR_DAEMONS}/{daemon}", "-u", "frr", "-g", "frr", "-f", str(conf or "/dev/null"), "-i", f"{d}/{daemon}.pid",
            "-z", f"{d}/zserv.api", "--vty_socket", str(d), "-A", "127.0.0.1", "-P", "0",
            "--log", f"file:{d}/{daemon}.log",
        ]  # fmt: skip
        self.procs.append(self.registry.spawn(self.netns, args, d.parent / f"{daemon}.out"))

    def check(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise LabError(f"an FRR daemon for {self.title} exited ({proc.returncode}); see {self.dir}")

    def zebra_ready(self) -> bool:
        self.check()
        return (self.dir / "zserv.api").exists()

    def start_protocols(self, conf: Path) -> None:
        """staticd and bgpd read the frr.conf at start-up, as on a device: every neighbour is complete
        before bgpd starts it (pushed line by line with vtysh, a peer can start before its
        `ebgp-multihop` line arrives and keep a connected-only next-hop check)."""
        check = run(["vtysh", "--dryrun", "-f", str(conf)], check=False)
        if check.returncode != 0:
            raise LabError(f"vtysh --dryrun rejects {conf} for {self.title}: {(check.stdout + check.stderr).strip()}")
        shutil.chown(conf, "root", "frr")
        conf.chmod(0o640)
        self.start("staticd", conf)
        self.start("bgpd", conf)

    def ready(self) -> bool:
        self.check()
        return all((self.dir / f"{d}.vty").exists() for d in ("zebra", "staticd", "bgpd"))

    def show_many(self, *commands: str) -> list[dict]:
        """Several JSON show commands in one vtysh call (one result each, {} when unparsable)."""
        args = ["vtysh", "--vty_socket", str(self.dir)]
        for command in commands:
            args += ["-c", command]
        text = run(args, check=False).stdout
        decoder, results, pos = json.JSONDecoder(), [], 0
        for _ in commands:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            try:
                value, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                value = {}
            results.append(value if isinstance(value, dict) else {})
        return results

    def bgp_state(self) -> tuple[dict, dict[str, list[str]]]:
        """(neighbors as `show bgp neighbors json`, neighbor -> prefixes learned from it)."""
        neighbors, table = self.show_many("show bgp neighbors json", "show bgp ipv4 unicast json")
        learned: dict[str, list[str]] = {}
        for prefix, paths in (table.get("routes") or {}).items():
            for path in paths:
                if path.get("peerId"):
                    mark = "" if path.get("valid") else " (invalid)"
                    learned.setdefault(path["peerId"], []).append(prefix + mark)
        return neighbors, {k: sorted(v) for k, v in learned.items()}

    def show(self, command: str) -> dict:
        proc = run(["vtysh", "--vty_socket", str(self.dir), "-c", command], check=False)
        try:
            return json.loads(proc.stdout or "{}")
        except json.JSONDecodeError:
            return {}

"""Namespaces, links and daemons of one lab, recorded in <lab dir>/lab.json so `gen lab --down` can
remove them even after the process that started them died. Every process runs inside a namespace
the lab created; teardown stops them by pid, then deletes those namespaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

LAB_ROOT = Path(os.environ.get("GEN_LAB_DIR", "/var/tmp/gen-lab"))
CHARON = "/usr/lib/ipsec/charon"
FRR_DAEMONS = "/usr/lib/frr"
TOOLS = ("ip", "swanctl", "vtysh", "ping", "nft")


class LabError(Exception):
    """The lab cannot run here (not root, a tool missing, a command failed)."""


def ip_binary() -> str:
    found = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if not found:
        raise LabError("iproute2 `ip` is not installed")
    return found


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("gen lab needs root (network namespaces): run it with sudo")
    missing = [t for t in TOOLS if not shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
    missing += [
        p
        for p in (CHARON, f"{FRR_DAEMONS}/zebra", f"{FRR_DAEMONS}/bgpd", f"{FRR_DAEMONS}/staticd")
        if not Path(p).exists()
    ]
    if missing:
        raise LabError(
            "missing: " + ", ".join(missing) + " (apt-get install frr strongswan-swanctl strongswan-charon "
            "libcharon-extra-plugins libstrongswan-standard-plugins iproute2 iputils-ping iptables nftables)"
        )
    try:
        import vici  # noqa: F401  (strongSwan's VICI client: SA state)
    except ImportError:
        raise LabError("missing: the Python package vici (pip install 'gen[lab]')") from None


def run(args: list[str], *, check: bool = True, netns: str | None = None, env: dict | None = None, timeout: float = 20):
    """Run a command (inside `netns` when given); raise LabError with its output when it fails."""
    full = (["ip", "netns", "exec", netns] if netns else []) + args
    proc = subprocess.run(full, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"`{' '.join(full)}` failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}")
    return proc


class Registry:
    """What one lab created: namespaces and daemon pids, persisted after every change."""

    def __init__(self, name: str):
        self.name = name
        self.dir = LAB_ROOT / name
        self.file = self.dir / "lab.json"
        self.namespaces: list[str] = []
        self.pids: list[int] = []
        self.procs: list[subprocess.Popen] = []
        self.lock = threading.Lock()

    @classmethod
    def load(cls, name: str) -> Registry:
        registry = cls(name)
        if registry.file.exists():
            data = json.loads(registry.file.read_text(encoding="utf-8"))
            registry.namespaces, registry.pids = data["namespaces"], data["pids"]
        return registry

    def exists(self) -> bool:
        return self.file.exists()

    def save(self) -> None:
        with self.lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"namespaces": self.namespaces, "pids": self.pids}) + "\n", encoding="utf-8")
            tmp.replace(self.file)

    def add_netns(self, netns: str) -> None:
        self.namespaces.append(netns)
        self.save()
        run(["ip", "netns", "add", netns])
        run(["ip", "-n", netns, "link", "set", "lo", "up"])

    def spawn(self, netns: str, args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        """Start a daemon in the foreground inside `netns`, in its own session (Ctrl-C reaches only gen)."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", netns, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
        with self.lock:
            self.procs.append(proc)
            self.pids.append(proc.pid)
        self.save()
        return proc

    def teardown(self) -> list[str]:
        """Stop every process, delete every namespace; return what could not be removed."""
        pids = set(self.pids)
        for netns in self.namespaces:
            pids |= set(_netns_pids(netns))
        _signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            self._reap()
            time.sleep(0.05)
        _signal_all({p for p in pids if _alive(p)}, signal.SIGKILL)
        for netns in self.namespaces:  # anything that slipped into a namespace after the listing
            _signal_all(set(_netns_pids(netns)), signal.SIGKILL)
        self._reap(block=True)
        left = []
        for netns in self.namespaces:
            if Path("/run/netns", netns).exists():
                proc = run(["ip", "netns", "del", netns], check=False)
                if proc.returncode != 0:
                    left.append(f"namespace {netns}: {proc.stderr.strip()}")
        left += [f"process {p}" for p in pids if _alive(p)]
        if not left:
            shutil.rmtree(self.dir, ignore_errors=True)
        return left

    def _reap(self, block: bool = False) -> None:
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2 if block else 0)


def _netns_pids(netns: str) -> list[int]:
    if not Path("/run/netns", netns).exists():
        return []
    proc = run(["ip", "netns", "pids", netns], check=False)
    return [int(x) for x in proc.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def detect_mode(netns: str) -> str:
    """'xfrm' when the kernel has XFRM interfaces and ESP, else 'libipsec' (strongSwan ESP on a TUN device)."""
    probe = run(["ip", "-n", netns, "link", "add", "glprobe", "type", "xfrm", "if_id", "7"], check=False)
    if probe.returncode != 0:
        return "libipsec"
    run(["ip", "-n", netns, "link", "del", "glprobe"], check=False)
    key = "0x" + "00" * 16
    esp = run(
        ["ip", "-n", netns, "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp",
         "spi", "0x100", "enc", "cbc(aes)", key, "auth", "hmac(sha256)", key + "00" * 16, "mode", "tunnel"],
        check=False,
    )  # fmt: skip
    if esp.returncode != 0:
        return "libipsec"
    run(["ip", "-n", netns, "xfrm", "state", "flush"], check=False)
    return "xfrm"

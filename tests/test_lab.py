"""`gen lab`: tunnels and BGP sessions brought up for real in network namespaces (root, Linux).

Never skipped: without root or the daemons these tests fail and say why. Each lab removes every
namespace and process it started; the tests check that too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

from generator.cli import main
from generator.lab.system import LAB_ROOT

CSP_LINUX = ROOT / "inventories" / "csp-advanced-linux.yaml"
ONE = Path(__file__).resolve().parent / "data" / "lab" / "one-tunnel.yaml"
ONE_TUNNEL = "hub-vnet-gw.i0~branch-linux"


@pytest.fixture(scope="module", autouse=True)
def lab_host():
    """The lab needs root and the real daemons; a missing piece is a failure, never a skip."""
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces); CI runs them as root: sudo bash .ci/run")
    from generator.lab.system import LabError, preflight

    try:
        preflight()
    except LabError as error:
        pytest.fail(f"the lab cannot run here: {error} (tests/run.sh installs the packages)")


def namespaces(prefix: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def assert_gone(result) -> None:
    assert result.namespaces and result.pids  # the lab did start things...
    assert not [n for n in result.namespaces if Path("/run/netns", n).exists()]  # ...and removed them all
    deadline = time.monotonic() + 3
    while any(alive(p) for p in result.pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in result.pids if alive(p)] == []


def test_csp_advanced_linux_all_tunnels_and_bgp_up():
    from generator.lab.run import run_lab
    from generator.targets import TARGETS

    inventory = yaml.safe_load(CSP_LINUX.read_text(encoding="utf-8"))
    vnet_prefixes = {v["name"] + "-gw": v["address_space"] for v in inventory["azure"]["vnets"]}
    sites = {s["name"]: s for s in inventory["onprem"]["sites"]}
    device_site = {d["name"]: s["name"] for s in sites.values() for d in s["devices"]}
    platform = {d["name"]: d["platform"] for s in sites.values() for d in s["devices"]}

    result = run_lab(CSP_LINUX, name="tcsp", timeout=90)
    try:
        assert len(result.tunnels) == 6, [t.key for t in result.tunnels]
        for st in result.tunnels:
            gateway = st.key.split(".i")[0]
            site = sites[device_site[st.device]]
            assert (st.ike, st.child, st.azure_ike) == ("ESTABLISHED", "INSTALLED", "ESTABLISHED"), st
            assert (st.bgp, st.azure_bgp) == ("Established", "Established"), st
            assert set(vnet_prefixes[gateway]) <= set(st.learned_onprem), st  # VNet prefixes learned on-prem
            assert set(site["prefixes"]) <= set(st.learned_azure), st  # site prefixes learned by Azure
            assert st.ping == "ok", st
            assert not st.reasons, st
            expected = "verified" if platform[st.device] == "strongswan_frr" and "onprem" in TARGETS else "emulated"
            assert st.source == expected, st
        assert result.ok
        assert result.seconds_to_established is not None
    finally:
        assert_gone(result)
    assert namespaces("gl-tcsp-") == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("psk", "IKE AUTHENTICATION_FAILED"),
        ("proposal", "IKE NO_PROPOSAL_CHOSEN"),
        ("asn", "Bad Peer AS"),
    ],
)
def test_negative_case_fails_with_the_reason(fault, expected):
    result = CliRunner().invoke(
        main, ["lab", str(ONE), "--name", f"tneg{fault}", "--timeout", "30", "--inject", f"{fault}:{ONE_TUNNEL}"]
    )
    assert result.exit_code == 1, result.output
    rows = [line for line in result.output.splitlines() if line.startswith(ONE_TUNNEL)]
    assert rows[0].split()[-1] == "FAILED", result.output
    reason = next(line for line in rows if line.startswith(f"{ONE_TUNNEL}: "))
    assert expected in reason, result.output
    if fault == "asn":  # IKE is fine, BGP is not
        assert "ESTABLISHED" in rows[0] and "BGP" in reason and "Established " not in rows[0], result.output
    assert namespaces(f"gl-tneg{fault}-") == []


def test_lab_api_reports_the_fault_per_tunnel_and_cleans_up():
    from generator.lab.run import run_lab

    result = run_lab(ONE, name="tapi", timeout=30, faults={ONE_TUNNEL: "psk"})
    assert not result.ok
    [st] = result.tunnels
    assert st.failed and st.reasons[0].startswith("IKE AUTHENTICATION_FAILED"), st
    assert_gone(result)


def test_keep_leaves_the_lab_running_until_down():
    runner = CliRunner()
    result = runner.invoke(main, ["lab", str(ONE), "--name", "tkeep", "--keep", "--timeout", "30"])
    try:
        assert result.exit_code == 0, result.output
        assert "gen lab --down tkeep" in result.output
        assert len(namespaces("gl-tkeep-")) == 3  # the "internet", the device, the gateway instance
        state = json.loads((LAB_ROOT / "tkeep" / "lab.json").read_text(encoding="utf-8"))
        assert all(alive(p) for p in state["pids"])
    finally:
        down = runner.invoke(main, ["lab", "--down", "tkeep"])
    assert down.exit_code == 0, down.output
    assert namespaces("gl-tkeep-") == []
    assert not [p for p in state["pids"] if alive(p)]


def ctrl_c_reaches_python() -> None:
    """In the child before exec: SIGINT back to its default, so Python installs its KeyboardInterrupt
    handler even when the test runner was started in the background (a non-interactive shell's `&`
    ignores SIGINT, children inherit that, and the Ctrl-C test would then test nothing but a hang)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupt_removes_everything():
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "lab", str(CSP_LINUX), "--name", "tint", "--timeout", "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ctrl_c_reaches_python,
    )
    deadline = time.monotonic() + 20
    while len(namespaces("gl-tint-")) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    state = json.loads((LAB_ROOT / "tint" / "lab.json").read_text(encoding="utf-8"))
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    assert "interrupted" in out
    assert namespaces("gl-tint-") == []
    assert not [p for p in state["pids"] if alive(p)]


class StandInOnprem:
    """Until the strongswan_frr target is merged: files shaped by its contract (one connection per Azure
    instance, if_id = device_index, 0.0.0.0/0 selectors; BGP from the loopback, ebgp-multihop, /32 routes
    via xfrmN; a plain, non-idempotent interfaces.sh; connections not started by charon itself)."""

    key = "onprem"
    description = "test stand-in for the strongswan_frr device target"

    def render(self, model, env, options):
        from generator.lab.proposals import esp_proposal, ike_proposal
        from generator.targets import OutputFile

        files = []
        for device in model.devices:
            if device.platform != "strongswan_frr":
                continue
            site = next(s for s in model.sites if s.name == device.site)
            tunnels = model.device_tunnels[device.name]
            conns, secrets, routes, neighbors, links = [], [], [], [], []
            for t in tunnels:
                n = t.device_index
                conns.append(
                    f"  azure{n} {{\n    version = 2\n    local_addrs = {device.local_address}\n"
                    f"    remote_addrs = {t.azure_public_ip}\n    proposals = {ike_proposal(t.policy)}\n"
                    f"    if_id_in = {n}\n    if_id_out = {n}\n"
                    f"    local {{\n      auth = psk\n      id = {device.public_ip}\n    }}\n"
                    f"    remote {{\n      auth = psk\n      id = {t.azure_public_ip}\n    }}\n"
                    f"    children {{\n      azure{n} {{\n        local_ts = 0.0.0.0/0\n        remote_ts = 0.0.0.0/0\n"
                    f"        esp_proposals = {esp_proposal(t.policy)}\n        if_id_in = {n}\n        if_id_out = {n}\n"
                    f"      }}\n    }}\n  }}\n"
                )
                key = (options.secrets or {}).get(t.psk.parameter, t.psk.placeholder)
                secrets.append(
                    f'  ike-azure{n} {{\n    id-1 = {device.public_ip}\n    id-2 = {t.azure_public_ip}\n    secret = "{key}"\n  }}\n'
                )
                routes.append(f"ip route {t.azure_bgp_ip}/32 xfrm{n}\n")
                neighbors.append(
                    f" neighbor {t.azure_bgp_ip} remote-as {t.azure_asn}\n"
                    f" neighbor {t.azure_bgp_ip} ebgp-multihop 2\n"
                    f" neighbor {t.azure_bgp_ip} update-source lo\n"
                )
                links.append(
                    f"ip link add xfrm{n} type xfrm if_id {n} dev {device.outside_interface}\n"
                    f"ip link set xfrm{n} up\nip route add {t.azure_bgp_ip}/32 dev xfrm{n}\n"
                )
            base = f"onprem/{device.site}/{device.name}"
            networks = "".join(f"  network {p}\n" for p in site.prefixes)
            files += [
                OutputFile(
                    f"{base}.swanctl.conf",
                    "connections {\n" + "".join(conns) + "}\nsecrets {\n" + "".join(secrets) + "}\n",
                    True,
                ),
                OutputFile(
                    f"{base}.frr.conf",
                    "".join(routes)
                    + f"router bgp {site.asn}\n bgp router-id {device.bgp_ip}\n no bgp ebgp-requires-policy\n"
                    + "".join(neighbors)
                    + " address-family ipv4 unicast\n"
                    + networks
                    + " exit-address-family\nexit\n",
                ),
                OutputFile(
                    f"{base}.interfaces.sh", f"set -e\nip addr add {device.bgp_ip}/32 dev lo\n" + "".join(links)
                ),
            ]
        return files

    def verify(self, files):
        return []


def test_strongswan_frr_devices_run_the_rendered_files(monkeypatch):
    """The lab loads the on-prem target's files unchanged and reports those devices as verified."""
    from generator.lab.run import run_lab
    from generator.targets import TARGETS

    if "onprem" not in TARGETS:  # once the real target is registered, this runs it instead
        monkeypatch.setitem(TARGETS, "onprem", StandInOnprem())
    result = run_lab(CSP_LINUX, name="tver", timeout=90)
    try:
        sources = {st.device: st.source for st in result.tunnels}
        assert sources == {
            "dc1-linux1": "verified",
            "dc1-linux2": "verified",
            "dc2-edge1": "emulated",  # juniper_srx
            "dc3-edge1": "verified",
        }
        assert result.ok, [(st.key, st.reasons) for st in result.tunnels if not st.ok]
    finally:
        assert_gone(result)


def test_devices_given_by_fqdn_authenticate_with_that_identity():
    """Azure's side expects each device's fqdn as its IKE identity: the rendered Linux files and the
    emulated VyOS device present it (strongSwan checks the remote id, so a mismatch would not come up)."""
    from generator.lab.run import run_lab

    fqdn = ONE.with_name("fqdn.yaml")
    result = run_lab(fqdn, name="tfqdn", timeout=45)
    assert result.ok, [(t.key, t.reasons) for t in result.tunnels]
    assert sorted(t.key for t in result.tunnels) == ["hub-vnet-gw.i0~branch-linux", "hub-vnet-gw.i0~shop-vyos"]
    assert_gone(result)

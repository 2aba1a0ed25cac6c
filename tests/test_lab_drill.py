"""`gen lab --drill` (root, real daemons, never skipped): the VNet-to-VNet mesh, the reachability matrix,
one failure of each kind with shortened emulated timers (labelled so), expected single points of
failure, a planted flaw giving exit 1, and a wrong ASN / PSK on a VNet-to-VNet link.
The full drill of every failure runs in bench/lab_bench.py --drill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_lab import alive, ctrl_c_reaches_python, lab_host, namespaces  # noqa: F401  (the root/daemon check, as for test_lab.py)

from generator.cli import main
from generator.lab.system import LAB_ROOT

CSP_LINUX = ROOT / "inventories" / "csp-advanced-linux.yaml"
TWO = Path(__file__).resolve().parent / "data" / "lab" / "two-vnets.yaml"
FAST = ["--bgp-timers", "1/3"]


def test_drill_one_failure_of_each_kind_and_expected_spofs(tmp_path):
    only = [
        "instance:SEA-VNET-gw.i0",  # active-active: survived
        "device:dc1-linux1",  # two devices: survived
        "tunnel:SEA-VNET-gw.i0~dc1-linux1",
        "link:SEA-VNET~LON-VNET",  # full mesh with BGP: transit via MUM-VNET
        "device:dc2-edge1",  # single-device site: expected SPOF
        "instance:LON-VNET-gw.i0",  # single-instance gateway: expected SPOF
    ]
    report = tmp_path / "drill.json"
    args = ["lab", str(CSP_LINUX), "--name", "tdrill", "--format", "json", "--report", str(report), *FAST]
    result = CliRunner().invoke(main, args + [a for o in only for a in ("--only", o)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert json.loads(report.read_text(encoding="utf-8")) == data
    drill = data["drill"]
    assert "SHORTENED" in drill["timers"] and "60/180" in drill["timers"]
    assert "emulated Azure side" in drill["label"]
    assert len([t for t in data["tunnels"] if t["kind"] == "link"]) == 5  # 2 + 2 + 1 instance pairs
    assert all(t["ok"] for t in data["tunnels"])
    cells = drill["matrix"]
    sites, vnets = ("DC1", "DC2", "DC3"), ("SEA-VNET", "LON-VNET", "MUM-VNET")
    for site in sites:
        for vnet in vnets:
            assert cells[f"{site} -> {vnet}"] == cells[f"{vnet} -> {site}"] == "ok", cells
    by = {d["failure"]: d for d in drill["drills"]}
    assert sorted(by) == sorted(only)
    for name in only[:4]:
        d = by[name]
        assert d["ok"] and d["expected_single_point_of_failure"] == [], d
        assert d["seconds_to_recovery"] is not None and d["seconds_to_restore"] is not None, d
        if d["lost"]:  # a stale path was withdrawn by the emulated hold timer
            assert "BGP hold timer (3 s)" in d["decided_by"], d
    assert by["link:SEA-VNET~LON-VNET"]["lost"], "the cut link carried SEA<->LON until the hold timer"
    for name, site in (("device:dc2-edge1", "DC2"), ("instance:LON-VNET-gw.i0", "LON-VNET")):
        d = by[name]
        assert d["ok"], d  # expected, so not a failure
        assert f"{site} -> DC1" in d["expected_single_point_of_failure"], d
        assert d["spof_reason"], d
    assert "single device" in by["device:dc2-edge1"]["spof_reason"]
    assert "active-standby" in by["instance:LON-VNET-gw.i0"]["spof_reason"]
    svg = ElementTree.parse(report.with_suffix(".svg")).getroot()
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert {"DC1", "DC2", "DC3"} <= set(labels)
    assert namespaces("gl-tdrill-") == []


def test_planted_shared_outside_interface_gives_exit_1_naming_it(tmp_path):
    args = ["lab", str(CSP_LINUX), "--name", "tplant", "--plant", "shared-outside:DC1", *FAST]
    result = CliRunner().invoke(main, [*args, "--only", "device:dc1-linux1", "--report", str(tmp_path / "r.txt")])
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "LOSS THE DESIGN CLAIMS TO SURVIVE" in x)
    assert line.startswith("device:dc1-linux1:") and "DC1 -> SEA-VNET" in line, result.output
    assert namespaces("gl-tplant-") == []


@pytest.mark.parametrize(("fault", "expected"), [("asn", "Bad Peer AS"), ("psk", "IKE AUTHENTICATION_FAILED")])
def test_wrong_asn_or_psk_on_a_vnet_link_is_reported_with_what_it_cuts_off(fault, expected):
    args = ["lab", str(TWO), "--name", f"tlink{fault}", "--timeout", "20", "--inject", f"{fault}:east-vnet~west-vnet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    key = "east-vnet-gw.i0~west-vnet-gw.i0"
    row = next(x for x in result.output.splitlines() if x.startswith(key + " "))
    assert row.split()[-1] == "FAILED", result.output
    assert expected in next(x for x in result.output.splitlines() if x.startswith(key + ": ")), result.output
    cut = next(x for x in result.output.splitlines() if x.startswith("down: "))
    assert key in cut and "east-branch -> west-vnet" in cut and "west-vnet -> east-branch" in cut, cut
    assert "east-branch -> east-vnet" not in cut, cut  # the site's own VNet is not cut off
    assert namespaces(f"gl-tlink{fault}-") == []


def test_interrupt_during_a_drill_removes_everything(tmp_path):
    """Ctrl-C while a failure is applied: exit 130, no namespace, process, lab folder or report left."""
    report = tmp_path / "drill.json"
    args = ["lab", str(CSP_LINUX), "--name", "tdint", "--drill", *FAST, "--format", "text", "--report", str(report)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ctrl_c_reaches_python,
    )
    seen, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if line.startswith("drill ") or not line:
            break
    assert seen[-1].startswith("drill "), "".join(seen)  # a failure is applied now
    state = json.loads((LAB_ROOT / "tdint" / "lab.json").read_text(encoding="utf-8"))
    assert state["pids"] and namespaces("gl-tdint-")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + out
    assert "interrupted" in out
    assert namespaces("gl-tdint-") == []
    assert not [p for p in state["pids"] if alive(p)]
    assert not (LAB_ROOT / "tdint").exists()
    assert list(tmp_path.iterdir()) == []  # no report, no timeline


HUB = Path(__file__).resolve().parent / "data" / "lab" / "hub-spoke.yaml"


def test_gateway_transit_spoke_is_reached_through_the_hub_and_across_the_link():
    """A spoke peered with allowGatewayTransit/useRemoteGateways: the hub's gateway advertises the spoke's
    space to its sites and over the VNet-to-VNet link (FAQ "BGP and routing"), so both branches reach it."""
    args = ["lab", str(HUB), "--name", "ttransit", "--format", "json", "--timeout", "40"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    learned = {t["device"]: t["learned"] for t in data["tunnels"]}
    assert "10.31.0.0/16" in learned["east-linux"] and "10.31.0.0/16" in learned["west-linux"], learned
    cells = data["matrix"]
    for a, b in (("east-branch", "spoke-vnet"), ("west-branch", "spoke-vnet"), ("west-vnet", "spoke-vnet")):
        assert cells[f"{a} -> {b}"] == cells[f"{b} -> {a}"] == "ok", cells
    assert namespaces("gl-ttransit-") == []

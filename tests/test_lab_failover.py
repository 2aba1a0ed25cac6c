"""Static routing to an active-active gateway: one FRR route per tunnel, and when tunnel 1's SA dies the
updown hook of the rendered swanctl.conf sets xfrm1 down, so the route (and `ip route get`) moves to xfrm2.

Runs the rendered strongswan_frr files in `gen lab` namespaces (root; run under the shared lab lock).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.lab.system import LAB_ROOT

AA = Path(__file__).resolve().parent / "data" / "lab" / "static-active-active.yaml"
VNET_ADDRESS = "10.30.1.10"  # in the VNet's app subnet


def ns_run(netns: str, *args: str) -> str:
    return subprocess.run(["ip", "netns", "exec", netns, *args], capture_output=True, text=True, check=True).stdout


def route_get(netns: str) -> str:
    return ns_run(netns, "ip", "route", "get", VNET_ADDRESS)


def wait(predicate, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_killing_tunnel_1s_sa_moves_the_route_to_tunnel_2():
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces)")
    from generator.lab.run import run_lab

    result = run_lab(AA, name="tfail", keep=True, timeout=60)
    try:
        assert result.ok, [(st.key, st.reasons) for st in result.tunnels if not st.ok]
        assert {st.source for st in result.tunnels} == {"verified"}  # the rendered files, unchanged
        [device] = [ep for ep in result.endpoints if ep.kind == "device"]
        netns, folder = device.netns, LAB_ROOT / "tfail" / device.netns
        # one staticd route per tunnel: an ECMP route over both XFRM interfaces, the blackhole behind it
        both = wait(lambda: "xfrm1" in (r := ns_run(netns, "ip", "route", "show", "10.30.0.0/16")) and "xfrm2" in r, 10)
        assert both, ns_run(netns, "ip", "route", "show")
        assert re.search(r"dev xfrm[12]", route_get(netns))
        # kill tunnel 1's CHILD_SA on the device (what an Azure instance's maintenance does to it)
        swanctl = (folder / "swanctl.conf").read_text(encoding="utf-8")
        child = re.search(r"^            (\S+) \{\n(?:.*\n)*?.*updown = .* updown xfrm1$", swanctl, re.M).group(1)
        uri = f"unix://{folder / 'charon.vici'}"
        out = subprocess.run(
            ["ip", "netns", "exec", netns, "swanctl", "--terminate", "--child", child, "--uri", uri],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert wait(lambda: "state DOWN" in ns_run(netns, "ip", "link", "show", "xfrm1"), 10)
        moved = wait(lambda: "dev xfrm2" in route_get(netns), 10)
        assert moved, (route_get(netns), ns_run(netns, "ip", "route", "show"))
        assert "xfrm1" not in ns_run(netns, "ip", "route", "show", "10.30.0.0/16")
    finally:
        down = CliRunner().invoke(main, ["lab", "--down", "tfail"])
        assert down.exit_code == 0, down.output

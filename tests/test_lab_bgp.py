"""`gen lab`'s BGP route-policy checks (generator/lab/bgp_checks.py) on the real daemons (root, Linux).

Run under the shared lab lock like every lab test. Never skipped (tests/test_lab.py's rule).
"""

from __future__ import annotations

import os
import re

import pytest
import yaml
from conftest import ROOT

CSP_LINUX = ROOT / "inventories" / "csp-advanced-linux.yaml"


@pytest.fixture(scope="module", autouse=True)
def lab_host():
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces); CI runs them as root: sudo bash .ci/run")
    from generator.lab.system import LabError, preflight

    try:
        preflight()
    except LabError as error:
        pytest.fail(f"the lab cannot run here: {error} (tests/run.sh installs the packages)")


def _by(result, name: str) -> dict:
    return {c.device: c for c in result.bgp_checks if c.name == name}


def test_route_policy_limit_and_primary_backup_hold_on_every_device():
    from generator.lab.run import run_lab

    result = run_lab(CSP_LINUX, name="tbgp", timeout=90)
    assert result.up, [(t.key, t.reasons) for t in result.tunnels]
    devices = {"dc1-linux1", "dc1-linux2", "dc2-edge1", "dc3-edge1"}
    policy = _by(result, "route-policy")
    assert set(policy) == devices, result.bgp_checks
    for check in policy.values():
        assert check.ok, check
        assert "learned neither" in check.detail and "site prefixes there: yes" in check.detail, check
    limit = _by(result, "prefix-limit")
    assert set(limit) == devices, result.bgp_checks
    assert all(c.ok for c in limit.values()), limit
    [preferred] = _by(result, "primary-backup").values()
    assert preferred.ok and "selects dc1-linux1" in preferred.detail, preferred
    # SA loss: every device run from its rendered files (strongSwan + FRR; dc2-edge1 is emulated) drops
    # the BGP session over a tunnel whose SA the Azure side deleted within SA_LOSS_LIMIT, not the 180 s
    # hold time, and the tunnel and session come back when the Azure instance returns
    from generator.lab.bgp_checks import SA_LOSS_LIMIT

    lost = _by(result, "sa-loss")
    assert set(lost) == {"dc1-linux1", "dc1-linux2", "dc3-edge1"}, result.bgp_checks
    for check in lost.values():
        assert check.ok and "back" in check.detail and "NOT back" not in check.detail, check
        seconds = float(re.search(r"down after ([\d.]+) s", check.detail).group(1))
        assert seconds <= SA_LOSS_LIMIT, check
    assert result.ok


def test_a_leaking_outbound_filter_fails_the_check(tmp_path):
    """The check can fail: advertising the lab's extra prefix (bgp.advertise) lets it reach Azure."""
    from generator.lab.bgp_checks import EXTRA_PREFIX
    from generator.lab.run import run_lab

    inventory = yaml.safe_load(CSP_LINUX.read_text(encoding="utf-8"))
    site = next(s for s in inventory["onprem"]["sites"] if s["name"] == "DC3")
    site["bgp"] = {"advertise": [str(EXTRA_PREFIX)]}
    path = tmp_path / "leak.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    result = run_lab(path, name="tleak", timeout=90)
    assert result.up
    policy = _by(result, "route-policy")
    assert not policy["dc3-edge1"].ok and str(EXTRA_PREFIX) in policy["dc3-edge1"].detail, policy["dc3-edge1"]
    assert policy["dc2-edge1"].ok, policy["dc2-edge1"]
    assert not result.ok

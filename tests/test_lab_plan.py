"""The lab's plan, without root: the Azure state it invents, the proposals it gives the Azure side."""

from __future__ import annotations

from ipaddress import IPv4Address

from conftest import ROOT

from generator.lab import proposals
from generator.lab.plan import build_plan, lab_state, throwaway_keys
from generator.pipeline import build_model
from generator.render import environment

CSP_LINUX = ROOT / "inventories" / "csp-advanced-linux.yaml"


def model():
    return build_model(CSP_LINUX).model


def test_lab_state_is_deterministic_documentation_addresses_not_used_by_devices():
    m = model()
    state = lab_state(m)
    assert state == lab_state(m)
    devices = {str(d.public_ip) for d in m.devices}
    ips = [i["public_ip"] for g in state["gateways"].values() for i in g["instances"]]
    assert len(set(ips)) == len(ips) == 4
    assert all(IPv4Address(ip) in proposals_range() and ip not in devices for ip in ips)
    sea = state["gateways"]["SEA-VNET-gw"]["instances"]
    assert [i["bgp_ips"] for i in sea] == [["10.1.255.4"], ["10.1.255.5"]]  # active-active: .4 and .5
    assert state["gateways"]["LON-VNET-gw"]["instances"][0]["bgp_ips"] == ["10.2.255.30"]


def proposals_range():
    from generator.lab.plan import AZURE_PUBLIC_POOL

    return AZURE_PUBLIC_POOL


def test_azure_side_accepts_exactly_a_custom_policy():
    tunnel = model().tunnels[0]
    assert proposals.azure_proposals(tunnel.policy) == ("aes256-sha256-modp2048", "aes256gcm16-modp2048")


def test_azure_defaults_include_what_a_default_device_offers():
    from generator.facts import DEFAULT_POLICY
    from generator.model import IpsecPolicy

    policy = IpsecPolicy(custom=False, **DEFAULT_POLICY)
    ike, esp = proposals.azure_proposals(policy)
    assert proposals.ike_proposal(policy) in ike.split(",")
    assert proposals.esp_proposal(policy) in esp.split(",")


def test_libipsec_plan_narrows_each_child_sa_to_its_bgp_addresses_and_keys_stay_secret(tmp_path):
    from generator.lab.plan import write_state

    m = build_model(CSP_LINUX, (write_state(model(), tmp_path),)).model
    assert m.pending == ()  # the lab's Azure state fills every placeholder
    keys = throwaway_keys(m)
    first = m.tunnels[0]
    assert first.key == "SEA-VNET-gw.i0~dc1-linux1"
    plan = build_plan(m, environment(None), "t", "libipsec", keys, {first.key: "psk"})
    sea0 = next(e for e in plan.endpoints if e.key == "az:SEA-VNET-gw.i0").files["swanctl"]
    assert sea0.count("local_ts = 10.1.255.4/32") == 4  # two devices, then the links to LON and MUM
    assert "remote_ts = 172.16.255.1/32" in sea0 and "remote_ts = 172.16.255.2/32" in sea0
    assert sea0.count(keys[first.psk.parameter]) == 1  # dc1-linux2's key; dc1-linux1's is a wrong one
    device = next(e for e in plan.endpoints if e.key == "dev:dc1-linux1").files["swanctl"]
    assert "remote_addrs = " + str(first.azure_public_ip) in device and "local_ts = 0.0.0.0/0" in device
    xfrm = build_plan(m, environment(None), "t", "xfrm", keys)
    assert "local_ts = 0.0.0.0/0" in next(e for e in xfrm.endpoints if e.key == "az:SEA-VNET-gw.i0").files["swanctl"]


def test_vnet_links_and_azure_routing_behaviour_in_the_plan(tmp_path):
    from generator.lab.plan import Timers, write_state

    m = build_model(CSP_LINUX, (write_state(model(), tmp_path),)).model
    plan = build_plan(m, environment(None), "t", "libipsec", throwaway_keys(m), timers=Timers(1, 3))
    # active-active SEA to single LON and MUM: 2 + 2 tunnels, LON to MUM: 1
    assert [lt.key for lt in plan.links] == [
        "SEA-VNET-gw.i0~LON-VNET-gw.i0",
        "SEA-VNET-gw.i1~LON-VNET-gw.i0",
        "SEA-VNET-gw.i0~MUM-VNET-gw.i0",
        "SEA-VNET-gw.i1~MUM-VNET-gw.i0",
        "LON-VNET-gw.i0~MUM-VNET-gw.i0",
    ]
    frr = next(e for e in plan.endpoints if e.key == "az:SEA-VNET-gw.i0").files["frr"]
    assert "neighbor 10.2.255.30 remote-as 65020" in frr and "neighbor 10.3.255.30 remote-as 65030" in frr
    assert "neighbor 10.2.255.30 timers 1 3" in frr  # shortened as asked
    assert "ip prefix-list gl-not-own-vnet seq 5 deny 10.1.0.0/16 le 32" in frr  # overlapping own VNet
    assert "ip prefix-list gl-no-default seq 5 deny 0.0.0.0/0" in frr  # no default route to peers
    assert "neighbor 172.16.255.1 maximum-prefix 4000" in frr and "maximum-paths 8" in frr
    default = build_plan(m, environment(None), "t", "libipsec", throwaway_keys(m))
    sea = next(e for e in default.endpoints if e.key == "az:SEA-VNET-gw.i0").files["frr"]
    assert "neighbor 10.2.255.30 timers 60 180" in sea  # Azure's fixed values by default
    assert default.timers.azure and "Azure's fixed values" in default.timers.label()
    assert "SHORTENED" in plan.timers.label()


def test_drill_accepts_recovery_only_when_every_untouched_session_was_heard_since_the_failure():
    # A session whose peer vanished silently (the planted shared uplink) stays Established, with its
    # routes in the FIB, until the hold timer expires: its last read grows past the failure's age.
    from types import SimpleNamespace

    from generator.lab.drill import _heard_since

    ends = {k: SimpleNamespace(key=k) for k in ("az", "dev1", "dev2")}
    hops = [
        SimpleNamespace(key="az~dev1", left=ends["az"], right=ends["dev1"], left_bgp="10.0.0.4", right_bgp="1.1.1.1"),
        SimpleNamespace(key="az~dev2", left=ends["az"], right=ends["dev2"], left_bgp="10.0.0.4", right_bgp="2.2.2.2"),
    ]
    lab = SimpleNamespace(hops=hops)

    def states(dev2_last_read_ms: int | None) -> dict:
        dev2 = {"bgpState": "Established"} | (
            {} if dev2_last_read_ms is None else {"bgpTimerLastRead": dev2_last_read_ms}
        )
        return {
            "az": ({"1.1.1.1": {"bgpState": "Established", "bgpTimerLastRead": 4000}, "2.2.2.2": dev2}, {}),
            "dev1": ({"10.0.0.4": {"bgpState": "Established", "bgpTimerLastRead": 4000}}, {}),
            "dev2": ({"10.0.0.4": dev2}, {}),
        }

    # dev1 is the drilled failure: its stale sessions do not count
    assert _heard_since(lab, states(0), 2.0, {"dev1"}, set())
    assert _heard_since(lab, states(1000), 2.0, {"dev1"}, set())  # at most 1.999 s ago: after the failure
    assert not _heard_since(lab, states(2000), 2.0, {"dev1"}, set())  # maybe before it: whole seconds, truncated
    assert not _heard_since(lab, states(None), 2.0, {"dev1"}, set())  # unreadable is not proof
    failed = states(0) | {"dev2": ({}, {})}  # vtysh gave nothing: a configured neighbour is always listed
    assert not _heard_since(lab, failed, 2.0, {"dev1"}, set())
    assert _heard_since(lab, states(2500), 2.0, set(), {"az~dev1", "az~dev2"})  # cut hops are expected down
    idle = states(2500)
    idle["az"][0]["2.2.2.2"] = idle["dev2"][0]["10.0.0.4"] = {"bgpState": "Active"}
    assert _heard_since(lab, idle, 2.0, {"dev1"}, set())  # a session that is down has no routes to trust


def test_a_child_sa_only_one_end_holds_is_stale_even_inside_a_shared_ike_sa():
    """vici list-sas shapes: both ends share IKE SA (i, r) and CHILD_SA (a, b); the left end also holds
    a CHILD_SA (c, d) the right end never installed (a CREATE_CHILD_SA lost in flight)."""
    from generator.lab.run import _orphan_children, _shared_child

    def ike(*children):
        return {
            "state": "ESTABLISHED",
            "initiator-spi": "i",
            "responder-spi": "r",
            "child-sas": {
                f"c-{n}": {"state": "INSTALLED", "uniqueid": str(n), "spi-in": sin, "spi-out": sout}
                for n, (sin, sout) in enumerate(children, start=1)
            },
        }

    left, right = ike(("a", "b"), ("c", "d")), ike(("b", "a"))
    assert _shared_child(left, right)
    assert _orphan_children("L", left, right) == [("L", "child", "2")]
    assert _orphan_children("R", right, left) == []
    left["child-sas"]["c-2"]["state"] = "REKEYED"  # no longer carries traffic: not stale
    assert _orphan_children("L", left, right) == []


def test_kernel_libipsec_gets_a_fixed_unique_reqid_per_child_sa(tmp_path):
    """strongSwan < 5.9.12 bug #1855 (two CHILD_SAs re-established together share a reqid): with
    kernel-libipsec the lab fixes every reqid, on the rendered device files and the Azure side alike."""
    import re

    from generator.lab.plan import write_state
    from generator.lab.run import fixed_reqids

    m = build_model(CSP_LINUX, (write_state(model(), tmp_path),)).model
    plan = build_plan(m, environment(None), "t", "libipsec", throwaway_keys(m))
    for ep in plan.endpoints:
        text = fixed_reqids(ep.files["swanctl"])
        children = text.count("esp_proposals = ")  # one per CHILD_SA section, device and Azure templates alike
        assert children >= 1 and "reqid = 0" not in text
        assert re.findall(r"^\s*reqid = (\d+)$", text, flags=re.M) == [str(n) for n in range(1, children + 1)], ep.key
        # each reqid sits inside its CHILD_SA section, before that section's proposals
        assert re.findall(r"reqid = (\d+)\n(?:[^{}]*\n)*?\s*esp_proposals", text), ep.key
    nested = "children {\n  a { # first\n    x = 1\n  }\n  b {\n  }\n}\nsecrets {\n  ike-a {\n  }\n}\n"
    assert fixed_reqids(nested) == nested.replace("# first\n", "# first\n      reqid = 1\n").replace(
        "  b {\n", "  b {\n      reqid = 2\n"
    )

"""Cisco ASA: every rendered file passes the ciscoconfparse2 structure checks, the checks catch broken
files, the cross-side check reads ASA back (and fails on a drifted template), and what an ASA cannot
do is refused by a rule."""

from __future__ import annotations

import re

import checks_cisco_asa
import pytest
from click.testing import CliRunner
from conftest import INVENTORIES, ROOT, render_files, state_example

from generator.cli import main
from generator.errors import GenError
from generator.pipeline import build_model, render_all
from generator.platforms import PLATFORMS
from generator.platforms.cisco_asa import VENDOR, asa_esp_proposal, asa_ike_policy, parse_asa

INVENTORY = ROOT / "inventories" / "asa-edge.yaml"
STATE = state_example("asa-edge")
TEMPLATES = ROOT / "templates"
HQ1 = "onprem/HQ/hq-asa1.asa.cfg"


def _model(inventory=INVENTORY):
    return build_model(inventory, (STATE,), display="inventories/asa-edge.yaml").model


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(INVENTORY, (STATE,))


def _mine(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.startswith("onprem/") and p.endswith(".asa.cfg")}


@pytest.mark.parametrize("inventory", INVENTORIES, ids=[p.stem for p in INVENTORIES])
def test_every_rendered_asa_file_passes_the_structure_checks(inventory) -> None:
    state = state_example(inventory.stem)
    mine = _mine(render_files(inventory, (state,) if state.exists() else ()))
    assert checks_cisco_asa.check_files(mine) == []


def test_the_example_covers_bgp_apipa_two_devices_and_static(files) -> None:
    mine = _mine(files)
    assert sorted(mine) == [
        "onprem/BR2/br2-asa1.asa.cfg",
        "onprem/HQ/hq-asa1.asa.cfg",
        "onprem/HQ/hq-asa2.asa.cfg",
        "onprem/SHOP3/shop3-asa1.asa.cfg",
    ]
    assert "ip address 169.254.21.10 255.255.255.254" in mine["onprem/BR2/br2-asa1.asa.cfg"]
    assert "route azure-t1 169.254.21.1 255.255.255.255 169.254.21.1 1" in mine["onprem/BR2/br2-asa1.asa.cfg"]
    assert "router bgp" not in mine["onprem/SHOP3/shop3-asa1.asa.cfg"]
    assert "set as-path prepend 65420 65420 65420" in mine["onprem/HQ/hq-asa2.asa.cfg"]


BREAKS = [
    # (old, new, what the checker says)
    ("lifetime seconds 28800", "lifetime seconds 86400", "above Azure's 28800"),
    ("sysopt connection tcpmss 1350", "sysopt connection tcpmss 1380", "no sysopt connection tcpmss 1350"),
    (" integrity null\n group 20", " integrity sha384\n group 20", "AES-GCM needs integrity null"),
    (" group 20\n", " group 22\n", "value not in Cisco's lists"),
    (" tunnel mode ipsec ipv4\n", " tunnel mode gre ip\n", "unknown child"),
    ("255.255.255.254", "255.255.255.255", "a /32 interface mask"),
    ("route azure-t1 ", "route azure-t9 ", "not over a VTI"),
    ("  neighbor 10.60.255.30 ebgp-multihop 5\n", "", "has no ebgp-multihop"),
    ("timers 60 180", "timers 10 30", "has no timers 60 180"),
    ("crypto ikev2 enable outside", "crypto ikev2 enable inside", "IKEv2 not enabled"),
    ("tunnel-group 192.0.2.81 type ipsec-l2l", "tunnel-group 192.0.2.99 type ipsec-l2l", "tunnel-group"),
    (" match ip address prefix-list AZURE-IN", " match ip address prefix-list AZURE-XX", "prefix-list missing"),
    (
        "sysopt connection tcpmss 1350",
        "sysopt connection tcpmss 1350\naccess-list A extended permit ip any any",
        "unknown",
    ),
    (" set pfs group20", " set pfs group99", "not one of Cisco's groups"),
]


@pytest.mark.parametrize(("old", "new", "finding"), BREAKS, ids=[b[2] for b in BREAKS])
def test_the_structure_checks_catch_a_broken_file(files, old, new, finding) -> None:
    text = files[HQ1]
    assert old in text, old
    problems = checks_cisco_asa.check_text(text.replace(old, new, 1))
    assert any(finding in p for p in problems), problems


def test_every_vendor_token_is_in_the_checkers_lists() -> None:
    """The module's tokens are values Cisco documents (the checker's lists), for every Azure value."""
    assert set(VENDOR.ike_encryption.values()) <= checks_cisco_asa.IKE_ENCRYPTION
    assert set(VENDOR.ike_integrity.values()) <= checks_cisco_asa.PRF
    assert set(VENDOR.dh_group.values()) <= checks_cisco_asa.DH_GROUPS
    assert set(VENDOR.ipsec_encryption.values()) <= checks_cisco_asa.ESP_ENCRYPTION
    assert {v for v in VENDOR.ipsec_integrity.values() if v} <= checks_cisco_asa.ESP_INTEGRITY
    assert {v for v in VENDOR.pfs_group.values() if v} <= checks_cisco_asa.PFS


def test_the_read_back_finds_every_tunnel_neighbour_and_policy(files) -> None:
    model = _model()
    for device in (d for d in model.devices if d.platform == "cisco_asa"):
        facts_ = parse_asa(files[f"onprem/{device.site}/{device.name}.asa.cfg"])
        tunnels = model.device_tunnels[device.name]
        assert sorted(facts_.tunnels) == [t.device_index for t in tunnels]
        for t in tunnels:
            got = facts_.tunnels[t.device_index]
            assert got.peer == str(t.azure_public_ip) and got.local_id == str(device.public_ip)
            ike, esp = PLATFORMS["cisco_asa"].expected_crypto(t.policy)
            assert ike in got.ike and got.esp == esp
        if any(t.bgp for t in tunnels):
            assert facts_.bgp_source == str(device.bgp_ip) and facts_.asn is not None
            policy = model.route_policies[device.name]
            for t in tunnels:
                found = facts_.policies[str(t.azure_bgp_ip)]
                assert found.inbound == {str(p) for p in policy.inbound}
                assert found.max_prefix == policy.max_prefix and found.hold == policy.hold == 180


def _override(tmp_path, relative: str, old: str, new: str) -> str:
    source = (TEMPLATES / relative).read_text(encoding="utf-8")
    assert old in source, old
    target = tmp_path / "templates" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.replace(old, new), encoding="utf-8")
    return str(tmp_path / "templates")


DRIFTS = [
    ("asa.cfg.j2", "lifetime seconds {{ ike_lifetime }}", "lifetime seconds 86400", "IKE proposal"),
    ("asa.cfg.j2", "neighbor {{ t.azure_bgp_ip }} remote-as", "neighbor 10.60.255.99 remote-as", "BGP neighbour"),
    ("asa.cfg.j2", "tunnel destination {{ t.azure_public_ip }}", "tunnel destination 192.0.2.99", "peer public IP"),
    (
        "asa.cfg.j2",
        "ikev2 local-authentication pre-shared-key {{ t.psk | psk_text(keys) }}",
        "ikev2 local-authentication pre-shared-key X",
        "pre-shared key",
    ),
    ("asa.cfg.j2", "{{ t | asa_vti_address }} 255", "172.28.254.1 255", "BGP source"),
    (
        "asa.cfg.j2",
        "{% for line in c.policy | asa_esp_proposal %}",
        "{% for line in ['protocol esp encryption aes', 'protocol esp integrity sha-1'] %}",
        "ESP proposal",
    ),
    (
        "_route_policy.j2",
        "{% for prefix in rp.inbound %}",
        "{% for prefix in (rp.inbound | list) + ['0.0.0.0/0'] %}",
        "inbound filter",
    ),
    ("asa.cfg.j2", "maximum-prefix {{ rp.max_prefix }}", "maximum-prefix 4000", "maximum-prefix"),
    ("_route_policy.j2", " set as-path prepend", " set as-path prepend 65420", "AS-path prepend"),
]


@pytest.mark.parametrize(("template", "old", "new", "finding"), DRIFTS, ids=[d[3] for d in DRIFTS])
def test_a_drifted_asa_template_fails_the_cross_side_check(tmp_path, template, old, new, finding) -> None:
    with pytest.raises(GenError) as caught:
        render_all(_model(), templates=_override(tmp_path, f"onprem/cisco_asa/{template}", old, new))
    lines = caught.value.lines
    assert lines and all(line.endswith("(rule cross-check)") for line in lines), lines
    assert any(finding in line for line in lines), lines


def _refused(tmp_path, old: str, new: str) -> str:
    text = INVENTORY.read_text(encoding="utf-8")
    assert old in text, old
    bad = tmp_path / "asa-edge.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2, result.output
    return result.stderr


def test_an_active_active_gateway_is_refused_with_what_works(tmp_path) -> None:
    stderr = _refused(tmp_path, "        bgp: {asn: 65060}", "        active_active: true\n        bgp: {asn: 65060}")
    assert "(rule onprem-active-active-platform)" in stderr
    assert "set active_active: false" in stderr and "loopback BGP source" in stderr
    assert len(re.findall(r"onprem-active-active-platform", stderr)) == 3  # hq-asa1, hq-asa2, shop3-asa1


def test_an_asa_behind_nat_is_refused(tmp_path) -> None:
    stderr = _refused(tmp_path, "public_ip: 198.51.100.91}", "public_ip: 198.51.100.91, local_address: 172.30.3.254}")
    assert "(rule onprem-interface-name)" in stderr and "IKE identity" in stderr


def test_azure_default_proposals_are_refused_with_a_suggested_policy(tmp_path) -> None:
    text = INVENTORY.read_text(encoding="utf-8")
    shop = text.split("    - site: SHOP3", 1)
    bad = shop[0] + "    - {site: SHOP3, vnet: CORE-VNET, psk: {env: GEN_PSK_ASA_SHOP3}, bgp: false}\n"
    path = tmp_path / "asa-edge.yaml"
    path.write_text(bad, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "(rule onprem-default-policy-refused)" in result.stderr and "DHGroup2" in result.stderr


def test_gcm_and_cbc_policies_render_the_documented_forms() -> None:
    from generator.model import IpsecPolicy

    gcm = IpsecPolicy("GCMAES256", "SHA384", "ECP384", "GCMAES256", "GCMAES256", "ECP384", 27000, 102400000, True)
    cbc = IpsecPolicy("AES256", "SHA256", "DHGroup14", "AES256", "SHA256", "PFS2048", 27000, 102400000, True)
    assert asa_ike_policy(gcm) == ["encryption aes-gcm-256", "integrity null", "group 20", "prf sha384"]
    assert asa_ike_policy(cbc) == ["encryption aes-256", "integrity sha256", "group 14", "prf sha256"]
    assert asa_esp_proposal(gcm) == ["protocol esp encryption aes-gcm-256", "protocol esp integrity null"]
    assert asa_esp_proposal(cbc) == ["protocol esp encryption aes-256", "protocol esp integrity sha-256"]


def test_a_second_bgp_connection_is_refused_and_renders_static(tmp_path) -> None:
    import json

    from checks_onprem import state_for

    bad = ROOT / "tests" / "bad" / "onprem-bgp-source-tunnel" / "asa-two-bgp-gateways.yaml"
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2 and "(rule onprem-bgp-source-tunnel)" in result.stderr
    fixed = tmp_path / "fixed.yaml"
    text = bad.read_text(encoding="utf-8")
    fixed.write_text(text.replace("      ipsec_policy: *policy", "      bgp: false\n      ipsec_policy: *policy"))
    state = tmp_path / "fixed.azure-state.json"
    state.write_text(json.dumps(state_for(build_model(fixed).model)), encoding="utf-8")
    mine = _mine(render_files(fixed, (state,)))
    text = mine["onprem/branch1/branch1-asa.asa.cfg"]
    assert "ip address 192.168.10.1 255.255.255.254" in text and "ip address 169.254.250.4 255.255.255.254" in text
    assert "route azure-t2 10.11.0.0 255.255.0.0 169.254.250.5 1" in text
    assert checks_cisco_asa.check_files(mine) == []

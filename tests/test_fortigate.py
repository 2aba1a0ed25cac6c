"""FortiGate (FortiOS CLI): every topology renders or is refused, the validator and the cross-side
check catch what they must, and the read-back parser sees every tunnel and neighbour's policy."""

from __future__ import annotations

import json
import re

import pytest
from checks_fortigate import check_files, check_text
from checks_onprem import state_for
from conftest import ROOT, render_files, state_example, write_inventory

from generator.crosscheck import cross_check
from generator.errors import GenError
from generator.pipeline import build_model, render_all
from generator.platforms import PLATFORMS

EXAMPLE = ROOT / "inventories" / "fortigate-edge.yaml"
STATE = state_example("fortigate-edge")
TEMPLATES = ROOT / "templates"
PLATFORM = PLATFORMS["fortigate"]


def _model(inventory=EXAMPLE, state=(STATE,)):
    return build_model(inventory, state, display="inventories/fortigate-edge.yaml").model


def _files(model) -> dict[str, str]:
    return {f.path: f.text for f in render_all(model)}


def _override(tmp_path, relative: str, old: str, new: str) -> str:
    source = (TEMPLATES / relative).read_text(encoding="utf-8")
    assert old in source, old
    target = tmp_path / "templates" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.replace(old, new, 1), encoding="utf-8")
    return str(tmp_path / "templates")


def test_the_example_passes_the_validator_and_the_cross_check() -> None:
    model = _model()
    files = _files(model)
    mine = {p: t for p, t in files.items() if p.endswith(".fortios.conf")}
    assert sorted(mine) == [
        "onprem/BR1/br1-fgt1.fortios.conf",
        "onprem/DC1/dc1-fgt1.fortios.conf",
        "onprem/DC1/dc1-fgt2.fortios.conf",
    ]
    assert check_files(mine) == []
    assert cross_check(model, render_all(model)) == []


def test_the_parser_reads_every_tunnel_and_neighbour_back() -> None:
    model = _model()
    files = _files(model)
    facts = PLATFORM.parse(files, "onprem/DC1/dc1-fgt1")
    assert sorted(facts.tunnels) == [1, 2]
    assert {t.peer for t in facts.tunnels.values()} == {"192.0.2.81", "192.0.2.82"}
    assert facts.asn == 65410 and facts.bgp_source == "169.254.21.10"
    assert facts.neighbors == {"169.254.21.1": 65060, "169.254.22.1": 65060}
    assert facts.tunnels[1].routes == {"169.254.21.1/32"} and facts.tunnels[2].routes == {"169.254.22.1/32"}
    policy = facts.policies["169.254.21.1"]
    assert policy.inbound == {"10.50.0.0/16"} and policy.outbound == {"172.26.0.0/16"}
    assert policy.hold == 180 and policy.prepend == () and policy.local_preference is None
    backup = PLATFORM.parse(files, "onprem/DC1/dc1-fgt2")
    assert backup.asn == 65410  # existing_bgp: read from the comment, no `set as`
    assert backup.policies["169.254.22.1"].prepend == (65410, 65410, 65410)
    assert backup.policies["169.254.22.1"].local_preference == 50
    static = PLATFORM.parse(files, "onprem/BR1/br1-fgt1")
    assert static.tunnels[1].routes == {"10.51.0.0/16"} and static.asn is None


DRIFTS = [
    # (template, old, drifted, expected cross-check finding)
    ("onprem/fortigate/fortios.conf.j2", "set keylife {{ ike_lifetime }}", "set keylife 86400", "IKE proposal"),
    (
        "onprem/fortigate/fortios.conf.j2",
        "set keylifeseconds {{ t.policy | child_lifetime }}",
        "set keylifeseconds 43200",
        "ESP proposal",
    ),
    ("onprem/fortigate/fortios.conf.j2", "set remote-gw {{ t.azure_public_ip }}", "set remote-gw 192.0.2.99", "peer"),
    ("onprem/fortigate/fortios.conf.j2", 'edit "{{ t.azure_bgp_ip }}"', 'edit "169.254.21.99"', "BGP neighbour"),
    ("onprem/fortigate/fortios.conf.j2", "set remote-as {{ t.azure_asn }}", "set remote-as 65515", "remote AS"),
    ("onprem/fortigate/fortios.conf.j2", "set as {{ site.asn }}", "set as 65000", "device ASN"),
    ("onprem/fortigate/fortios.conf.j2", 'set localid "{{ t.device_ike_id }}"', 'set localid "1.2.3.4"', "identity"),
    (
        "onprem/fortigate/fortios.conf.j2",
        "set maximum-prefix {{ rp.max_prefix }}",
        "set maximum-prefix 4000",
        "maximum-prefix",
    ),
    ("onprem/fortigate/fortios.conf.j2", 'set route-map-in "AZURE-IN"', 'set route-map-in "AZURE-OUT"', "inbound"),
    ("onprem/fortigate/fortios.conf.j2", "set holdtime-timer {{ rp.hold }}", "set holdtime-timer 30", "hold time"),
    (
        "onprem/fortigate/_route_policy.j2",
        "{% for prefix in rp.outbound %}",
        "{% for prefix in (rp.outbound | list) + ['0.0.0.0/0'] %}",
        "outbound filter",
    ),
    ("onprem/fortigate/fortios.conf.j2", 'set device "azure{{ t.device_index }}"', 'set device "azure7"', "routes"),
]


@pytest.mark.parametrize(("template", "old", "new", "finding"), DRIFTS, ids=[f"{d[0]}:{d[3]}" for d in DRIFTS])
def test_a_drifting_device_template_fails_the_cross_check(tmp_path, template, old, new, finding) -> None:
    with pytest.raises(GenError) as caught:
        render_all(_model(), templates=_override(tmp_path, template, old, new))
    lines = caught.value.lines
    assert lines and all(line.endswith("(rule cross-check)") for line in lines), lines
    assert any(finding in line for line in lines), lines


def test_the_validator_catches_broken_files() -> None:
    text = _files(_model())["onprem/DC1/dc1-fgt1.fortios.conf"]
    assert check_text(text) == []
    broken = {
        "unbalanced": text.replace("    next\nend", "end", 1),
        "unknown keyword": text.replace("set ebgp-enforce-multihop", "set ebgp-multihop", 1),
        "bad value": text.replace("set dpd on-idle", "set dpd always", 1),
        "bad proposal": text.replace("set proposal aes256-sha256", "set proposal aes256-sha257", 1),
        "no mss": text.replace("set tcp-mss 1350", "set tcp-mss 1400", 1),
        "dangling phase1": text.replace('set phase1name "azure1"', 'set phase1name "azure9"', 1),
        "dangling route-map": text.replace('set route-map-in "AZURE-IN"', 'set route-map-in "AZ-IN"', 1),
        "unknown block": text.replace("config router static", "config router statics", 1),
        "no overlap": text.replace("set allow-subnet-overlap enable", "set allow-subnet-overlap disable", 1),
        "open quote": text.replace('set localid "203.0.113.80"', 'set localid "203.0.113.80', 1),
        "removal": text.replace('#     delete "azure-local"', '#     remove "azure-local"', 1),
    }
    for what, bad in broken.items():
        assert bad != text, what
        assert check_text(bad), what


SINGLE = """
name: fg-single
azure:
  vnets:
    - name: V1
      resource_group: rg1
      region: westeurope
      address_space: [10.60.0.0/16]
      subnets: [{name: GatewaySubnet, prefix: 10.60.255.0/27}]
      gateway: {sku: VpnGw1AZ, bgp: {asn: 65515}}
onprem:
  sites:
    - name: S1
      asn: 65420
      prefixes: [172.28.0.0/16]
      devices: [{name: s1-fgt, platform: fortigate, public_ip: 203.0.113.90, bgp_ip: 172.28.255.1}]
  connections:
    - {site: S1, vnet: V1, psk: {env: GEN_PSK_S1}, ipsec_policy: POLICY}
"""
POLICY = (
    "{ike_encryption: GCMAES256, ike_integrity: SHA384, dh_group: ECP384, ipsec_encryption: GCMAES256, "
    "ipsec_integrity: GCMAES256, pfs_group: ECP384, sa_lifetime_seconds: 27000, sa_datasize_kilobytes: 102400000}"
)


def test_single_instance_bgp_with_the_default_bgp_address_renders(tmp_path) -> None:
    path = write_inventory(tmp_path, SINGLE.replace("POLICY", POLICY))
    model = build_model(path, ()).model
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    model = build_model(path, (state,)).model
    files = render_all(model)
    text = next(f.text for f in files if f.path.endswith(".fortios.conf"))
    assert check_text(text) == []
    assert "allow-subnet-overlap" not in text and "ebgp-multipath" not in text  # one tunnel
    assert "set proposal aes256gcm-prfsha384" in text and "set proposal aes256gcm\n" in text
    assert cross_check(model, files) == []


@pytest.mark.parametrize(
    ("changes", "value"),
    [
        ({"ipsec_encryption": "GCMAES192", "ipsec_integrity": "GCMAES192"}, "GCMAES192"),
        ({"dh_group": "DHGroup24"}, "DHGroup24"),
        ({"pfs_group": "PFS24"}, "PFS24"),
        ({"ike_integrity": "MD5"}, "MD5"),
    ],
)
def test_what_fortios_cannot_name_is_refused(tmp_path, changes, value) -> None:
    policy = POLICY
    for field, new in changes.items():
        policy = re.sub(rf"{field}: \w+", f"{field}: {new}", policy)
    path = write_inventory(tmp_path, SINGLE.replace("POLICY", policy))
    with pytest.raises(GenError) as caught:
        build_model(path, ())
    assert any("onprem-platform-crypto" in line and value in line for line in caught.value.lines), caught.value.lines


def test_every_example_with_a_fortigate_renders_for_the_validator() -> None:
    found = 0
    for inventory in sorted((ROOT / "inventories").glob("*.yaml")):
        files = render_files(inventory, (state_example(inventory.stem),))
        mine = {p: t for p, t in files.items() if p.endswith(".fortios.conf")}
        found += len(mine)
        assert check_files(mine) == [], inventory.name
    assert found >= 3


GOLDEN = ROOT / "tests" / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*-with-state/onprem/*/*.fortios.conf"))  # without placeholders


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[str(p.relative_to(GOLDEN)) for p in GOLDEN_FILES])
def test_the_removal_section_deletes_every_named_object(path) -> None:
    """Every named entry the file creates has its `delete` under the same block in the removal
    section; entries FortiOS numbers itself (`edit 0`) are named in its note; kept settings are listed."""
    from checks_fortigate import REMOVAL, parse

    text = path.read_text(encoding="utf-8")
    body, removal = text[: REMOVAL.search(text).start()], text[REMOVAL.search(text).end() :]
    top, problems = parse(body)
    assert not problems
    deletes: dict[str, set[str]] = {}
    block: list[str] = []
    for line in removal.splitlines():
        words = line.removeprefix("#").split()
        if words[:1] == ["config"]:
            block.append(" ".join(words[1:]))
        elif words[:1] == ["end"] and block:
            block.pop()
        elif words[:1] == ["delete"]:
            deletes.setdefault("/".join(block), set()).add(words[1].strip('"'))
    numbered = 0
    for kind, entries in top.items():
        for entry in entries:
            if kind in ("system settings", "router bgp") or kind == "system interface":
                continue  # settings (kept, named below) and the tunnel interfaces (go with their phase 1)
            if entry.name == "0":
                numbered += 1
                continue
            assert entry.name in deletes.get(kind, set()), (kind, entry.name)
    for entry in top.get("router bgp", []):
        for neighbor in entry.children.get("neighbor", []):
            assert neighbor.name in deletes.get("router bgp/neighbor", set()), neighbor.name
    assert numbered and 'the firewall policies "azure-out" and "azure-in"' in removal
    assert 'comment starts with "gen:"' in removal
    if "router bgp" in top:
        assert "BGP networks" in removal
    if "set allow-subnet-overlap enable" in body:
        assert "system settings allow-subnet-overlap" in removal
    for name in ("azure1",):
        assert name in deletes["vpn ipsec phase1-interface"] and name in deletes["vpn ipsec phase2-interface"]


def test_placeholders_before_deployment_pass_the_cross_check(tmp_path) -> None:
    """Without an Azure state the default BGP address is a placeholder: the parser keeps it as text."""
    path = write_inventory(tmp_path, SINGLE.replace("POLICY", POLICY))
    model = build_model(path, ()).model
    files = render_all(model)
    text = next(f.text for f in files if f.path.endswith(".fortios.conf"))
    assert "set dst <V1-gw-bgp1> 255.255.255.255" in text, text
    assert cross_check(model, files) == []

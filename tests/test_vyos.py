"""VyOS: every rendered `set` command walks VyOS's own definitions, the checker catches bad commands,
the files carry the Azure side of every tunnel and the cross-side check reads them back."""

from __future__ import annotations

import itertools
import re
import shlex

import checks_vyos
import pytest
from conftest import ROOT, inventory_ids, render_files, state_example

from generator import facts
from generator.errors import GenError
from generator.model import IpsecPolicy
from generator.pipeline import build_model, render_all
from generator.platforms import PLATFORMS
from generator.platforms.vyos import VENDOR, parse_vyos

INVENTORY = ROOT / "inventories" / "vyos-edge.yaml"
STATE = state_example("vyos-edge")
TEMPLATE = ROOT / "templates" / "onprem" / "vyos" / "vyos.j2"


@pytest.fixture(scope="module")
def model():
    return build_model(INVENTORY, (STATE,), display="inventories/vyos-edge.yaml").model


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(INVENTORY, (STATE,))


def vyos_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.startswith("onprem/") and p.endswith(".vyos")}


# ---------------------------------------------------------------- the definitions check
@pytest.mark.parametrize("name", inventory_ids())
def test_every_rendered_vyos_file_passes_the_definitions(name: str) -> None:
    files = render_files(ROOT / "inventories" / f"{name}.yaml", (state_example(name),))
    assert checks_vyos.check_files(files) == []


def test_the_example_has_vyos_files_and_every_line_is_checked(files) -> None:
    mine = vyos_files(files)
    assert len(mine) == 3
    for text in mine.values():
        commands = [line for line in text.splitlines() if line.startswith("set ")]
        assert len(commands) > 20
        for line in commands:  # each command walks the tree to a leaf or a node
            assert checks_vyos.walk(shlex.split(line)[1:])[0] is None, line


BAD = [
    # (what is broken, old line fragment, new, expected problem)
    (
        "a wrong path",
        "ip adjust-mss 1350",
        "ip adjust-mtu 1350",
        "'adjust-mtu' is no child of 'interfaces vti vti1 ip'",
    ),
    ("an out-of-range value", "ip adjust-mss 1350", "ip adjust-mss 99999", "validator numeric --range 536-65535"),
    (
        "an out-of-range lifetime",
        "esp-group AZURE-ESP-1 lifetime 27000",
        "esp-group AZURE-ESP-1 lifetime 20",
        "30-86400",
    ),
    ("a bad regex value", "connection-type initiate", "connection-type answer", "fails regex (initiate|respond|none)"),
    ("a bad tag", "interfaces vti vti1 ip", "interfaces vti tun1 ip", "tag 'tun1' of 'interfaces vti' fails regex"),
    ("a bad algorithm", "encryption aes256gcm128", "encryption aes256gcm16", "fails regex (null|aes128"),
    (
        "a bad address",
        "dum0 address 169.254.21.10/32",
        "dum0 address 169.254.21.310/32",
        "fails validator ip-host",
    ),
    ("a host route as prefix", "route 169.254.21.1/32", "route 169.254.21.1/16", "fails validator ipv4-prefix"),
    (
        "a value on a valueless leaf",
        "ike-group AZURE-IKE-1 key-exchange ikev2",
        "ike-group AZURE-IKE-1 ikev2-reauth yes",
        "takes no value",
    ),
    ("a dangling reference", "vti bind vti1", "vti bind vti7", "refers to 'interfaces vti vti7'"),
    ("a leaf set twice", "timers holdtime 180", "timers holdtime 180\nset protocols bgp system-as 65000", "set twice"),
    ("a missing value", "ebgp-multihop 5", "ebgp-multihop", "takes exactly one value"),
    (
        "an IKEv1-only leaf in an IKEv2 group",
        "AZURE-IKE-1 dead-peer-detection action restart\n",
        "AZURE-IKE-1 dead-peer-detection action restart\nset vpn ipsec ike-group AZURE-IKE-1 dead-peer-detection timeout 45\n",
        "IKEv1 only",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "problem"), BAD, ids=[b[0] for b in BAD])
def test_the_checker_fails_on_bad_commands(files, what: str, old: str, new: str, problem: str) -> None:
    path = "onprem/DC1/dc1-vyos1.vyos"
    text = files[path]
    assert old in text, old
    problems = checks_vyos.check_files({path: text.replace(old, new, 1)})
    assert problems and all(p.startswith(f"{path}: line ") for p in problems), problems
    assert any(problem in p for p in problems), problems


def test_the_checker_resolves_includes_tag_nodes_and_posix_classes() -> None:
    tree = checks_vyos.tree()
    vti = tree.children["interfaces"].children["vti"]
    assert vti.kind == "tagNode" and "address" in vti.children  # from include/interface/address-ipv4-ipv6.xml.i
    assert vti.children["address"].multi
    psk = tree.children["vpn"].children["ipsec"].children["authentication"].children["psk"]
    assert psk.children["id"].multi and not psk.children["secret"].multi
    assert checks_vyos.pcre("[[:alnum:]][-_[:alnum:]]*") == "[A-Za-z0-9][-_A-Za-z0-9]*"


# ---------------------------------------------------------------- vendor tokens
def test_every_vendor_token_is_a_value_vyos_accepts() -> None:
    """Each Azure algorithm's VyOS name is legal where the template writes it (checked by the tree)."""
    base = "set vpn ipsec"
    lines = [f"{base} ike-group G proposal 1 encryption {v}" for v in VENDOR.ike_encryption.values()]
    lines += [f"{base} ike-group G proposal 1 hash {v}" for v in VENDOR.ike_integrity.values()]
    lines += [f"{base} ike-group G proposal 1 prf prf{v}" for v in VENDOR.ike_integrity.values()]
    lines += [f"{base} ike-group G proposal 1 dh-group {v}" for v in VENDOR.dh_group.values()]
    lines += [f"{base} esp-group G proposal 1 encryption {v}" for v in VENDOR.ipsec_encryption.values()]
    lines += [f"{base} esp-group G proposal 1 hash {v}" for v in VENDOR.ipsec_integrity.values() if v]
    lines += [f"{base} esp-group G pfs {v}" for v in VENDOR.pfs_group.values()]
    problems = []
    for line in lines:
        problem = checks_vyos.walk(line.split()[1:])[0]
        if problem:
            problems.append(problem)
    assert problems == []


def test_what_vyos_cannot_do_is_refused_by_the_rule(tmp_path) -> None:
    platform = PLATFORMS["vyos"]
    policy = IpsecPolicy(custom=True, **{**facts.DEFAULT_POLICY, "ipsec_encryption": "DES"})
    assert [f for f, _, _ in platform.unsupported(policy)] == ["ipsec_encryption"]
    text = INVENTORY.read_text(encoding="utf-8").replace("ipsec_encryption: GCMAES256", "ipsec_encryption: DES")
    text = text.replace("ipsec_integrity: GCMAES256", "ipsec_integrity: SHA256")
    bad = tmp_path / "vyos-edge.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(GenError) as caught:
        build_model(bad)
    assert any("(rule onprem-platform-crypto)" in line and "DES" in line for line in caught.value.lines)


def test_every_azure_policy_the_table_allows_renders_legal_groups() -> None:
    """All combinations of the table's values: the proposal and PFS statements walk the tree."""
    from generator.platforms.vyos import vyos_esp_proposal, vyos_ike_proposal, vyos_pfs

    for ike, integ, dh in itertools.product(VENDOR.ike_encryption, VENDOR.ike_integrity, VENDOR.dh_group):
        for esp, pfs in itertools.product(VENDOR.ipsec_encryption, VENDOR.pfs_group):
            esp_integ = esp if esp.startswith("GCM") else "SHA256"
            policy = IpsecPolicy(
                **{
                    **facts.DEFAULT_POLICY,
                    "ike_encryption": ike,
                    "ike_integrity": integ,
                    "dh_group": dh,
                    "ipsec_encryption": esp,
                    "ipsec_integrity": esp_integ,
                    "pfs_group": pfs,
                },
                custom=True,
            )
            lines = [f"set vpn ipsec ike-group G proposal 1 {s}" for s in vyos_ike_proposal(policy)]
            lines += [f"set vpn ipsec esp-group G proposal 1 {s}" for s in vyos_esp_proposal(policy)]
            lines.append(f"set vpn ipsec esp-group G pfs {vyos_pfs(policy)}")
            assert checks_vyos.check_text("\n".join(lines)) == [], policy


# ---------------------------------------------------------------- the Azure side in the files
def test_active_active_two_peers_two_vtis_bgp_over_apipa_matching_the_model(model, files) -> None:
    for device in model.devices:
        if device.site != "DC1":
            continue
        text = files[f"onprem/DC1/{device.name}.vyos"]
        facts_ = parse_vyos(text)
        tunnels = model.device_tunnels[device.name]
        assert len(tunnels) == 2 and {t.instance for t in tunnels} == {0, 1}
        assert device.bgp_ip_is_apipa and all(t.apipa for t in tunnels)
        assert sorted(facts_.tunnels) == [t.device_index for t in tunnels]
        for t in tunnels:
            got = facts_.tunnels[t.device_index]
            assert got.peer == str(t.azure_public_ip) and got.local_id == str(t.device_ike_id)
            assert got.routes == {f"{t.azure_bgp_ip}/32"}  # each Azure BGP address over its own VTI
            peer = f"set vpn ipsec site-to-site peer AZURE-{t.device_index}"
            assert f"{peer} vti bind vti{t.device_index}\n" in text
            assert f"{peer} local-address {device.local_address}\n" in text
            assert f"{peer} connection-type initiate\n" in text  # APIPA: Azure never opens the session
            n = f"set protocols bgp neighbor {t.azure_bgp_ip}"
            assert f"{n} remote-as {t.azure_asn}\n" in text
            assert f"{n} update-source {device.bgp_ip}\n" in text
            assert f"{n} ebgp-multihop " in text and "disable-connected-check" not in text
            assert f"{n} timers keepalive 60\n" in text and f"{n} timers holdtime 180\n" in text
            assert f"set interfaces vti vti{t.device_index} ip adjust-mss 1350\n" in text
        assert facts_.asn == device_asn(model, device.site)
        assert f"set interfaces dummy {device.loopback_interface} address {device.bgp_ip}/32\n" in text


def device_asn(model, site: str) -> int | None:
    return next(s.asn for s in model.sites if s.name == site)


def test_nat_local_address_is_private_while_the_ike_identity_stays_public(model, files) -> None:
    natted = [d for d in model.devices if d.behind_nat]
    assert natted
    for device in natted:
        text = files[f"onprem/{device.site}/{device.name}.vyos"]
        assert str(device.local_address) != str(device.public_ip)
        assert f"local-address {device.local_address}\n" in text
        assert f"authentication local-id {device.public_ip}\n" in text
        assert f"local-address {device.public_ip}\n" not in text


def test_static_azure_initiated_branch_responds_with_routes_per_vti(model, files) -> None:
    (device,) = [d for d in model.devices if d.site == "BR1"]
    text = files[f"onprem/BR1/{device.name}.vyos"]
    (t,) = model.device_tunnels[device.name]
    assert t.connection_mode == "InitiatorOnly" and not t.bgp
    assert "connection-type respond\n" in text and "protocols bgp" not in text
    assert parse_vyos(text).tunnels[1].routes == {str(p) for p in t.remote_prefixes}


# ---------------------------------------------------------------- the cross-side check reads VyOS
DRIFTS = [
    ("remote-address {{ t.azure_public_ip }}", "remote-address 192.0.2.99", "peer public IP"),
    ("local-id {{ t.device_ike_id }}", "local-id 198.51.100.99", "local IKE identity"),
    ("pfs {{ c.policy | vyos_pfs }}", "pfs dh-group2", "ESP proposal / PFS"),
    ("remote-as {{ t.azure_asn }}", "remote-as 65515", "remote AS"),
    ("system-as {{ site.asn }}", "system-as 65000", "device ASN"),
    ("update-source {{ device.bgp_ip }}", "update-source 169.254.23.9", "BGP source"),
    ("route {{ t.azure_bgp_ip }}/32", "route 169.254.23.1/32", "routes into the tunnel"),
    (
        "proposal 1 {{ line }}\n{% endfor %}\nset vpn ipsec ike-group",
        "proposal 1 dh-group 2\n{% endfor %}\nset vpn ipsec ike-group",
        "IKE proposal",
    ),
]


@pytest.mark.parametrize(("old", "new", "finding"), DRIFTS, ids=[d[2] for d in DRIFTS])
def test_a_drifting_vyos_template_fails_the_render(tmp_path, model, old: str, new: str, finding: str) -> None:
    source = TEMPLATE.read_text(encoding="utf-8")
    assert old in source, old
    target = tmp_path / "templates" / "onprem" / "vyos" / "vyos.j2"
    target.parent.mkdir(parents=True)
    target.write_text(source.replace(old, new), encoding="utf-8")
    with pytest.raises(GenError) as caught:
        render_all(model, templates=str(tmp_path / "templates"))
    lines = caught.value.lines
    assert lines and all(line.endswith("(rule cross-check)") for line in lines), lines
    assert any(finding in line for line in lines), lines


def test_the_runbook_shows_vyos_apply_and_verify_commands(files) -> None:
    runbook = files["README.md"]
    platform = PLATFORMS["vyos"]
    assert platform.title in runbook
    for command in platform.verify_commands:
        assert command in runbook
    assert "commit-confirm" in runbook and re.search(r"dc1-vyos2\.vyos", runbook)


def test_a_key_with_quotes_and_spaces_reaches_vyos_intact(model) -> None:
    """vyos_quote: the key survives the VyOS shell's quoting; the definitions and the cross-side check pass."""
    key = 'it\'s a "key" $HOME;x'
    keys = {s.parameter: key for s in model.secrets}  # every key the same: one tricky value everywhere
    files = {f.path: f.text for f in render_all(model, secrets=keys)}  # render_all runs the cross-side check
    text = files["onprem/DC1/dc1-vyos1.vyos"]
    assert checks_vyos.check_files(files) == []
    assert {t.psk for t in parse_vyos(text).tunnels.values()} == {key}

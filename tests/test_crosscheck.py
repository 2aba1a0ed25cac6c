"""Cross-side consistency: a drifting template fails the render; one policy change touches one tunnel."""

from __future__ import annotations

import difflib
import json
import shutil

import pytest
from conftest import FAKE_KEYS, ROOT, state_example

from generator.crosscheck import cross_check
from generator.errors import GenError
from generator.pipeline import build_model, render_all

CSP = ROOT / "inventories" / "csp-advanced.yaml"
STATE = state_example("csp-advanced")
TEMPLATES = ROOT / "templates"


def _model(inventory=CSP, state=(STATE,)):
    return build_model(inventory, state, display="inventories/csp-advanced.yaml").model


def _override(tmp_path, relative: str, old: str, new: str) -> str:
    """A --templates folder holding one built-in template with one edit."""
    source = (TEMPLATES / relative).read_text(encoding="utf-8")
    assert old in source, old
    target = tmp_path / "templates" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.replace(old, new), encoding="utf-8")
    return str(tmp_path / "templates")


def test_unchanged_override_passes(tmp_path) -> None:
    folder = tmp_path / "templates" / "onprem"
    shutil.copytree(TEMPLATES / "onprem", folder)
    assert render_all(_model(), templates=str(tmp_path / "templates"))


DRIFTS = [
    # (template, old text, drifted text, expected finding)
    ("onprem/cisco_iosxe/ios.j2", "{{ c.policy | ios_transform_set }}", "esp-aes 256 esp-sha-hmac", "ESP proposal"),
    (
        "onprem/cisco_iosxe/ios.j2",
        "{% for line in c.policy | ios_ike_proposal %}",
        "{% for line in ['encryption aes-cbc-128', 'integrity sha1', 'group 2'] %}",
        "IKE proposal",
    ),
    (
        "onprem/cisco_iosxe/ios.j2",
        "identity local {{ t | ios_identity }}",
        "identity local address 198.51.100.99",
        "local IKE identity",
    ),
    ("onprem/juniper_srx/set.j2", "address {{ t.azure_public_ip }}\n", "address 192.0.2.99\n", "peer public IP"),
    ("onprem/juniper_srx/set.j2", "keys {{ c.policy | junos_pfs }}", "keys group2", "ESP proposal / PFS"),
    ("onprem/juniper_srx/set.j2", "peer-as {{ t.azure_asn }}", "peer-as 65515", "remote AS"),
    ("onprem/juniper_srx/set.j2", "autonomous-system {{ site.asn }}", "autonomous-system 65000", "device ASN"),
    (
        "onprem/strongswan_frr/swanctl.conf.j2",
        "{{ t.psk | psk_text(keys) | quoted }}",
        '"REPLACE_WITH_PSK_FROM_ENV_GEN_PSK_DC1"',
        "pre-shared key",
    ),
    (
        "onprem/strongswan_frr/swanctl.conf.j2",
        "proposals = {{ c.policy | swan_ike_proposal }}",
        "proposals = aes256-sha1-modp1024",
        "IKE proposal",
    ),
    (
        "onprem/strongswan_frr/frr.conf.j2",
        "update-source {{ device.bgp_ip }}",
        "update-source 172.18.255.9",
        "BGP source",
    ),
    (
        "onprem/strongswan_frr/frr.conf.j2",
        "ip route {{ t.azure_bgp_ip }}/32",
        "ip route 10.3.255.99/32",
        "routes into the tunnel",
    ),
    # route policy toward Azure (generator/routing.py), on every platform
    (
        "onprem/strongswan_frr/_route_policy.j2",
        "{% for prefix in rp.inbound %}",
        "{% for prefix in (rp.inbound | list) + ['0.0.0.0/0'] %}",
        "inbound filter",
    ),
    ("onprem/strongswan_frr/frr.conf.j2", "route-map AZURE-OUT out", "route-map AZURE-IN out", "outbound filter"),
    (
        "onprem/strongswan_frr/frr.conf.j2",
        "maximum-prefix {{ rp.max_prefix }}",
        "maximum-prefix 4000",
        "maximum-prefix",
    ),
    ("onprem/strongswan_frr/frr.conf.j2", "timers {{ rp.keepalive }} {{ rp.hold }}", "timers 10 30", "hold time"),
    (
        "onprem/cisco_iosxe/_route_policy.j2",
        "{% for prefix in rp.outbound %}",
        "{% for prefix in (rp.outbound | list) + ['0.0.0.0/0'] %}",
        "outbound filter",
    ),
    ("onprem/cisco_iosxe/ios.j2", "  neighbor {{ t.azure_bgp_ip }} route-map AZURE-IN in\n", "", "inbound filter"),
    (
        "onprem/juniper_srx/_route_policy.j2",
        "prefix-limit maximum {{ rp.max_prefix }}",
        "prefix-limit maximum 99",
        "maximum-prefix",
    ),
    (
        "onprem/juniper_srx/_route_policy.j2",
        "set protocols bgp group AZURE import AZURE-IMPORT\n",
        "",
        "inbound filter",
    ),
]


@pytest.mark.parametrize(("template", "old", "new", "finding"), DRIFTS, ids=[f"{d[0]}:{d[3]}" for d in DRIFTS])
def test_a_drifting_template_fails_the_render(tmp_path, template, old, new, finding) -> None:
    with pytest.raises(GenError) as caught:
        render_all(_model(), templates=_override(tmp_path, template, old, new))
    lines = caught.value.lines
    assert lines and all(line.endswith("(rule cross-check)") for line in lines), lines
    assert any(finding in line for line in lines), lines


def test_the_check_compares_real_keys_with_secrets() -> None:
    model = _model()
    keys = {s.parameter: FAKE_KEYS[s.name] for s in model.secrets}
    files = render_all(model, secrets=keys)
    assert cross_check(model, files, keys) == []
    wrong = dict(keys, pskGenPskDc1=FAKE_KEYS["GEN_PSK_DC2"])
    found = cross_check(model, files, wrong)
    assert len(found) == 4 and all("pre-shared key is not the one of ARM parameter pskGenPskDc1" in p for p in found)


def test_the_check_reads_the_arm_side_too() -> None:
    model = _model()
    files = render_all(model)
    edited = []
    for f in files:
        if f.path == "azure/arm/rg-sea-network.json":
            doc = json.loads(f.text)
            for r in doc["resources"]:
                if r["type"] == "Microsoft.Network/localNetworkGateways" and r["name"] == "lng-DC1-dc1-edge2":
                    r["properties"]["bgpSettings"]["asn"] = 65199
            f = type(f)(f.path, json.dumps(doc))
        edited.append(f)
    found = cross_check(model, edited)
    assert found and all(p.startswith("onprem/DC1/dc1-edge2: ") and "device ASN" in p for p in found)


def test_changing_one_policy_changes_only_its_connection_and_device(tmp_path) -> None:
    text = CSP.read_text(encoding="utf-8")
    line = "- {site: DC2, vnet: LON-VNET, psk: {env: GEN_PSK_DC2}, ipsec_policy: *policy}"
    assert line in text
    changed = text.replace(
        line,
        "- {site: DC2, vnet: LON-VNET, psk: {env: GEN_PSK_DC2}, ipsec_policy: {ike_encryption: AES128, "
        "ike_integrity: SHA256, dh_group: ECP256, ipsec_encryption: AES128, ipsec_integrity: SHA256, "
        "pfs_group: ECP256, sa_lifetime_seconds: 3600, sa_datasize_kilobytes: 102400000}}",
    )
    inventory = tmp_path / "csp-advanced.yaml"
    inventory.write_text(changed, encoding="utf-8")
    before = {f.path: f.text for f in render_all(_model())}
    after = {f.path: f.text for f in render_all(_model(inventory))}
    assert before.keys() == after.keys()
    differing = sorted(p for p in before if before[p] != after[p])
    # the connection's resource group in every Azure family, the device and the runbook's tunnel table: nothing else
    expected = ["README.md", "azure/arm/rg-lon-network.json", "onprem/DC2/dc2-edge1.set"]
    expected += [p for p in before if p.startswith("azure/powershell/") or p == "azure/bicep/rg-lon-network.bicep"]
    assert differing == sorted(expected)

    def resources(text: str) -> dict[str, dict]:
        return {r["name"]: r for r in json.loads(text)["resources"]}

    old, new = resources(before["azure/arm/rg-lon-network.json"]), resources(after["azure/arm/rg-lon-network.json"])
    assert [n for n in old if old[n] != new[n]] == ["cn-LON-VNET-dc2-edge1"]
    assert new["cn-LON-VNET-dc2-edge1"]["properties"]["ipsecPolicies"][0]["dhGroup"] == "ECP256"
    diff = [
        d[1:]
        for d in difflib.unified_diff(
            before["onprem/DC2/dc2-edge1.set"].splitlines(), after["onprem/DC2/dc2-edge1.set"].splitlines(), n=0
        )
        if d[:1] in "+-" and not d.startswith(("+++", "---"))
    ]
    assert all(" proposal AZURE-" in d or "perfect-forward-secrecy" in d for d in diff), diff
    assert "set security ike proposal AZURE-IKE-PROP-1 dh-group group19" in diff
    assert "set security ipsec proposal AZURE-IPSEC-PROP-1 lifetime-seconds 3600" in diff


def test_same_device_in_several_resource_groups_with_and_without_bgp(tmp_path) -> None:
    """One device, three gateways in three resource groups (two with BGP, one static): each
    connection has its own local network gateway of the same name in its group, and the check must
    compare each tunnel with its own group's resources (found by the property tests)."""
    text = (ROOT / "inventories" / "dr-pair.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  vnet_links:",
        """    - name: STATIC-VNET
      resource_group: rg-static
      region: westeurope
      address_space: [10.22.0.0/16]
      subnets:
        - {name: GatewaySubnet, prefix: 10.22.255.0/27}
      gateway: {sku: VpnGw1AZ}

  vnet_links:""",
    )
    text += "    - {site: DC1, vnet: STATIC-VNET, psk: {env: GEN_PSK_DC1_DR}, ipsec_policy: *policy}\n"
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(text, encoding="utf-8")
    files = render_all(_model(inventory, state=()))
    lng_names = [
        r["name"]
        for f in files
        if f.path.startswith("azure/arm/") and not f.path.endswith("parameters.json")
        for r in json.loads(f.text)["resources"]
        if r["type"].endswith("localNetworkGateways")
    ]
    assert lng_names.count("lng-DC1-dc1-fw1") == 3

"""On-prem rules (generator/rules_onprem.py): a good and a bad inventory each, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from checks_onprem import check_files, state_for
from click.testing import CliRunner
from conftest import render_files, write_inventory

from generator.cli import main
from generator.paths import device_stem
from generator.pipeline import build_model
from generator.platforms import IBGP_PAIR, PLATFORMS, RESPONDER_ONLY

BASE = """\
name: t
azure:
  vnets:
    - name: hub
      resource_group: rg-hub
      region: westeurope
      address_space: [10.10.0.0/16, 10.11.0.0/16]
      subnets:
        - {{name: GatewaySubnet, prefix: 10.10.255.0/27}}
      gateway: {{sku: VpnGw2AZ, bgp: {{asn: 65010}}}}
onprem:
  sites:
    - name: s1
      asn: 65201
      prefixes: [192.168.10.0/24, 192.168.20.0/24]
      devices:
        - {{name: r1, platform: {platform}, public_ip: 192.0.2.10, bgp_ip: 192.168.255.1{device_extra}}}
  connections:
    - site: s1
      vnet: hub
      psk: {{env: GEN_PSK_BRANCH1}}
      ipsec_policy: {{ike_encryption: {ike_enc}, ike_integrity: {ike_int}, dh_group: {dh}, ipsec_encryption: {esp}, ipsec_integrity: {esp_int}, pfs_group: PFS2048, sa_lifetime_seconds: 3600, sa_datasize_kilobytes: 102400000}}
{connection_extra}"""


def inventory(tmp_path, **values) -> str:
    fields = dict(
        platform="strongswan_frr",
        device_extra="",
        ike_enc="AES256",
        ike_int="SHA256",
        dh="DHGroup14",
        esp="AES256",
        esp_int="SHA256",
        connection_extra="",
    )
    fields.update(values)
    return str(write_inventory(tmp_path, BASE.format(**fields)))


def validate(path: str):
    return CliRunner().invoke(main, ["validate", path])


def rules_in(result) -> list[str]:
    return re.findall(r"\(rule ([a-z0-9-]+)\)", result.stderr)


@pytest.mark.parametrize("bgp", [True, False])
@pytest.mark.parametrize("platform", ["cisco_iosxe", "juniper_srx", "strongswan_frr"])
def test_good_inventory_renders_and_validates_on_every_platform(tmp_path, platform, bgp) -> None:
    device_extra = ", outside_interface: ge-0/0/0.0" if platform == "juniper_srx" else ""
    path = inventory(
        tmp_path, platform=platform, device_extra=device_extra, connection_extra="" if bgp else "      bgp: false\n"
    )
    result = validate(path)
    assert result.exit_code == 0, result.stderr
    model = build_model(tmp_path / "inventory.yaml").model
    assert model.tunnels[0].bgp is bgp
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    files = render_files(tmp_path / "inventory.yaml", (state,))  # the cross-check runs here too
    assert check_files(files) == []
    # (the Linux firewall names the VNet prefixes either way: it drops them on the WAN, never routes them)
    device = "\n".join(t for p, t in files.items() if p.startswith("onprem/") and not p.endswith(".nft"))
    for prefix in ("10.10.0.0", "10.11.0.0"):
        static = re.search(rf"(ip route|static route) {re.escape(prefix)}[/ ]", device)
        assert bool(static) is not bgp  # static routes to the VNet only without BGP
        assert (prefix in device) is True  # with BGP: the VNet is in the inbound filter


def test_srx_gcm_ike_needs_its_prf(tmp_path) -> None:
    bad = validate(inventory(tmp_path, platform="juniper_srx", ike_enc="GCMAES256", ike_int="SHA256"))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-platform-crypto"]
    assert "set ike_integrity to SHA384" in bad.stderr
    assert "ipsec_policy.ike_integrity" in bad.stderr
    good = validate(inventory(tmp_path, platform="juniper_srx", ike_enc="GCMAES256", ike_int="SHA384"))
    assert good.exit_code == 0, good.stderr


def test_platform_without_an_algorithm_is_refused(tmp_path) -> None:
    bad = validate(inventory(tmp_path, platform="juniper_srx", esp="None", esp_int="SHA256"))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-platform-crypto"]
    assert "cannot use ipsec_encryption None" in bad.stderr
    good = validate(inventory(tmp_path, platform="juniper_srx", esp="AES256", esp_int="SHA256"))
    assert good.exit_code == 0, good.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [("dh", "DHGroup2"), ("dh", "DHGroup24"), ("esp", "None"), ("esp", "DES3"), ("ike_int", "MD5")],
)
def test_iosxe_refuses_fn72510_algorithms(tmp_path, field, value) -> None:
    """Cisco FN72510: IOS-XE 17.11+ rejects these by default (no OS version field: unknown = 17.11+)."""
    bad = validate(inventory(tmp_path, platform="cisco_iosxe", **{field: value}))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-platform-crypto"], bad.stderr
    assert "FN72510" in bad.stderr and f" {value} " in bad.stderr
    if value != "None":  # SRX has no esp-null at all; the others are an IOS-XE refusal, not Azure's
        assert validate(inventory(tmp_path, platform="juniper_srx", **{field: value})).exit_code == 0


DEFAULT_POLICY_INVENTORY = BASE.split("      ipsec_policy:")[0] + "      #\n"


@pytest.mark.parametrize("platform", ["cisco_iosxe", "strongswan_frr"])
def test_default_policy_is_refused_with_a_policy_that_works(tmp_path, platform) -> None:
    text = DEFAULT_POLICY_INVENTORY.format(platform=platform, device_extra="")
    bad = validate(str(write_inventory(tmp_path, text)))
    assert bad.exit_code == 2 and "onprem-default-policy-refused" in rules_in(bad), bad.stderr
    suggestion = re.search(r"add ipsec_policy: (\{[^}]*\})", bad.stderr).group(1)
    fixed = text.replace("      #", f"      ipsec_policy: {suggestion}")
    good = validate(str(write_inventory(tmp_path, fixed)))
    assert good.exit_code == 0, good.stderr
    srx = validate(
        str(write_inventory(tmp_path, DEFAULT_POLICY_INVENTORY.format(platform="juniper_srx", device_extra="")))
    )
    assert srx.exit_code == 0 and "default-policy-weak" in rules_in(srx), srx.stderr


def test_ike_dh_none_is_refused_everywhere(tmp_path) -> None:
    bad = validate(inventory(tmp_path, dh="None"))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-platform-crypto"]


def test_ikev1_is_refused(tmp_path) -> None:
    bad = validate(inventory(tmp_path, connection_extra="      ike_version: IKEv1\n"))
    assert bad.exit_code == 2 and "onprem-ike-version" in rules_in(bad)
    assert "ike_version: IKEv2" in bad.stderr


def test_policy_based_selectors_refused_on_ios_rendered_per_pair_elsewhere(tmp_path) -> None:
    extra = "      policy_based_traffic_selectors: true\n      bgp: false\n"  # with BGP: onprem-policy-based-bgp
    bad = validate(inventory(tmp_path, platform="cisco_iosxe", connection_extra=extra))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-policy-based-platform"]
    for platform, device_extra in (("juniper_srx", ", outside_interface: ge-0/0/0.0"), ("strongswan_frr", "")):
        path = inventory(tmp_path, platform=platform, connection_extra=extra, device_extra=device_extra)
        assert validate(path).exit_code == 0
        model = build_model(tmp_path / "inventory.yaml").model
        state = tmp_path / "state.json"
        state.write_text(json.dumps(state_for(model)), encoding="utf-8")
        files = render_files(tmp_path / "inventory.yaml", (state,))
        assert check_files(files) == []
        text = next(t for p, t in files.items() if p.endswith((".set", ".swanctl.conf")))
        if platform == "juniper_srx":
            ends: dict[str, dict[str, str]] = {}
            for name, side, prefix in re.findall(r"traffic-selector (\S+) (local|remote)-ip (\S+)", text):
                ends.setdefault(name, {})[side] = prefix
            pairs = {(e["local"], e["remote"]) for e in ends.values()}
        else:
            pairs = set(re.findall(r"local_ts = (\S+)\n\s+remote_ts = (\S+)", text))
        assert pairs == {
            (a, b) for a in ("192.168.10.0/24", "192.168.20.0/24") for b in ("10.10.0.0/16", "10.11.0.0/16")
        }


def test_policy_based_selectors_with_bgp_need_both_bgp_addresses_inside(tmp_path) -> None:
    extra = "      policy_based_traffic_selectors: true\n"
    srx = validate(inventory(tmp_path, platform="juniper_srx", connection_extra=extra))
    assert srx.exit_code == 2 and rules_in(srx) == ["onprem-policy-based-bgp"], srx.stderr
    assert "traffic selectors" in srx.stderr
    outside = validate(inventory(tmp_path, connection_extra=extra))  # bgp_ip 192.168.255.1: no site prefix
    assert outside.exit_code == 2 and rules_in(outside) == ["onprem-policy-based-bgp"], outside.stderr
    assert "192.168.255.1 is outside the site prefixes" in outside.stderr
    text = BASE.replace("prefixes: [192.168.10.0/24, 192.168.20.0/24]", "prefixes: [192.168.0.0/16]")
    fields = dict(platform="strongswan_frr", device_extra="", ike_enc="AES256", ike_int="SHA256", dh="DHGroup14")
    inside = str(
        write_inventory(tmp_path, text.format(esp="AES256", esp_int="SHA256", connection_extra=extra, **fields))
    )
    assert validate(inside).exit_code == 0  # Azure's default BGP address is in GatewaySubnet, in the VNet
    apipa = Path(inside).with_name("apipa.yaml")
    body = Path(inside).read_text(encoding="utf-8")
    body = body.replace("bgp: {asn: 65010}", "bgp: {asn: 65010, apipa_addresses: [[169.254.21.1]]}")
    body = body.replace("bgp_ip: 192.168.255.1", "bgp_ip: 169.254.21.10")
    apipa.write_text(body, encoding="utf-8")
    refused = validate(str(apipa))
    assert refused.exit_code == 2 and "onprem-policy-based-bgp" in rules_in(refused), refused.stderr


def test_dpd_outside_recommendation_is_a_warning(tmp_path) -> None:
    result = validate(inventory(tmp_path, connection_extra="      dpd_timeout_seconds: 120\n"))
    assert result.exit_code == 0 and "onprem-dpd-recommended" in rules_in(result)
    assert "devices probe every 40 s" in result.stderr
    assert "onprem-dpd-recommended" not in rules_in(validate(inventory(tmp_path)))


def test_junos_interfaces_need_a_unit(tmp_path) -> None:
    bad = validate(inventory(tmp_path, platform="juniper_srx", device_extra=", outside_interface: ge-0/0/0"))
    assert bad.exit_code == 2 and rules_in(bad) == ["onprem-interface-name"]
    assert "devices[0].outside_interface" in bad.stderr


@pytest.mark.parametrize(
    ("mode", "start", "dpd"), [("InitiatorOnly", "none", "clear"), ("ResponderOnly", "start", "restart")]
)
def test_connection_mode_decides_who_starts_the_strongswan_tunnel(tmp_path, mode, start, dpd) -> None:
    """InitiatorOnly: Azure alone initiates, the device only responds; else the device starts it.
    The rendered swanctl.conf loads in charon (check_files)."""
    path = inventory(tmp_path, connection_extra=f"      connection_mode: {mode}\n")
    assert validate(path).exit_code == 0
    model = build_model(tmp_path / "inventory.yaml").model
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    files = render_files(tmp_path / "inventory.yaml", (state,))
    assert check_files(files) == []
    [swan] = [t for p, t in files.items() if p.endswith(".swanctl.conf")]
    assert swan.count(f"start_action = {start}\n") == swan.count("start_action =") > 0
    assert swan.count(f"close_action = {start}\n") == swan.count("close_action =") > 0
    assert swan.count(f"dpd_action = {dpd}\n") == swan.count("dpd_action =") > 0


def test_srx_attaches_to_the_sites_own_zones(tmp_path) -> None:
    zones = ", outside_interface: ge-0/0/0.0, security_zones: {outside: internet, tunnel: vpn-azure, inside: lan}"
    path = inventory(tmp_path, platform="juniper_srx", device_extra=zones)
    assert validate(path).exit_code == 0
    model = build_model(tmp_path / "inventory.yaml").model
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    files = render_files(tmp_path / "inventory.yaml", (state,))
    assert check_files(files) == []
    text = next(t for p, t in files.items() if p.endswith(".set"))
    zones_used = set(re.findall(r"security-zone (\S+)", text)) | set(re.findall(r"(?:from|to)-zone (\S+)", text))
    assert zones_used == {"internet", "vpn-azure", "lan"}
    assert "set security zones security-zone internet host-inbound-traffic system-services ike" in text
    assert "from-zone vpn-azure to-zone vpn-azure policy vpn-azure-bgp-to-loopback match" in text


BROWNFIELD_DEVICES = """\
        - {name: r1, platform: juniper_srx, public_ip: 192.0.2.10, bgp_ip: 192.168.10.1, existing_bgp: true, tunnel_base: 100}
        - {name: r2, platform: strongswan_frr, public_ip: 192.0.2.11, bgp_ip: 192.168.10.2, existing_bgp: true, tunnel_base: 40}
"""


def test_brownfield_device_keeps_its_bgp_process_and_tunnel_numbers(tmp_path) -> None:
    """existing_bgp + tunnel_base: no global AS / router-id lines, no tunnel number below the base."""
    text = BASE.format(
        platform="juniper_srx",
        device_extra="",
        ike_enc="AES256",
        ike_int="SHA256",
        dh="DHGroup14",
        esp="AES256",
        esp_int="SHA256",
        connection_extra="",
    )
    text = re.sub(r"        - \{name: r1, .*\}\n", BROWNFIELD_DEVICES, text)
    path = write_inventory(tmp_path, text)
    assert validate(str(path)).exit_code == 0
    model = build_model(path).model
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    files = render_files(path, (state,))  # the cross-check (ASN read back included) runs here too
    assert check_files(files) == []
    srx, frr = files["onprem/s1/r1.set"], files["onprem/s1/r2.frr.conf"]
    assert "routing-options autonomous-system" not in srx.replace("# existing BGP: autonomous-system", "")
    assert "set routing-options autonomous-system" not in srx
    assert "bgp router-id" not in frr and "router bgp 65201" in frr
    numbers = {
        "r1": [int(n) for n in re.findall(r"st0\.(\d+)", srx)],
        "r2": [int(n) for n in re.findall(r"xfrm(\d+)", "\n".join(t for p, t in files.items() if "/r2." in p))],
    }
    assert numbers["r1"] and min(numbers["r1"]) == 100 and numbers["r2"] and min(numbers["r2"]) == 40
    swan = files["onprem/s1/r2.swanctl.conf"]
    assert "if_id_in = 40" in swan and "if_id_in = 1\n" not in swan


def _initiates(files: dict[str, str], model) -> dict[int, bool | None]:
    """What the device's files say, read back by its platform: tunnel number -> the device opens IKE."""
    [device] = model.devices
    found = PLATFORMS[device.platform].parse(files, device_stem(device))
    return {i: t.initiates for i, t in found.tunnels.items()}


@pytest.mark.parametrize("mode", ["Default", "InitiatorOnly", "ResponderOnly"])
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_connection_mode_is_honoured_on_every_platform(tmp_path, platform, mode) -> None:
    """InitiatorOnly (Azure alone initiates): the device only responds, where its platform can be told so
    (rule onprem-connection-mode otherwise); Default and ResponderOnly: the device initiates. The rendered
    files pass their validators and the cross-side check, and the read-back says who initiates."""
    p = PLATFORMS[platform]
    device_extra = f", outside_interface: {p.outside_interface}, loopback_interface: {p.loopback_interface}"
    path = inventory(
        tmp_path, platform=platform, device_extra=device_extra, connection_extra=f"      connection_mode: {mode}\n"
    )
    result = validate(path)
    if mode == "InitiatorOnly" and not p.can(RESPONDER_ONLY):
        assert result.exit_code == 2 and rules_in(result) == ["onprem-connection-mode"], result.stderr
        return
    assert result.exit_code == 0, result.stderr
    model = build_model(tmp_path / "inventory.yaml").model
    state = tmp_path / "state.json"
    state.write_text(json.dumps(state_for(model)), encoding="utf-8")
    files = render_files(tmp_path / "inventory.yaml", (state,))  # the cross-side check runs here too
    assert check_files(files) == []
    found = _initiates(files, model)
    assert found and set(found.values()) == {mode != "InitiatorOnly"}, found


def _pair_inventory(tmp_path, first: str, second: str, ibgp: bool = True) -> str:
    """BASE with two devices (platforms first, second) and bgp.ibgp on the site."""
    devices = []
    for i, key in enumerate((first, second)):
        p = PLATFORMS[key]
        devices.append(
            f"        - {{{{name: r{i + 1}, platform: {key}, public_ip: 192.0.2.{10 + i}, bgp_ip: 192.168.255.{i + 1}, "
            f"outside_interface: {p.outside_interface}, loopback_interface: {p.loopback_interface}}}}}\n"
        )
    one = "        - {{name: r1, platform: {platform}, public_ip: 192.0.2.10, bgp_ip: 192.168.255.1{device_extra}}}\n"
    text = BASE.replace(one, "".join(devices))
    if ibgp:
        text = text.replace("      devices:\n", "      bgp: {{ibgp: true}}\n      devices:\n", 1)
    fields = dict(ike_enc="AES256", ike_int="SHA256", dh="DHGroup14", esp="AES256", esp_int="SHA256")
    return str(write_inventory(tmp_path, text.format(connection_extra="", **fields)))


@pytest.mark.parametrize(("first", "second"), [(k, k) for k in sorted(PLATFORMS)] + [("cisco_iosxe", "juniper_srx")])
def test_ibgp_between_the_pair_on_every_platform(tmp_path, first, second) -> None:
    """bgp.ibgp: each device peers the other's bgp_ip in the site's AS with next-hop-self; the files pass
    their validators (vtysh --dryrun, the VyOS definitions, the IOS/Junos parsers) and the cross-side
    check, which reads the iBGP neighbour back; without bgp.ibgp there is none."""
    cleanups: dict[bool, dict[str, list[str]]] = {}
    able = PLATFORMS[first].can(IBGP_PAIR) and PLATFORMS[second].can(IBGP_PAIR)
    for ibgp in (True, False):
        path = _pair_inventory(tmp_path, first, second, ibgp)
        result = validate(path)
        if ibgp and not able:  # the platform does not render it: refused, never silently left out
            assert result.exit_code == 2 and set(rules_in(result)) == {"site-ibgp-platform"}, result.stderr
            continue
        assert result.exit_code == 0, result.stderr
        model = build_model(tmp_path / "inventory.yaml").model
        state = tmp_path / "state.json"
        state.write_text(json.dumps(state_for(model)), encoding="utf-8")
        files = render_files(tmp_path / "inventory.yaml", (state,))  # the cross-side check runs here too
        assert check_files(files) == []
        for device, other in zip(model.devices, reversed(model.devices), strict=True):
            found = PLATFORMS[device.platform].parse(files, device_stem(device))
            ibgp_peers = {n for n, asn in found.neighbors.items() if asn == 65201}
            assert ibgp_peers == ({str(other.bgp_ip)} if ibgp else set()), (device.name, found.neighbors)
            assert found.next_hop_self == ibgp_peers
            text = "\n".join(t for p, t in sorted(files.items()) if p.startswith(device_stem(device) + "."))
            cleanups.setdefault(ibgp, {})[device.name] = text.split("to remove what", 1)[1].splitlines()
    for name, plain in cleanups[False].items() if able else ():  # the removal section takes the iBGP away too
        assert set(plain) < set(cleanups[True][name]), name


def test_ibgp_needs_two_bgp_devices(tmp_path) -> None:
    path = inventory(tmp_path, connection_extra="")
    text = (
        Path(path).read_text(encoding="utf-8").replace("      devices:\n", "      bgp: {ibgp: true}\n      devices:\n")
    )
    Path(path).write_text(text, encoding="utf-8")
    result = validate(path)
    assert result.exit_code == 2 and rules_in(result) == ["site-ibgp-pair"], result.stderr
    assert "onprem.sites[0].bgp.ibgp" in result.stderr

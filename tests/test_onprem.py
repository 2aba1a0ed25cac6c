"""On-prem snippets: real validators, structure per tunnel against the ARM side, acceptance, secrets."""

from __future__ import annotations

import json
import re
import stat
import subprocess

import pytest
from checks_onprem import Charon, check_files, check_frr, check_swanctl, state_for
from ciscoconfparse2 import CiscoConfParse
from click.testing import CliRunner
from conftest import FAKE_KEYS, ROOT, STATE_EXAMPLES, inventory_ids, render_files, state_example

from generator.cli import main
from generator.model import IpsecPolicy
from generator.platforms import cisco_iosxe, juniper_srx

CSP = ROOT / "inventories" / "csp-advanced.yaml"


def with_state(name: str) -> dict[str, str]:
    inventory = ROOT / "inventories" / f"{name}.yaml"
    return render_files(inventory, (state_example(name),))


def state(name: str) -> dict:
    return json.loads(state_example(name).read_text(encoding="utf-8"))


def arm(files: dict[str, str]) -> dict[tuple[str, str], dict]:
    found = {}
    for path, text in files.items():
        if path.startswith("azure/arm/") and not path.endswith(".parameters.json"):
            for r in json.loads(text)["resources"]:
                found[(r["type"].split("/")[-1], r["name"])] = r["properties"]
    return found


def policy_of(connection: dict) -> IpsecPolicy:
    from generator.crosscheck import _policy

    return _policy(connection["ipsecPolicies"])


# ---------------------------------------------------------------- real validators
@pytest.mark.parametrize("name", inventory_ids())
def test_every_example_passes_the_real_validators(name: str) -> None:
    files = with_state(name)
    assert any(p.startswith("onprem/") for p in files)
    assert check_files(files) == []


def test_state_examples_match_the_state_schema() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "schemas" / "azure-state.schema.json").read_text(encoding="utf-8"))
    examples = sorted(STATE_EXAMPLES.glob("*.azure-state.json"))
    assert sorted(p.name.removesuffix(".azure-state.json") for p in examples) == sorted(inventory_ids())
    for path in examples:
        assert list(Draft202012Validator(schema).iter_errors(json.loads(path.read_text()))) == [], path


def test_the_validators_catch_broken_files() -> None:
    files = with_state("csp-advanced")
    frr = files["onprem/DC3/dc3-edge1.frr.conf"]
    swan = files["onprem/DC3/dc3-edge1.swanctl.conf"]
    assert check_frr({"x.frr.conf": frr.replace("update-source", "update-sorce")})
    assert check_frr({"x.frr.conf": frr.replace("ebgp-multihop 5", "ebgp-multihop 500")})
    bad = check_swanctl(
        {
            "syntax.swanctl.conf": swan.replace("version = 2", "version = 2 {"),
            "proposal.swanctl.conf": swan.replace("aes256-sha256", "aes999-sha256"),
        }
    )
    assert {line.split(":")[0] for line in bad} == {"syntax.swanctl.conf", "proposal.swanctl.conf"}
    ios = files["onprem/DC1/dc1-edge1.ios"].replace(" ip tcp adjust-mss 1350\n", "", 1)
    junos = files["onprem/DC1/dc1-edge2.set"].replace("set security flow tcp-mss ipsec-vpn mss 1350\n", "")
    # without its blackhole and nexthop-tracking filter an SA loss would not drop the BGP session
    peer = state("csp-advanced")["gateways"]["MUM-VNET-gw"]["instances"][0]["bgp_ips"][0]
    no_failover = frr.replace(f"ip route {peer}/32 blackhole 250\n", "").replace("ip nht bgp route-map AZURE-NHT\n", "")
    assert sorted(
        check_files(
            {
                **files,
                "onprem/DC1/dc1-edge1.ios": ios,
                "onprem/DC1/dc1-edge2.set": junos,
                "onprem/DC3/dc3-edge1.frr.conf": no_failover,
            }
        )
    ) == [
        "onprem/DC1/dc1-edge1.ios: interface Tunnel1: no ip tcp adjust-mss 1350",
        "onprem/DC1/dc1-edge2.set: no security flow tcp-mss ipsec-vpn mss 1350",
        "onprem/DC3/dc3-edge1.frr.conf: missing 'ip nht bgp route-map AZURE-NHT'",
        f"onprem/DC3/dc3-edge1.frr.conf: no blackhole behind the route for {peer}",
    ]


def test_placeholders_are_reported_without_state(rendered) -> None:
    problems = check_files(rendered["csp-advanced"])
    assert problems and all("placeholders left" in p for p in problems)


def test_state_for_any_model_fills_every_placeholder(tmp_path) -> None:
    from generator.pipeline import build_model

    model = build_model(CSP).model
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state_for(model)), encoding="utf-8")
    assert build_model(CSP, (path,)).model.pending == ()


# ---------------------------------------------------------------- acceptance: csp-advanced
def _ios_tunnels(text: str) -> dict[int, dict]:
    """Tunnel N -> proposal -> policy -> profile -> tunnel interface -> BGP neighbour, via ciscoconfparse2."""
    p = CiscoConfParse(text.splitlines(), syntax="ios")

    def kids(pattern: str) -> list[str]:
        found = p.find_objects(pattern)
        assert len(found) == 1, pattern
        return [c.text.strip() for c in found[0].children]

    def value(lines: list[str], prefix: str) -> str:
        return next(line[len(prefix) :] for line in lines if line.startswith(prefix))

    bgp = [c.text.strip() for c in p.find_objects(r"^router bgp ")[0].all_children]
    routes = {
        m.group(2): m.group(1)
        for o in p.find_objects(r"^ip route ")
        if (m := re.match(r"^ip route (\S+) 255\.255\.255\.255 (Tunnel\d+)$", o.text))
    }
    policy = kids(r"^crypto ikev2 policy AZURE-POLICY$")
    result = {}
    for tunnel in p.find_objects(r"^interface Tunnel\d+$"):
        name = tunnel.text.split()[1]
        lines = [c.text.strip() for c in tunnel.children]
        ipsec = kids(rf"^crypto ipsec profile {value(lines, 'tunnel protection ipsec profile ')}$")
        profile = kids(rf"^crypto ikev2 profile {value(ipsec, 'set ikev2-profile ')}$")
        keyring = [
            c.text.strip()
            for c in p.find_objects(rf"^crypto ikev2 keyring {value(profile, 'keyring local ')}$")[0].all_children
        ]
        neighbor = routes[name]
        result[int(name[6:])] = {
            "destination": value(lines, "tunnel destination "),
            "remote identity": value(profile, "match identity remote address ").split()[0],
            "keyring address": value(keyring, "address "),
            "local identity": value(profile, "identity local address "),
            "proposals": [
                kids(rf"^crypto ikev2 proposal {line.split()[1]}$") for line in policy if line.startswith("proposal ")
            ],
            "transform set": value(
                [o.text for o in p.find_objects(r"^crypto ipsec transform-set ")],
                f"crypto ipsec transform-set {value(ipsec, 'set transform-set ')} ",
            ),
            "pfs": value(ipsec, "set pfs "),
            "mss": "ip tcp adjust-mss 1350" in lines,
            "neighbor": neighbor,
            "remote-as": int(value(bgp, f"neighbor {neighbor} remote-as ")),
            "multihop": f"neighbor {neighbor} ebgp-multihop 5" in bgp,
            "update-source": value(bgp, f"neighbor {neighbor} update-source "),
            "asn": int(p.find_objects(r"^router bgp ")[0].text.split()[2]),
            "loopback": value(kids(r"^interface Loopback0$"), "ip address ").split()[0],
            "passive": any("passive" in line for line in bgp),
            "fall-over": _fall_over(p, value(bgp, f"neighbor {neighbor} fall-over route-map ")),
        }
    return result


def _fall_over(p: CiscoConfParse, route_map: str) -> list[str]:
    """The prefix-list entries a `fall-over route-map` admits as a route to the peer."""
    (entry,) = p.find_objects(rf"^route-map {route_map} permit 10$")
    (match,) = [
        c.text.split()[-1] for c in entry.children if c.text.strip().startswith("match ip address prefix-list ")
    ]
    return [o.text.split(" ", 5)[-1] for o in p.find_objects(rf"^ip prefix-list {match} ")]


def test_dc1_cisco_builds_two_tunnels_with_two_bgp_neighbours_matching_arm() -> None:
    files = with_state("csp-advanced")
    resources = arm(files)
    connection = resources[("connections", "cn-SEA-VNET-dc1-edge1")]
    lng = resources[("localNetworkGateways", "lng-DC1-dc1-edge1")]
    gateway = resources[("virtualNetworkGateways", "SEA-VNET-gw")]
    instances = state("csp-advanced")["gateways"]["SEA-VNET-gw"]["instances"]
    policy = policy_of(connection)
    tunnels = _ios_tunnels(files["onprem/DC1/dc1-edge1.ios"])
    assert sorted(tunnels) == [1, 2]
    for index, t in tunnels.items():
        public_ip, bgp_ip = instances[index - 1]["public_ip"], instances[index - 1]["bgp_ips"][0]
        assert t["destination"] == t["remote identity"] == t["keyring address"] == public_ip
        assert t["local identity"] == lng["gatewayIpAddress"]
        assert cisco_iosxe.ios_ike_proposal(policy) in t["proposals"]
        assert t["transform set"] == cisco_iosxe.ios_transform_set(policy) == "esp-gcm 256"
        assert t["pfs"] == cisco_iosxe.ios_pfs(policy) == "group14"
        assert t["mss"] and t["multihop"] and not t["passive"]
        # The session falls over only on a host route: when the /32 into the tunnel goes with the SA,
        # the VNet prefix learned over the other tunnel (which covers the peer) must not keep it up.
        assert t["fall-over"] == ["permit 0.0.0.0/0 ge 32"], t["fall-over"]
        assert t["neighbor"] == bgp_ip
        assert t["remote-as"] == gateway["bgpSettings"]["asn"]
        assert t["asn"] == lng["bgpSettings"]["asn"]
        assert t["update-source"] == "Loopback0" and t["loopback"] == lng["bgpSettings"]["bgpPeeringAddress"]
    assert {t["neighbor"] for t in tunnels.values()} == {i["bgp_ips"][0] for i in instances}


def _junos(text: str) -> list[str]:
    parse = CiscoConfParse(text.splitlines(), syntax="junos", comment_delimiters=["#"])
    return [o.text.strip() for o in parse.find_objects(r"^set ")]


def _one(lines: list[str], pattern: str) -> str:
    found = [m.group(1) for line in lines if (m := re.match(pattern, line))]
    assert len(found) == 1, (pattern, found)
    return found[0]


@pytest.mark.parametrize(
    ("device", "connection", "gateway", "tunnels"),
    [
        ("DC1/dc1-edge2", "cn-SEA-VNET-dc1-edge2", "SEA-VNET-gw", 2),
        ("DC2/dc2-edge1", "cn-LON-VNET-dc2-edge1", "LON-VNET-gw", 1),
    ],
)
def test_srx_structure_per_tunnel_matches_arm(device, connection, gateway, tunnels) -> None:
    files = with_state("csp-advanced")
    resources = arm(files)
    conn = resources[("connections", connection)]
    lng = resources[("localNetworkGateways", _name(conn["localNetworkGateway2"]["id"]))]
    policy = policy_of(conn)
    instances = state("csp-advanced")["gateways"][gateway]["instances"]
    lines = _junos(files[f"onprem/{device}.set"])
    vpns = sorted({m.group(1) for line in lines if (m := re.match(r"^set security ipsec vpn (\S+) ", line))})
    assert len(vpns) == tunnels
    neighbors = {}
    for n, vpn in enumerate(vpns, start=1):
        unit = _one(lines, rf"^set security ipsec vpn {vpn} bind-interface (st0\.\d+)$")
        assert unit == f"st0.{n}"
        gw = _one(lines, rf"^set security ipsec vpn {vpn} ike gateway (\S+)$")
        ike_policy = _one(lines, rf"^set security ike gateway {gw} ike-policy (\S+)$")
        ike_proposal = _one(lines, rf"^set security ike policy {ike_policy} proposals (\S+)$")
        ipsec_policy = _one(lines, rf"^set security ipsec vpn {vpn} ike ipsec-policy (\S+)$")
        ipsec_proposal = _one(lines, rf"^set security ipsec policy {ipsec_policy} proposals (\S+)$")
        assert _one(lines, rf"^set security ike gateway {gw} address (\S+)$") == instances[n - 1]["public_ip"]
        assert _one(lines, rf"^set security ike gateway {gw} local-identity inet (\S+)$") == lng["gatewayIpAddress"]
        assert f"set security ike gateway {gw} version v2-only" in lines
        for statement in juniper_srx.junos_ike_proposal(policy):
            assert f"set security ike proposal {ike_proposal} {statement}" in lines
        for statement in juniper_srx.junos_ipsec_proposal(policy):
            assert f"set security ipsec proposal {ipsec_proposal} {statement}" in lines
        pfs = _one(lines, rf"^set security ipsec policy {ipsec_policy} perfect-forward-secrecy keys (\S+)$")
        assert pfs == juniper_srx.junos_pfs(policy)
        assert f"set interfaces st0 unit {n} family inet" in lines
        neighbor = _one(lines, rf"^set routing-options static route (\S+)/32 next-hop {re.escape(unit)}$")
        neighbors[neighbor] = int(
            _one(lines, rf"^set protocols bgp group AZURE neighbor {re.escape(neighbor)} peer-as (\d+)$")
        )
    assert neighbors == {
        i["bgp_ips"][0]: resources[("virtualNetworkGateways", gateway)]["bgpSettings"]["asn"] for i in instances
    }
    assert _one(lines, r"^set routing-options autonomous-system (\d+)$") == str(lng["bgpSettings"]["asn"])
    assert (
        _one(lines, r"^set protocols bgp group AZURE local-address (\S+)$") == lng["bgpSettings"]["bgpPeeringAddress"]
    )
    assert "set security flow tcp-mss ipsec-vpn mss 1350" in lines
    assert any(re.match(r"^set protocols bgp group AZURE multihop ttl \d+$", line) for line in lines)
    assert not any("passive" in line for line in lines)


def _name(expression: str) -> str:
    return re.findall(r"'([^']*)'", expression)[-1]


def test_dc3_strongswan_one_tunnel_one_neighbour_loaded_by_charon() -> None:
    files = with_state("csp-advanced")
    swan = files["onprem/DC3/dc3-edge1.swanctl.conf"]
    frr = files["onprem/DC3/dc3-edge1.frr.conf"]
    script = files["onprem/DC3/dc3-edge1.interfaces.sh"]
    instance = state("csp-advanced")["gateways"]["MUM-VNET-gw"]["instances"][0]
    charon = Charon()
    try:
        output = charon.load(swan)
    finally:
        charon.close()
    assert "loaded connection 'cn-MUM-VNET-dc3-edge1-i0'" in output
    assert "successfully loaded 1 connections, 0 unloaded" in output
    assert "loaded ike secret 'ike-cn-MUM-VNET-dc3-edge1-i0'" in output
    assert f"remote_addrs = {instance['public_ip']}" in swan
    assert "if_id_in = 1" in swan and "if_id_out = 1" in swan
    assert "local_ts = 0.0.0.0/0" in swan and "remote_ts = 0.0.0.0/0" in swan
    assert f"neighbor {instance['bgp_ips'][0]} remote-as 65030" in frr
    # FRR's ebgp-requires-policy stays on: the neighbour has both route-maps
    assert "no bgp ebgp-requires-policy" not in frr
    assert f"neighbor {instance['bgp_ips'][0]} route-map AZURE-IN in" in frr
    assert f"neighbor {instance['bgp_ips'][0]} route-map AZURE-OUT out" in frr
    assert "ip link add 'xfrm1' type xfrm dev \"$OUTSIDE\" if_id 1" in script
    assert f"ip route {instance['bgp_ips'][0]}/32 xfrm1" in frr  # staticd's route, no kernel route
    # failover (gen lab's sa-loss check measures it): the peer resolves only through its tunnel
    assert f"ip route {instance['bgp_ips'][0]}/32 blackhole 250" in frr
    assert f"ip prefix-list AZURE-PEERS seq 5 permit {instance['bgp_ips'][0]}/32" in frr
    assert "ip nht bgp route-map AZURE-NHT" in frr and "\n bgp fast-convergence\n" in frr
    assert "\nip route" not in script
    assert "--set-mss 1350" in script


def test_every_device_of_the_guide_gets_its_tunnels() -> None:
    files = with_state("csp-advanced")
    assert sorted(p for p in files if p.startswith("onprem/")) == [
        "onprem/DC1/dc1-edge1.ios",
        "onprem/DC1/dc1-edge2.set",
        "onprem/DC2/dc2-edge1.set",
        "onprem/DC3/dc3-edge1.frr.conf",
        "onprem/DC3/dc3-edge1.interfaces.sh",
        "onprem/DC3/dc3-edge1.nft",
        "onprem/DC3/dc3-edge1.service",
        "onprem/DC3/dc3-edge1.swanctl.conf",
    ]
    assert len(_ios_tunnels(files["onprem/DC1/dc1-edge1.ios"])) == 2


# ---------------------------------------------------------------- lifetimes, DPD, headers
@pytest.mark.parametrize("name", inventory_ids())
def test_lifetimes_stay_below_azure_and_headers_name_the_commands(name: str, rendered) -> None:
    from generator.platforms import PLATFORMS

    for path, text in rendered[name].items():
        if not path.startswith("onprem/"):
            continue
        ike = [
            int(x)
            for x in re.findall(
                r"(?:^ lifetime|^ lifetime seconds|ike proposal \S+ lifetime-seconds|ike-group \S+ lifetime) (\d+)$",
                text,
                re.M,
            )
        ]
        child = [
            int(x)
            for x in re.findall(
                r"(?:security-association lifetime seconds|ipsec proposal \S+ lifetime-seconds|esp-group \S+ lifetime"
                r"|life_time =) (\d+)",
                text,
            )
        ]
        ike += [int(x) for x in re.findall(r"^        rekey_time = (\d+)s$", text, re.M)]  # swanctl IKE SA
        assert all(x <= 28800 for x in ike) and all(x <= 27000 for x in child), path
        if path.endswith((".ios", ".set", ".swanctl.conf", ".vyos", ".asa.cfg")):
            assert ike and child, path
        platform = next(p for p in PLATFORMS.values() if any(path.endswith(s) for s in p.files))
        for command in platform.verify_commands:
            assert command in text, (path, command)
        assert "inventories/" in text.splitlines()[1 if path.endswith((".sh", ".nft")) else 0]


def test_cli_reports_placeholders_and_strict_fails(tmp_path) -> None:
    result = CliRunner().invoke(main, ["render", str(CSP), "-o", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 0
    assert "8 Azure-assigned values are placeholders" in result.stderr
    assert "<SEA-VNET-gw-pip1>" in (tmp_path / "out/onprem/DC1/dc1-edge1.ios").read_text()
    strict = CliRunner().invoke(main, ["render", str(CSP), "-o", str(tmp_path / "o2"), "--strict"])
    assert strict.exit_code == 2 and "placeholders-remain" in strict.stderr
    assert not (tmp_path / "o2").exists()


# ---------------------------------------------------------------- secrets
def test_secrets_go_only_into_device_files_with_mode_0600(tmp_path, monkeypatch) -> None:
    for key, value in FAKE_KEYS.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["render", str(CSP), "-o", str(out), "--secrets", "--azure-state", str(state_example("csp-advanced"))],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    holding = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and any(k in p.read_text() for k in FAKE_KEYS.values())
    )
    assert holding == [
        "onprem/DC1/dc1-edge1.ios",
        "onprem/DC1/dc1-edge2.set",
        "onprem/DC2/dc2-edge1.set",
        "onprem/DC3/dc3-edge1.swanctl.conf",
    ]
    private = [*holding, ".gen-manifest.json", ".gen-manifest.key"]  # the manifest is keyed then (issue 17)
    for path in out.rglob("*"):
        if path.is_file():
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o600 if path.relative_to(out).as_posix() in private else 0o644), path
    assert "4 files hold pre-shared keys" in result.stderr
    assert FAKE_KEYS["GEN_PSK_DC1"] in (out / "onprem/DC1/dc1-edge1.ios").read_text()
    assert FAKE_KEYS["GEN_PSK_DC2"] not in (out / "onprem/DC1/dc1-edge1.ios").read_text()
    files = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert check_files(files) == []  # charon loads the real key too


def test_no_key_leaks_without_secrets(monkeypatch, rendered) -> None:
    for key, value in FAKE_KEYS.items():
        monkeypatch.setenv(key, value)
    files = render_files(CSP, (state_example("csp-advanced"),))
    for text in files.values():
        assert not any(k in text for k in FAKE_KEYS.values())
    assert "REPLACE_WITH_PSK_FROM_ENV_GEN_PSK_DC1" in files["onprem/DC1/dc1-edge1.ios"]


def test_missing_secret_is_a_clear_error(tmp_path, monkeypatch) -> None:
    for key in FAKE_KEYS:
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(main, ["render", str(CSP), "-o", str(tmp_path / "o"), "--secrets"])
    assert result.exit_code == 2 and "env:GEN_PSK_DC1 is not set" in result.stderr
    assert not (tmp_path / "o").exists()


def test_apipa_device_peers_with_azure_custom_apipa_and_initiates(rendered) -> None:
    files = rendered["dr-pair"]  # no state needed: APIPA addresses are known before deployment
    resources = arm(files)
    custom = {
        c["customBgpIpAddress"]: resources[("virtualNetworkGateways", _name(conn["virtualNetworkGateway1"]["id"]))][
            "bgpSettings"
        ]["asn"]
        for (kind, _), conn in resources.items()
        if kind == "connections" and conn["connectionType"] == "IPsec"
        for c in conn["gatewayCustomBgpIpAddresses"]
    }
    assert custom == {"169.254.21.1": 65040, "169.254.21.5": 65041}
    lines = _junos(files["onprem/DC1/dc1-fw1.set"])
    neighbors = {
        m.group(1): int(m.group(2))
        for line in lines
        if (m := re.match(r"^set protocols bgp group AZURE neighbor (\S+) peer-as (\d+)$", line))
    }
    assert neighbors == custom
    assert _one(lines, r"^set protocols bgp group AZURE local-address (\S+)$") == "169.254.21.10"
    for n, address in enumerate(custom, start=1):
        assert f"set routing-options static route {address}/32 next-hop st0.{n}" in lines
    assert not any("passive" in line for line in lines)
    assert any(line.endswith("establish-tunnels immediately") for line in lines)


def test_interface_script_refuses_to_run_with_placeholders(rendered, tmp_path) -> None:
    script = tmp_path / "dc3-edge1.interfaces.sh"
    script.write_text(rendered["csp-advanced"]["onprem/DC3/dc3-edge1.interfaces.sh"], encoding="utf-8")
    run = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert run.returncode == 1
    assert "2 Azure-assigned values are placeholders; render with --azure-state first" in run.stderr
    assert list(tmp_path.iterdir()) == [script]  # nothing ran (a '<x>' would be a shell redirection)

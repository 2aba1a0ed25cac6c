"""The runbook target: README.md, topology.dot and topology.svg, checked with real parsers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from checks_runbook import check_files, check_markdown, check_mermaid, mermaid_blocks
from click.testing import CliRunner
from conftest import INVENTORIES, ROOT, inventory_ids, render_files, write_inventory

from generator.cli import main
from generator.pipeline import build_model
from generator.platforms import PLATFORMS

CSP = ROOT / "inventories" / "csp-advanced.yaml"
SVG_NS = "{http://www.w3.org/2000/svg}"


def runbook_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p in ("README.md", "topology.dot", "topology.svg")}


def test_runbook_passes_mermaid_graphviz_and_markdown(rendered) -> None:
    files = {}
    for inventory in inventory_ids():  # one Mermaid run for all inventories (node starts slowly)
        own = runbook_files(rendered[inventory])
        assert set(own) == {"README.md", "topology.dot"}
        files.update({f"{inventory}/{path}": text for path, text in own.items()})
    assert check_files(files) == []


def test_the_validators_reject_broken_output(rendered) -> None:
    readme = rendered["csp-advanced"]["README.md"]
    broken = readme.replace("<-->|", '<-->|"oops|', 1)
    assert check_mermaid({"broken": mermaid_blocks(broken)[0]}), "the Mermaid parser accepted a broken edge label"
    table = readme.replace("| `SEA-VNET-gw` | VpnGw2AZ | 2 | 2 | 4 / 30 |", "| `SEA-VNET-gw` | VpnGw2AZ | 2 | 4 / 30 |")
    assert table != readme and check_markdown("README.md", table)
    assert check_markdown("README.md", readme.replace("(#placeholders)", "(#placeholder)", 1))


@pytest.fixture(scope="module")
def csp_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csp") / "out"
    result = CliRunner().invoke(main, ["render", str(CSP), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_render_draws_an_svg_with_every_vnet_device_and_tunnel(csp_out: Path) -> None:
    assert shutil.which("dot"), "Graphviz 'dot' is required for this test (tests/run.sh installs graphviz)"
    text = (csp_out / "topology.svg").read_text(encoding="utf-8")
    assert check_files({"topology.svg": text}) == []
    root = ET.fromstring(text)
    labels = {"".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")}
    groups = {g.get("id"): g.get("class") for g in root.iter(f"{SVG_NS}g") if g.get("id")}
    model = build_model(CSP).model
    for vnet in model.vnets:
        assert vnet.name in labels, f"VNet {vnet.name} missing from the SVG"
        assert groups.get(f"vnet:{vnet.name}") == "node vnet"
    for device in model.devices:
        assert device.name in labels, f"device {device.name} missing from the SVG"
        assert groups.get(f"dev:{device.name}") == "node device"
    for gw in model.gateways:
        for inst in gw.instances:
            assert groups.get(f"gw:{gw.name}:{inst.index}") == "node gateway"
    tunnels = {k for k, v in groups.items() if v == "edge tunnel"}
    assert tunnels == {t.key for t in model.tunnels}
    links = {k for k, v in groups.items() if v == "edge link"}
    assert len(links) == len(model.links) // 2 == 3
    assert groups.get("lb:sql-ag-ilb") == "node lb"


def test_svg_is_the_same_on_every_render(csp_out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    CliRunner().invoke(main, ["-q", "render", str(CSP), "-o", str(again)], catch_exceptions=False)
    assert (again / "topology.svg").read_bytes() == (csp_out / "topology.svg").read_bytes()
    assert b"graphviz version" not in (again / "topology.svg").read_bytes()


def test_mermaid_shows_every_vnet_device_and_tunnel(rendered) -> None:
    model = build_model(CSP).model
    diagram = mermaid_blocks(rendered["csp-advanced"]["README.md"])[0]
    for name in [v.name for v in model.vnets] + [d.name for d in model.devices]:
        assert f'["{name}<br/>' in diagram
    assert diagram.count(" <-->|") == len(model.tunnels)
    assert diagram.count(" -.-|") == len(model.links) // 2
    assert '(["sql-ag-ilb<br/>' in diagram


def _table_rows(readme: str, header_start: str) -> list[list[str]]:
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize("inventory", INVENTORIES, ids=inventory_ids())
def test_tunnel_table_has_one_row_per_tunnel_with_both_ends(inventory: Path, rendered) -> None:
    model = build_model(inventory).model
    rows = _table_rows(rendered[inventory.stem]["README.md"], "| Connection, tunnel |")
    assert len(rows) == len(model.tunnels)
    for row, t in zip(rows, model.tunnels, strict=True):
        assert row[0] == f"`{t.connection}` #{t.device_index}"
        assert row[1] == f"`{t.gateway}` #{t.instance}"
        assert row[2] == f"`{t.azure_public_ip}`" and row[4] == f"`{t.device_public_ip}`"
        if t.bgp:
            assert row[5] == f"`{t.azure_bgp_ip}`" and row[6] == f"`{t.device_bgp_ip}`"
            assert row[7] == f"{t.azure_asn} / {t.device_asn}"
        assert t.policy.ike_encryption in row[8] and t.policy.dh_group in row[8]


@pytest.mark.parametrize("inventory", INVENTORIES, ids=inventory_ids())
def test_every_device_has_its_files_and_verification_commands(inventory: Path, rendered) -> None:
    readme = rendered[inventory.stem]["README.md"]
    model = build_model(inventory).model
    sections = re.split(r"^### ", readme.split("## Devices", 1)[1].split("\n## ", 1)[0], flags=re.M)[1:]
    assert len(sections) == len(model.devices)
    for section, device in zip(sections, model.devices, strict=True):
        assert section.startswith(f"`{device.name}`")
        platform = PLATFORMS[device.platform]
        for suffix in platform.files:
            assert f"`onprem/{device.site}/{device.name}{suffix}`" in section
        for command in platform.verify_commands:
            assert f"\n{command}\n" in section


def test_deployment_order_names_every_stage_file_in_order(rendered) -> None:
    readme = rendered["csp-advanced"]["README.md"]
    order = readme.split("## Deployment order", 1)[1].split("\n## ", 1)[0]
    model = build_model(CSP).model
    positions = []
    for rg in model.resource_groups:
        positions.append(order.index(f"--template-file azure/arm/{rg.name}.json"))
    for rg in model.resource_groups:
        positions.append(order.index(f"--template-file azure/arm/{rg.name}.links.json"))
    assert positions == sorted(positions), "stage 2 must come after every stage 1"
    assert "45 minutes or more" in order and "30-45" not in order


def deployment_commands(readme: str) -> list[str]:
    """The shell commands of the deployment order, continuation lines joined."""
    order = readme.split("## Deployment order", 1)[1].split("\n## ", 1)[0]
    text = "\n".join(line.removeprefix("   ") for line in order.splitlines())
    return [c for c in text.replace("\\\n", " ").splitlines() if c.startswith(("az ", "test "))]


def test_every_stage_is_previewed_with_what_if_before_it_is_created(rendered) -> None:
    commands = deployment_commands(rendered["csp-advanced"]["README.md"])
    creates = [c for c in commands if c.startswith("az deployment group create")]
    assert len(creates) == 6  # three resource groups, two stages each
    for create in creates:
        what_if = create.replace("az deployment group create", "az deployment group what-if", 1)
        assert what_if in commands and commands.index(what_if) < commands.index(create), create


def test_resource_groups_are_created_only_when_missing(rendered) -> None:
    # az group create on an existing group replaces its tags: https://github.com/Azure/azure-cli/issues/11513
    commands = deployment_commands(rendered["csp-advanced"]["README.md"])
    groups = [c for c in commands if "az group create" in c]
    assert len(groups) == 3
    for command in groups:
        name = command.split("--name ", 1)[1].split(")")[0]
        assert command.startswith(f'test "$(az group exists --name {name})" = true || az group create '), command


def test_no_key_on_any_command_line(rendered) -> None:
    model = build_model(CSP).model
    for command in deployment_commands(rendered["csp-advanced"]["README.md"]):
        for secret in model.secrets:
            assert secret.name not in command and f"{secret.parameter}=" not in command, command


def keys_script(readme: str) -> str:
    order = readme.split("## Deployment order", 1)[1]
    block = order.split("   GEN_KEYS=", 1)[1].split("   ```", 1)[0]
    return "\n".join(line.removeprefix("   ") for line in ("   GEN_KEYS=" + block).splitlines())


def test_keys_files_are_private_valid_and_removed(tmp_path: Path, rendered, arm_validator) -> None:
    """Runs the runbook's keys step in bash: 0700 folder, 0600 files, valid parameter files, removed on exit."""
    model = build_model(CSP).model
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    keys = {s.name: f'k"e\\y-{i}' for i, s in enumerate(model.secrets)}  # quotes and backslashes survive
    probe = 'stat -c "%a %n" "$GEN_KEYS" "$GEN_KEYS"/*; for f in "$GEN_KEYS"/*; do cat "$f"; echo; done'
    script = keys_script(rendered["csp-advanced"]["README.md"]) + "\n" + probe + "\n"
    out = subprocess.run(
        ["bash", "-e", "-c", script], env={**env, **keys}, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    modes = [line.split()[0] for line in out if line[:1].isdigit()]
    documents = [json.loads(line) for line in out if line.startswith("{")]
    assert modes[0] == "700" and set(modes[1:]) == {"600"} and len(modes) == 7
    for doc in documents:
        assert arm_validator(doc, check_unknown_properties=True) == []
    values = {p["value"] for d in documents for p in d["parameters"].values()}
    assert values == set(keys.values())
    assert list(tmp_path.iterdir()) == [], "the keys folder must be removed when the shell exits"
    for rg in model.resource_groups:  # each stage names exactly the keys file the writer wrote
        names = {f"{rg.name}.keys.json", f"{rg.name}.links.keys.json"}
        assert names <= {Path(line.split()[1]).name for line in out if line[:1].isdigit()}


def test_placeholders_listed_until_an_azure_state_file_fills_them(tmp_path: Path, rendered) -> None:
    model = build_model(CSP).model
    readme = rendered["csp-advanced"]["README.md"]
    placeholders = readme.split("## Placeholders", 1)[1].split("\n## ", 1)[0]
    for text in model.pending:
        assert f"| `{text}` |" in placeholders
    assert "--azure-state" in placeholders

    state = {"gen_azure_state": 1, "gateways": {}}
    for n, gw in enumerate(model.gateways):
        state["gateways"][gw.name] = {
            "instances": [
                {"public_ip": f"192.0.2.{100 + 2 * n + i.index}", "bgp_ips": [f"10.{n + 1}.255.{4 + i.index}"]}
                for i in gw.instances
            ]
        }
    path = tmp_path / "azure-state.json"
    path.write_text(json.dumps(state))
    filled = render_files(CSP, (path,))["README.md"]
    section = filled.split("## Placeholders", 1)[1].split("\n## ", 1)[0]
    assert "None: every Azure-assigned value came from the Azure state file." in section
    assert "Not ready to paste" not in filled
    assert "| `cn-SEA-VNET-dc1-edge1` #2 | `SEA-VNET-gw` #1 | `192.0.2.101` |" in filled


def test_warnings_appear_in_the_runbook(tmp_path: Path) -> None:
    text = CSP.read_text(encoding="utf-8").replace("prefix: 10.2.255.0/27", "prefix: 10.2.255.0/28")
    inventory = write_inventory(tmp_path, text)
    readme = render_files(inventory)["README.md"]
    section = readme.split("## Warnings", 1)[1]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "10.2.255.0/28" in row)
    assert re.search(
        rf"^\| {line}:\d+ \| `azure.vnets\[1\].subnets\[0\].prefix` \| GatewaySubnet 10.2.255.0/28 is smaller than the recommended /27 \| `gateway-subnet-small` \|$",
        section,
        re.M,
    ), section
    count = len(build_model(inventory).warnings)
    assert count == len(build_model(CSP).warnings) + 1
    assert f"| Warnings | {count} (see [Warnings](#warnings)) |" in readme
    assert check_markdown("README.md", readme) == []


def test_runbook_names_no_absolute_path(tmp_path: Path, rendered) -> None:
    for files in rendered.values():
        for path in ("README.md", "topology.dot"):
            assert str(ROOT) not in files[path] and tempfile.gettempdir() not in files[path]


def large_inventory(vnets: int, sites_per_vnet: int) -> str:
    """An estate above topology.DETAIL_LIMIT: documentation addresses, private ASNs."""
    lines = ["name: large", "azure:", "  vnets:"]
    for v in range(vnets):
        lines += [
            f"    - {{name: vnet{v}, resource_group: rg{v}, region: westeurope, address_space: [10.{v}.0.0/16],",
            f"       subnets: [{{name: GatewaySubnet, prefix: 10.{v}.255.0/27}}],",
            f"       gateway: {{sku: VpnGw2AZ, active_active: true, bgp: {{asn: {64600 + v}}}}}}}",
        ]
    sites, connections = [], []
    for n in range(vnets * sites_per_vnet):
        sites.append(
            f"    - {{name: s{n}, asn: {65000 + n}, prefixes: [172.16.{n}.0/24], devices: [{{name: d{n}, platform: juniper_srx, public_ip: 198.51.100.{n + 1}, bgp_ip: 192.168.0.{n + 1}}}]}}"
        )
        connections.append(f"    - {{site: s{n}, vnet: vnet{n % vnets}, psk: {{env: K}}}}")
    return "\n".join([*lines, "onprem:", "  sites:", *sites, "  connections:", *connections]) + "\n"


def test_a_large_estate_gets_a_summarised_picture(tmp_path: Path) -> None:
    from generator.pipeline import render_all
    from generator.topology import DETAIL_LIMIT

    inventory = write_inventory(tmp_path, large_inventory(4, 30))
    model = build_model(inventory).model
    assert len(model.devices) + len(model.tunnels) > DETAIL_LIMIT
    files = {f.path: f.text for f in render_all(model, targets=("runbook",), svg=True)}
    assert check_files(files) == []
    diagram = mermaid_blocks(files["README.md"])[0]
    assert len(diagram) < 50_000, "beyond Mermaid's default maxTextSize"
    counts = [int(n) for n in re.findall(r'<-->\|"(\d+) tunnels', diagram)]
    assert sum(counts) == len(model.tunnels) == 240 and len(counts) == 8
    root = ET.fromstring(files["topology.svg"])
    labels = {"".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")}
    assert {v.name for v in model.vnets} <= labels
    assert "30 sites to vnet0" in labels
    assert len(_table_rows(files["README.md"], "| Connection, tunnel |")) == 240


SPOKE = """
    - name: SPOKE-VNET
      resource_group: rg-sea-network
      region: westus
      address_space: [10.4.0.0/16]
      subnets:
        - {name: app, prefix: 10.4.1.0/24}

  peerings:
    - {vnets: [SEA-VNET, SPOKE-VNET], transit_via: SEA-VNET}
"""


def test_peerings_and_gateway_less_vnets_are_drawn(tmp_path: Path) -> None:
    from generator.pipeline import render_all

    text = CSP.read_text(encoding="utf-8")
    text = text.replace("\n  vnet_links:", SPOKE.rstrip("\n") + "\n\n  vnet_links:", 1)
    model = build_model(write_inventory(tmp_path, text)).model
    assert len(model.peerings) == 2 and model.warnings
    files = {f.path: f.text for f in render_all(model, targets=("runbook",), svg=True)}
    assert check_files(files) == []
    diagram = mermaid_blocks(files["README.md"])[0]
    assert diagram.count(' ---|"peering, gateway transit"| ') == 1
    assert '["SPOKE-VNET<br/>10.4.0.0/16"]' in diagram
    root = ET.fromstring(files["topology.svg"])
    groups = {g.get("id"): g.get("class") for g in root.iter(f"{SVG_NS}g") if g.get("id")}
    assert groups.get("peering:SEA-VNET~SPOKE-VNET") == "edge peering"
    readme = files["README.md"]
    assert "- Stage 2: peering `peer-SEA-VNET-to-SPOKE-VNET` (allows gateway transit)" in readme
    assert "- Stage 2: peering `peer-SPOKE-VNET-to-SEA-VNET` (uses the remote gateway)" in readme
    assert "`transit-single-gateway`" in readme.split("## Warnings", 1)[1]


def test_an_azure_only_inventory_renders_a_valid_runbook(tmp_path: Path) -> None:
    text = """name: azure-only
azure:
  vnets:
    - {name: app-vnet, resource_group: rg, region: westeurope, address_space: [10.0.0.0/16], subnets: [{name: app, prefix: 10.0.1.0/24}]}
"""
    files = runbook_files(render_files(write_inventory(tmp_path, text)))
    assert check_files(files) == []
    readme = files["README.md"]
    assert "No on-premises sites." in readme and "No site-to-site tunnels." in readme
    assert "4. **Azure-assigned values**: none pending" in readme and "az deployment group show" not in readme

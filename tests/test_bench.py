"""bench/: the synthetic inventories are valid, and the floor renders what gen renders (no timing here)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import make_inventory  # noqa: E402
import workload  # noqa: E402

from generator.pipeline import build_model, render_all  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 37])
def test_synthetic_inventory_passes_gen_validate(tmp_path: Path, n: int) -> None:
    inventory = tmp_path / "inv.yaml"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_inventory.py"), str(n), "-o", str(inventory)], check=True
    )
    run = subprocess.run(
        [sys.executable, "-m", "generator", "validate", str(inventory)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert f" {n} device{'' if n == 1 else 's'}," in run.stderr  # "1 device", "2 devices"
    # VpnGw4AZ Generation2 hubs (100 connections) are beyond AzureRM 6.13: those warnings only
    warnings = [line for line in run.stderr.splitlines() if ": warning: " in line]
    assert all(line.endswith(("(rule azurerm-unsupported)", "(rule azurerm-fallback)")) for line in warnings), warnings


def test_synthetic_inventory_has_the_promised_mix(tmp_path: Path) -> None:
    """N=400: several hubs within budget, 1- and 2-device sites, every platform, BGP with and without APIPA, static."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(make_inventory.make(400))
    result = build_model(inventory)
    assert {w.problem.rule for w in result.warnings} <= {"azurerm-unsupported", "azurerm-fallback"}
    model = result.model
    assert len(model.devices) == 400
    assert Counter(len(s.devices) for s in model.sites).keys() == {1, 2}
    assert {d.platform for d in model.devices} == {"cisco_iosxe", "juniper_srx", "strongswan_frr"}
    assert len(model.gateways) >= 5 and all(g.active_active for g in model.gateways)
    per_gateway = Counter(c.gateway.name for c in model.connections) + Counter(x.local.name for x in model.links)
    assert max(per_gateway.values()) <= 100 and max(per_gateway.values()) > 30  # the big SKUs are used
    tunnels = model.tunnels
    assert any(t.bgp and t.apipa for t in tunnels)
    assert any(t.bgp and not t.apipa for t in tunnels)
    assert any(not t.bgp for t in tunnels)


def test_synthetic_inventory_is_deterministic() -> None:
    assert make_inventory.make(120, seed=7) == make_inventory.make(120, seed=7)
    assert make_inventory.make(120, seed=7) != make_inventory.make(120, seed=8)


def test_floor_renders_the_same_templates_into_the_same_files(tmp_path: Path) -> None:
    """The floor replays gen's captured renders: same paths; same content up to gen's post-processing."""
    inventory = ROOT / "inventories" / "csp-advanced.yaml"
    jobs = workload.capture(inventory)
    gen_files = {f.path: f.text for f in render_all(build_model(inventory).model)}
    assert sorted(path for path, _, _ in jobs) == sorted(gen_files)
    jobs_file = tmp_path / "jobs.pickle"
    jobs_file.write_bytes(pickle.dumps(jobs))
    out = tmp_path / "floor"
    subprocess.run([sys.executable, str(ROOT / "bench" / "floor.py"), str(jobs_file), str(out)], check=True)
    for path, text in gen_files.items():
        floor_text = (out / path).read_text(encoding="utf-8")
        if path.endswith(".json"):  # gen re-serializes ARM canonically
            assert json.loads(floor_text) == json.loads(text), path
        else:
            assert floor_text == text, path


def test_plain_host_variables_render_like_the_model() -> None:
    """What the Ansible peer gets per device (plain data) renders the stand-in template like the model does."""
    from generator.render import environment

    model = build_model(ROOT / "inventories" / "csp-advanced.yaml").model
    env = environment(None)
    env_loader_paths = env.loader.searchpath
    assert env_loader_paths  # the stand-in lives in bench/, render it from source
    template = env.from_string((ROOT / "bench" / "ansible" / "standin-device.j2").read_text())
    for device in model.devices:
        tunnels = model.device_tunnels[device.name]
        plain = template.render(device=workload.plain(device), tunnels=workload.plain(tunnels))
        assert plain == template.render(device=device, tunnels=tunnels)
        assert device.name in plain


def test_ansible_inventory_is_plain_yaml_of_gen_device_templates(tmp_path: Path, monkeypatch) -> None:
    """The Ansible peer's host variables dump as safe YAML (no Platform object) and use gen's own templates."""
    import run
    import yaml

    monkeypatch.setattr(run, "RESULTS", tmp_path)
    jobs = workload.capture(ROOT / "inventories" / "csp-advanced.yaml")
    path, mode, _ = run.ansible_inputs(4, jobs)
    assert mode == "gen's device templates (templates/onprem/)", mode
    hosts = yaml.safe_load(path.read_text())["all"]["hosts"]
    assert hosts and all(h["v"]["platform"]["key"] and h["gen_files"] for h in hosts.values())

"""Property-based tests: random valid inventories always render into outputs the real validators accept,
byte-identically across runs and hash seeds; random invalid mutations are always refused cleanly.

Examples: N = GEN_HYPOTHESIS_EXAMPLES (default 4, for CI) valid inventories through the real validators
(the official ARM schemas take 0.3-1 s a file), 5N rendered twice, N/4 batches of three under two hash
seeds, 15N invalid mutations. Run more with e.g. GEN_HYPOTHESIS_EXAMPLES=100; a failing example is
printed as drawn (add GEN_HYPOTHESIS_SHRINK=1 to shrink it first: slow with the real validators). Every `tests/checks_*.py`
(`check_files(files: dict[str, str]) -> list[str]`) that exists joins automatically.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner
from conftest import ROOT
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from strategies import invalid, inventories

from generator.cli import main
from generator.pipeline import build_model, render_all

EXAMPLES = int(os.environ.get("GEN_HYPOTHESIS_EXAMPLES", "4"))
SHRINK = os.environ.get("GEN_HYPOTHESIS_SHRINK") == "1"  # shrinking slow examples can take many minutes
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,  # no .hypothesis folder in the work tree; a failure prints how to reproduce it
)
ERROR_LINE = re.compile(r"^.+:\d+:\d+: (warning: )?\S+: .+ \(rule [a-z0-9-]+\)$")


def checkers() -> dict[str, object]:
    """check_files of every tests/checks_*.py: each output family's real validator."""
    found = {}
    for path in sorted(Path(__file__).parent.glob("checks_*.py")):
        module = importlib.import_module(path.stem)
        found[path.stem] = module.check_files
    return found


CHECKERS = checkers()


def dump(data: dict) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=10**6, allow_unicode=True)


def features(data: dict) -> dict[str, bool]:
    gateways = [v["gateway"] for v in data["azure"]["vnets"] if "gateway" in v]
    return {
        "several VNets": len(data["azure"]["vnets"]) > 1,
        "BGP": any("bgp" in g for g in gateways),
        "APIPA": any("apipa_addresses" in g.get("bgp", {}) for g in gateways),
        "two devices": any(len(s["devices"]) == 2 for s in data["onprem"]["sites"]),
        "custom policy": any("ipsec_policy" in c for c in data["onprem"]["connections"]),
        "links": "vnet_links" in data["azure"],
        "peerings": "peerings" in data["azure"],
        "load balancer": "load_balancers" in data["azure"],
    }


def render_text(text: str, folder: Path, state: dict | None = None) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    inventory = folder / "inventory.yaml"
    inventory.write_text(text, encoding="utf-8")
    states: tuple[Path, ...] = ()
    if state is not None:
        states = (folder / "azure-state.json",)
        states[0].write_text(json.dumps(state), encoding="utf-8")
    return {f.path: f.text for f in render_all(build_model(inventory, states).model)}


def azure_state(data: dict) -> dict:
    """What Azure would assign to every gateway (documentation public IPs, BGP IPs in GatewaySubnet)."""
    gateways = {}
    for i, vnet in enumerate(data["azure"]["vnets"]):
        gateway = vnet.get("gateway")
        if gateway is None:
            continue
        count = 2 if gateway.get("active_active") else 1
        gateways[gateway.get("name", f"{vnet['name']}-gw")] = {
            "instances": [
                {"public_ip": f"203.0.113.{10 * i + k + 1}", "bgp_ips": [f"10.{i}.255.{k + 4}"]} for k in range(count)
            ]
        }
    return {"gen_azure_state": 1, "gateways": gateways}


@settings(SETTINGS, max_examples=EXAMPLES * 5)
@given(data=inventories())
def test_valid_inventories_always_render_the_same(data, tmp_path_factory) -> None:
    """Cheap and many: render (targets verify their own output) twice, byte-identical."""
    for feature, present in features(data).items():
        event(f"{feature}: {present}")  # pytest --hypothesis-show-statistics shows the mix
    folder = tmp_path_factory.mktemp("valid")  # the same path twice: outputs may name their source
    files = render_text(dump(data), folder)
    assert any(p.startswith("azure/arm/") for p in files)
    assert render_text(dump(data), folder) == files, "rendering is not deterministic"


@SETTINGS
@given(data=inventories())
def test_valid_inventories_pass_the_real_validators(data, arm_validator, tmp_path_factory) -> None:
    """Fewer and thorough: the official ARM schemas on every ARM file, and every checks_*.py.

    Rendered with an Azure state file, as after deployment: device files then hold no placeholders.
    """
    files = render_text(dump(data), tmp_path_factory.mktemp("validators"), azure_state(data))
    arm = {p: t for p, t in files.items() if p.startswith("azure/arm/")}
    assert arm, "no ARM output"
    for path, text in arm.items():
        problems = arm_validator(json.loads(text), check_unknown_properties=True)
        assert problems == [], (path, problems)
    for name, check in CHECKERS.items():
        problems = check(files)
        assert problems == [], (name, problems)


DRIVER = """
import hashlib, json, sys
from pathlib import Path
from generator.pipeline import build_model, render_all
result = {}
for path in sys.argv[1:]:
    files = render_all(build_model(Path(path)).model)
    result[path] = [(f.path, hashlib.sha256(f.text.encode()).hexdigest(), f.secret) for f in files]
print(json.dumps(result))
"""


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 4))
@given(batch=st.lists(inventories(), min_size=3, max_size=3))
def test_output_is_identical_across_hash_seeds(batch, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("seeds")
    paths = []
    for index, data in enumerate(batch):
        path = folder / f"inventory{index}.yaml"
        path.write_text(dump(data), encoding="utf-8")
        paths.append(str(path))
    outputs = []
    for seed in ("0", "2718281"):
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, *paths],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


@settings(SETTINGS, max_examples=EXAMPLES * 15)
@given(data=st.data())
def test_invalid_mutations_are_refused_cleanly(data, tmp_path_factory) -> None:
    valid = data.draw(inventories(), label="valid inventory")
    kind, text = data.draw(invalid(valid), label="mutation")
    folder = tmp_path_factory.mktemp("invalid")
    inventory = folder / "inventory.yaml"
    inventory.write_text(text, encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, ["render", str(inventory), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 2, (kind, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines), (kind, result.stderr)
    assert not out.exists()

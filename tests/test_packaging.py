"""The wheel ships templates and schemas: a fresh venv renders the example outside the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

from conftest import ROOT


def test_fresh_venv_install_renders_outside_the_checkout(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([python, "-m", "pip", "install", "-q", str(ROOT)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = elsewhere / "out"
    gen = env_dir / "bin" / "gen"
    done = subprocess.run(
        [gen, "render", str(ROOT / "inventories" / "csp-advanced.yaml"), "-o", str(out)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "azure" / "arm" / "rg-sea-network.json").is_file()
    located = subprocess.run(
        [
            python,
            "-c",
            "from generator.resources import resource_path as r; print(r('templates')); print(r('schemas'))",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    for line in located.stdout.split():
        assert Path(line).is_dir() and str(env_dir) in line, located.stdout
    schema = subprocess.run([gen, "schema"], cwd=elsewhere, capture_output=True, text=True)
    assert json.loads(schema.stdout)["title"] == "gen inventory"
    assert sys.version_info >= (3, 11)

"""The runbook's commands (issue 17): real names everywhere, a --secrets step with the real variable
names, and a render that leaves the shell's working directory valid when it stands in the output folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import FAKE_KEYS, ROOT, state_example

from generator.cli import main

CSP = ROOT / "inventories" / "csp-advanced.yaml"
BIN = Path(sys.executable).parent  # where the test environment's `gen` is


def render_into(parent: Path, *extra: str) -> Path:
    """Copy the example inventory into `parent`/inventories and render it into `parent`/out from `parent`."""
    (parent / "inventories").mkdir(parents=True)
    inventory = parent / "inventories" / CSP.name
    shutil.copy(CSP, inventory)
    done = subprocess.run(
        [BIN / "gen", "-q", "render", "inventories/csp-advanced.yaml", "-o", "out", *extra],
        cwd=parent,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    return parent / "out"


def shell_blocks(readme: str) -> list[str]:
    return re.findall(r"```(?:sh|bash)\n(.*?)```", readme, re.S)


def test_every_command_names_real_things(tmp_path: Path) -> None:
    readme = (render_into(tmp_path) / "README.md").read_text()
    commands = "\n".join(shell_blocks(readme)) + "\n".join(re.findall(r"`(gen [^`]+)`", readme))
    assert commands.count("\n") > 20
    for placeholder in ("INVENTORY", "OUT", " RG ", "CONNECTION", "<resource group>"):
        assert placeholder not in commands, placeholder
    assert not re.search(r"<[A-Za-z][^<>\n]*>", commands), "an <angle-bracket> placeholder in a command"
    assert "gen render inventories/csp-advanced.yaml -o out" in readme
    assert "gen check inventories/csp-advanced.yaml -o out" in readme
    for name in ("cn-SEA-VNET-dc1-edge1", "cn-SEA-VNET-dc1-edge2", "cn-LON-VNET-dc2-edge1", "cn-MUM-VNET-dc3-edge1"):
        assert f"--name {name} --query connectionStatus" in readme


def test_the_secrets_step_names_the_variables_the_device_files_need(tmp_path: Path) -> None:
    readme = (render_into(tmp_path) / "README.md").read_text()
    step = readme[readme.index("5. **Render the device files again") : readme.index("6. **Configure each device")]
    for variable in ("GEN_PSK_DC1", "GEN_PSK_DC2", "GEN_PSK_DC3"):
        assert f"read -rsp '{variable}: ' {variable} && export {variable}" in step
    assert "GEN_PSK_VNET_MESH" not in step, "no device file holds the VNet-to-VNet key"
    assert re.search(r"cd \.\. && gen render inventories/csp-advanced\.yaml -o out .*--secrets; cd out\n", step)
    # the device files' placeholder names the variable the user sets, not the ARM parameter
    ios = (tmp_path / "out/onprem/DC1/dc1-edge1.ios").read_text()
    assert "pre-shared-key REPLACE_WITH_PSK_FROM_ENV_GEN_PSK_DC1\n" in ios


def test_the_runbooks_render_from_inside_the_output_folder_keeps_the_shell_working(tmp_path: Path) -> None:
    """Run step 5 as written, in a shell standing in the output folder (keys from the environment)."""
    out = render_into(tmp_path)
    readme = (out / "README.md").read_text()
    for name in ("rg-sea-network", "rg-lon-network", "rg-mum-network"):  # step 4's files (one state file each)
        shutil.copy(state_example("csp-advanced"), out / f"azure-state-{name}.json")
    step = next(block for block in shell_blocks(readme) if "--secrets" in block)
    script = "\n".join(line.strip() for line in step.splitlines() if not line.strip().startswith("read "))
    script += '\npwd; test -f README.md && test "$(pwd -P)" = "$(cd "$PWD" && pwd -P)" && echo CWD-OK'
    keys = {k: FAKE_KEYS[k] for k in ("GEN_PSK_DC1", "GEN_PSK_DC2", "GEN_PSK_DC3")}
    env = {**os.environ, **keys, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-e", "-c", script], cwd=out, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [str(out), "CWD-OK"], done.stdout
    assert FAKE_KEYS["GEN_PSK_DC1"] in (out / "onprem/DC1/dc1-edge1.ios").read_text()
    assert "<SEA-VNET-gw-pip1>" not in (out / "onprem/DC1/dc1-edge1.ios").read_text()


def test_output_on_the_working_directory_or_a_parent_is_refused(tmp_path: Path) -> None:
    out = render_into(tmp_path)
    (out / "onprem" / "DC1").mkdir(exist_ok=True)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    for cwd, target in ((out, "."), (out / "onprem" / "DC1", "../.."), (out, str(out))):
        script = f"gen render {tmp_path / 'inventories' / CSP.name} -o {target}; echo rc=$?; ls README.md >/dev/null 2>&1 || ls .. >/dev/null && pwd -P"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"},
        )
        assert "rc=2" in done.stdout, done.stdout + done.stderr
        assert done.stderr.rstrip().endswith("(rule output-contains-cwd)"), done.stderr
        assert "run gen from another folder" in done.stderr
        assert Path(cwd).is_dir() and done.stdout.splitlines()[-1] == str(cwd)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_an_output_folder_beside_the_working_directory_is_fine(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["-q", "render", str(ROOT / "inventories" / "minimal.yaml"), "-o", "out"])
    assert result.exit_code == 0, result.output

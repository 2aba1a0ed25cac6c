"""CLI manners: help with examples, --version, colour only on a terminal and never with NO_COLOR,
-q/-v, errors on stderr, shell completion, lazy imports."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT, write_inventory

from generator import __version__
from generator.cli import main

CSP = ROOT / "inventories" / "csp-advanced.yaml"
ANSI = "\x1b["


def command_names() -> list[str]:
    ctx = click.Context(main)
    return sorted(main.list_commands(ctx))


@pytest.mark.parametrize("command", ["", *command_names()])
def test_every_command_has_help_with_examples(command: str) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "Example" in result.stdout and "gen " in result.stdout.split("Example", 1)[1]
    short = CliRunner().invoke(main, [command, "-h"] if command else ["-h"])
    assert short.stdout == result.stdout


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"gen, version {__version__}\n"


def test_errors_go_to_stderr_only(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, CSP.read_text().replace("asn: 65101", "asn: 65515"))
    for command in ("validate", "plan", "render", "check"):
        args = [command, str(inventory)] + (["-o", str(tmp_path / "out")] if command in ("render", "check") else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.stdout == "", command
        assert "(rule asn-reserved)" in result.stderr


def test_quiet_and_verbose(tmp_path: Path) -> None:
    quiet = CliRunner().invoke(main, ["-q", "render", str(CSP), "-o", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    verbose = CliRunner().invoke(main, ["-v", "render", str(CSP), "-o", str(tmp_path / "v")])
    assert f"wrote {tmp_path / 'v' / 'README.md'}" in verbose.stderr
    normal = CliRunner().invoke(main, ["render", str(CSP), "-o", str(tmp_path / "n")])
    assert "wrote " not in normal.stderr and " written, " in normal.stderr


def _run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run `python -m generator ARGS` with stdout and stderr on a pseudo-terminal; return what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args], stdout=follower, stderr=follower, cwd=ROOT, env=env
    )
    os.close(follower)
    chunks = []
    while True:  # read while it runs: a full terminal buffer would block the child
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO once the child has exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert ANSI in _run_on_terminal(["plan", str(CSP)], env)
    plain = _run_on_terminal(["plan", str(CSP)], {**env, "NO_COLOR": "1"})
    assert "Plan for csp-advanced" in plain and ANSI not in plain
    piped = subprocess.run(
        [sys.executable, "-m", "generator", "plan", str(CSP)], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert piped.returncode == 0 and "Plan for csp-advanced" in piped.stdout and ANSI not in piped.stdout


def test_no_color_wins_even_when_colour_is_forced() -> None:
    forced = CliRunner().invoke(main, ["plan", str(CSP)], color=True)
    assert ANSI in forced.stdout
    plain = CliRunner(env={"NO_COLOR": "1"}).invoke(main, ["plan", str(CSP)], color=True)
    assert plain.exit_code == 0 and ANSI not in plain.stdout


def test_shell_completion_as_documented() -> None:
    env = {**os.environ, "_GEN_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "generator"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert script.returncode == 0 and "_gen_completion" in script.stdout and "complete " in script.stdout
    env = {**os.environ, "_GEN_COMPLETE": "bash_complete", "COMP_WORDS": "gen re", "COMP_CWORD": "1"}
    words = subprocess.run([sys.executable, "-m", "generator"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert words.stdout.split() == ["plain,render"]
    assert "_GEN_COMPLETE=bash_source gen" in CliRunner().invoke(main, ["--help"]).stdout


def test_the_cli_module_imports_nothing_heavy() -> None:
    code = "import sys, generator.cli; print(sorted(m for m in ('jinja2', 'yaml', 'jsonschema', 'generator.pipeline', 'generator.topology') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stdout

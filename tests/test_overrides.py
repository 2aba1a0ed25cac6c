"""--templates: a user's template folder overrides the built-in templates file by file."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT, render_files
from test_cli import tree_digest

from generator.cli import main
from generator.resources import resource_path

CSP = ROOT / "inventories" / "csp-advanced.yaml"
EXAMPLE = ROOT / "docs" / "examples" / "templates-override"


def changed(a: dict[str, str], b: dict[str, str]) -> list[str]:
    assert set(a) == set(b)
    return sorted(p for p in a if a[p] != b[p])


def test_the_documented_example_changes_only_the_runbook() -> None:
    plain = render_files(CSP)
    custom = render_files(CSP, templates=str(EXAMPLE))
    assert changed(plain, custom) == ["README.md"]
    assert "## Change window (Contoso network operations)" in custom["README.md"]
    assert (
        "save the running configuration of `dc1-edge1`, `dc1-edge2`, `dc2-edge1`, `dc3-edge1`." in custom["README.md"]
    )
    assert custom["README.md"].startswith(plain["README.md"].rstrip("\n"))


def test_an_arm_resource_override_changes_only_the_groups_that_use_it(tmp_path: Path) -> None:
    folder = tmp_path / "house" / "arm" / "resources"
    folder.mkdir(parents=True)
    builtin = (resource_path("templates") / "arm" / "resources" / "load_balancer.json.j2").read_text(encoding="utf-8")
    assert '"name": {{ lb.name | tojson }},' in builtin
    (folder / "load_balancer.json.j2").write_text(
        builtin.replace('"name": {{ lb.name | tojson }},', '"name": {{ ("lb-" ~ lb.name) | tojson }},'),
        encoding="utf-8",
    )
    plain = render_files(CSP)
    custom = render_files(CSP, templates=str(tmp_path / "house"))
    assert changed(plain, custom) == ["azure/arm/rg-sea-network.json"]
    assert '"name": "lb-sql-ag-ilb"' in custom["azure/arm/rg-sea-network.json"]


def test_render_and_check_take_the_same_override(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["-o", str(out), "--templates", str(EXAMPLE)]
    assert runner.invoke(main, ["render", str(CSP), *args]).exit_code == 0
    assert runner.invoke(main, ["check", str(CSP), *args]).exit_code == 0
    before = tree_digest(out)
    without = runner.invoke(main, ["check", str(CSP), "-o", str(out)])
    assert without.exit_code == 1 and "--- " + str(out / "README.md") in without.stdout
    assert "-## Change window (Contoso network operations)" in without.stdout
    assert tree_digest(out) == before


def test_a_broken_override_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "bad" / "runbook"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE / "runbook" / "_notes.md.j2", folder)
    (folder / "_notes.md.j2").write_text("{% for d in model.devices %}{{ d.nosuchfield }}{% endfor %}\n")
    result = CliRunner().invoke(
        main, ["render", str(CSP), "-o", str(tmp_path / "out"), "--templates", str(tmp_path / "bad")]
    )
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{folder / '_notes.md.j2'}: line 1: template error: ") and line.endswith(
        "(rule template-error)"
    ), line  # the override's own path: the user finds the file
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()

"""The bad-input corpus (tests/bad, tests/warn): every bad inventory is refused cleanly, at its position.

See tests/bad/README.md for the file format. Each case: exit code 2, `file:line:col: path: ... (rule id)`,
no traceback, and the output folder (a previous render plus a file of the user's) byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from generator.cli import main
from generator.loader import MAX_BYTES
from generator.rulebook import STRUCTURAL_RULES, registry

RULES = registry()

BAD = ROOT / "tests" / "bad"
WARN = ROOT / "tests" / "warn"
HEADER = re.compile(rb"^# expect: (?P<rule>[a-z0-9-]+) at (?P<line>\d+):(?P<col>\d+) (?P<path>\S+)\r?\n")
MIN_CORPUS = 150


def corpus(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.yaml"))


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def expectation(path: Path) -> tuple[str, int, int, str]:
    match = HEADER.match(path.read_bytes())
    assert match, f"{path}: the first line must be '# expect: RULE-ID at LINE:COL PATH'"
    return match["rule"].decode(), int(match["line"]), int(match["col"]), match["path"].decode()


def tree_state(folder: Path) -> dict[str, tuple[str, int]]:
    """Relative path -> (sha256, mode) of every file, and of the folders too."""
    state = {}
    for p in sorted(folder.rglob("*")):
        key = p.relative_to(folder).as_posix()
        state[key] = (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir", p.stat().st_mode)
    return state


@pytest.fixture(scope="session")
def previous_output(tmp_path_factory) -> Path:
    """An output folder as a previous successful run left it, plus a file gen did not write."""
    out = tmp_path_factory.mktemp("previous") / "out"
    result = CliRunner().invoke(
        main, ["-q", "render", str(ROOT / "inventories" / "minimal.yaml"), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    (out / "notes.txt").write_text("the user's own file\n")
    return out


@pytest.fixture
def out_folder(previous_output: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(previous_output, out)
    return out


def refused(inventory: Path, out: Path, rule: str, line: int, col: int, path: str) -> None:
    """Run `gen render` and check the refusal: exit 2, the located line, no traceback, out unchanged."""
    before = tree_state(out)
    siblings = sorted(p.name for p in out.parent.iterdir())
    result = CliRunner().invoke(main, ["render", str(inventory), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    # line 0: the problem has no position in the file: `FILE: message (rule id)`
    prefix = f"{inventory}:{line}:{col}: {path}: " if line else f"{inventory}: "
    assert any(x.startswith(prefix) and x.endswith(f"(rule {rule})") for x in lines), (
        f"expected '{prefix}... (rule {rule})' in:\n{result.stderr}"
    )
    assert all(re.match(r"^.+(:\d+:\d+: \S+)?: .+ \(rule [a-z0-9-]+\)$", x) for x in lines), result.stderr
    assert tree_state(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == siblings  # no staging folder left behind


@pytest.mark.parametrize("inventory", corpus(BAD), ids=case_id)
def test_bad_inventory_is_refused_at_its_position(inventory: Path, out_folder: Path) -> None:
    rule, line, col, path = expectation(inventory)
    assert rule == inventory.parent.name, "a case lives in the folder named after its rule"
    refused(inventory, out_folder, rule, line, col, path)


@pytest.mark.parametrize("inventory", corpus(WARN), ids=case_id)
def test_warning_inventory_warns_at_its_position(inventory: Path) -> None:
    rule, line, col, path = expectation(inventory)
    assert rule == inventory.parent.name and RULES[rule].severity == "warning"
    result = CliRunner().invoke(main, ["validate", str(inventory)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    expected = f"{inventory}:{line}:{col}: warning: {path}: "
    assert any(x.startswith(expected) and x.endswith(f"(rule {rule})") for x in result.stderr.splitlines()), (
        result.stderr
    )


def _sparse(size: int):
    def make(path: Path) -> None:
        with open(path, "wb") as handle:
            handle.write(b"name: big\n")
            handle.truncate(size)  # sparse: the loader must refuse it by size, without reading it

    return make


def _long_list(path: Path) -> None:
    """A site with 10,001 prefixes (10,000 lines: too long to commit)."""
    minimal = (ROOT / "inventories" / "minimal.yaml").read_text().split("\n", 1)[1]
    prefixes = "".join(f"        - 172.16.{i >> 8}.{i & 255}/32\n" for i in range(10_001))
    path.write_text(minimal.replace("      prefixes: [192.168.10.0/24]\n", "      prefixes:\n" + prefixes))


# Cases that cannot be committed as files: name -> (make the file, rule, line, col, path); line 0: no position
GENERATED = {
    "zero-byte-file": (lambda p: p.write_bytes(b""), "inventory-empty", 1, 1, "$"),
    "one-byte-over-10-mib": (_sparse(MAX_BYTES + 1), "inventory-too-large", 0, 0, ""),
    "fifty-megabytes": (_sparse(50 * 1024 * 1024), "inventory-too-large", 0, 0, ""),
    "missing-file": (lambda p: None, "inventory-unreadable", 0, 0, ""),
    "a-folder": (lambda p: p.mkdir(), "inventory-unreadable", 0, 0, ""),
    "a-fifo": (lambda p: os.mkfifo(p), "inventory-unreadable", 0, 0, ""),  # read, it would block forever
    "prefix-list-of-10001": (_long_list, "yaml-too-many-items", 10023, 11, "onprem.sites[0].prefixes[10000]"),
    "a-symlink-to-dev-zero": (lambda p: p.symlink_to("/dev/zero"), "inventory-unreadable", 0, 0, ""),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_bad_input_is_refused(name: str, out_folder: Path, tmp_path: Path) -> None:
    make, rule, line, col, path = GENERATED[name]
    inventory = tmp_path / f"{name}.yaml"
    make(inventory)
    refused(inventory, out_folder, rule, line, col, path)


@pytest.mark.parametrize(
    "case",
    ["yaml-too-deep/ten-thousand-brackets", "yaml-alias-bomb/billion-laughs", "schema-pattern/vnet-name-with-newline"],
)
def test_refusal_in_a_real_process(case: str, tmp_path: Path) -> None:
    """The same refusals from `python -m generator`: exit status 2, no crash of the interpreter."""
    inventory = BAD / f"{case}.yaml"
    rule, line, col, path = expectation(inventory)
    done = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(inventory), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert f"{inventory}:{line}:{col}: {path}: " in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_corpus_is_large_enough() -> None:
    assert len(corpus(BAD)) + len(GENERATED) >= MIN_CORPUS


def test_every_rule_has_a_corpus_file() -> None:
    """Adding a rule means adding tests/bad/<rule>/ (or tests/warn/<rule>/ for a warning)."""
    bad = {p.parent.name for p in corpus(BAD)} | {case[1] for case in GENERATED.values()}
    warn = {p.parent.name for p in corpus(WARN)}
    missing = [r.id for r in RULES.values() if r.id not in (warn if r.severity == "warning" else bad)]
    missing += [rule for rule in STRUCTURAL_RULES if rule != "schema-*" and rule not in bad]
    assert not missing, f"rules without a corpus file: {missing}"
    known = set(RULES) | set(STRUCTURAL_RULES)
    unknown = sorted(name for name in bad | warn if name not in known and not name.startswith("schema-"))
    assert not unknown, f"corpus folders named after no rule: {unknown}"


SCHEMA_KEYWORDS = {
    "type",
    "enum",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "required",
    "additionalProperties",
    "propertyNames",
    "oneOf",
}


def _keywords_used(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        found |= {
            k for k in node if k in SCHEMA_KEYWORDS and not (k == "additionalProperties" and node[k] is not False)
        }
        for key, value in node.items():
            if key not in ("enum", "required"):
                found |= _keywords_used(value)
    elif isinstance(node, list):
        for value in node:
            found |= _keywords_used(value)
    return found


def _errors(errors):
    for error in errors:
        yield error
        yield from _errors(error.context or ())


def test_every_schema_constraint_kind_is_broken_by_a_corpus_file() -> None:
    """Each validation keyword used in schemas/inventory.schema.json fails at least one corpus file."""
    from generator import schema
    from generator.errors import GenError
    from generator.loader import load

    used = _keywords_used(schema.schema())
    hit: set[str] = set()
    for path in corpus(BAD):
        if path.parent.name.startswith("schema-"):
            try:
                data = load(path).data
            except GenError:
                continue
            for error in _errors(schema._validator().iter_errors(data)):
                hit |= {error.validator} | ({"propertyNames"} & set(error.schema_path))
    assert used - hit == set(), f"no corpus file breaks: {sorted(used - hit)}"


def test_documented_limits_are_the_enforced_ones() -> None:
    """README 'Guarantees' lists the limits; they must be the loader's constants and the schema's maxItems."""
    from generator import loader, schema

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Guarantees") :]
    section = section[: section.index("\n## ", 4)]
    rows = dict(re.findall(r"^\| `?([^|`]+?)`? \| ([^|]+?) \| `[a-z-]+` \|$", section, re.M))
    assert rows["inventory file"] == f"{loader.MAX_BYTES // 2**20} MiB"
    assert rows["values after expanding YAML aliases"] == f"{loader.MAX_NODES:,}"
    assert rows["nesting depth"] == str(loader.MAX_DEPTH)
    assert rows["entries of one list or mapping (while reading, before the schema)"] == f"{loader.MAX_ITEMS:,}"
    assert rows["characters of a number"] == f"{loader.MAX_DIGITS:,}"
    properties = schema.schema()["properties"]
    for path in ("azure.vnets", "azure.vnet_links", "azure.peerings", "azure.load_balancers"):
        assert rows[path] == str(properties["azure"]["properties"][path.split(".")[1]]["maxItems"]), path
    for path in ("onprem.sites", "onprem.connections"):
        assert rows[path] == str(properties["onprem"]["properties"][path.split(".")[1]]["maxItems"]), path
    definitions = schema.schema()["$defs"]
    assert rows["devices per site"] == str(definitions["site"]["properties"]["devices"]["maxItems"])
    assert rows["prefixes per site"] == str(definitions["site"]["properties"]["prefixes"]["maxItems"])
    vnet = definitions["vnet"]["properties"]
    assert rows["subnets / address prefixes per VNet"] == (
        f"{vnet['subnets']['maxItems']} / {vnet['address_space']['maxItems']}"
    )
    assert rows["tags"] == str(properties["tags"]["maxProperties"])
    assert rows["free text (descriptions, locations, tag values)"] == f"{definitions['text']['maxLength']} characters"

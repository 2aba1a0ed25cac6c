"""Generated docs are current, every rule id is documented, the platform guide's checklist holds."""

from __future__ import annotations

import json
import re

from checks_runbook import check_markdown
from conftest import ROOT

from generator import docs
from generator.platforms import PLATFORMS
from generator.rulebook import STRUCTURAL_RULES, registry

RULES = registry()


def test_regenerating_the_docs_changes_nothing() -> None:
    generated = docs.generate(ROOT)
    assert {p.name for p in generated} == {"inventory.md", "rules.md", "cli.md"}
    stale = [p.name for p, text in generated.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"docs out of date: {stale}; run python -m generator.docs"
    assert docs.main(["--check"]) == 0


def test_check_mode_notices_a_stale_doc(tmp_path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "inventory.schema.json").write_text(
        (ROOT / "schemas" / "inventory.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert docs.main(["--check"], root=tmp_path) == 1, "missing docs were not reported"
    assert not (tmp_path / "docs").exists(), "--check wrote something"
    assert docs.main([], root=tmp_path) == 0 and docs.main(["--check"], root=tmp_path) == 0
    (tmp_path / "docs" / "rules.md").write_text("edited\n")
    assert docs.main(["--check"], root=tmp_path) == 1


def test_every_field_of_the_schema_is_documented() -> None:
    schema = json.loads((ROOT / "schemas" / "inventory.schema.json").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "inventory.md").read_text(encoding="utf-8")

    def fields(node):
        for name, prop in node.get("properties", {}).items():
            yield name
            yield from fields(prop)

    for node in [schema, *schema["$defs"].values()]:
        for name in fields(node):
            assert f"| `{name}` |" in text, f"field {name} missing from docs/inventory.md"
    for name in schema["$defs"]:
        assert re.search(rf"^## {name}$|^\| `{name}` \|", text, re.M), name


def test_every_rule_id_in_the_code_is_documented() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "generator").rglob("*.py"))
    ids = set(re.findall(r"\(rule ([a-z0-9-]+)\)", source)) - {"id"}
    for module in ("resolve.py", "loader.py"):
        code = (ROOT / "generator" / module).read_text(encoding="utf-8")
        ids |= set(re.findall(r'"([a-z]+(?:-[a-z0-9]+)+)"\)?,?\s*$', code, re.M)) - {"utf-8"}
    ids |= set(RULES) | set(STRUCTURAL_RULES)
    assert len(ids) > 40
    missing = sorted(i for i in ids if f"| `{i}` |" not in text and not i.startswith("schema-"))
    assert not missing, f"rules not in docs/rules.md: {missing}"


def test_docs_are_valid_markdown_with_working_anchors() -> None:
    for name in ("inventory.md", "rules.md", "cli.md", "new-platform.md"):
        path = ROOT / "docs" / name
        assert check_markdown(name, path.read_text(encoding="utf-8")) == []


def test_every_platform_has_what_the_guide_lists() -> None:
    schema = json.loads((ROOT / "schemas" / "inventory.schema.json").read_text(encoding="utf-8"))
    enum = schema["$defs"]["device"]["properties"]["platform"]["enum"]
    assert sorted(enum) == sorted(PLATFORMS)
    for key, platform in PLATFORMS.items():
        assert platform.key == key and platform.files and platform.verify_commands
        assert platform.outside_interface and platform.loopback_interface, f"{key}: no interface defaults"
        assert platform.apply_steps, f"{key}: no apply steps"
        for step in platform.apply_steps:
            step.format(**{"file" if i == 0 else f"file{i + 1}": "x" for i in range(len(platform.files))})


def test_new_platform_guide_names_the_files_a_platform_is_made_of() -> None:
    """docs/new-platform.md describes the unit as the registry has it: module, registry, templates."""
    text = (ROOT / "docs" / "new-platform.md").read_text(encoding="utf-8")
    for path in ("generator/platforms/<key>.py", "generator/platforms/__init__.py", "templates/onprem/<key>/"):
        assert f"`{path}`" in text, path
    base = (ROOT / "generator" / "platforms" / "base.py").read_text(encoding="utf-8")
    attributes = re.findall(r"^    (\w+): ClassVar", base, re.M) + re.findall(r"^    def (\w+)\(self", base, re.M)
    documented = set(re.findall(r"`(\w+)(?:\([^`]*\))?`", text))
    missing = [a for a in attributes if a not in documented and a not in {"template", "can"}]
    assert not missing, f"docs/new-platform.md does not describe Platform.{missing}"
    for key, platform in PLATFORMS.items():
        module = ROOT / "generator" / "platforms" / f"{key}.py"
        assert module.is_file(), f"{key}: no module {module.name}"
        assert type(platform).__module__ == f"generator.platforms.{key}"
        for suffix in platform.files:
            assert (ROOT / "templates" / platform.template(suffix)).is_file(), (key, suffix)


def test_no_platform_is_named_outside_its_unit() -> None:
    keys = "|".join(PLATFORMS)
    offenders = []
    for path in (ROOT / "generator").rglob("*.py"):
        if "platforms" in path.relative_to(ROOT / "generator").parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(keys, line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders, offenders

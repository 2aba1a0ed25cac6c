"""Pre-shared keys never leak: not into outputs (in any encoding), not into messages or logs.

Every example renders with the known fake keys of conftest.FAKE_KEYS in the environment; every byte of
every output and of everything printed is scanned for each key, raw, base64 (all three alignments,
standard and URL-safe alphabets) and hex. Without --secrets: no hit anywhere. With --secrets: hits only in
files the targets mark secret (device files), each with mode 0600.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FAKE_KEYS, INVENTORIES, ROOT, inventory_ids

from generator.cli import main

BAD = ROOT / "tests" / "bad"


def encodings(key: str) -> set[bytes]:
    """The forms a key could take in a file: raw, hex, and base64 at every alignment inside a longer text."""
    raw = key.encode("utf-8")
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            text = encode(b"\0" * shift + raw)
            # drop the characters that also depend on the neighbouring bytes
            start = (shift * 4 + 2) // 3 if shift else 0
            forms.add(text[start : (len(text) - 4) if (shift + len(raw)) % 3 else len(text)])
    return {f for f in forms if len(f) >= 8}


PATTERNS = {name: encodings(key) for name, key in FAKE_KEYS.items()}


def leaks(data: bytes) -> list[str]:
    return sorted({name for name, forms in PATTERNS.items() for form in forms if form in data})


def test_the_scanner_finds_every_form() -> None:
    """The scan itself can fail: each encoding of a key inside other text is found."""
    key = FAKE_KEYS["GEN_PSK_DC1"]
    for prefix in (b"", b"x", b"xy"):
        blob = prefix + key.encode() + b"tail"
        for data in (
            blob,
            base64.b64encode(blob),
            base64.urlsafe_b64encode(blob),
            blob.hex().encode(),
            blob.hex().upper().encode(),
        ):
            assert leaks(b"<<" + data + b">>") == ["GEN_PSK_DC1"], data
    assert leaks(b"FakeDc1Key0123456789abcdeX"[:10]) == []


@pytest.fixture
def fake_keys(monkeypatch) -> None:
    for name, key in FAKE_KEYS.items():
        monkeypatch.setenv(name, key)


def render(inventory: Path, out: Path, *extra: str):
    return CliRunner().invoke(main, ["-vv", "render", str(inventory), "-o", str(out), *extra], catch_exceptions=False)


@pytest.mark.parametrize("inventory", INVENTORIES, ids=inventory_ids())
def test_no_key_anywhere_without_secrets(inventory: Path, tmp_path: Path, fake_keys) -> None:
    result = render(inventory, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert leaks(result.stdout_bytes + result.stderr_bytes) == []
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert leaks(path.read_bytes()) == [], path


@pytest.mark.parametrize("inventory", INVENTORIES, ids=inventory_ids())
def test_with_secrets_only_secret_files_hold_keys(inventory: Path, tmp_path: Path, fake_keys) -> None:
    from generator.pipeline import build_model, render_all
    from generator.secrets import resolve_secrets

    model = build_model(inventory).model
    keys = resolve_secrets(model, inventory.parent)
    assert set(keys.values()) <= set(FAKE_KEYS.values()) and keys, "the example references the fake keys"
    secret = {f.path for f in render_all(model, secrets=keys) if f.secret}

    out = tmp_path / "out"
    result = render(inventory, out, "--secrets")
    assert result.exit_code == 0, result.output
    assert leaks(result.stdout_bytes + result.stderr_bytes) == [], "a key was printed"
    for path in (p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).as_posix()
        if leaks(path.read_bytes()):
            assert relative in secret, f"{relative} holds a key but is not a secret (device) file"
        if relative in secret:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, relative
    for relative in secret:
        assert stat.S_IMODE((out / relative).stat().st_mode) == 0o600, relative


@pytest.mark.parametrize(
    ("value", "rule"),
    [("Fake-Key-With-Dashes-0123456789", "secret-invalid"), ("FakeKey with spaces 0123456789", "secret-invalid")],
)
def test_a_rejected_key_is_not_printed(value: str, rule: str, tmp_path: Path, monkeypatch, fake_keys) -> None:
    monkeypatch.setenv("GEN_PSK_BRANCH1", value)
    result = render(ROOT / "inventories" / "minimal.yaml", tmp_path / "out", "--secrets")
    assert result.exit_code == 2 and f"(rule {rule})" in result.stderr
    assert value not in result.output and value.encode().hex() not in result.output
    assert "env:GEN_PSK_BRANCH1" in result.stderr  # the reference is named, the key is not
    assert not (tmp_path / "out").exists()


def test_a_key_file_is_not_printed(tmp_path: Path) -> None:
    key = "Fake key~from a file 0123456789"
    (tmp_path / "psk.txt").write_text(key + "\n")
    (tmp_path / "psk.txt").chmod(0o600)  # private, so gen reads it and refuses the key itself
    text = (ROOT / "inventories" / "minimal.yaml").read_text().replace("{env: GEN_PSK_BRANCH1}", "{file: psk.txt}")
    (tmp_path / "inv.yaml").write_text(text)
    result = render(tmp_path / "inv.yaml", tmp_path / "out", "--secrets")
    assert result.exit_code == 2 and "file:psk.txt" in result.stderr and key not in result.output
    assert "(rule secret-invalid)" in result.stderr


def test_refusals_print_no_key(tmp_path: Path, fake_keys) -> None:
    """Error messages for bad inventories, with keys in the environment, hold none of them."""
    cases = sorted(BAD.glob("*/*.yaml"))
    assert len(cases) > 100
    for inventory in cases[::5]:
        result = CliRunner().invoke(main, ["render", str(inventory), "-o", str(tmp_path / "out"), "--secrets"])
        assert result.exit_code == 2, inventory
        assert leaks(result.stdout_bytes + result.stderr_bytes) == [], inventory

"""Pre-shared keys after `gen render --secrets` (issue 17): nothing prints them, nothing lets a guess be
confirmed, every file that holds one is 0600 whatever its escaping, key files must be private."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FAKE_KEYS, ROOT

from generator.cli import main
from generator.writer import MANIFEST, MANIFEST_KEY

CSP = ROOT / "inventories" / "csp-advanced.yaml"
MINIMAL = ROOT / "inventories" / "minimal.yaml"
DEVICE_SUFFIXES = (".ios", ".set", ".swanctl.conf")
# keys with the characters the device templates escape (Junos and swanctl strings)
AWKWARD_KEYS = {"GEN_PSK_DC1": 'Dc1"Quo\\te\\\\Key7', "GEN_PSK_DC2": 'Dc2\\"Key8', "GEN_PSK_DC3": 'D"c3\\Key9"'}


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def keys(monkeypatch) -> dict[str, str]:
    for name, key in FAKE_KEYS.items():
        monkeypatch.setenv(name, key)
    return dict(FAKE_KEYS)


def printed(result) -> bytes:
    return result.stdout_bytes + result.stderr_bytes


def key_forms(key: str) -> set[str]:
    """The key raw and as each template family escapes it."""
    return {key, key.replace("\\", "\\\\").replace('"', '\\"')}


def device_files(out: Path) -> list[Path]:
    return [p for p in (out / "onprem").rglob("*") if p.name.endswith(DEVICE_SUFFIXES)]


# ------------------------------------------------------------------ nothing prints a key
def test_check_plan_and_verbose_render_never_print_a_key(tmp_path: Path, keys, monkeypatch) -> None:
    out = tmp_path / "out"
    rendered = run("-vv", "render", str(CSP), "-o", str(out), "--secrets")
    assert rendered.exit_code == 0, rendered.output
    secret_values = [keys[f"GEN_PSK_DC{i}"] for i in (1, 2, 3)]
    runs = {
        "render -vv": rendered,
        "check": run("check", str(CSP), "-o", str(out)),  # drift: the folder holds keys, the render does not
        "check -v": run("check", "-v", str(CSP), "-o", str(out)),
        "plan -o": run("plan", str(CSP), "-o", str(out)),
        "plan -o --format json": run("plan", str(CSP), "-o", str(out), "--format", "json"),
    }
    assert runs["check"].exit_code == 1, "the secret-free render differs from the folder"
    assert "(holds pre-shared keys; not shown)" in runs["check"].stdout
    monkeypatch.setenv("GEN_PSK_DC1", "ChangedKey0123456789")  # the key changed since: drift with keys on both sides
    runs["check --secrets"] = run("check", str(CSP), "-o", str(out), "--secrets")
    assert runs["check --secrets"].exit_code == 1
    for name, result in runs.items():
        text = printed(result).decode()
        for key in [*secret_values, "ChangedKey0123456789"]:
            assert key not in text, f"gen {name} printed a key"
    # the diff still shows the lines of files without keys: masking is per key-bearing file
    assert "+++ rendered onprem/DC3/dc3-edge1.frr.conf\n@@" in runs["check"].stdout
    assert runs["plan -o"].exit_code == runs["plan -o --format json"].exit_code == 0


def test_a_removed_key_file_is_not_shown_in_the_diff(tmp_path: Path, keys) -> None:
    """A device that left the inventory: its old file (with keys) is reported as removed, content hidden."""
    out = tmp_path / "out"
    assert run("render", str(CSP), "-o", str(out), "--secrets").exit_code == 0
    text = CSP.read_text().replace("dc3-edge1, platform: strongswan_frr", "dc3-edge1, platform: cisco_iosxe")
    inventory = tmp_path / "csp.yaml"
    inventory.write_text(text)
    result = run("check", str(inventory), "-o", str(out))
    assert result.exit_code == 1
    assert f"--- {out}/onprem/DC3/dc3-edge1.swanctl.conf" in result.stdout
    assert keys["GEN_PSK_DC3"] not in result.output


# ------------------------------------------------------------------ the manifest is no key oracle
def _hex_strings(data: bytes) -> set[str]:
    return {m.decode().lower() for m in re.findall(rb"[0-9a-fA-F]{32,128}", data)}


def _digests(data: bytes) -> set[str]:
    return {hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256", "sha512", "blake2b")}


def test_no_file_lets_a_guessed_key_be_confirmed(tmp_path: Path, keys, monkeypatch) -> None:
    """The dictionary attack of issue 17: render the same inventory with each candidate key, hash the
    device files, look for the hashes in the victim's output folder. The right key is a candidate."""
    victim = tmp_path / "victim"
    assert run("render", str(MINIMAL), "-o", str(victim), "--secrets").exit_code == 0
    readable = {
        p.relative_to(victim).as_posix(): _hex_strings(p.read_bytes())
        for p in victim.rglob("*")
        if p.is_file() and p not in device_files(victim)
    }
    assert readable.get(MANIFEST), "the scan must see the manifest"
    # the scan can fail: it finds the plain hash of a file without keys in the manifest
    assert hashlib.sha256((victim / "README.md").read_bytes()).hexdigest() in readable[MANIFEST]

    candidates = ["password", "Azure123", "FakeBranchKey", keys["GEN_PSK_BRANCH1"], "letmein0123"]
    for n, candidate in enumerate(candidates):
        guess = tmp_path / f"guess{n}"
        monkeypatch.setenv("GEN_PSK_BRANCH1", candidate)
        assert run("render", str(MINIMAL), "-o", str(guess), "--secrets").exit_code == 0
        for device in device_files(guess):
            found = [path for path, strings in readable.items() if _digests(device.read_bytes()) & strings]
            assert not found, f"{found} confirm the guess {candidate!r} for {device.name}"
    # the manifest and its HMAC key can be read by the owner only
    for name in (MANIFEST, MANIFEST_KEY):
        assert stat.S_IMODE((victim / name).stat().st_mode) == 0o600, name


def test_the_manifest_is_public_and_unkeyed_again_without_keys(tmp_path: Path, keys) -> None:
    out = tmp_path / "out"
    assert run("render", str(MINIMAL), "-o", str(out), "--secrets").exit_code == 0
    key = (out / MANIFEST_KEY).read_text()
    assert run("render", str(MINIMAL), "-o", str(out), "--secrets").exit_code == 0
    assert (out / MANIFEST_KEY).read_text() == key, "the key is kept: a re-render changes nothing"
    assert run("render", str(MINIMAL), "-o", str(out)).exit_code == 0
    assert not (out / MANIFEST_KEY).exists()
    assert stat.S_IMODE((out / MANIFEST).stat().st_mode) == 0o644
    assert "hmac" not in (out / MANIFEST).read_text()


def test_an_edited_key_file_is_kept_when_no_longer_generated(tmp_path: Path, keys) -> None:
    """The keyed entry still tells gen's own file from one edited since (stale vs kept)."""
    out = tmp_path / "out"
    assert run("render", str(CSP), "-o", str(out), "--secrets").exit_code == 0
    edited, untouched = out / "onprem/DC1/dc1-edge1.ios", out / "onprem/DC2/dc2-edge1.set"
    edited.write_text(edited.read_text() + "! my change\n")
    text = CSP.read_text().replace("dc1-edge1, platform: cisco_iosxe", "dc1-edgeX, platform: cisco_iosxe")
    text = text.replace("dc2-edge1, platform", "dc2-edgeX, platform")
    inventory = tmp_path / "csp.yaml"
    inventory.write_text(text)
    result = run("-v", "render", str(inventory), "-o", str(out), "--secrets")
    assert result.exit_code == 0, result.output
    assert edited.exists() and not untouched.exists()


# ------------------------------------------------------------------ escaped keys land in 0600 files only
def test_keys_with_quotes_and_backslashes_land_only_in_0600_files(tmp_path: Path, keys, monkeypatch) -> None:
    for name, key in AWKWARD_KEYS.items():
        monkeypatch.setenv(name, key)
    out = tmp_path / "out"
    result = run("render", str(CSP), "-o", str(out), "--secrets")
    assert result.exit_code == 0, result.output
    holding = set()
    for path in (p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        if any(form in text for key in AWKWARD_KEYS.values() for form in key_forms(key)):
            holding.add(path.relative_to(out).as_posix())
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # the escaped forms are really there (Junos and swanctl), so the check above saw them
    assert {"onprem/DC1/dc1-edge2.set", "onprem/DC2/dc2-edge1.set", "onprem/DC3/dc3-edge1.swanctl.conf"} <= holding
    assert AWKWARD_KEYS["GEN_PSK_DC2"] not in (out / "onprem/DC2/dc2-edge1.set").read_text(), "escaped there"
    for key in AWKWARD_KEYS.values():
        assert key not in result.output


# ------------------------------------------------------------------ key files and references
def _inventory_with_key_file(tmp_path: Path, mode: int) -> Path:
    key = tmp_path / "branch1.psk"
    key.write_text("FakeFileKey0123456789\n")
    os.chmod(key, mode)
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(MINIMAL.read_text().replace("{env: GEN_PSK_BRANCH1}", "{file: branch1.psk}"))
    return inventory


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused_with_the_chmod(tmp_path: Path, mode: int) -> None:
    inventory = _inventory_with_key_file(tmp_path, mode)
    result = run("render", str(inventory), "-o", str(tmp_path / "out"), "--secrets")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith(f"{inventory}:29:12: onprem.connections[0].psk: pre-shared key file:branch1.psk")
    assert f"chmod 600 {tmp_path / 'branch1.psk'}" in line and line.endswith("(rule secret-file-mode)")
    assert "FakeFileKey" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_private_key_file_is_used(tmp_path: Path) -> None:
    inventory = _inventory_with_key_file(tmp_path, 0o600)
    result = run("render", str(inventory), "-o", str(tmp_path / "out"), "--secrets")
    assert result.exit_code == 0, result.output
    assert "FakeFileKey0123456789" in (tmp_path / "out/onprem/branch1/branch1-rtr.ios").read_text()


def test_a_missing_key_is_reported_at_its_psk_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GEN_PSK_BRANCH1", raising=False)
    result = run("render", str(MINIMAL), "-o", str(tmp_path / "out"), "--secrets")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"{MINIMAL}:29:12: onprem.connections[0].psk: pre-shared key env:GEN_PSK_BRANCH1 is not set; "
        "export GEN_PSK_BRANCH1 or render without --secrets (rule secret-missing)"
    )


def test_secrets_demand_only_the_keys_a_file_uses(tmp_path: Path, keys, monkeypatch) -> None:
    """The VNet-to-VNet key goes to Azure as a deployment parameter; no file of gen holds it."""
    monkeypatch.delenv("GEN_PSK_VNET_MESH")
    result = run("render", str(CSP), "-o", str(tmp_path / "out"), "--secrets")
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("GEN_PSK_DC2")
    result = run("render", str(CSP), "-o", str(tmp_path / "out2"), "--secrets")
    assert result.exit_code == 2 and "env:GEN_PSK_DC2" in result.stderr and "GEN_PSK_VNET_MESH" not in result.stderr

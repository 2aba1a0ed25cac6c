"""Atomic output: whatever fails, and wherever, the previous output folder stays exactly as it was.

The disk-full and read-only cases mount a small tmpfs, so they need root (CI runs as root); they fail,
not skip, without it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from generator import writer
from generator.cli import main

MINIMAL = ROOT / "inventories" / "minimal.yaml"
CSP = ROOT / "inventories" / "csp-advanced.yaml"


def state(folder: Path) -> dict[str, tuple[str, int]]:
    found = {}
    for p in sorted(folder.rglob("*")):
        data = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "-"
        found[p.relative_to(folder).as_posix()] = (data, p.lstat().st_mode)
    return found


def gen(*args: str, catch: bool = False):
    return CliRunner().invoke(main, list(args), catch_exceptions=catch)


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """tmp/out as left by a successful render of minimal.yaml, plus the user's own files."""
    out = tmp_path / "out"
    assert gen("-q", "render", str(MINIMAL), "-o", str(out)).exit_code == 0
    (out / "notes.txt").write_text("mine\n")
    (out / "mine").mkdir()
    (out / "mine" / "keep.cfg").write_text("also mine\n")
    (out / "link").symlink_to("notes.txt")
    return out


def unchanged(out: Path, before: dict, siblings: list[str]) -> None:
    assert state(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == siblings, "a staging folder was left behind"


def test_atomic_exchange_is_what_runs_here(tmp_path: Path) -> None:
    """On Linux the swap is one renameat2(RENAME_EXCHANGE): a crash cannot leave a mix of old and new."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert writer.exchange(a, b) is True
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_render_keeps_the_users_files(previous: Path) -> None:
    inode = (previous / "mine" / "keep.cfg").stat().st_ino
    result = gen("render", str(CSP), "-o", str(previous))
    assert result.exit_code == 0, result.output
    assert (previous / "notes.txt").read_text() == "mine\n"
    assert (previous / "mine" / "keep.cfg").stat().st_ino == inode  # the very same file, not a copy
    assert os.readlink(previous / "link") == "notes.txt"
    assert not (previous / "azure" / "arm" / "rg-hub.json").exists(), "stale file of the previous render"
    assert (previous / "azure" / "arm" / "rg-sea-network.json").is_file()
    assert sorted(p.name for p in previous.parent.iterdir()) == ["out"]


def test_exception_mid_render_leaves_the_output(previous: Path, monkeypatch) -> None:
    from generator.targets import arm

    calls = []
    real = arm.render

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("injected failure in the middle of rendering")
        return real(*args, **kwargs)

    monkeypatch.setattr(arm, "render", failing)
    before, siblings = state(previous), sorted(p.name for p in previous.parent.iterdir())
    result = gen("render", str(CSP), "-o", str(previous), catch=True)
    assert isinstance(result.exception, RuntimeError) and len(calls) == 3
    unchanged(previous, before, siblings)


@pytest.mark.parametrize("failure", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_the_output(previous: Path, monkeypatch, failure: BaseException) -> None:
    calls = []
    real = writer.write_file

    def failing(path, f, folders=None):
        calls.append(f.path)
        if len(calls) == 3:
            raise failure
        return real(path, f, folders)

    monkeypatch.setattr(writer, "write_file", failing)
    before, siblings = state(previous), sorted(p.name for p in previous.parent.iterdir())
    result = gen("render", str(CSP), "-o", str(previous), catch=True)
    assert len(calls) == 3
    if isinstance(failure, OSError):
        assert result.exit_code == 2
        assert "cannot write the output" in result.stderr and "(rule output-write)" in result.stderr
    else:
        assert isinstance(result.exception, KeyboardInterrupt) or result.exit_code == 1
    unchanged(previous, before, siblings)


def test_fallback_without_exchange_restores_on_failure(previous: Path, monkeypatch) -> None:
    """Where renameat2 is missing: two renames, and a failing second one puts the old folder back."""
    monkeypatch.setattr(writer, "exchange", lambda a, b: False)
    real = os.rename

    def failing(src, dst):
        if Path(dst) == previous and Path(src).parent == previous.parent:  # the staged folder, not the old one
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return real(src, dst)

    monkeypatch.setattr(writer.os, "rename", failing)
    before, siblings = state(previous), sorted(p.name for p in previous.parent.iterdir())
    result = gen("render", str(CSP), "-o", str(previous))
    assert result.exit_code == 2 and "(rule output-write)" in result.stderr
    unchanged(previous, before, siblings)
    monkeypatch.setattr(writer.os, "rename", real)
    assert gen("render", str(CSP), "-o", str(previous)).exit_code == 0
    assert (previous / "azure" / "arm" / "rg-sea-network.json").is_file() and (previous / "notes.txt").exists()


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("not a folder")
    assert writer.write  # the CLI refuses it too (click: file_okay=False)
    with pytest.raises(writer.GenError, match="not a folder"):
        writer.write(target, [writer.OutputFile("a.txt", "x")])
    assert target.read_text() == "not a folder"


# ---------------------------------------------------------------- real file systems (root)
def _root() -> None:
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs and needs root (CI runs as root)")


@pytest.fixture
def tmpfs(tmp_path: Path):
    _root()
    mounted: list[Path] = []

    def mount(name: str, size: str, options: str = "") -> Path:
        point = tmp_path / name
        point.mkdir()
        opts = f"size={size}" + (f",{options}" if options else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_disk_full_leaves_the_output(tmpfs) -> None:
    disk = tmpfs("disk", "4m")
    out = disk / "out"
    assert gen("-q", "render", str(MINIMAL), "-o", str(out)).exit_code == 0
    filler = disk / "filler"
    try:  # fill the disk to the last block
        with open(filler, "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    before, siblings = state(out), sorted(p.name for p in disk.iterdir())
    result = gen("render", str(CSP), "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr and "(rule output-write)" in result.stderr
    assert "Traceback" not in result.output
    unchanged(out, before, siblings)
    filler.unlink()
    assert gen("-q", "render", str(CSP), "-o", str(out)).exit_code == 0  # the same render fits now


def test_read_only_file_system_leaves_the_output(tmpfs) -> None:
    disk = tmpfs("ro", "1m")
    out = disk / "out"
    assert gen("-q", "render", str(MINIMAL), "-o", str(out)).exit_code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    before, siblings = state(out), sorted(p.name for p in disk.iterdir())
    result = gen("render", str(CSP), "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "Read-only file system" in result.stderr and "(rule output-write)" in result.stderr
    unchanged(out, before, siblings)


def test_output_folder_that_is_a_mount_point_is_refused(tmpfs) -> None:
    out = tmpfs("out", "1m")
    (out / "mine.txt").write_text("mine")
    result = gen("render", str(MINIMAL), "-o", str(out))
    assert result.exit_code == 2 and "mount point" in result.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"]

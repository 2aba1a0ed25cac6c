"""Write rendered files: a complete new output folder is staged beside the target, then swapped in.

Only files whose bytes changed are rewritten. A manifest (`.gen-manifest.json`, paths and
SHA-256) records what gen wrote, so files it no longer generates are removed and files it did not
write are never touched.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import GenError
from .targets.base import OutputFile

MANIFEST = ".gen-manifest.json"


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: list[OutputFile]) -> str:
    entries = {f.path: digest(f.text.encode("utf-8")) for f in sorted(files, key=lambda f: f.path)}
    return json.dumps({"generator": "gen", "files": entries}, indent=2) + "\n"


def read_manifest(out: Path) -> dict[str, str]:
    try:
        return dict(json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("files", {}))
    except (OSError, ValueError, AttributeError):
        return {}


def plan(out: Path, files: list[OutputFile]) -> tuple[list[OutputFile], list[OutputFile], list[str]]:
    """(changed, unchanged, stale paths) against what is on disk."""
    changed, unchanged = [], []
    for f in files:
        target = out / f.path
        try:
            same = target.read_bytes() == f.text.encode("utf-8") and (
                not f.secret or (target.stat().st_mode & 0o077) == 0
            )
        except OSError:
            same = False
        (unchanged if same else changed).append(f)
    current = {f.path for f in files}
    stale = sorted(p for p in read_manifest(out) if p not in current and (out / p).is_file())
    return changed, unchanged, stale


def write(out: Path, files: list[OutputFile]) -> WriteReport:
    """Build the complete new output folder beside `out`, then swap it in with one rename.

    The staging folder starts as a hard-linked mirror of `out` (so files gen did not write stay,
    untouched), gets the changed files and loses the stale ones; then `swap` exchanges it with
    `out` atomically. Any failure before the swap leaves `out` exactly as it was.
    """
    for f in files:
        if f.path.startswith("/") or ".." in Path(f.path).parts:
            raise AssertionError(f"unsafe output path {f.path}")
    changed, unchanged, stale = plan(out, files)
    manifest = OutputFile(MANIFEST, manifest_text(files))
    report = WriteReport(tuple(f.path for f in changed), tuple(f.path for f in unchanged), tuple(stale))
    if not changed and not stale and _same(out / MANIFEST, manifest.text):
        return report  # nothing to do: not even a rename
    out = out.resolve() if out.is_symlink() else out.absolute()  # replace the folder a link points to
    if out.exists() and not out.is_dir():
        raise GenError([f"{out}: exists and is not a folder (rule output-write)"])
    if os.path.ismount(out):
        raise GenError(
            [
                f"{out}: the output folder is a mount point, so it cannot be replaced atomically; write into a folder inside it (rule output-write)"
            ]
        )
    staging: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{STAGING}", dir=out.parent))
        if out.is_dir():
            _mirror(out, staging)
        else:
            os.chmod(staging, 0o755)
        for path in stale:
            (staging / path).unlink()
        for f in [*changed, manifest]:
            write_file(staging / f.path, f)
        _fsync_dir(staging)
        staging = swap(staging, out)  # now holds the previous output (or nothing)
        _fsync_dir(out.parent)
    except OSError as exc:
        where = exc.filename or out
        raise GenError([f"{out}: cannot write the output ({where}): {exc.strerror} (rule output-write)"]) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return report


STAGING = ".gen-staging-"


def _same(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False


def _mirror(source: Path, target: Path) -> None:
    """Recreate `source` under `target`: folders with their modes, files as hard links (copies if not possible)."""
    shutil.copymode(source, target)
    for folder, dirs, names in os.walk(source):
        here = Path(folder)
        there = target / here.relative_to(source)
        for name in dirs:
            if (here / name).is_symlink():
                os.symlink(os.readlink(here / name), there / name)
                continue
            (there / name).mkdir()
            shutil.copymode(here / name, there / name)
        for name in names:
            src = here / name
            if src.is_symlink():
                os.symlink(os.readlink(src), there / name)
                continue
            try:
                os.link(src, there / name, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, there / name, follow_symlinks=False)


def write_file(path: Path, f: OutputFile) -> None:
    """Write one file fresh (never through a hard link to the old output), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    mode = 0o600 if f.secret else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with open(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(f.text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)  # whatever the umask


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def swap(staging: Path, out: Path) -> Path | None:
    """Put `staging` in place of `out`; return where the previous output now is (to be removed).

    Linux: one renameat2(RENAME_EXCHANGE) call, atomic even against a crash. Elsewhere (or on a
    file system without it): two renames; a crash between them leaves the previous output in
    `.<out>.gen-staging-*` beside `out` and no `out`.
    """
    if not out.exists():
        os.rename(staging, out)
        return None
    if exchange(staging, out):
        return staging
    previous = Path(tempfile.mkdtemp(prefix=f".{out.name}{STAGING}", dir=out.parent))
    os.rename(out, previous / "old")
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(previous / "old", out)
        previous.rmdir()
        raise
    return previous


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(2); False when the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@lru_cache(maxsize=1)
def _renameat2():
    if sys.platform != "linux":
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None

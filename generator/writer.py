"""Write rendered files: a complete new output folder is staged beside the target, then swapped in.

The staging folder starts as a hard-linked mirror of the output folder (files gen did not write
stay, untouched), gets the changed files and loses the stale ones, and then replaces the output
folder in one renameat2(RENAME_EXCHANGE) call: after any failure or crash the output folder is
entirely the previous one or entirely the new one, never a mix. Files are not fsynced one by one
(issue 9: a power cut may lose the newest output, which a re-run writes again). Only files whose
bytes changed are rewritten. A manifest (`.gen-manifest.json`, paths and SHA-256) records what gen
wrote, so files it no longer generates are removed (unless edited since), and files it did not
write are never touched.

A file holding pre-shared keys is recorded by a keyed HMAC-SHA256 instead of its SHA-256, with the
random key in `.gen-manifest.key` (mode 0600) beside the manifest, and the manifest is then 0600
too: a plain hash would let anyone who can read the manifest confirm a guessed key offline, by
rendering without --secrets, putting the guess in and hashing (issue 17).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import hmac
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
MANIFEST_KEY = ".gen-manifest.key"  # HMAC key for the entries of key-bearing files (mode 0600)
KEYED = "hmac-sha256:"  # prefix of a keyed entry: the file holds pre-shared keys


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...] = ()  # no longer generated but edited since gen wrote them: left alone


@dataclass(frozen=True)
class Plan:
    """What writing `files` into `out` would do."""

    new: list[OutputFile]
    changed: list[OutputFile]
    unchanged: list[OutputFile]
    stale: list[str]  # generated before, no longer generated, untouched since: to remove
    kept: list[str]  # generated before, no longer generated, edited by someone: left alone
    foreign: list[str]  # exist, not written by gen, and would be overwritten: refused


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keyed_digest(data: bytes, key: bytes) -> str:
    return KEYED + hmac.new(key, data, hashlib.sha256).hexdigest()


def entry(f: OutputFile, key: bytes | None) -> str:
    """The manifest entry of a file: keyed when it holds pre-shared keys (never a plain hash of it)."""
    data = f.text.encode("utf-8")
    if not f.secret:
        return digest(data)
    assert key is not None, "a key-bearing file needs the manifest key"
    return keyed_digest(data, key)


def manifest_text(files: list[OutputFile], key: bytes | None = None) -> str:
    entries = {f.path: entry(f, key) for f in sorted(files, key=lambda f: f.path)}
    return json.dumps({"generator": "gen", "files": entries}, indent=2) + "\n"


def read_manifest_key(out: Path) -> bytes | None:
    """The HMAC key of an output folder's manifest, if it has a valid one."""
    raw = _read(out / MANIFEST_KEY)
    try:
        key = bytes.fromhex(raw.decode("ascii").strip()) if raw else b""
    except ValueError:
        return None
    return key if len(key) == 32 else None


def matches(recorded: str, data: bytes, key: bytes | None) -> bool:
    """Whether `data` is what the manifest entry recorded (a keyed entry needs the folder's key)."""
    if recorded.startswith(KEYED):
        return key is not None and hmac.compare_digest(keyed_digest(data, key), recorded)
    return hmac.compare_digest(digest(data), recorded)


def read_manifest(out: Path) -> dict[str, str]:
    try:
        files = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("files", {})
        return {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def plan(out: Path, files: list[OutputFile]) -> Plan:
    """Compare `files` with what is on disk, using the manifest to know which files gen wrote."""
    manifest = read_manifest(out)
    key = read_manifest_key(out)
    result = Plan([], [], [], [], [], [])
    for f in files:
        target = out / f.path
        old = _read(target)
        if old is None:
            result.new.append(f)
        elif old == f.text.encode("utf-8") and (not f.secret or (target.stat().st_mode & 0o077) == 0):
            result.unchanged.append(f)
        else:
            result.changed.append(f)
            if f.path not in manifest:
                result.foreign.append(f.path)
    current = {f.path for f in files}
    for path in sorted(p for p in manifest if p not in current):
        old = _read(out / path)
        if old is None:
            continue
        (result.stale if matches(manifest[path], old, key) else result.kept).append(path)
    return result


def write(out: Path, files: list[OutputFile]) -> WriteReport:
    """Stage every changed file, then move them into place; on failure `out` keeps its old files.

    Files gen did not write are never touched: overwriting one is refused (rule output-not-ours),
    and a file gen wrote before but someone edited since is kept when gen no longer generates it.
    """
    for f in files:
        if f.path.startswith("/") or ".." in Path(f.path).parts or f.path in (MANIFEST, MANIFEST_KEY):
            raise AssertionError(f"unsafe output path {f.path}")
    p = plan(out, files)
    if p.foreign:
        raise GenError(
            [
                f"{out / path}: exists and was not written by gen (not in {MANIFEST}); move it away or choose another output folder (rule output-not-ours)"
                for path in p.foreign
            ]
        )
    changed = [*p.new, *p.changed]
    internal = []  # gen's own files: the manifest, and its key while the folder holds keys
    stale = list(p.stale)
    key = None
    if any(f.secret for f in files):
        key = read_manifest_key(out) or os.urandom(32)
        internal.append(OutputFile(MANIFEST_KEY, key.hex() + "\n", secret=True))
    elif (out / MANIFEST_KEY).exists():
        stale.append(MANIFEST_KEY)
    internal.append(OutputFile(MANIFEST, manifest_text(files, key), secret=key is not None))
    changed += [f for f in internal if not _same(out / f.path, f)]
    if changed or stale:
        _apply(out, changed, stale)
    return WriteReport(
        tuple(f.path for f in [*p.new, *p.changed]),
        tuple(f.path for f in p.unchanged),
        tuple(p.stale),
        tuple(p.kept),
    )


def _same(path: Path, f: OutputFile) -> bool:
    """The file on disk has these bytes and, for a secret file, mode 0600."""
    if _read(path) != f.text.encode("utf-8"):
        return False
    return not f.secret or (path.stat().st_mode & 0o077) == 0


def _apply(out: Path, changed: list[OutputFile], stale: list[str]) -> None:
    """Build the new output folder beside `out` and swap it in; on any failure `out` is untouched."""
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
            _prune(staging, (staging / path).parent)
        folders: set[Path] = set()
        for f in changed:
            write_file(staging / f.path, f, folders)
        staging = swap(staging, out)  # now holds the previous output (or nothing)
    except OSError as exc:
        where = exc.filename or out
        raise GenError([f"{out}: cannot write the output ({where}): {exc.strerror} (rule output-write)"]) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _prune(out: Path, folder: Path) -> None:
    """Remove folders emptied by removing stale files, up to (not including) the output folder."""
    while folder != out and out in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or not ours to remove)
            return
        folder = folder.parent


def differences(out: Path, files: list[OutputFile], unchecked: tuple[str, ...] = ()) -> tuple[Plan, str]:
    """For `gen check`: the plan and a unified diff of every difference (keys never shown).

    Paths in `unchecked` are not reported as no longer generated.
    """
    import difflib

    p = plan(out, files)
    p.stale[:] = [path for path in p.stale if path not in unchecked]
    keyed = {path for path, recorded in read_manifest(out).items() if recorded.startswith(KEYED)}
    hidden = "(holds pre-shared keys; not shown)\n"
    chunks = []
    for f in sorted([*p.new, *p.changed], key=lambda f: f.path):
        # the rendered file or the one on disk (written by an earlier `gen render --secrets`) holds keys
        if f.secret or f.path in keyed or _private(out / f.path):
            chunks.append(f"--- {out / f.path}\n+++ rendered {f.path}\n{hidden}")
            continue
        old = (_read(out / f.path) or b"").decode("utf-8", "replace")
        chunks.append(
            "".join(
                difflib.unified_diff(
                    old.splitlines(True),
                    f.text.splitlines(True),
                    str(out / f.path) if f in p.changed else "/dev/null",
                    f"rendered {f.path}",
                )
            )
        )
    for path in p.stale:
        if path in keyed or _private(out / path):
            chunks.append(f"--- {out / path}\n+++ /dev/null\n{hidden}")
            continue
        old = (_read(out / path) or b"").decode("utf-8", "replace")
        chunks.append("".join(difflib.unified_diff(old.splitlines(True), [], str(out / path), "/dev/null")))
    return p, "".join(c if c.endswith("\n") else c + "\n" for c in chunks)


def _private(path: Path) -> bool:
    """A file only its owner may read: gen writes key-bearing files so (its content is not shown)."""
    try:
        return (path.stat().st_mode & 0o077) == 0
    except OSError:
        return False


STAGING = ".gen-staging-"


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


def write_file(path: Path, f: OutputFile, folders: set[Path] | None = None) -> None:
    """Write one file fresh (never through a hard link to the old output); `folders` remembers the
    folders already made, so a large estate costs one mkdir per folder, not per file."""
    if folders is None or path.parent not in folders:
        path.parent.mkdir(parents=True, exist_ok=True)
        if folders is not None:
            folders.add(path.parent)
    if path.is_symlink() or path.exists():
        path.unlink()
    mode = 0o600 if f.secret else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with open(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(f.text)  # no fsync (issue 9): the folder swap, not each file, is the atomic step
    os.chmod(path, mode)  # whatever the umask


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

"""Write rendered files: staged beside the output folder, then moved into place.

Each file appears whole or not at all (os.replace), without an fsync per file (a power cut may
lose the newest output, which a re-run writes again). Only files whose bytes changed are replaced.
A manifest (`.gen-manifest.json`, paths and SHA-256) records what gen wrote, so files it no longer
generates are removed (unless edited since), and files it did not write are never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import GenError
from .targets.base import OutputFile

MANIFEST = ".gen-manifest.json"


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


def manifest_text(files: list[OutputFile]) -> str:
    entries = {f.path: digest(f.text.encode("utf-8")) for f in sorted(files, key=lambda f: f.path)}
    return json.dumps({"generator": "gen", "files": entries}, indent=2) + "\n"


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
        (result.stale if digest(old) == manifest[path] else result.kept).append(path)
    return result


def write(out: Path, files: list[OutputFile]) -> WriteReport:
    """Stage every changed file, then move them into place; on failure `out` keeps its old files.

    Files gen did not write are never touched: overwriting one is refused (rule output-not-ours),
    and a file gen wrote before but someone edited since is kept when gen no longer generates it.
    """
    for f in files:
        if f.path.startswith("/") or ".." in Path(f.path).parts or f.path == MANIFEST:
            raise AssertionError(f"unsafe output path {f.path}")
    p = plan(out, files)
    if p.foreign:
        raise GenError(
            [
                f"{out / path}: exists and was not written by gen (not in {MANIFEST}); move it away or choose another output folder (rule output-not-ours)"
                for path in p.foreign
            ]
        )
    manifest = OutputFile(MANIFEST, manifest_text(files))
    changed = [*p.new, *p.changed]
    if _read(out / MANIFEST) != manifest.text.encode("utf-8"):
        changed.append(manifest)
    if changed or p.stale:
        _apply(out, changed, p.stale)
    return WriteReport(
        tuple(f.path for f in [*p.new, *p.changed]),
        tuple(f.path for f in p.unchanged),
        tuple(p.stale),
        tuple(p.kept),
    )


def _apply(out: Path, changed: list[OutputFile], stale: list[str]) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".gen-staging-", dir=out.parent))
    except OSError as exc:
        raise GenError([f"{out}: cannot write the output folder: {exc.strerror} (rule output-write)"]) from None
    made: set[Path] = set()

    def folder(path: Path) -> None:
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)

    try:
        for f in changed:
            path = staging / f.path
            folder(path)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(f.text)  # no fsync: os.replace makes each file appear whole (issue 9)
            os.chmod(path, 0o600 if f.secret else 0o644)
        for f in changed:
            final = out / f.path
            folder(final)
            os.replace(staging / f.path, final)
        for path in stale:
            (out / path).unlink()
            _prune(out, (out / path).parent)
    except OSError as exc:
        raise GenError([f"{out}: cannot write the output: {exc.strerror} (rule output-write)"]) from None
    finally:
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
    chunks = []
    for f in sorted([*p.new, *p.changed], key=lambda f: f.path):
        if f.secret:
            chunks.append(f"--- {out / f.path}\n+++ rendered {f.path}\n(holds pre-shared keys; not shown)\n")
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
        old = (_read(out / path) or b"").decode("utf-8", "replace")
        chunks.append("".join(difflib.unified_diff(old.splitlines(True), [], str(out / path), "/dev/null")))
    return p, "".join(c if c.endswith("\n") else c + "\n" for c in chunks)

"""Write rendered files: staged beside the output folder, then moved into place.

Each file appears whole or not at all (os.replace); there is no fsync per file, which cost ~2 ms
each on the benchmark machine (seconds for a large estate): a power cut may lose the newest output,
which a re-run writes again. Only files whose bytes changed are replaced. A manifest (`.gen-manifest.json`, paths and
SHA-256) records what gen wrote, so files it no longer generates are removed and files it did not
write are never touched.
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
    """Stage every changed file, then move them into place; on failure `out` keeps its old files."""
    for f in files:
        if f.path.startswith("/") or ".." in Path(f.path).parts:
            raise AssertionError(f"unsafe output path {f.path}")
    changed, unchanged, stale = plan(out, files)
    manifest = OutputFile(MANIFEST, manifest_text(files))
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
        for f in [*changed, manifest]:
            path = staging / f.path
            folder(path)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(f.text)
            os.chmod(path, 0o600 if f.secret else 0o644)
        for f in [*changed, manifest]:
            final = out / f.path
            folder(final)
            os.replace(staging / f.path, final)
        for path in stale:
            (out / path).unlink()
    except OSError as exc:
        raise GenError([f"{out}: cannot write the output: {exc.strerror} (rule output-write)"]) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WriteReport(tuple(f.path for f in changed), tuple(f.path for f in unchanged), tuple(stale))

"""`gen import`: the inventory text (with its comments) and the state file of an imported estate."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .azure_import import Imported, import_files
from .errors import GenError
from .yamlout import dump

SCHEMA_HINT = "inventory.schema.json"


def inventory_text(imported: Imported, files: list[Path], as_new: bool) -> str:
    head = [
        f"# yaml-language-server: $schema={SCHEMA_HINT}",
        "# (write the schema beside this file with: gen schema > inventory.schema.json)",
        "#",
        f"# Imported by gen import from {', '.join(p.name for p in files)}.",
        "# Existing resources are marked `existing: true` (read, never re-created)."
        if not as_new
        else "# Written with --as-new: every resource is to be created.",
        "# Before `gen validate`: set each device's platform (FILL IN) and check the prefixes marked CHECK.",
    ]
    if imported.keys:
        head.append("# Pre-shared keys are never imported; set these environment variables before rendering:")
        head += [f"#   {name}" for name in imported.keys]
    if imported.unmapped:
        head.append("# Not imported (resource: why):")
        head += [f"#   {where}: {why}" for where, why in imported.unmapped]
    return "\n".join(head) + "\n" + dump(imported.inventory, imported.comments)


def state_text(imported: Imported) -> str:
    return json.dumps(imported.state, indent=2) + "\n"


def _write(path: Path, text: str) -> None:
    """Atomically: a temporary file in the same folder, renamed over the target."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(
    files: list[Path], out: Path, state: Path | None, as_new: bool, name: str | None, force: bool = False
) -> Imported:
    """Import, then write both files or none; an existing file is replaced only with `force`."""
    from .errors import file_problem

    for target in (out, state):
        if target is not None and target.is_file() and not force:
            raise GenError(
                [str(file_problem(str(target), "exists; choose another name or pass --force", "output-not-ours"))]
            )
        if target is not None and (
            target.is_dir() or not (target.parent if str(target.parent) else Path(".")).is_dir()
        ):
            raise GenError(
                [str(file_problem(str(target), "cannot write here: not a file in an existing folder", "output-write"))]
            )
    imported = import_files(files, name or _name(files, out), as_new)
    text = inventory_text(imported, files, as_new)
    state_doc = state_text(imported) if state is not None and imported.state else None
    try:
        _write(out, text)
        if state_doc is not None:
            _write(state, state_doc)
    except OSError as exc:
        raise GenError(
            [str(file_problem(str(exc.filename or out), f"cannot write: {exc.strerror}", "output-write"))]
        ) from None
    return imported


def _name(files: list[Path], out: Path) -> str:
    """gen's own templates name their inventory; otherwise the output file's stem."""
    import re

    for file in files:
        try:
            head = file.read_text(encoding="utf-8")[:4000]
        except (OSError, UnicodeDecodeError):
            continue
        if found := re.search(r"from inventory ([A-Za-z0-9][A-Za-z0-9_.-]*):", head):
            return found.group(1)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", out.stem).strip("-.")
    return stem or "imported"

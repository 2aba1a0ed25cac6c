"""Resolve pre-shared key references ({env: NAME} / {file: PATH}) -- only with --secrets.

Messages name the reference and point at the `psk:` that holds it, never at the key. Only the
keys a rendered file uses are resolved: VNet-to-VNet keys go to Azure as deployment parameters
(the runbook's `az deployment` commands read them), no file of gen holds them.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import Problem
from .model import Model, SecretRef

_ALLOWED = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no space

# A key rendered into a file is wrapped in these two private-use characters by the psk_text filter,
# so the file is marked secret at render time whatever escaping the template applies to the key
# (a text search for the raw key misses `\"` in Junos and swanctl strings). render_all strips them.
MARK_START, MARK_END = "\ue000", "\ue001"
_MARKS = re.compile("[\ue000\ue001]")


def mark(key: str) -> str:
    """A key as psk_text renders it: between the two markers."""
    return f"{MARK_START}{key}{MARK_END}"


def unmark(text: str) -> tuple[str, bool]:
    """The text without markers, and whether it held any (then it holds a key)."""
    if MARK_START not in text and MARK_END not in text:
        return text, False
    return _MARKS.sub("", text), True


def used_secrets(model: Model) -> tuple[SecretRef, ...]:
    """The references whose keys a device file holds with --secrets (site-to-site keys), in order."""
    seen: dict[str, SecretRef] = {}
    for tunnel in model.tunnels:
        seen.setdefault(tunnel.psk.parameter, tunnel.psk)
    return tuple(seen.values())


def _read_key_file(path: Path) -> tuple[str | None, str | None]:
    """(key, problem): a key file must be a regular file only its owner can read (like ssh's)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        if info.st_mode & 0o077:
            return None, (
                f"can be read by others (mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
                " (and give the key a new value if others may have read it)"
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None, "does not exist"
    except (OSError, UnicodeDecodeError):
        return None, "cannot be read"
    return (lines[0].strip() if lines else ""), None


def secret_problems(model: Model, base: Path) -> tuple[dict[str, str], list[Problem]]:
    """(parameter name -> key, problems at the `psk:` lines) for the keys the device files use."""
    keys: dict[str, str] = {}
    problems = []
    for ref in used_secrets(model):
        if ref.kind == "keyvault":
            problems.append(
                Problem(
                    ref.path,
                    f"pre-shared key {ref.describe} is read by Azure from Key Vault, never by gen; add env: or file: "
                    "beside keyvault: with the same key for the device files, or render without --secrets",
                    "secret-keyvault-only",
                )
            )
            continue
        if ref.kind == "env":
            value = os.environ.get(ref.name)
            if value is None:
                problems.append(
                    Problem(
                        ref.path,
                        f"pre-shared key env:{ref.name} is not set; export {ref.name} or render without --secrets",
                        "secret-missing",
                    )
                )
                continue
        else:
            path = (base / ref.name).resolve()
            value, why = _read_key_file(path)
            if value is None:
                rule = "secret-file-mode" if why and "chmod" in why else "secret-missing"
                problems.append(Problem(ref.path, f"pre-shared key file:{ref.name} {why}", rule))
                continue
        if not _ALLOWED.match(value) or "-" in value or "~" in value:
            problems.append(
                Problem(
                    ref.path,
                    f"pre-shared key {ref.describe} must be 1-128 printable ASCII characters without space, '-' or '~' (Azure's rule)",
                    "secret-invalid",
                )
            )
            continue
        keys[ref.parameter] = value
    return keys, problems


def resolve_secrets(model: Model, base: Path, document=None) -> dict[str, str]:
    """parameter name -> key, for every key a device file uses; InventoryError lists every gap.

    `document` (the loaded inventory) places each problem at its `psk:` line."""
    from .errors import InventoryError, Located

    keys, problems = secret_problems(model, base)
    if problems:
        if document is not None:
            raise document.fail(problems)
        raise InventoryError([Located(model.source, 1, 1, p) for p in problems])
    return keys

"""Resolve pre-shared key references ({env: NAME} / {file: PATH}) -- only with --secrets.

Messages name the reference, never the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import GenError
from .model import Model

_ALLOWED = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no space


def resolve_secrets(model: Model, base: Path) -> dict[str, str]:
    """parameter name -> key, for every secret the model references; GenError lists every gap."""
    keys: dict[str, str] = {}
    problems = []
    for ref in model.secrets:
        if ref.kind == "env":
            value = os.environ.get(ref.name)
            if value is None:
                problems.append(
                    f"{model.source}: pre-shared key env:{ref.name} is not set; export it or render without --secrets (rule secret-missing)"
                )
                continue
        else:
            path = (base / ref.name).resolve()
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
                value = lines[0].strip() if lines else ""
            except (OSError, UnicodeDecodeError):
                problems.append(f"{model.source}: pre-shared key file:{ref.name} cannot be read (rule secret-missing)")
                continue
        if not _ALLOWED.match(value) or "-" in value or "~" in value:
            problems.append(
                f"{model.source}: pre-shared key {ref.describe} must be 1-128 printable ASCII characters without space, '-' or '~' (Azure's rule) (rule secret-invalid)"
            )
            continue
        keys[ref.parameter] = value
    if problems:
        raise GenError(problems)
    return keys

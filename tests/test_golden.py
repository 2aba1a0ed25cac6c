"""Golden files: every output of every example inventory, pinned byte for byte.

Regenerate on purpose with `pytest tests/test_golden.py --force-regen` and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import GOLDEN, INVENTORIES, render_files, state_example


def exact(obtained: Path, expected: Path, obtained_filename=None, expected_filename=None) -> None:
    """Byte-exact comparison (pytest-regressions' default ignores line endings) with a diff."""
    got, want = Path(obtained).read_bytes(), Path(expected).read_bytes()
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.decode("utf-8", "replace").splitlines(True),
                got.decode("utf-8", "replace").splitlines(True),
                str(expected),
                str(obtained),
                n=2,
            )
        )
        raise AssertionError(f"{expected} differs from the rendered output:\n{diff[:6000]}")


def _variants():
    for inventory in INVENTORIES:
        yield inventory, (), inventory.stem
        state = state_example(inventory.stem)
        if state.exists():
            yield inventory, (state,), f"{inventory.stem}-with-state"


VARIANTS = {name: (inventory, state) for inventory, state, name in _variants()}
RENDERED = {name: render_files(inventory, state) for name, (inventory, state) in VARIANTS.items()}


@pytest.mark.parametrize(("variant", "path"), [(v, p) for v, files in RENDERED.items() for p in sorted(files)])
def test_golden(variant: str, path: str, file_regression) -> None:
    file_regression.check(RENDERED[variant][path], fullpath=GOLDEN / variant / path, check_fn=exact, newline="\n")


@pytest.mark.parametrize("variant", sorted(RENDERED))
def test_no_stale_golden_files(variant: str) -> None:
    folder = GOLDEN / variant
    pinned = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
    stale = sorted(pinned - set(RENDERED[variant]))
    assert not stale, f"golden files no longer rendered (delete them on purpose): {stale}"

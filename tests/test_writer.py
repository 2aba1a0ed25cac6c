"""The writer: only changed bytes written, manifest with hashes, stale files removed, other files untouched."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from generator.errors import GenError
from generator.targets.base import OutputFile
from generator.writer import MANIFEST, digest, read_manifest, write


def files(**texts: str) -> list[OutputFile]:
    return [OutputFile(path.replace("__", "/").replace("_", "."), text) for path, text in texts.items()]


def test_first_write_then_nothing_changes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write(out, files(a_txt="A\n", sub__b_txt="B\n"))
    assert sorted(first.written) == ["a.txt", "sub/b.txt"] and not first.unchanged and not first.removed
    assert read_manifest(out) == {"a.txt": digest(b"A\n"), "sub/b.txt": digest(b"B\n")}
    stamps = {p: os.stat(out / p).st_mtime_ns for p in ("a.txt", "sub/b.txt", MANIFEST)}
    second = write(out, files(a_txt="A\n", sub__b_txt="B\n"))
    assert second.written == () and sorted(second.unchanged) == ["a.txt", "sub/b.txt"]
    assert {p: os.stat(out / p).st_mtime_ns for p in stamps} == stamps, "an unchanged file (or manifest) was rewritten"


def test_only_changed_files_are_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out, files(a_txt="A\n", b_txt="B\n"))
    untouched = os.stat(out / "b.txt").st_mtime_ns
    report = write(out, files(a_txt="A2\n", b_txt="B\n"))
    assert report.written == ("a.txt",) and report.unchanged == ("b.txt",)
    assert (out / "a.txt").read_text() == "A2\n"
    assert os.stat(out / "b.txt").st_mtime_ns == untouched
    assert read_manifest(out)["a.txt"] == digest(b"A2\n")


def test_stale_generated_files_are_removed_with_their_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out, files(a_txt="A\n", onprem__DC9__r1_ios="X\n"))
    report = write(out, files(a_txt="A\n"))
    assert report.removed == ("onprem/DC9/r1.ios",)
    assert not (out / "onprem").exists(), "the emptied folders were left behind"
    assert set(read_manifest(out)) == {"a.txt"}


def test_files_gen_did_not_write_are_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine\n")
    (out / "onprem").mkdir()
    (out / "onprem" / "keep.txt").write_text("mine too\n")
    write(out, files(a_txt="A\n", onprem__x_ios="X\n"))
    write(out, files(a_txt="A\n"))  # x.ios is stale; onprem/ keeps the user's file and stays
    assert (out / "notes.md").read_text() == "mine\n"
    assert (out / "onprem" / "keep.txt").read_text() == "mine too\n"
    assert not (out / "onprem" / "x.ios").exists()
    assert "notes.md" not in read_manifest(out)


def test_a_stale_file_edited_since_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out, files(a_txt="A\n", b_txt="B\n"))
    (out / "b.txt").write_text("B, edited by hand\n")
    report = write(out, files(a_txt="A\n"))
    assert report.removed == () and report.kept == ("b.txt",)
    assert (out / "b.txt").read_text() == "B, edited by hand\n"


def test_overwriting_a_file_gen_did_not_write_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("the team's own readme\n")
    with pytest.raises(GenError) as caught:
        write(out, files(README_md="runbook\n", a_txt="A\n"))
    assert "rule output-not-ours" in caught.value.lines[0] and "README.md" in caught.value.lines[0]
    assert (out / "README.md").read_text() == "the team's own readme\n"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"], "something was written after the refusal"


def test_an_identical_file_not_in_the_manifest_is_adopted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("A\n")
    report = write(out, files(a_txt="A\n"))
    assert report.unchanged == ("a.txt",) and "a.txt" in read_manifest(out)


def test_a_generated_file_edited_by_hand_is_restored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out, files(a_txt="A\n"))
    (out / "a.txt").write_text("edited\n")
    assert write(out, files(a_txt="A\n")).written == ("a.txt",)
    assert (out / "a.txt").read_text() == "A\n"


def test_manifest_lists_paths_and_sha256(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(out, files(b_txt="B\n", a_txt="A\n"))
    document = json.loads((out / MANIFEST).read_text())
    assert list(document["files"]) == ["a.txt", "b.txt"]
    assert document["files"]["b.txt"] == hashlib.sha256((out / "b.txt").read_bytes()).hexdigest()


def test_check_never_shows_keys(tmp_path: Path) -> None:
    from generator.writer import differences

    out = tmp_path / "out"
    write(out, [OutputFile("r1.ios", "key PLACEHOLDER\n")])
    plan, diff = differences(out, [OutputFile("r1.ios", "key FakeDc1Key0123456789abcdef\n", secret=True)])
    assert [f.path for f in plan.changed] == ["r1.ios"]
    assert "FakeDc1Key" not in diff and "holds pre-shared keys; not shown" in diff

"""Real validators for the runbook family: Mermaid's own parser, Graphviz, a CommonMark parser, XML.

`check_files({relative path: text}) -> [problem, ...]` (empty when everything passes). Needs
node with tests/mermaid/node_modules (tests/run.sh installs it) and Graphviz `dot`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

MERMAID = Path(__file__).resolve().parent / "mermaid"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.S | re.M)


def mermaid_blocks(markdown: str) -> list[str]:
    return MERMAID_BLOCK.findall(markdown)


def require_tools() -> None:
    """Fail (never skip) with a clear message when a validator is missing."""
    missing = []
    if shutil.which("node") is None or not (MERMAID / "node_modules" / "mermaid").is_dir():
        missing.append(f"node + Mermaid (npm install --prefix {MERMAID})")
    if shutil.which("dot") is None:
        missing.append("Graphviz dot (apt-get install graphviz)")
    if missing:
        raise AssertionError("runbook validators missing: " + "; ".join(missing) + " (tests/run.sh installs them)")


def check_mermaid(diagrams: dict[str, str]) -> list[str]:
    """Parse each diagram with Mermaid's parser (the one GitHub and Azure DevOps run)."""
    if not diagrams:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, text in diagrams.items():
            path = Path(tmp) / (re.sub(r"[^A-Za-z0-9.-]", "_", name) + ".mmd")
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        done = subprocess.run(
            ["node", str(MERMAID / "check.mjs"), *paths], capture_output=True, text=True, timeout=300, check=False
        )
    if done.returncode == 0:
        return []
    lines = [line for line in done.stdout.splitlines() if "ERROR" in line]
    return lines or [f"mermaid check failed: {done.stderr.strip()[:2000]}"]


def _cells(line: str) -> int:
    """Cells of a GFM table row: pipes outside code spans and not escaped."""
    text = re.sub(r"`[^`]*`", "x", line.strip())
    text = text.replace("\\|", "x")
    return len(text.strip("|").split("|"))


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def check_markdown(name: str, text: str) -> list[str]:
    """Tables parse as tables with as many cells per row as the header; #anchors point at headings."""
    from markdown_it import MarkdownIt

    problems = []
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    lines = text.splitlines()
    in_table: set[int] = set()
    for token in tokens:
        if token.type == "table_open" and token.map:
            start, end = token.map
            in_table.update(range(start, end))
            width = _cells(lines[start])
            for n in range(start, end):
                if _cells(lines[n]) != width:
                    problems.append(f"{name}:{n + 1}: table row has {_cells(lines[n])} cells, header has {width}")
    fenced = set()
    for token in tokens:
        if token.type == "fence" and token.map:
            fenced.update(range(*token.map))
    for n, line in enumerate(lines):
        if line.startswith("|") and n not in in_table and n not in fenced:
            problems.append(f"{name}:{n + 1}: looks like a table row but is not part of a table")
    headings = {_slug(t.content) for i, t in enumerate(tokens) if i and tokens[i - 1].type == "heading_open"}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        if target not in headings:
            problems.append(f"{name}: link to #{target}, but no such heading")
    return problems


def check_dot(name: str, text: str) -> list[str]:
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or done.stderr.strip():
        return [f"{name}: dot: {done.stderr.strip()[:2000]}"]
    return []


def check_svg(name: str, text: str) -> list[str]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return [f"{name}: not XML: {exc}"]
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return [f"{name}: root element {root.tag} is not svg"]
    if "graphviz version" in text:
        return [f"{name}: carries Graphviz's version comment (not deterministic across releases)"]
    return []


def check_files(files: dict[str, str]) -> list[str]:
    require_tools()
    problems = []
    diagrams = {}
    for path, text in sorted(files.items()):
        if path.endswith(".md"):
            problems += check_markdown(path, text)
            for i, block in enumerate(mermaid_blocks(text)):
                diagrams[f"{path}-{i}"] = block
        elif path.endswith(".dot"):
            problems += check_dot(path, text)
        elif path.endswith(".svg"):
            problems += check_svg(path, text)
    return problems + check_mermaid(diagrams)

"""Filters for the runbook's text formats (Markdown, Mermaid, Graphviz DOT) and its summaries.

Each escapes one syntax or formats one model value; the values come from the model or
generator.topology.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import format_path
from .model import IpsecPolicy

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md(value: Any) -> str:
    """Free text in Markdown (a table cell or a paragraph): special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def md_code(value: Any) -> str:
    """A value as a Markdown code span, safe for placeholders such as <SEA-VNET-gw-pip1>."""
    text = str(value).replace("`", "'")
    return f"`{text}`"


def mermaid_id(value: Any) -> str:
    """A Mermaid node id: letters and digits kept, anything else as _xx (unique, never a keyword)."""
    return "n_" + re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group(0)):02x}", str(value))


def mermaid_label(lines: Any) -> str:
    """A quoted Mermaid label from one line or a list of lines."""
    parts = [lines] if isinstance(lines, str) else list(lines)
    escaped = [
        str(p).replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for p in parts
    ]
    return '"' + "<br/>".join(escaped) + '"'


def dot_string(lines: Any) -> str:
    """A quoted Graphviz string from one line or a list of lines (centred line breaks)."""
    parts = [lines] if isinstance(lines, str) else list(lines)
    escaped = [str(p).replace("\\", "\\\\").replace('"', '\\"') for p in parts]
    return '"' + "\\n".join(escaped) + '"'


def policy_summary(policy: IpsecPolicy, ike_version: str = "IKEv2") -> str:
    """One line: IKE and ESP algorithms and the SA lifetime; '(Azure default)' when not custom."""
    text = (
        f"{ike_version} {policy.ike_encryption}/{policy.ike_integrity}/{policy.dh_group}, "
        f"ESP {policy.ipsec_encryption}/{policy.ipsec_integrity}/{'no PFS' if policy.pfs_group == 'None' else policy.pfs_group}, "
        f"{policy.sa_lifetime_seconds} s"
    )
    return text if policy.custom else text + " (Azure default)"


MARKUP_FILTERS = {
    "format_path": format_path,
    "policy_summary": policy_summary,
    "md": md,
    "md_code": md_code,
    "mermaid_id": mermaid_id,
    "mermaid_label": mermaid_label,
    "dot_string": dot_string,
}

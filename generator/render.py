"""The Jinja environment shared by every target, and the filters templates may use.

Templates hold no logic: values come from the model; these filters only format them for one
output syntax each (JSON, ARM/Bicep ids, PowerShell strings, router descriptions).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import jinja2

from .crypto import FILTERS as CRYPTO_FILTERS
from .errors import GenError
from .facts import API_VERSION
from .markup import MARKUP_FILTERS
from .model import Deferred, ResourceRef
from .platforms import template_filters
from .resources import resource_path
from .wording import plural


def _default(value: Any) -> Any:
    if isinstance(value, (Deferred,)):
        return str(value)
    return str(value)  # IPv4Address / IPv4Network


def tojson(value: Any) -> str:
    """A JSON literal (strings escaped for JSON), deterministic; IPs and deferred values as strings."""
    return json.dumps(value, ensure_ascii=False, default=_default)


def arm_id(ref: ResourceRef, current_rg: str) -> str:
    """ARM resourceId() expression; names the resource group only when it is another one."""
    args = [ref.type, *ref.names]
    if ref.resource_group != current_rg:
        args.insert(0, ref.resource_group)
    return "[resourceId(" + ", ".join(_arm_string(a) for a in args) + ")]"


def arm_reference(ref: ResourceRef, current_rg: str, path: str) -> str:
    """ARM expression reading a runtime property of a deployed resource, e.g. ipAddress."""
    return f"[reference({arm_id(ref, current_rg)[1:-1]}, '{API_VERSION}').{path}]"


def _arm_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ps_string(value: Any) -> str:
    """PowerShell single-quoted string literal."""
    text = str(value)
    return "'" + re.sub(r"['\u2018\u2019\u201a\u201b]", lambda m: m.group(0) * 2, text) + "'"


def bicep_string(value: Any) -> str:
    """Bicep single-quoted string literal."""
    text = (
        str(value)
        .replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("${", "\\${")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return "'" + text + "'"


def config_text(value: Any) -> str:
    """Free text for a router config line (descriptions, comments): one line, printable ASCII."""
    return re.sub(r"[^\x20-\x7e]|[\"'`$;!\\]", "_", str(value))


def counted_items(items: Any, word: str, words: str | None = None) -> str:
    """{{ tunnels | plural("tunnel") }} -> '1 tunnel' / '2 tunnels'."""
    return plural(len(items), word, words)


def symbol(text: str) -> str:
    """A camelCase identifier from a name: 'SEA-VNET-gw' -> 'seaVnetGw'."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", str(text)) if p]
    if not parts:
        return "x"
    out = parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])
    return out if out[0].isalpha() else "r" + out


FILTERS = {
    "tojson": tojson,
    "arm_id": arm_id,
    "arm_reference": arm_reference,
    "ps_string": ps_string,
    "bicep_string": bicep_string,
    "config_text": config_text,
    "symbol": symbol,
    "plural": counted_items,
    **MARKUP_FILTERS,
    **CRYPTO_FILTERS,  # device timers, key text, address formats (crypto.py)
    **template_filters(),  # each platform's vendor tokens (generator/platforms/)
}


# The Jinja options every renderer of these templates uses (bench/floor.py replays them too).
JINJA_OPTIONS = {
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "autoescape": False,
}


@lru_cache(maxsize=8)
def environment(override: str | None = None) -> jinja2.Environment:
    """One environment per process (templates compile once); `override` is a user template folder."""
    paths = [str(resource_path("templates"))]
    if override:
        paths.insert(0, override)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(paths), **JINJA_OPTIONS)
    env.filters.update(FILTERS)
    env.globals["api_version"] = API_VERSION
    return env


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """(template file, line) of the innermost template frame: runtime errors carry no line."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def render(env: jinja2.Environment, template: str, **context: Any) -> str:
    """Render one template; template errors become GenError naming the template and line."""
    try:
        return env.get_template(template).render(**context)
    except jinja2.TemplateError as exc:
        filename, lineno = getattr(exc, "filename", None), getattr(exc, "lineno", None)
        if lineno is None:
            filename, lineno = _template_frame(exc) or (filename, None)
        # Jinja knows the line, not the column: `FILE: line N: message` (the form without a position)
        where = f"{filename or template}: line {lineno}" if lineno else f"{filename or template}"
        message = str(exc.message or exc).replace("\n", " ")
        raise GenError([f"{where}: template error: {message} (rule template-error)"]) from None

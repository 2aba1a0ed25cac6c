"""What gen renders for an inventory, captured once (outside any timed region) for the baselines.

`capture(inventory)` builds gen's model and runs every registered target (generator.targets.TARGETS,
so a target merged later is measured with no change here) while recording each top-level Jinja
render: template name, its context, and the output file it became. The floor (bench/floor.py)
replays these renders with a plain jinja2.Environment; the Ansible peer gets the device renders
as plain host variables.
"""

from __future__ import annotations

import dataclasses
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Job = tuple[str, str, dict[str, Any]]  # (output path, template name, context)


def capture(inventory: Path) -> list[Job]:
    """Every top-level render gen does for `inventory`, paired with the file it produced."""
    import jinja2

    from generator.pipeline import build_model
    from generator.render import environment
    from generator.targets import TARGETS, Options

    model = build_model(inventory).model
    env = environment(None)
    calls: list[tuple[str, dict[str, Any], str]] = []
    original = jinja2.Template.render

    def spy(self, *args, **kwargs):
        text = original(self, *args, **kwargs)
        calls.append((self.name, dict(*args, **kwargs), text))
        return text

    jobs: list[Job] = []
    jinja2.Template.render = spy
    try:
        for key, target in TARGETS.items():
            calls.clear()
            files = target.render(model, env, Options())
            if len(files) == len(calls):  # one render per file (every target so far)
                paths = _pair(calls, files)
            else:  # the target combines renders: keep them apart under the target's key
                paths = [f"{key}/render-{i:05d}.txt" for i in range(len(calls))]
            jobs += [(path, name, ctx) for path, (name, ctx, _) in zip(paths, calls, strict=True)]
    finally:
        jinja2.Template.render = original
    return jobs


def _pair(calls, files) -> list[str]:
    """The file each render became: the file with the same text, else (post-processed, e.g. canonical
    JSON) the next unclaimed file in order."""
    texts = [text for _, _, text in calls]
    exact = [f for f in files if f.text in texts]
    processed = [f for f in files if f.text not in texts]
    paths = []
    for text in texts:
        same = next((f for f in exact if f.text == text), None)
        claimed = same or processed[0]
        (exact if same else processed).remove(claimed)
        paths.append(claimed.path)
    return paths


def device_templates() -> dict[str, list[str]]:
    """platform -> its device templates (templates/onprem/<platform>/*.j2, partials '_*' excluded)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "templates" / "onprem").glob("*/*.j2")):
        if not path.name.startswith("_"):
            found.setdefault(path.parent.name, []).append(f"onprem/{path.parent.name}/{path.name}")
    return found


def plain_filters() -> dict[str, Any]:
    """gen's filters for templates fed plain data (Ansible host variables): the vendor filters read
    attributes (policy.ike_encryption), so a mapping they filter becomes an attribute object first."""
    from types import SimpleNamespace

    from generator.crypto import FILTERS as DEVICE
    from generator.platforms import template_filters
    from generator.render import FILTERS

    VENDOR = {**DEVICE, **template_filters()}

    class Attributes(SimpleNamespace):
        # an attribute object that still answers as the mapping it was (a filter may call .get)
        def get(self, key: str, default: Any = None) -> Any:
            return getattr(self, key, default)

        def __getitem__(self, key: str) -> Any:
            return getattr(self, key)

        def keys(self):
            return vars(self).keys()

        def items(self):
            return vars(self).items()

    def attributes(value: Any) -> Any:
        if isinstance(value, dict):
            return Attributes(**{k: attributes(v) for k, v in value.items()})
        if isinstance(value, list):  # e.g. a device's tunnels
            return [attributes(v) for v in value]
        return value

    def wrap(function):
        def call(value, *args, **kwargs):
            # every argument, not only the filtered value: srx_kept(device, tunnels) reads t.bgp
            args = tuple(attributes(a) for a in args)
            return function(attributes(value), *args, **{k: attributes(v) for k, v in kwargs.items()})

        return call

    return {**FILTERS, **{name: wrap(function) for name, function in VENDOR.items()}}


def plain(value: Any, depth: int = 0) -> Any:
    """The value as YAML-able data (dataclasses -> mappings with their properties, IPs -> strings).

    The whole Model is cut down to its scalar fields: a device host must not carry the estate.
    """
    from generator.model import Deferred, Model
    from generator.platforms import Platform

    if depth > 12:
        raise ValueError("too deep to flatten")
    if isinstance(value, (IPv4Address, IPv4Network, Deferred)):
        return str(value)
    if isinstance(value, Platform):
        # the platform's plain class attributes (key, title, verify_commands, ...): the object
        # itself is not YAML (the Ansible inventory) and its methods are no template data
        return {
            name: plain(getattr(value, name), depth + 1)
            for name in dir(type(value))
            if not name.startswith("_") and isinstance(getattr(value, name), (str, int, tuple))
        }
    if isinstance(value, Model):
        return {
            f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.type in ("str", "dict[str, str]")
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
        for name in dir(type(value)):
            if not name.startswith("_") and isinstance(getattr(type(value), name), property):
                out[name] = plain(getattr(value, name), depth + 1)
        return out
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    return value

"""The `gen lab` command's options and output, kept here so generator/cli.py stays one small call."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from .bgp_checks import text as bgp_checks_text
from .drill import DrillOptions
from .plan import PLANTS, Timers
from .report import cut_off, drill_text, summary, table, timeline_svg


def lab_timers(text: str) -> Timers:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]) // 3:
        raise click.UsageError(f"--bgp-timers {text}: use KEEPALIVE/HOLD with KEEPALIVE <= HOLD/3, e.g. 60/180")
    return Timers(int(match[1]), int(match[2]))


def drill_options(drill: bool, only: tuple[str, ...]) -> DrillOptions | None:
    return DrillOptions(only=tuple(only)) if drill or only else None


def colon_pairs(option: str, items: tuple[str, ...], kinds: tuple[str, ...], shape: str) -> list[tuple[str, str]]:
    """`KIND:TARGET` values of a repeatable option (--inject, --plant), KIND one of `kinds`."""
    pairs = []
    for item in items:
        kind, _, target = item.partition(":")
        if kind not in kinds or not target:
            raise click.UsageError(f"{option} {item}: use {shape} with {shape.split(':')[0]} one of {', '.join(kinds)}")
        pairs.append((kind, target))
    return pairs


def plants(items: tuple[str, ...]) -> dict[str, str]:
    return dict(colon_pairs("--plant", items, PLANTS, "PLANT:SITE"))


def to_json(result) -> dict:
    rows = [
        {k: getattr(st, k) for k in ("key", "kind", "device", "source", "ike", "child", "azure_ike", "bgp", "azure_bgp")}
        | {"learned": st.learned_onprem, "learned_peer": st.learned_azure, "ping": st.ping, "ok": st.ok,
           "reasons": st.reasons}
        for st in result.tunnels + result.links
    ]  # fmt: skip
    return {
        "lab": result.name,
        "mode": result.mode,
        "timers": result.timers,
        "tunnels": rows,
        "matrix": result.matrix,
        "cut_off": cut_off(result),
        "seconds_to_established": result.seconds_to_established,
        "drill": result.drill.to_json() if result.drill else None,
        "bgp_checks": [
            {"check": c.name, "device": c.device, "ok": c.ok, "detail": c.detail} for c in result.bgp_checks
        ],
        "ok": result.ok,
    }


def emit(result, fmt: str, report: Path | None, info) -> None:
    """Print the table (or JSON); with a drill also write its report and, beside it, the timeline SVG."""
    text = table(result)
    if result.matrix:
        text += "\n" + "\n".join(cut_off(result))
    if result.bgp_checks:
        text = text.rstrip("\n") + "\n\n" + bgp_checks_text(result.bgp_checks)
    if result.drill is not None:
        text = text.rstrip("\n") + "\n\n" + drill_text(result.drill)
        path = report or Path(f"gen-lab-{result.name}-drill.{'json' if fmt == 'json' else 'txt'}")
        body = json.dumps(to_json(result), indent=2) + "\n" if fmt == "json" else text + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            path.with_suffix(".svg").write_text(timeline_svg(result.drill), encoding="utf-8")
        except OSError as error:
            click.secho(f"gen lab: cannot write the drill report {path}: {error.strerror}", err=True, fg="red")
            sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(to_json(result), indent=2))
        return
    click.echo(text.rstrip("\n"))
    info(summary(result))
    if result.drill is not None:
        info(f"drill report: {path}; timeline: {path.with_suffix('.svg')}")

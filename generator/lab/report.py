"""The lab's table: one row per tunnel, then the reason for every tunnel that is not up."""

from __future__ import annotations

from .drill import MODE_PROOF
from .run import LabResult

HEADERS = ("tunnel", "device", "IKE", "CHILD", "BGP", "learned on-prem", "learned Azure", "ping", "result")


def _learned(values: list[str], expected: list[str], bgp: bool) -> str:
    if not bgp:
        return "n/a"
    return f"{len(values)} ({', '.join(values)})" if values else "0"


def table(result: LabResult) -> str:
    rows = []
    for st in result.tunnels + result.links:
        bgp = st.bgp if st.bgp_expected else "n/a"
        if st.bgp_expected and st.azure_bgp not in ("-", st.bgp):
            bgp = f"{st.bgp}/{st.azure_bgp}"
        rows.append(
            (
                st.key,
                f"{st.device} ({st.source})" if st.kind == "tunnel" else f"link to {st.device}",
                st.ike if st.azure_ike in ("-", st.ike) else f"{st.ike}/{st.azure_ike}",
                st.child,
                bgp,
                _learned(st.learned_onprem, st.expected_onprem, st.bgp_expected),
                _learned(st.learned_azure, st.expected_azure, st.bgp_expected),
                st.ping,
                "up" if st.ok else "FAILED",
            )
        )
    widths = [max(len(str(r[i])) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [HEADERS, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for st in result.tunnels + result.links:
        for reason in st.reasons:
            lines.append(f"{st.key}: {reason}")
    return "\n".join(lines)


def summary(result: LabResult) -> str:
    up = sum(st.ok for st in result.tunnels)
    verified = sorted({st.device for st in result.tunnels if st.source == "verified"})
    emulated = sorted({st.device for st in result.tunnels if st.source == "emulated"})
    mode = "XFRM interfaces" if result.mode == "xfrm" else "strongSwan kernel-libipsec (TUN)"
    parts = [
        f"{up}/{len(result.tunnels)} tunnels up ({mode})",
        f"verified with the rendered files: {', '.join(verified) or 'none'}",
        f"emulated from the model: {', '.join(emulated) or 'none'}",
    ]
    if result.links:
        parts.insert(1, f"{sum(st.ok for st in result.links)}/{len(result.links)} VNet-to-VNet link tunnels up")
    if result.seconds_to_established is not None:
        parts.append(f"all up after {result.seconds_to_established:.1f} s")
    return "; ".join(parts)


def cut_off(result: LabResult) -> list[str]:
    """For every link or tunnel that is down: what the matrix lost with it (the lab without --drill)."""
    lost = [cell for cell, state in (result.matrix or {}).items() if state != "ok"]
    down = [st.key for st in result.tunnels + result.links if not st.ok]
    if not down:
        return []
    return [f"down: {', '.join(down)}; cuts off: {', '.join(lost) if lost else 'nothing (another path carries it)'}"]


def matrix(cells: dict[str, str], title: str) -> str:
    width = max((len(c) for c in cells), default=0)
    lines = [title]
    lines += [f"  {cell.ljust(width)}  {state}" for cell, state in cells.items()]
    return "\n".join(lines)


def drill_text(drill) -> str:
    """The drill's report: the matrix, then one row per failure, labelled with what produced the figures."""
    lines = [
        "Drill (emulated Azure side: recovery times come from the lab's emulation, Azure's own reaction to a",
        "lost SA is not documented)",
        f"  timers: {drill.timers}",
        f"  {drill.dpd}",
        f"  matrix proven by: {MODE_PROOF[drill.mode]}",
        "",
        matrix(drill.matrix, "Reachability before the drill (source -> target):"),
        "",
    ]
    if drill.note:
        return "\n".join([*lines, drill.note])
    headers = ("failure", "lost (cells)", "recovery", "decided by", "restore", "result")
    rows = []
    for d in drill.drills:
        result = "ok" if d.ok and not d.expected_loss else ("SPOF (expected)" if d.ok else "FAILED")
        rows.append(
            (
                d.failure,
                str(len(d.lost)),
                "-" if d.recovery is None else f"{d.recovery:.1f} s",
                d.mechanism,
                "-" if d.restore is None else f"{d.restore:.1f} s",
                result,
            )
        )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    table_lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]]
    table_lines.insert(1, "  ".join("-" * w for w in widths))
    lines += table_lines
    for d in drill.drills:
        if d.expected_loss:
            lines.append(
                f"{d.failure}: single point of failure, expected ({d.spof_reason}): {', '.join(d.expected_loss)}"
            )
        if d.never:
            lines.append(
                f"{d.failure}: LOSS THE DESIGN CLAIMS TO SURVIVE: {', '.join(d.never)} never came back while {d.what}"
            )
    for d in drill.drills:
        lines.append(f"{d.failure}: restore: {d.restore_note}")
    lines.append(
        f"drill: {len(drill.drills)} failures in {drill.seconds:.0f} s; " + ("design holds" if drill.ok else "FAILED")
    )
    return "\n".join(lines)


COLOURS = {"ok": "#2e7d32", "degraded": "#f9a825", "lost": "#c62828"}


def timeline_svg(drill) -> str:
    """Reachability per site (worst of its cells, both directions) over the drill, failures as bands."""
    sites = sorted(
        {c.source for c in drill.cells if c.kind.startswith("site")}
        | {c.target for c in drill.cells if c.kind.endswith("site")}
    )
    end = max([t for t, _ in drill.timeline] + [1.0])
    left, width, row = 140, 760, 22
    top = 40
    height = top + row * len(sites) + 30
    x = lambda t: left + width * t / end  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="4" y="14">gen lab --drill: reachability per site ({drill.timers}; emulated Azure side)</text>',
    ]
    for d in drill.drills:
        out.append(
            f'<rect x="{x(d.start):.1f}" y="20" width="{max(1.0, x(d.end) - x(d.start)):.1f}" '
            f'height="{height - 40}" fill="#eeeeee" stroke="#999999"><title>{_esc(d.failure)}</title></rect>'
        )
    rank = {"ok": 0, "degraded": 1, "lost": 2}
    for n, site in enumerate(sites):
        y = top + n * row
        out.append(f'<text x="4" y="{y + 14}">{_esc(site)}</text>')
        mine = [c.name for c in drill.cells if site in (c.source, c.target)]
        for (t, view), (t_next, _) in zip(drill.timeline, [*drill.timeline[1:], (end, {})], strict=True):
            state = max((view.get(c, "ok") for c in mine), key=rank.get, default="ok")
            out.append(
                f'<rect x="{x(t):.1f}" y="{y + 2}" width="{max(0.5, x(t_next) - x(t)):.1f}" height="{row - 6}" '
                f'fill="{COLOURS[state]}"/>'
            )
    out.append(f'<text x="{left}" y="{height - 8}">0 s</text>')
    out.append(f'<text x="{left + width - 40}" y="{height - 8}">{end:.0f} s</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

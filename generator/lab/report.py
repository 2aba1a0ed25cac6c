"""The lab's table: one row per tunnel, then the reason for every tunnel that is not up."""

from __future__ import annotations

from .run import LabResult

HEADERS = ("tunnel", "device", "IKE", "CHILD", "BGP", "learned on-prem", "learned Azure", "ping", "result")


def _learned(values: list[str], expected: list[str], bgp: bool) -> str:
    if not bgp:
        return "n/a"
    return f"{len(values)} ({', '.join(values)})" if values else "0"


def table(result: LabResult) -> str:
    rows = []
    for st in result.tunnels:
        bgp = st.bgp if st.bgp_expected else "n/a"
        if st.bgp_expected and st.azure_bgp not in ("-", st.bgp):
            bgp = f"{st.bgp}/{st.azure_bgp}"
        rows.append(
            (
                st.key,
                f"{st.device} ({st.source})",
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
    for st in result.tunnels:
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
    if result.seconds_to_established is not None:
        parts.append(f"all up after {result.seconds_to_established:.1f} s")
    return "; ".join(parts)

"""Benchmark (not a test): time from `gen lab` start to every tunnel up and every BGP session Established.

Run as root from the repository root:
    sudo python3 bench/lab_bench.py [INVENTORY] [--runs N]
    sudo python3 bench/lab_bench.py [INVENTORY] --drill [--bgp-timers 60/180]
Prints each run and the median; with --drill, the full drill (every single failure) and its duration.
The figures go into bench/README.md (## gen lab).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inventory", nargs="?", default=str(ROOT / "inventories" / "csp-advanced-linux.yaml"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drill", action="store_true", help="run the full drill once and report its duration")
    parser.add_argument("--bgp-timers", default="3/9", help="emulated Azure timers for --drill (Azure: 60/180)")
    args = parser.parse_args()

    from generator.lab.run import run_lab

    if args.drill:
        return full_drill(Path(args.inventory), args.bgp_timers)

    established, total = [], []
    for n in range(args.runs):
        started = time.monotonic()
        result = run_lab(Path(args.inventory), name=f"bench{n}", timeout=90)
        total.append(time.monotonic() - started)
        if not result.ok or result.seconds_to_established is None:
            print(f"run {n + 1}: FAILED", [st.reasons for st in result.tunnels if not st.ok])
            return 1
        established.append(result.seconds_to_established)
        print(
            f"run {n + 1}: {len(result.tunnels)} tunnels, all Established after {result.seconds_to_established:.2f} s "
            f"(whole run incl. ping and teardown {total[-1]:.2f} s, mode {result.mode})"
        )
    print(
        f"median time to all-Established: {statistics.median(established):.2f} s "
        f"(min {min(established):.2f}, max {max(established):.2f}); median whole run {statistics.median(total):.2f} s"
    )
    return 0


def full_drill(inventory: Path, bgp_timers: str) -> int:
    from generator.lab.cli import lab_timers
    from generator.lab.drill import DrillOptions
    from generator.lab.report import drill_text
    from generator.lab.run import run_lab

    started = time.monotonic()
    result = run_lab(inventory, name="benchdrill", timeout=90, timers=lab_timers(bgp_timers), drill=DrillOptions())
    total = time.monotonic() - started
    print(drill_text(result.drill))
    print(
        f"full drill of {inventory.name}: {len(result.drill.drills)} failures, {total:.0f} s wall "
        f"({total / 60:.1f} min, incl. bring-up and teardown; {result.drill.timers}); "
        + ("design holds" if result.ok else "FAILED")
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

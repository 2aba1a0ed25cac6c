"""Benchmark (not a test): time from `gen lab` start to every tunnel up and every BGP session Established.

Run as root from the repository root:
    sudo python3 bench/lab_bench.py [INVENTORY] [--runs N]
Prints each run and the median; the figure goes into bench/README.md (## gen lab).
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
    args = parser.parse_args()

    from generator.lab.run import run_lab

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


if __name__ == "__main__":
    sys.exit(main())

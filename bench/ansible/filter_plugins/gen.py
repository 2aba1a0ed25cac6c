"""gen's Jinja filters (generator/render.py), so Ansible renders gen's templates unchanged.

Host variables are plain data, so the vendor filters get attribute objects (bench/workload.py).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workload import plain_filters  # noqa: E402


class FilterModule:
    def filters(self):
        return plain_filters()  # Ansible keeps its own built-in filters beside these

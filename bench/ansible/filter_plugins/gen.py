"""gen's Jinja filters (generator/render.py), so Ansible renders gen's templates unchanged."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from generator.render import FILTERS  # noqa: E402


class FilterModule:
    def filters(self):
        return dict(FILTERS)

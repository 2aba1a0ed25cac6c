"""The floor: gen's templates rendered with a plain jinja2.Environment from a pre-built context.

    python bench/floor.py JOBS.pickle OUT_DIR

JOBS.pickle holds what bench/workload.py captured: (output path, template, context) for every
render gen does. This process loads it, renders each template with the same Jinja options and
filters gen uses (the templates call them) and writes each result to the same relative path.
No validation, no model building, no post-processing, no staging: as fast as plain Jinja2 can be.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the pickled context is made of generator.model objects

import jinja2  # noqa: E402

from generator.facts import API_VERSION  # noqa: E402
from generator.render import FILTERS, JINJA_OPTIONS  # noqa: E402


def main(jobs_file: str, out: str) -> None:
    with open(jobs_file, "rb") as handle:
        jobs = pickle.load(handle)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "templates")), **JINJA_OPTIONS)
    env.filters.update(FILTERS)
    env.globals["api_version"] = API_VERSION
    made: set[str] = set()
    for path, template, context in jobs:
        text = env.get_template(template).render(context)
        target = os.path.join(out, path)
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Benchmarks: gen render against the plain-Jinja floor and Ansible's template module.

    python bench/run.py            # full run (~20 min: Ansible at N=1000 takes minutes per run)
    python bench/run.py --quick    # < 3 min: smaller N, fewer repetitions, small Ansible run

Every measurement is a whole process (start to files written), timed with perf_counter around
fork/exec and wait4, whose rusage gives the peak RSS (largest single process of the tree). Cases
run round-robin (one run of each in turn, the order rotated every round) after one discarded
warm-up round, and every ratio compares medians from this same run. Inputs are made first,
outside the timed region: inventories (bench/make_inventory.py), the floor's pre-built render
jobs (bench/workload.py) and the Ansible inventories. Output goes to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
ANSIBLE_VENV = HERE / ".venv-ansible"
EXAMPLE = ROOT / "inventories" / "csp-advanced.yaml"
PY = sys.executable
TIME = "/usr/bin/time"  # GNU time (Debian package 'time')

sys.path.insert(0, str(HERE))
import make_inventory  # noqa: E402
import workload  # noqa: E402


@dataclass
class Case:
    name: str
    argv: list[str]
    out: Path | None = None  # removed before every run (untimed)
    dirs: list[Path] = field(default_factory=list)  # created before every run (untimed)
    env: dict[str, str] | None = None
    reps: int | None = None  # fewer repetitions than the others (Ansible)
    warmup: bool = True
    expect: int = 0  # exit code of a good run (2: the case measures a refusal)
    times: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # KiB
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the process tree


def timed(case: Case) -> None:
    if case.out is not None:
        shutil.rmtree(case.out, ignore_errors=True)
    for d in case.dirs:
        d.mkdir(parents=True, exist_ok=True)
    log, peak = RESULTS / "last-stderr.txt", RESULTS / "last-rss.txt"
    # GNU time reports the peak RSS of the command alone: a child forked from this (large) process
    # would count this process's pages until exec.
    argv = [TIME, "-f", "%M %U %S", "-o", str(peak), *case.argv]
    with open(log, "wb") as err:
        start = time.perf_counter()
        code = subprocess.call(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, env=case.env)
        wall = time.perf_counter() - start
    if code != case.expect:
        raise SystemExit(f"{case.name} failed ({code}):\n{log.read_text()[-3000:]}")
    case.times.append(wall)
    rss, user, system = peak.read_text().split()[-3:]
    case.rss.append(int(rss))
    case.cpu.append(float(user) + float(system))


# ------------------------------------------------------------------ inputs (untimed)
def inventory(n: int) -> Path:
    path = RESULTS / f"inv-{n}.yaml"
    text = make_inventory.make(n)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def floor_jobs(n: int) -> tuple[Path, list]:
    jobs = workload.capture(inventory(n))
    path = RESULTS / f"jobs-{n}.pickle"
    with open(path, "wb") as handle:
        pickle.dump(jobs, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path, jobs


def ansible_venv() -> Path:
    playbook = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        print("creating bench/.venv-ansible (ansible-core) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"], check=True)
    return playbook


def ansible_inputs(n: int, jobs: list) -> tuple[Path, str, set[Path]]:
    """Ansible inventory for N devices: one host per device with its files and template variables.

    gen's own device templates (templates/onprem/) when they exist and render the same from plain
    host variables; otherwise a stand-in device template (bench/ansible/standin-device.j2).
    """
    import yaml

    hosts, mode = _device_hosts(jobs)
    if hosts is None:
        hosts = _standin_hosts(n)
    out_dirs = {Path(f["dest"]).parent for h in hosts.values() for f in h["gen_files"]}
    data = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": hosts,
        }
    }
    path = RESULTS / f"ansible-inv-{n}.yaml"
    path.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))
    return path, mode, out_dirs


def _device_hosts(jobs: list) -> tuple[dict | None, str]:
    import jinja2

    from generator.render import environment

    device = [j for j in jobs if j[1].startswith("onprem/")]
    if not workload.device_templates() or not device:
        return None, "stand-in device template (no templates/onprem/ yet)"
    env = environment(None)
    plain_env = env.overlay()
    plain_env.filters = {**env.filters, **workload.plain_filters()}
    hosts: dict[str, dict] = {}
    for path, template, context in device:
        host = Path(path).name.split(".")[0]
        try:
            variables = workload.plain(context)
            same = plain_env.get_template(template).render(variables) == env.get_template(template).render(context)
        except (jinja2.TemplateError, ValueError, TypeError, AttributeError) as exc:
            return None, f"stand-in device template ({template} needs gen's objects: {exc})"
        if not same:
            return None, f"stand-in device template ({template} renders differently from plain variables)"
        entry = hosts.setdefault(host, {"gen_files": []})
        for key, value in variables.items():
            if key in entry and entry[key] != value:
                return None, f"stand-in device template (files of {host} need different '{key}')"
            entry[key] = value
        entry["gen_files"].append({"src": template, "dest": path})
    return hosts, "gen's device templates (templates/onprem/)"


def _standin_hosts(n: int) -> dict:
    from generator.pipeline import build_model

    model = build_model(inventory(n)).model
    return {
        d.name: {
            "device": workload.plain(d),
            "tunnels": workload.plain(model.device_tunnels.get(d.name, ())),
            "gen_files": [{"src": "bench/ansible/standin-device.j2", "dest": f"standin/{d.name}.cfg"}],
        }
        for d in model.devices
    }


# ------------------------------------------------------------------ report
def fmt(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def table(cases: dict[str, Case]) -> list[str]:
    lines = [
        "| case | runs | wall median s | wall min–max s | CPU median s | max RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for c in cases.values():
        if not c.times:
            continue
        lines.append(
            f"| {c.name} | {len(c.times)} | {fmt(statistics.median(c.times))} | {fmt(min(c.times))}–{fmt(max(c.times))} | "
            f"{fmt(statistics.median(c.cpu))} | {statistics.median(c.rss) / 1024:.1f} |"
        )
    return lines


def ratios(cases: dict[str, Case], sizes: list[int], ansible_sizes: list[int], lin: tuple[int, int]) -> list[str]:
    """Ratios of medians, wall time and CPU time (user+sys: robust when the machine is shared)."""

    def med(name: str, what: str) -> float | None:
        c = cases.get(name)
        values = getattr(c, what) if c else None
        return statistics.median(values) if values else None

    lines = ["| ratio | wall | CPU | target |", "|---|---|---|---|"]

    def add(label: str, a: str, b: str, target: str) -> None:
        walls = (med(a, "times"), med(b, "times"))
        cpus = (med(a, "cpu"), med(b, "cpu"))
        if None in walls:
            return
        cpu = f"{cpus[0] / cpus[1]:.2f}×" if None not in cpus and cpus[1] else "–"
        lines.append(f"| {label} | {walls[0] / walls[1]:.2f}× | {cpu} | {target} |")

    for n in sizes:
        add(f"gen render / floor, N={n}", f"gen render N={n}", f"floor N={n}", "≤ 1.3× at N=1000" if n == 1000 else "")
    for n in ansible_sizes:
        add(
            f"Ansible / gen render, N={n}",
            f"ansible N={n}",
            f"gen render N={n}",
            "≥ 200× at N=1000" if n == 1000 else "",
        )
    small, large = lin
    for who in ("gen render", "floor"):
        add(f"{who}: time(N={large}) / time(N={small})", f"{who} N={large}", f"{who} N={small}", "≤ 11 (linear: 10)")
    imports = "python -c 'import jinja2, yaml'"
    add("gen validate example / python -c 'import jinja2, yaml'", "gen validate example", imports, "≤ 2×")
    add("gen --version / python -c 'import jinja2, yaml'", "gen --version", imports, "")
    rss = med("gen render N=1000", "rss")
    if rss is not None:
        lines.append(f"| gen render N=1000 max RSS | {rss / 1024:.1f} MiB | | ≤ 100 MiB |")
    return lines


def compare_outputs(gen_out: Path, floor_out: Path) -> str:
    gen_files = {p.relative_to(gen_out) for p in gen_out.rglob("*") if p.is_file() and p.name != ".gen-manifest.json"}
    floor_files = {p.relative_to(floor_out) for p in floor_out.rglob("*") if p.is_file()}
    same = sum(1 for p in gen_files & floor_files if (gen_out / p).read_bytes() == (floor_out / p).read_bytes())
    return (
        f"floor wrote {len(floor_files)} files, gen {len(gen_files)}; {len(gen_files & floor_files)} same paths, "
        f"{same} byte-identical (gen post-processes some families, e.g. ARM is re-serialized canonically)"
    )


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import jinja2
    import yaml

    return (
        f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, Jinja2 {jinja2.__version__}, "
        f"PyYAML {yaml.__version__} (libyaml {'yes' if hasattr(yaml, 'CSafeLoader') else 'no'}), {platform.platform()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N and fewer repetitions (< 3 minutes)")
    parser.add_argument("--reps", type=int, help="repetitions per case (default 5, quick 3)")
    parser.add_argument("--no-ansible", action="store_true", help="skip the Ansible peer")
    args = parser.parse_args()

    if args.quick:
        sizes, ansible_sizes, reps, lin = [100, 1000], {10: 2}, args.reps or 3, (100, 1000)
    else:
        sizes, ansible_sizes, reps, lin = [100, 500, 1000, 5000], {100: 3, 1000: 1}, args.reps or 5, (500, 5000)
    if args.no_ansible:
        ansible_sizes = {}
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    print(f"machine: {machine()}", flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)

    gen = [PY, "-m", "generator", "-q"]
    cases: dict[str, Case] = {}

    def add(case: Case) -> None:
        cases[case.name] = case

    all_jobs = {}
    for n in sorted(set(sizes) | set(ansible_sizes)):
        inv = inventory(n)
        jobs_file, all_jobs[n] = floor_jobs(n)
        if n in sizes:
            add(
                Case(
                    f"gen render N={n}",
                    [*gen, "render", str(inv), "-o", str(RESULTS / f"gen-{n}")],
                    RESULTS / f"gen-{n}",
                )
            )
            add(
                Case(
                    f"floor N={n}",
                    [PY, str(HERE / "floor.py"), str(jobs_file), str(RESULTS / f"floor-{n}")],
                    RESULTS / f"floor-{n}",
                )
            )
    add(Case("gen validate example", [*gen, "validate", str(EXAMPLE)]))
    add(
        Case(
            "gen validate N=1000" if 1000 in sizes else f"gen validate N={sizes[-1]}",
            [*gen, "validate", str(inventory(1000 if 1000 in sizes else sizes[-1]))],
        )
    )
    big = RESULTS / "prefix-list-10mb.yaml"
    if not big.exists():
        big.write_text(make_inventory.prefix_list())
    add(Case("gen validate 10 MB prefix list (refused)", [*gen, "validate", str(big)], expect=2))
    add(Case("gen --version", [PY, "-m", "generator", "--version"]))
    add(Case("python -c 'import jinja2, yaml'", [PY, "-c", "import jinja2, yaml"]))
    add(Case("python -c pass", [PY, "-c", "pass"]))
    modes = {}
    if ansible_sizes:
        playbook = ansible_venv()
        home = RESULTS / "ansible-home"
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=str(HERE / "ansible" / "ansible.cfg"),
            ANSIBLE_HOME=str(home),
            ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"),
            ANSIBLE_FILTER_PLUGINS=str(HERE / "ansible" / "filter_plugins"),
            ANSIBLE_NOCOLOR="1",
        )
        for n, n_reps in ansible_sizes.items():
            inv, modes[n], out_dirs = ansible_inputs(n, all_jobs[n])
            out = RESULTS / f"ansible-{n}"
            templates = ROOT if "stand-in" in modes[n] else ROOT / "templates"
            argv = [str(playbook), "-i", str(inv), str(HERE / "ansible" / "site.yml")]
            argv += ["-e", f"out_dir={out}", "-e", f"templates_dir={templates}"]
            add(Case(f"ansible N={n}", argv, out, [out / d for d in out_dirs], env, n_reps, warmup=False))
    print(f"inputs ready in {time.perf_counter() - started:.1f} s; {reps} rounds + 1 warm-up", flush=True)
    for n, mode in modes.items():
        print(f"ansible N={n}: {mode}", flush=True)

    order = list(cases.values())
    for round_no in range(reps + 1):
        rotated = order[round_no % len(order) :] + order[: round_no % len(order)]
        for case in rotated:
            if round_no == 0:
                if case.warmup:
                    timed(case)
                    case.times.clear()
                    case.rss.clear()
                    case.cpu.clear()
                continue
            if case.reps is not None and len(case.times) >= case.reps:
                continue
            timed(case)
        print(f"round {round_no}/{reps} done at {time.perf_counter() - started:.0f} s", flush=True)
        partial = {c.name: {"wall": c.times, "cpu": c.cpu, "rss_kib": c.rss} for c in cases.values()}
        (RESULTS / ("quick.json" if args.quick else "full.json")).write_text(json.dumps(partial, indent=1))

    report = ["", *table(cases), "", *ratios(cases, sizes, list(ansible_sizes), lin), ""]
    n = 1000 if 1000 in sizes else sizes[-1]
    report.append(compare_outputs(RESULTS / f"gen-{n}", RESULTS / f"floor-{n}") + f" (N={n})")
    for n, mode in modes.items():
        report.append(f"Ansible N={n}: {mode}")
    report.append(f"load average after: {os.getloadavg()}; total {time.perf_counter() - started:.0f} s")
    print("\n".join(report))
    (RESULTS / ("quick.md" if args.quick else "full.md")).write_text(
        f"machine: {machine()}\n" + "\n".join(report) + "\n"
    )


if __name__ == "__main__":
    main()

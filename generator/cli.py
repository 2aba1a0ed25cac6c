"""The `gen` command line: a thin layer over generator.pipeline. Exit codes: 0 ok, 2 user error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import GenError

EXIT_USER_ERROR = 2


class _Context:
    def __init__(self, verbosity: int):
        self.verbosity = verbosity

    def info(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            click.secho(message, err=True, fg="yellow")


def _build(inventory: Path, state_files: tuple[Path, ...]):
    """build_model without the cyclic GC, whose passes over a large inventory's many small objects
    cost as much as the load itself; the model has no cycles. Its objects are then frozen so later
    collections skip them (a CLI process ends soon after)."""
    import gc

    from .pipeline import build_model

    gc.disable()
    try:
        return build_model(inventory, state_files)
    finally:
        gc.freeze()
        gc.enable()


def _fail(error: GenError) -> None:
    for line in error.lines:
        click.secho(line, err=True, fg="red")
    sys.exit(EXIT_USER_ERROR)


EPILOG = """\b
Colour is used only on a terminal; set NO_COLOR=1 to turn it off.
Shell completion (bash; zsh and fish likewise with zsh_source, fish_source):
  eval "$(_GEN_COMPLETE=bash_source gen)"
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="gen")
@click.option("-q", "--quiet", "quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", "verbose", count=True, help="Print more (each file written).")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Render Azure hybrid-networking deployments and matching on-prem router configs from one inventory.

    \b
    Examples:
      gen validate inventories/csp-advanced.yaml
      gen plan inventories/csp-advanced.yaml
      gen render inventories/csp-advanced.yaml -o out/
      gen check inventories/csp-advanced.yaml -o out/
      gen schema > inventory.schema.json
    """
    if os.environ.get("NO_COLOR"):  # https://no-color.org
        ctx.color = False
    ctx.obj = _Context(-1 if quiet else verbose)


inventory_argument = click.argument("inventory", type=click.Path(dir_okay=False, path_type=Path))
state_option = click.option(
    "--azure-state",
    "state_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON with the deployed gateways' public IPs and BGP addresses (repeatable).",
)

output_option = click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder.",
)
templates_option = click.option(
    "--templates",
    "templates",
    type=click.Path(exists=True, file_okay=False),
    help="Folder of templates that override the built-in ones, file by file (e.g. DIR/runbook/_notes.md.j2).",
)
secrets_option = click.option(
    "--secrets",
    "with_secrets",
    is_flag=True,
    help="Resolve the pre-shared key references and write real keys (device files only, mode 0600).",
)


def _rendered(inventory: Path, state_files: tuple[Path, ...], templates: str | None, with_secrets: bool):
    """Build, check and render, as `gen render` does (topology.svg included when Graphviz is installed)."""
    from .pipeline import render_all

    result = _build(inventory, state_files)
    keys = None
    if with_secrets:
        from .secrets import resolve_secrets

        keys = resolve_secrets(result.model, inventory.parent)
    return result, render_all(result.model, templates=templates, secrets=keys, svg=True)


@main.command()
@inventory_argument
@state_option
@click.pass_obj
def validate(obj: _Context, inventory: Path, state_files: tuple[Path, ...]) -> None:
    """Check INVENTORY against the schema and every rule; write nothing.

    \b
    Example:
      gen validate inventories/csp-advanced.yaml
    """
    try:
        result = _build(inventory, state_files)
    except GenError as error:
        _fail(error)
    for warning in result.warnings:
        obj.warn(str(warning))
    model = result.model
    obj.info(
        f"{inventory}: valid: {len(model.vnets)} VNets, {len(model.gateways)} gateways, {len(model.sites)} sites, "
        f"{len(model.devices)} devices, {len(model.tunnels)} tunnels, {len(model.links)} VNet-to-VNet connections"
        + (f", {len(result.warnings)} warnings" if result.warnings else "")
    )


@main.command()
@inventory_argument
@output_option
@state_option
@click.option("--strict", is_flag=True, help="Fail (exit 2) while any Azure-assigned value is still a placeholder.")
@secrets_option
@templates_option
@click.pass_obj
def render(
    obj: _Context,
    inventory: Path,
    out: Path,
    state_files: tuple[Path, ...],
    strict: bool,
    with_secrets: bool,
    templates: str | None,
) -> None:
    """Render every output family of INVENTORY into the output folder.

    Only files whose bytes changed are written; files gen wrote before and no longer generates are
    removed (tracked in OUTPUT/.gen-manifest.json); files gen did not write are never touched.

    \b
    Examples:
      gen render inventories/csp-advanced.yaml -o out/
      gen render inventories/csp-advanced.yaml -o out/ --azure-state azure-state.json --strict
      gen render inventories/csp-advanced.yaml -o out/ --templates docs/examples/templates-override
    """
    from .pipeline import render_all
    from .topology import dot_available
    from .writer import write

    try:
        result = _build(inventory, state_files)
        model = result.model
        pending = model.pending
        if strict and pending:
            raise GenError(
                [
                    f"{inventory}: {len(pending)} Azure-assigned values are still placeholders ({', '.join(pending[:4])}{', ...' if len(pending) > 4 else ''}); pass --azure-state (rule placeholders-remain)"
                ]
            )
        keys = None
        if with_secrets:
            from .secrets import resolve_secrets

            keys = resolve_secrets(model, inventory.parent)
        files = render_all(model, templates=templates, secrets=keys, svg=True)
        report = write(out, files)
    except GenError as error:
        _fail(error)
    for warning in result.warnings:
        obj.warn(str(warning))
    if obj.verbosity > 0:
        for path in report.written:
            obj.info(f"wrote {out / path}")
        for path in report.removed:
            obj.info(f"removed {out / path}")
    for path in report.kept:
        obj.warn(f"{out / path}: no longer generated but edited since gen wrote it; left in place")
    obj.info(f"{out}: {len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed")
    if not dot_available() and obj.verbosity > 0:
        obj.info("Graphviz 'dot' not found: topology.svg not drawn (topology.dot written)")
    if pending:
        obj.warn(
            f"{len(pending)} Azure-assigned values are placeholders in the router snippets (e.g. {pending[0]}); after deployment, render again with --azure-state"
        )
    secret_files = [f.path for f in files if f.secret]
    if secret_files:
        obj.warn(f"{len(secret_files)} files hold pre-shared keys (mode 0600): {', '.join(secret_files)}")


@main.command()
@inventory_argument
@output_option
@state_option
@secrets_option
@templates_option
@click.pass_obj
def check(
    obj: _Context,
    inventory: Path,
    out: Path,
    state_files: tuple[Path, ...],
    with_secrets: bool,
    templates: str | None,
) -> None:
    """Compare the output folder with what `gen render` would write; exit 1 on drift.

    For CI pipelines; writes nothing. The differences go to stdout as a unified diff (keys are never shown); the summary to stderr.
    Exit codes: 0 up to date, 1 out of date, 2 the inventory has errors.

    \b
    Examples:
      gen check inventories/csp-advanced.yaml -o out/
      gen check inventories/csp-advanced.yaml -o out/ --azure-state azure-state.json > drift.diff
    """
    from .topology import SVG, dot_available
    from .writer import differences

    # topology.svg is drawn only where Graphviz is installed: its absence elsewhere is not drift
    unchecked = () if dot_available() else (SVG,)
    try:
        _, files = _rendered(inventory, state_files, templates, with_secrets)
        plan, diff = differences(out, files, unchecked)
    except GenError as error:
        _fail(error)
    if unchecked and (out / SVG).exists():
        obj.info(f"{out / SVG}: not checked (Graphviz 'dot' not found)")
    drift = len(plan.new) + len(plan.changed) + len(plan.stale)
    if not drift:
        obj.info(f"{out}: up to date ({len(plan.unchanged)} files)")
        return
    click.echo(diff, nl=False)
    obj.warn(
        f"{out}: out of date: {len(plan.new)} missing, {len(plan.changed)} changed, {len(plan.stale)} no longer generated; run gen render"
    )
    sys.exit(1)


@main.command("plan")
@inventory_argument
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (for scripts).")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also compare with this output folder: which files would be new, changed or removed.",
)
@click.option(
    "--templates",
    "templates",
    type=click.Path(exists=True, file_okay=False),
    help="With -o: template folder that overrides the built-in ones, as given to gen render.",
)
@click.pass_obj
def plan_command(
    obj: _Context,
    inventory: Path,
    state_files: tuple[Path, ...],
    as_json: bool,
    out: Path | None,
    templates: str | None,
) -> None:
    """Summarise what INVENTORY will build, before rendering.

    Resources per resource group, connections per gateway against the SKU's limit, BGP sessions,
    placeholders and warnings; with -o, which files would be new, changed or removed.

    \b
    Examples:
      gen plan inventories/csp-advanced.yaml
      gen plan inventories/csp-advanced.yaml --json | jq .gateways
      gen plan inventories/csp-advanced.yaml -o out/
    """
    import json

    from . import plan

    try:
        if out is None:
            model = _build(inventory, state_files).model
        else:
            from .writer import plan as write_plan

            result, files = _rendered(inventory, state_files, templates, False)
            model = result.model
            p = write_plan(out, files)
    except GenError as error:
        _fail(error)
    data = plan.summary(model)
    if out is not None:
        data["output"] = str(out)
        data["files"] = {
            "new": [f.path for f in p.new],
            "changed": [f.path for f in p.changed],
            "unchanged": [f.path for f in p.unchanged],
            "removed": p.stale,
        }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(plan.text(data, click.style), nl=False)


@main.command()
def schema() -> None:
    """Print the inventory JSON Schema (for editors: yaml-language-server).

    \b
    Example:
      gen schema > inventory.schema.json
    """
    from .pipeline import schema_text

    click.echo(schema_text(), nl=False)


@main.command()
@click.argument("inventory", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--keep", is_flag=True, help="Leave the lab running for inspection; prints the command that removes it.")
@click.option(
    "--timeout", default=60.0, show_default=True, type=float, help="Seconds to wait for every tunnel and BGP session."
)
@click.option("--name", "name", help="Lab name (default: from the inventory's name).")
@click.option("--down", "down_name", metavar="NAME", help="Tear down a lab started with --keep, and exit.")
@click.option(
    "--inject", "inject", multiple=True, hidden=True, help="Test hook: FAULT:TUNNEL with FAULT psk, asn or proposal."
)
@click.pass_obj
def lab(
    obj: _Context,
    inventory: Path | None,
    keep: bool,
    timeout: float,
    name: str | None,
    down_name: str | None,
    inject: tuple[str, ...],
) -> None:
    """Bring INVENTORY's tunnels and BGP sessions up for real in network namespaces (root, Linux).

    Devices of a platform the lab runs natively (Linux: strongSwan + FRR) run the files `gen render`
    writes; other devices and every Azure gateway instance are emulated from the same model. Exit 0
    only if every tunnel is up.

    \b
    Examples:
      sudo gen lab inventories/csp-advanced-linux.yaml
      sudo gen lab inventories/csp-advanced-linux.yaml --keep
      sudo gen lab --down cspadvancedlinux
    """
    from .lab.system import LabError

    try:
        if down_name:
            from .lab.run import down

            left = down(down_name)
            if left:
                click.secho("could not remove: " + "; ".join(left), err=True, fg="red")
                sys.exit(1)
            obj.info(f"lab {down_name} removed")
            return
        if inventory is None:
            raise click.UsageError("give an INVENTORY (or --down NAME)")
        from .lab.plan import FAULTS
        from .lab.report import summary, table
        from .lab.run import run_lab

        faults = {}
        for item in inject:
            fault, _, tunnel = item.partition(":")
            if fault not in FAULTS or not tunnel:
                raise click.UsageError(f"--inject {item}: use FAULT:TUNNEL with FAULT one of {', '.join(FAULTS)}")
            faults[tunnel] = fault
        result = run_lab(inventory, name=name, keep=keep, timeout=timeout, faults=faults, log=obj.info)
    except GenError as error:
        _fail(error)
    except (LabError, ValueError, OSError) as error:
        click.secho(f"gen lab: {error}", err=True, fg="red")
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.secho("gen lab: interrupted; the lab was removed", err=True, fg="red")
        sys.exit(130)
    click.echo(table(result))
    obj.info(summary(result))
    if keep:
        obj.info(f"the lab is running; inspect it with `ip netns` and remove it with: gen lab --down {result.name}")
    sys.exit(0 if result.ok else 1)

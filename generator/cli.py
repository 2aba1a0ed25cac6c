"""The `gen` command line: a thin layer over generator.pipeline. Exit codes: 0 ok, 2 user error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import GenError
from .wording import plural

EXIT_USER_ERROR = 2


class _Context:
    def __init__(self, verbosity: int):
        self.verbosity = verbosity
        self.json = False  # --format json: one JSON object on stdout, nothing else printed
        self.command = ""

    def info(self, message: str) -> None:
        if self.verbosity >= 0 and not self.json:
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        if self.verbosity >= 0 and not self.json:
            click.secho(message, err=True, fg="yellow")


class _Gen(click.Group):
    """The command group; a usage error is one line `gen COMMAND: message (rule cli-usage)`, exit 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()
            sys.exit(EXIT_USER_ERROR)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else "gen"
            message = error.format_message().rstrip(".")
            message = message[:1].lower() + message[1:] + (" " if message.endswith("?") else "; ")
            click.secho(f"{where}: {message}see {where} --help (rule cli-usage)", err=True, fg="red")
            sys.exit(EXIT_USER_ERROR)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)


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


def _fail(error: GenError, obj: _Context | None = None, **data) -> None:
    """Print every problem (or, with --format json, the JSON report) and exit 2."""
    if obj is not None and obj.json:
        from .report import problems_of

        _print_json(obj, ok=False, problems=problems_of(error), **data)
        sys.exit(EXIT_USER_ERROR)
    for line in error.lines:
        click.secho(line, err=True, fg="red")
    sys.exit(EXIT_USER_ERROR)


def _print_json(obj: _Context, **data) -> None:
    import json

    click.echo(json.dumps({"command": obj.command, **data}, indent=2))


def _set_verbosity(ctx: click.Context, param: click.Parameter, value) -> None:
    """-q/-v after the subcommand too (`gen validate -q`), adding to those before it."""
    obj = ctx.find_object(_Context)
    if obj is None or not value:
        return
    if param.name == "quiet":
        obj.verbosity = -1
    elif obj.verbosity >= 0:
        obj.verbosity += value


def verbosity_options(command):
    command = click.option(
        "-v", "--verbose", "verbose", count=True, expose_value=False, callback=_set_verbosity, help="Print more."
    )(command)
    return click.option(
        "-q", "--quiet", "quiet", is_flag=True, expose_value=False, callback=_set_verbosity, help="Print errors only."
    )(command)


def format_option(command):
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        expose_value=False,
        callback=_set_format,
        is_eager=True,
        help="json: one object on stdout with problems and warnings as objects (file, line, column, path, rule, severity, message).",
    )(command)


def _set_format(ctx: click.Context, param: click.Parameter, value: str) -> None:
    obj = ctx.find_object(_Context)
    if obj is not None:
        obj.json = value == "json"
        obj.command = ctx.info_name or ""


def _check_paths(
    inventory: Path, out: Path | None, state_files: tuple[Path, ...], templates: str | None, writing: bool
) -> None:
    """Refuse wrong paths with a rule id before any work (click's own checks give only usage text)."""
    from .errors import InventoryError, file_problem

    problems = []
    for state in state_files:
        if not state.is_file():
            why = "is a folder" if state.is_dir() else "no such file"
            problems.append(
                file_problem(
                    str(state),
                    f"{why}; give the Azure state file (gen render writes azure-state.json's format)",
                    "state-file",
                )
            )
    if templates is not None and not Path(templates).is_dir():
        problems.append(
            file_problem(
                str(templates),
                "no such template folder; give the folder that holds the override templates",
                "template-error",
            )
        )
    if out is not None:
        if out.exists() and not out.is_dir():
            problems.append(
                file_problem(str(out), "exists and is not a folder; choose an output folder (-o)", "output-write")
            )
        elif writing:
            target, cwd = out.resolve(), Path.cwd().resolve()
            if target == cwd or target in cwd.parents:
                problems.append(
                    file_problem(
                        str(out),
                        f"is the working directory or holds it ({cwd}); gen replaces the output folder as a whole "
                        "(replacing files in place would break the atomic-output guarantee), which would pull it from "
                        "under the shell: run gen from another folder, e.g. cd .. first",
                        "output-contains-cwd",
                    )
                )
    if problems:
        raise InventoryError(problems)


EPILOG = """\b
Colour is used only on a terminal; set NO_COLOR=1 to turn it off.
Shell completion (bash; zsh and fish likewise with zsh_source, fish_source):
  eval "$(_GEN_COMPLETE=bash_source gen)"
"""


@click.group(name="gen", cls=_Gen, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
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
      gen init my-network.yaml
    """
    if os.environ.get("NO_COLOR"):  # https://no-color.org
        ctx.color = False
    ctx.obj = _Context(-1 if quiet else verbose)
    ctx.obj.command = ctx.invoked_subcommand or ""


# paths are checked by gen (rules inventory-unreadable, state-file, output-write), not by click
inventory_argument = click.argument("inventory", type=click.Path(path_type=Path))
state_option = click.option(
    "--azure-state",
    "state_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="JSON with the deployed gateways' public IPs and BGP addresses (repeatable).",
)

output_option = click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder.",
)
templates_option = click.option(
    "--templates",
    "templates",
    type=click.Path(),
    help="Folder of templates that override the built-in ones, file by file (e.g. DIR/runbook/_notes.md.j2).",
)
secrets_option = click.option(
    "--secrets",
    "with_secrets",
    is_flag=True,
    help="Resolve the pre-shared key references and write real keys (device files only, mode 0600).",
)


def _rendered(
    inventory: Path, state_files: tuple[Path, ...], templates: str | None, with_secrets: bool, out: Path | None
):
    """Build, check and render, as `gen render` does (topology.svg included when Graphviz is installed)."""
    from .pipeline import render_all

    result = _build(inventory, state_files)
    keys = None
    if with_secrets:
        from .secrets import resolve_secrets

        keys = resolve_secrets(result.model, inventory.parent, result.document)
    output = str(out) if out is not None else None
    return result, render_all(result.model, templates=templates, secrets=keys, svg=True, output=output)


def _warnings(obj: _Context, warnings) -> list[dict]:
    """Print the warnings (text) and return them as objects (for --format json)."""
    from .report import located_object

    for warning in warnings:
        obj.warn(str(warning))
    return [located_object(w) for w in warnings]


@main.command()
@inventory_argument
@state_option
@verbosity_options
@format_option
@click.pass_obj
def validate(obj: _Context, inventory: Path, state_files: tuple[Path, ...]) -> None:
    """Check INVENTORY against the schema and every rule; write nothing.

    \b
    Examples:
      gen validate inventories/csp-advanced.yaml
      gen validate inventories/csp-advanced.yaml --format json
    """
    try:
        _check_paths(inventory, None, state_files, None, writing=False)
        result = _build(inventory, state_files)
    except GenError as error:
        _fail(error, obj)
    warnings = _warnings(obj, result.warnings)
    model = result.model
    counts = {
        "vnets": len(model.vnets),
        "gateways": len(model.gateways),
        "sites": len(model.sites),
        "devices": len(model.devices),
        "tunnels": len(model.tunnels),
        "vnet_to_vnet_connections": len(model.links),
    }
    if obj.json:
        _print_json(obj, ok=True, inventory=str(inventory), counts=counts, problems=[], warnings=warnings)
        return
    obj.info(
        f"{inventory}: valid: {plural(len(model.vnets), 'VNet')}, {plural(len(model.gateways), 'gateway')}, "
        f"{plural(len(model.sites), 'site')}, {plural(len(model.devices), 'device')}, "
        f"{plural(len(model.tunnels), 'tunnel')}, {plural(len(model.links), 'VNet-to-VNet connection')}"
        + (f", {plural(len(result.warnings), 'warning')}" if result.warnings else "")
    )


@main.command()
@inventory_argument
@output_option
@state_option
@click.option("--strict", is_flag=True, help="Fail (exit 2) while any Azure-assigned value is still a placeholder.")
@secrets_option
@templates_option
@verbosity_options
@format_option
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
    The output folder is replaced as a whole, so it may not be the working directory or hold it.

    \b
    Examples:
      gen render inventories/csp-advanced.yaml -o out/
      gen render inventories/csp-advanced.yaml -o out/ --azure-state azure-state.json --strict
      gen render inventories/csp-advanced.yaml -o out/ --secrets
      gen render inventories/csp-advanced.yaml -o out/ --templates docs/examples/templates-override
    """
    from .errors import InventoryError, file_problem
    from .pipeline import render_all
    from .topology import dot_available
    from .writer import write

    try:
        _check_paths(inventory, out, state_files, templates, writing=True)
        result = _build(inventory, state_files)
        model = result.model
        pending = model.pending
        if strict and pending:
            shown = ", ".join(pending[:4]) + (", ..." if len(pending) > 4 else "")
            raise InventoryError(
                [
                    file_problem(
                        str(inventory),
                        f"{plural(len(pending), 'Azure-assigned value is still a placeholder', 'Azure-assigned values are still placeholders')} "
                        f"({shown}); pass --azure-state",
                        "placeholders-remain",
                    )
                ]
            )
        keys = None
        if with_secrets:
            from .secrets import resolve_secrets

            keys = resolve_secrets(model, inventory.parent, result.document)
        files = render_all(model, templates=templates, secrets=keys, svg=True, output=str(out))
        report = write(out, files)
    except GenError as error:
        _fail(error, obj)
    warnings = _warnings(obj, result.warnings)
    secret_files = [f.path for f in files if f.secret]
    if obj.json:
        _print_json(
            obj,
            ok=True,
            output=str(out),
            written=list(report.written),
            unchanged=list(report.unchanged),
            removed=list(report.removed),
            kept=list(report.kept),
            secret_files=secret_files,
            placeholders=list(pending),
            problems=[],
            warnings=warnings,
        )
        return
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
            f"{plural(len(pending), 'Azure-assigned value is a placeholder', 'Azure-assigned values are placeholders')} "
            f"in the router snippets (e.g. {pending[0]}); after deployment, render again with --azure-state"
        )
    if secret_files:
        obj.warn(
            f"{plural(len(secret_files), 'file holds', 'files hold')} pre-shared keys (mode 0600): {', '.join(secret_files)}"
        )


@main.command()
@inventory_argument
@output_option
@state_option
@secrets_option
@templates_option
@verbosity_options
@format_option
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

    For CI pipelines; writes nothing. The differences go to stdout as a unified diff (files that hold
    pre-shared keys, on disk or rendered, are never shown); the summary to stderr.
    Exit codes: 0 up to date, 1 out of date, 2 the inventory has errors.

    \b
    Examples:
      gen check inventories/csp-advanced.yaml -o out/
      gen check inventories/csp-advanced.yaml -o out/ --azure-state azure-state.json > drift.diff
      gen check inventories/csp-advanced.yaml -o out/ --format json | jq .changed
    """
    from .topology import SVG, dot_available
    from .writer import differences

    # topology.svg is drawn only where Graphviz is installed: its absence elsewhere is not drift
    unchecked = () if dot_available() else (SVG,)
    try:
        _check_paths(inventory, out, state_files, templates, writing=False)
        result, files = _rendered(inventory, state_files, templates, with_secrets, out)
        plan, diff = differences(out, files, unchecked)
    except GenError as error:
        _fail(error, obj)
    drift = len(plan.new) + len(plan.changed) + len(plan.stale)
    if obj.json:
        from .report import located_object

        _print_json(
            obj,
            ok=not drift,
            output=str(out),
            up_to_date=not drift,
            new=[f.path for f in plan.new],
            changed=[f.path for f in plan.changed],
            removed=list(plan.stale),
            unchanged=len(plan.unchanged),
            diff=diff,
            problems=[],
            warnings=[located_object(w) for w in result.warnings],
        )
        sys.exit(1 if drift else 0)
    if unchecked and (out / SVG).exists():
        obj.info(f"{out / SVG}: not checked (Graphviz 'dot' not found)")
    if not drift:
        obj.info(f"{out}: up to date ({plural(len(plan.unchanged), 'file')})")
        return
    click.echo(diff, nl=False)
    obj.warn(
        f"{out}: out of date: {len(plan.new)} missing, {len(plan.changed)} changed, {len(plan.stale)} no longer generated; run gen render"
    )
    sys.exit(1)


@main.command("plan")
@inventory_argument
@state_option
@click.option("--json", "as_json", is_flag=True, help="Same as --format json (kept for scripts).")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also compare with this output folder: which files would be new, changed or removed.",
)
@click.option(
    "--templates",
    "templates",
    type=click.Path(),
    help="With -o: template folder that overrides the built-in ones, as given to gen render.",
)
@verbosity_options
@format_option
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
      gen plan inventories/csp-advanced.yaml --format json | jq .gateways
      gen plan inventories/csp-advanced.yaml -o out/
    """
    import json

    from . import plan

    obj.json = obj.json or as_json
    try:
        _check_paths(inventory, out, state_files, templates, writing=False)
        if out is None:
            result = _build(inventory, state_files)
        else:
            from .writer import plan as write_plan

            result, files = _rendered(inventory, state_files, templates, False, out)
            p = write_plan(out, files)
    except GenError as error:
        _fail(error, obj)
    model = result.model
    data = plan.summary(model)
    if out is not None:
        data["output"] = str(out)
        data["files"] = {
            "new": [f.path for f in p.new],
            "changed": [f.path for f in p.changed],
            "unchanged": [f.path for f in p.unchanged],
            "removed": p.stale,
        }
    if obj.json:
        from .report import located_object

        data["warnings"] = [located_object(w) for w in result.warnings]
        click.echo(json.dumps({"command": "plan", "ok": True, **data, "problems": []}, indent=2))
    else:
        click.echo(plan.text(data, click.style), nl=False)


@main.command()
@click.argument("inventory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace INVENTORY if it exists.")
def init(inventory: Path, force: bool) -> None:
    """Write a commented starter inventory (one VNet, one site, one device) to edit.

    \b
    Example:
      gen init my-network.yaml && gen validate my-network.yaml
    """
    from .errors import file_problem
    from .resources import resource_path

    if inventory.exists() and not force:
        click.secho(
            str(file_problem(str(inventory), "exists; choose another name or pass --force", "output-not-ours")),
            err=True,
            fg="red",
        )
        sys.exit(EXIT_USER_ERROR)
    text = resource_path("templates", "init", "starter.yaml").read_text(encoding="utf-8")
    try:
        inventory.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.secho(
            str(file_problem(str(inventory), f"cannot write: {exc.strerror}", "output-write")), err=True, fg="red"
        )
        sys.exit(EXIT_USER_ERROR)
    click.echo(f"{inventory}: written; edit it, then: gen validate {inventory}", err=True)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="Inventory file to write.")
@click.option(
    "--state", "state", type=click.Path(path_type=Path), help="Also write the state file of the existing gateways."
)
@click.option(
    "--as-new", is_flag=True, help="Mark nothing existing: the inventory creates every resource (rebuild elsewhere)."
)
@click.option("--name", "name", help="Inventory name (default: from gen's own templates, else the output file's name).")
@click.option("--force", is_flag=True, help="Replace the inventory (and state file) if they exist.")
@verbosity_options
@format_option
@click.pass_obj
def import_command(
    obj: _Context, files: tuple[Path, ...], out: Path, state: Path | None, as_new: bool, name: str | None, force: bool
) -> None:
    """Write an inventory from what Azure prints about an existing estate.

    FILES: ARM templates (az group export, the portal's Export template), REST GET bodies or
    az resource show, az network vnet/vnet-gateway/local-gateway/vpn-connection/lb list or show,
    az network vnet peering list, Get-Az* | ConvertTo-Json -Depth 10. Keys are never imported:
    each connection gets a reference {env: NAME}, the names are printed. What cannot be mapped is
    listed (resource and why) in the inventory's header. Nothing is written on an error.

    \b
    Examples:
      az group export -g rg-net > rg-net.json && gen import rg-net.json -o net.yaml --state net.azure-state.json
      gen import vnets.json gateways.json lngs.json connections.json -o net.yaml
    """
    from .importing import run

    try:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            from .errors import file_problem

            raise GenError([str(file_problem(m, "not a readable file", "import-file")) for m in missing])
        imported = run(list(files), out, state, as_new, name, force)
    except GenError as error:
        _fail(error, obj)
    if obj.json:
        _print_json(
            obj,
            ok=True,
            output=str(out),
            state=str(state) if state and imported.state else None,
            keys=imported.keys,
            not_imported=[{"resource": w, "why": y} for w, y in imported.unmapped],
            problems=[],
        )
        return
    obj.info(f"{out}: written; set each device's platform (FILL IN), then: gen validate {out}")
    if state and imported.state:
        obj.info(f"{state}: written ({plural(len(imported.state['gateways']), 'gateway')})")
    if imported.keys:
        obj.info("pre-shared keys are not imported; set: " + ", ".join(imported.keys))
    for where, why in imported.unmapped:
        obj.warn(f"not imported: {where}: {why}")


@main.command("drift")
@inventory_argument
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@state_option
@verbosity_options
@format_option
@click.pass_obj
def drift_command(obj: _Context, inventory: Path, files: tuple[Path, ...], state_files: tuple[Path, ...]) -> None:
    """Compare what Azure has (FILES, the JSON gen import reads) with the inventory; exit 1 on drift.

    Compares the fields gen manages: SKU, generation, ASN, active-active, connections missing or
    extra, IPsec policy, DPD, connection mode, local network gateway addresses and BGP settings,
    peering flags, load balancers; with --azure-state also the gateways' public IPs and BGP
    addresses. Fields Azure computes (provisioningState, etags, resourceGuid, ...) are ignored.
    `gen check` is the other comparison: the output folder against a render.
    Exit codes: 0 no drift, 1 drift (a table on stdout), 2 an error in the inventory or the files.

    \b
    Examples:
      az group export -g rg-net > rg-net.json && gen drift net.yaml rg-net.json
      gen drift net.yaml gateways.json connections.json --format json | jq .drift
    """
    from .drift import drift, not_compared

    try:
        _check_paths(inventory, None, state_files, None, writing=False)
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            from .errors import file_problem

            raise GenError([str(file_problem(m, "not a readable file", "import-file")) for m in missing])
        rows = drift(inventory, list(files), state_files)
        skipped = not_compared(inventory, list(files))
    except GenError as error:
        _fail(error, obj)
    if obj.json:
        _print_json(obj, ok=not rows, drift=[r.as_dict() for r in rows], not_compared=skipped, problems=[])
        sys.exit(1 if rows else 0)
    if skipped:
        obj.info(f"not compared (in none of the files): resource group {', '.join(skipped)}")
    if not rows:
        obj.info(f"{inventory}: no drift against {plural(len(files), 'file')}")
        return
    from .drift import table

    click.echo(table(rows), nl=False)
    obj.warn(f"{inventory}: {plural(len(rows), 'difference')} with Azure (rule drift)")
    sys.exit(1)


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
@click.option("--drill", is_flag=True, help="Take down each gateway instance, device, tunnel and VNet link in turn.")
@click.option(
    "--bgp-timers", default="60/180", show_default=True, help="Emulated Azure BGP KEEPALIVE/HOLD (Azure: fixed 60/180)."
)
@click.option("--only", multiple=True, hidden=True, help="Test hook: drill only KIND:NAME.")
@click.option("--plant", multiple=True, hidden=True, help="Test hook: PLANT:SITE (shared-outside).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Drill report file (SVG beside it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def lab(
    obj: _Context,
    inventory: Path | None,
    keep: bool,
    timeout: float,
    name: str | None,
    down_name: str | None,
    inject: tuple[str, ...],
    drill: bool,
    bgp_timers: str,
    only: tuple[str, ...],
    plant: tuple[str, ...],
    report: Path | None,
    fmt: str,
) -> None:
    """Bring INVENTORY's tunnels and BGP sessions up for real in network namespaces (root, Linux).

    Devices of a platform the lab runs natively (Linux: strongSwan + FRR) run the files `gen render`
    writes; other devices and every Azure gateway instance are emulated from the same model. Exit 0
    only if every tunnel is up.

    \b
    Examples:
      sudo gen lab inventories/csp-advanced-linux.yaml
      sudo gen lab inventories/csp-advanced-linux.yaml --keep
      sudo gen lab inventories/csp-advanced-linux.yaml --drill --bgp-timers 3/9
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
        from .lab.cli import colon_pairs, drill_options, lab_timers, plants
        from .lab.plan import FAULTS
        from .lab.run import run_lab

        faults = {tunnel: fault for fault, tunnel in colon_pairs("--inject", inject, FAULTS, "FAULT:TUNNEL")}

        timers, opts = lab_timers(bgp_timers), drill_options(drill, only)
        log = obj.info if fmt == "text" else (lambda message: None)
        result = run_lab(
            inventory, name=name, keep=keep, timeout=timeout, faults=faults, log=log,
            timers=timers, plants=plants(plant), drill=opts,
        )  # fmt: skip
    except GenError as error:
        _fail(error)
    except (LabError, ValueError, OSError) as error:
        click.secho(f"gen lab: {error} (rule lab-environment)", err=True, fg="red")
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.secho("gen lab: interrupted; the lab was removed", err=True, fg="red")
        sys.exit(130)
    from .lab.cli import emit

    emit(result, fmt, report, obj.info)
    if keep:
        obj.info(f"the lab is running; inspect it with `ip netns` and remove it with: gen lab --down {result.name}")
    sys.exit(0 if result.ok else 1)

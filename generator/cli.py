"""The `gen` command line: a thin layer over generator.pipeline. Exit codes: 0 ok, 2 user error."""

from __future__ import annotations

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gen")
@click.option("-q", "--quiet", "quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", "verbose", count=True, help="Print more (each file written).")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Render Azure hybrid-networking deployments and matching on-prem router configs from one inventory.

    \b
    Examples:
      gen validate inventories/csp-advanced.yaml
      gen render inventories/csp-advanced.yaml -o out/
      gen schema > inventory.schema.json
    """
    ctx.obj = _Context(-1 if quiet else verbose)


inventory_argument = click.argument("inventory", type=click.Path(dir_okay=False, path_type=Path))
state_option = click.option(
    "--azure-state",
    "state_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON with the deployed gateways' public IPs and BGP addresses (repeatable).",
)


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
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder.",
)
@state_option
@click.option("--strict", is_flag=True, help="Fail (exit 2) while any Azure-assigned value is still a placeholder.")
@click.option(
    "--secrets",
    "with_secrets",
    is_flag=True,
    help="Resolve the pre-shared key references and write real keys (device files only, mode 0600).",
)
@click.option(
    "--templates",
    "templates",
    type=click.Path(exists=True, file_okay=False),
    help="Folder of templates that override the built-in ones, file by file.",
)
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

    \b
    Examples:
      gen render inventories/csp-advanced.yaml -o out/
      gen render inventories/csp-advanced.yaml -o out/ --azure-state azure-state.json --strict
    """
    from .pipeline import render_all
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
        files = render_all(model, templates=templates, secrets=keys)
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
    obj.info(f"{out}: {len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed")
    if pending:
        obj.warn(
            f"{len(pending)} Azure-assigned values are placeholders in the router snippets (e.g. {pending[0]}); after deployment, render again with --azure-state"
        )
    secret_files = [f.path for f in files if f.secret]
    if secret_files:
        obj.warn(f"{len(secret_files)} files hold pre-shared keys (mode 0600): {', '.join(secret_files)}")


@main.command()
def schema() -> None:
    """Print the inventory JSON Schema (for editors: yaml-language-server).

    \b
    Example:
      gen schema > inventory.schema.json
    """
    from .pipeline import schema_text

    click.echo(schema_text(), nl=False)

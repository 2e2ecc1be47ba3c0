"""`stackshift domains …`: create, records, list, show, verify, delete."""

from __future__ import annotations

from typing import Annotated, Optional

from enum import Enum

import typer

from stackshift_cli.cli.state import JsonOption, RefArgument, State, get_state
from stackshift_cli.domain import DOMAIN_STATUSES
from stackshift_cli.errors import UsageError
from stackshift_cli.names import normalize_domain, to_unicode
from stackshift_cli.output import RECORD_FORMATS, plain_record_lines

RecordFormat = Enum("RecordFormat", {f: f for f in RECORD_FORMATS}, type=str)
StatusFilter = Enum("StatusFilter", {s: s for s in DOMAIN_STATUSES}, type=str)

app = typer.Typer(help="Create sender domains, print their DNS records, verify them.", no_args_is_help=True)


def _announce(state: State) -> None:
    """On a terminal, say which backend and profile a command used (stderr)."""
    if state.ui.stderr_tty and not state.ui.json:
        state.ui.info(f"Using the {state.backend_kind} backend, profile {state.settings.profile}.")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The domain to send from, e.g. example.com.")],
    dkim_selector: Annotated[Optional[str], typer.Option(
        "--dkim-selector", metavar="S", help="DKIM selector (default: the profile's, 'stackshift').")] = None,
    inbound: Annotated[bool, typer.Option("--inbound", help="Also add an MX record for inbound mail.")] = False,
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="If the domain exists, print it and exit 0.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Create a sender domain and print the DNS records to publish."""
    from stackshift_cli.records import normalize_selector

    state = get_state(ctx, json_output)
    domain_name = normalize_domain(name)
    selector = normalize_selector(dkim_selector) if dkim_selector is not None else None
    _announce(state)
    domain, created = state.backend().create(domain_name, selector=selector, inbound=inbound, exist_ok=exist_ok)
    ui = state.ui
    if ui.json:
        ui.emit_json(domain.to_json())
        return
    label = domain.name if to_unicode(domain.name) == domain.name else f"{domain.name} ({to_unicode(domain.name)})"
    if created:
        ui.success(f"Created {label} (id {domain.id}), status {domain.status}.")
    else:
        ui.info(f"{label} already exists (id {domain.id}), status {domain.status}.")
    ui.info("Publish these records at your DNS provider:")
    ui.records(domain.records, domain=domain)
    ui.info(f"Then run: stackshift domains verify {domain.name} --wait")


@app.command()
def records(
    ctx: typer.Context,
    ref: RefArgument,
    fmt: Annotated[RecordFormat, typer.Option(
        "--format", "-f", help="table (terminal), plain (host<TAB>type<TAB>value), json, zone (BIND), csv.")
    ] = RecordFormat.table,
    json_output: JsonOption = False,
) -> None:
    """Print the DNS records to publish for a domain."""
    state = get_state(ctx, json_output)
    domain = state.backend().get(ref)
    state.ui.records(domain.records, fmt.value, domain=domain)


@app.command("list")
def list_domains(
    ctx: typer.Context,
    status: Annotated[Optional[StatusFilter], typer.Option("--status", help="Only domains with this status.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List domains: status, the four checks, created and last-checked times."""
    state = get_state(ctx, json_output)
    _announce(state)
    state.ui.domain_list(state.backend().list(status.value if status else None))


@app.command()
def show(ctx: typer.Context, ref: RefArgument, json_output: JsonOption = False) -> None:
    """Show every field of a domain, its records, and where its DKIM private key is."""
    state = get_state(ctx, json_output)
    state.ui.domain(state.backend().get(ref), show_key_path=True)


@app.command()
def delete(
    ctx: typer.Context,
    ref: RefArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete a domain from stackshift. Your DNS records are not touched."""
    state = get_state(ctx, json_output)
    ui = state.ui
    backend = state.backend()
    domain = backend.get(ref)
    if not yes:
        if not ui.interactive:
            raise UsageError("--yes required when not running interactively.",
                             hint=f"Run `stackshift domains delete {domain.name} --yes`.")
        where = "the local store" if backend.kind == "local" else "your StackShift account"
        if not typer.confirm(f"Delete {domain.name} ({domain.id}) from {where}?", default=False, err=True):
            raise UsageError("Cancelled; nothing was deleted.")
    deleted = backend.delete(domain.id)
    if ui.json:
        data = deleted.to_json()
        data["deleted"] = True
        ui.emit_json(data)
        return
    ui.success(f"Deleted {deleted.name} ({deleted.id}) and its DKIM key from stackshift.")
    ui.info("stackshift does not change DNS at your provider. You may now remove these records there:")
    for line in plain_record_lines(deleted.records):
        ui.line(line)

"""`stackshift domains …`: create, records, list, show, verify, delete."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Optional

from enum import Enum

import typer

from stackshift_cli.cli.state import JsonOption, RefArgument, State, get_state
from stackshift_cli.domain import DOMAIN_STATUSES
from stackshift_cli.errors import ExitCode, UsageError
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
    from stackshift_cli.names import mixed_scripts
    from stackshift_cli.records import check_not_public_suffix, check_publishable, normalize_selector

    state = get_state(ctx, json_output)
    domain_name = normalize_domain(name)
    selector = normalize_selector(dkim_selector) if dkim_selector is not None else None
    check_not_public_suffix(domain_name)
    profile = state.settings.sending_profile()
    check_publishable(domain_name, selector=selector or profile.dkim_selector, inbound=inbound, profile=profile)
    scripts = mixed_scripts(domain_name)
    if scripts:
        state.ui.warn(f"{to_unicode(domain_name)} ({domain_name}) mixes {' and '.join(scripts)} letters in one "
                      "label, as look-alikes of other domains do. Check that it is the name you meant.")
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
        if not ui.confirm(f"Delete {domain.name} ({domain.id}) from {where}?"):
            raise UsageError("Cancelled; nothing was deleted.")
    deleted = backend.delete(domain.id)
    if ui.json:
        data = deleted.to_json()
        data["deleted"] = True
        ui.emit_json(data)
        return
    if backend.kind == "local":
        ui.success(f"Deleted {deleted.name} ({deleted.id}) and its DKIM key from the local store.")
    else:
        ui.success(f"Deleted {deleted.name} ({deleted.id}) from your StackShift account.")
    ui.info("stackshift does not change DNS at your provider. You may now remove these records there:")
    for line in plain_record_lines(deleted.records):
        ui.line(line)


def _report_check_error(ui, domain, exc: BaseException) -> None:
    """One domain of `verify --all` could not be checked: say so now (the others go on)."""
    import traceback

    from stackshift_cli.escape import visible

    if ui.debug:
        traceback.print_exception(exc, file=ui.stderr)
    ui.error(f"{domain.name} could not be checked: internal error: {type(exc).__name__}: {visible(str(exc))}",
             "This is a bug in stackshift; the other domains are still checked. Run again with --debug for the "
             "traceback and report it.")


def _report_skipped(ui, domain, exc: BaseException) -> None:
    """One domain of `verify --all` was deleted (by another process, or in the account) while it was checked."""
    ui.warn(f"{domain.name} ({domain.id}) was deleted while it was being checked; skipped.")


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops `verify` the way Ctrl-C does (raising Terminated, a KeyboardInterrupt): what was checked is
    stored and printed. Only the main thread can take signals; elsewhere (an embedding program) nothing changes."""
    import signal
    import threading

    from stackshift_cli.verify.wait import Terminated

    def terminate(signum, frame):
        raise Terminated()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def verify(
    ctx: typer.Context,
    ref: Annotated[Optional[str], typer.Argument(
        metavar="NAME|ID", help="Domain name (any case, Unicode or not) or id.", show_default=False)] = None,
    all_domains: Annotated[bool, typer.Option("--all", help="Verify every domain that is not disabled.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Re-check until verified or --timeout passes.")] = False,
    timeout: Annotated[str, typer.Option(
        "--timeout", metavar="DURATION", help="How long --wait waits, e.g. 15m, 1h.")] = "15m",
    interval: Annotated[str, typer.Option(
        "--interval", metavar="DURATION", help="First delay between checks with --wait (backs off to 60s).")] = "10s",
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed verdict (exit 3).")] = False,
    nameserver: Annotated[Optional[list[str]], typer.Option(
        "--nameserver", metavar="IP[:PORT]", help="Resolver to query (repeatable; default: the system's).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Check a domain's DNS records now: exit 0 verified, 3 failed, 4 pending."""
    from stackshift_cli.config import parse_duration, parse_nameservers
    from stackshift_cli.domain import DISABLED
    from stackshift_cli.errors import StackshiftError
    from stackshift_cli.output import VerifyDisplay, verify_report
    from stackshift_cli.verify.wait import MIN_INTERVAL, Progress, Runner, Schedule, Terminated, exit_code

    state = get_state(ctx, json_output)
    if (ref is None) == (not all_domains):
        raise UsageError("Give one domain (NAME or ID), or --all.", hint="For example: stackshift domains verify "
                         "example.com --wait")
    interval_s, timeout_s = parse_duration(interval), parse_duration(timeout)
    if interval_s < MIN_INTERVAL:
        raise UsageError(f"--interval {interval} is too short: re-checks must be at least {MIN_INTERVAL:g}s apart.")
    schedule = Schedule(interval=interval_s, timeout=timeout_s) if wait else None
    if nameserver:
        try:
            parse_nameservers(nameserver)
        except UsageError as exc:
            raise UsageError(f"Invalid --nameserver: {exc.message}", hint=exc.hint) from None
        state.settings.overrides["dns.nameservers"] = list(nameserver)
    state.settings.get("dns.nameservers")  # a bad value from anywhere stops the run here, before any lookup
    ui = state.ui
    backend = state.backend()
    if all_domains:
        _announce(state)
        everything = backend.list()
        domains = [d for d in everything if d.status != DISABLED]
        if len(domains) < len(everything):
            ui.info(f"Skipping {len(everything) - len(domains)} disabled domain(s): verify never changes them.")
        if not domains:
            if ui.json:
                ui.emit_json([])
            else:
                ui.info("No domains to verify. Create one with `stackshift domains create example.com`.")
            return
    else:
        domain = backend.get(ref)
        if domain.status == DISABLED:
            raise StackshiftError(f"{domain.name} is disabled; verify does not check or change disabled domains.")
        domains = [domain]
    progress = Progress({})
    with _sigterm_as_interrupt():
        try:
            with VerifyDisplay(ui, waiting=wait, many=all_domains) as display:
                runner = Runner(
                    check=backend.check,
                    save=backend.save_check,
                    schedule=schedule,
                    fail_fast=fail_fast,
                    isolate=all_domains,
                    min_check_time=state.settings.duration("dns.timeout"),
                    on_result=display.result,
                    on_error=lambda domain, exc: _report_check_error(ui, domain, exc),
                    on_skip=lambda domain, exc: _report_skipped(ui, domain, exc),
                )
                display.start(domains, progress)
                try:
                    runner.run(domains, progress)
                except KeyboardInterrupt:
                    display.stop()
                    verify_report(ui, list(progress.results.values()), many=all_domains)
                    raise
        except Terminated:
            ui.error("Terminated.")
            raise typer.Exit(int(ExitCode.TERMINATED)) from None
    results = list(progress.results.values())
    verify_report(ui, results, many=all_domains)
    if progress.timed_out:
        ui.info(f"Gave up waiting after {timeout}: not every record is verified yet.")
    if progress.stopped_on_failure:
        ui.info("Stopped at the first failed verdict (--fail-fast).")
    code = exit_code(results)
    if code:
        raise typer.Exit(int(code))

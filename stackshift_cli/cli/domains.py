"""`stackshift domains …`: create, records, list, show, verify, publish, unpublish, delete, rotate-dkim, dkim-export,
history, watch."""

from __future__ import annotations

from typing import Annotated, Optional

from enum import Enum

import typer

from stackshift_cli.cli.publishing import PublishOptions, note_published, wait_schedule
from stackshift_cli.cli.publishing import publish as publish_records
from stackshift_cli.cli.state import JsonOption, RefArgument, confirm_or_yes, get_state
from stackshift_cli.errors import UsageError
from stackshift_cli.dkim_export import FORMATS as EXPORT_FORMATS
from stackshift_cli.keys import KEY_BITS, KEY_SIZES, WEAK_KEY_BITS
from stackshift_cli.names import normalize_domain, to_unicode
from stackshift_cli.output import RECORD_FORMATS, plain_record_lines
from stackshift_cli.statuses import DOMAIN_STATUSES
from stackshift_cli.verify import DEFAULT_CONCURRENCY, MAX_CONCURRENCY

# Choices built from the lists they name (mypy cannot list the members of an Enum built at run time).
RecordFormat = Enum("RecordFormat", {f: f for f in RECORD_FORMATS}, type=str)  # type: ignore[misc]
StatusFilter = Enum("StatusFilter", {s: s for s in DOMAIN_STATUSES}, type=str)  # type: ignore[misc]
KeySize = Enum("KeySize", {str(bits): str(bits) for bits in KEY_SIZES}, type=str)  # type: ignore[misc]

ProviderOption = Annotated[Optional[str], typer.Option(
    "--provider", metavar="P", help="DNS provider to publish through (rfc2136, cloudflare, ...; default: "
                                    "publish.provider). `stackshift providers list` shows them.", show_default=False)]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
WaitOption = Annotated[bool, typer.Option("--wait", help="Then re-check until verified or --timeout passes.")]
TimeoutOption = Annotated[str, typer.Option("--timeout", metavar="DURATION", help="How long --wait waits, e.g. 15m, 1h.")]
IntervalOption = Annotated[str, typer.Option(
    "--interval", metavar="DURATION", help="First delay between checks with --wait (backs off to 60s).")]

app = typer.Typer(help="Create sender domains, publish and verify their DNS records, rotate their DKIM keys, watch "
                       "them.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The domain to send from, e.g. example.com.")],
    dkim_selector: Annotated[Optional[str], typer.Option(
        "--dkim-selector", metavar="S", help="DKIM selector (default: the profile's, 'stackshift').")] = None,
    inbound: Annotated[bool, typer.Option("--inbound", help="Also add an MX record for inbound mail.")] = False,
    exist_ok: Annotated[bool, typer.Option("--exist-ok", help="If the domain exists, print it and exit 0.")] = False,
    key_size: Annotated[Optional[KeySize], typer.Option(
        "--key-size", show_default=False,
        help=f"Bits of the new DKIM RSA key (default {KEY_BITS}; receivers treat 1024 as weak).")] = None,
    publish: Annotated[bool, typer.Option(
        "--publish", help="Then publish the records at your DNS provider (as `domains publish`).")] = False,
    provider: ProviderOption = None,
    yes: YesOption = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = "15m",
    interval: IntervalOption = "10s",
    json_output: JsonOption = False,
) -> None:
    """Create a sender domain and print the DNS records to publish (or, with --publish, publish them)."""
    from stackshift_cli.names import mixed_scripts
    from stackshift_cli.records import check_not_public_suffix, check_publishable, normalize_selector

    state = get_state(ctx, json_output)
    domain_name = normalize_domain(name)
    selector = normalize_selector(dkim_selector) if dkim_selector is not None else None
    if (provider or yes) and not publish:
        raise UsageError("--provider and --yes go with --publish.", hint=f"Run `stackshift domains create {name} "
                                                                         "--publish --provider P`.")
    if wait and not publish:
        raise UsageError("--wait goes with --publish here; without it, run `stackshift domains verify NAME --wait` "
                         "once the records are published.")
    schedule = wait_schedule(wait, interval, timeout)
    check_not_public_suffix(domain_name)
    profile = state.settings.sending_profile()
    check_publishable(domain_name, selector=selector or profile.dkim_selector, inbound=inbound, profile=profile)
    scripts = mixed_scripts(domain_name)
    if scripts:
        state.ui.warn(f"{to_unicode(domain_name)} ({domain_name}) mixes {' and '.join(scripts)} letters in one "
                      "label, as look-alikes of other domains do. Check that it is the name you meant.")
    state.announce()
    bits = int(key_size.value) if key_size is not None else None
    domain, created = state.backend().create(domain_name, selector=selector, inbound=inbound, exist_ok=exist_ok,
                                             key_size=bits)
    ui = state.ui
    weak = f"{domain.name} has a 1024-bit DKIM key: Gmail and other receivers treat 1024-bit keys as weak (RFC 8301 " \
           "makes 1024 bits the floor; signers should use at least 2048)." if created and bits == WEAK_KEY_BITS else ""
    if ui.json:
        if weak:
            ui.warn(weak)
        ui.emit_json(domain.to_json())
        if publish:
            publish_records(state, domain, PublishOptions(provider=provider, yes=yes, schedule=schedule))
        return
    label = domain.name if to_unicode(domain.name) == domain.name else f"{domain.name} ({to_unicode(domain.name)})"
    if created:
        ui.success(f"Created {label} (id {domain.id}), status {domain.status}.")
        if weak:
            ui.warn(weak)
    else:
        ui.info(f"{label} already exists (id {domain.id}), status {domain.status}.")
    if publish:
        publish_records(state, domain, PublishOptions(provider=provider, yes=yes, schedule=schedule))
        return
    ui.info("Publish these records at your DNS provider:")
    ui.records(domain.records, domain=domain)
    ui.info(f"Then run: stackshift domains verify {domain.name} --wait "
            f"(or let stackshift publish them: stackshift domains publish {domain.name})")


@app.command()
def records(
    ctx: typer.Context,
    ref: RefArgument,
    fmt: Annotated[RecordFormat, typer.Option(
        "--format", "-f", help="table (terminal), plain (host<TAB>type<TAB>value), json, zone (BIND), csv.")
    ] = RecordFormat("table"),
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
    from stackshift_cli.cli.quick import show_list  # also run without Typer, for plain arguments (cli/quick.py)

    show_list(get_state(ctx, json_output), status.value if status else None)


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
    confirm_or_yes(state, yes, f"Delete {domain.name} ({domain.id}) from {backend.where}?",
                   f"stackshift domains delete {domain.name}", cancelled="Cancelled; nothing was deleted.")
    deleted = backend.delete(domain.id)
    if ui.json:
        data = deleted.to_json()
        data["deleted"] = True
        ui.emit_json(data)
        note_published(state, deleted.name)
        return
    key = " and its DKIM key" if backend.keeps_private_keys else ""
    ui.success(f"Deleted {deleted.name} ({deleted.id}){key} from {backend.where}.")
    note_published(state, deleted.name)
    ui.info("stackshift does not change DNS at your provider. You may now remove these records there:")
    for line in plain_record_lines(deleted.records):
        ui.line(line)


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
    concurrency: Annotated[Optional[int], typer.Option(
        "--concurrency", metavar="N", min=1, max=MAX_CONCURRENCY, show_default=False,
        help=f"Most DNS queries in flight at once (default {DEFAULT_CONCURRENCY}).")] = None,
    shard: Annotated[Optional[str], typer.Option(
        "--shard", metavar="I/N", help="With --all: only the I-th of N partitions of the domains (by id, 0-based).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check a domain's DNS records now: exit 0 verified, 3 failed, 4 pending."""
    from stackshift_cli.config import parse_duration
    from stackshift_cli.services import Shard, Target, chosen_nameservers, verify_domains
    from stackshift_cli.verify.wait import MIN_INTERVAL, Schedule

    state = get_state(ctx, json_output)
    target = Target(ref, every=all_domains, shard=Shard.parse(shard) if shard is not None else None)
    interval_s, timeout_s = parse_duration(interval), parse_duration(timeout)
    if interval_s < MIN_INTERVAL:
        raise UsageError(f"--interval {interval} is too short: re-checks must be at least {MIN_INTERVAL:g}s apart.")
    nameservers = chosen_nameservers(state.settings, nameserver)
    backend = state.backend()
    if all_domains:
        state.announce()
    outcome = verify_domains(backend, state.settings, state.ui, target, fail_fast=fail_fast, nameservers=nameservers,
                             schedule=Schedule(interval=interval_s, timeout=timeout_s) if wait else None,
                             concurrency=concurrency, report=True)
    if outcome.timed_out:
        state.ui.info(f"Gave up waiting after {timeout}: not every record is verified yet.")
    if outcome.stopped_on_failure:
        state.ui.info("Stopped at the first failed verdict (--fail-fast).")
    if ref is not None and not all_domains:
        from stackshift_cli.cli.rotating import observe

        observe(state, ref)  # a DKIM key rotation moves on with what this check saw
    if outcome.exit_code:
        raise typer.Exit(int(outcome.exit_code))


@app.command()
def publish(
    ctx: typer.Context,
    ref: RefArgument,
    provider: ProviderOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing (exit 7 on conflicts).")
                       ] = False,
    yes: YesOption = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace what is in the way where the plan says so (another DKIM key, records at the "
                          "return-path name, a broken SPF or DMARC record).")] = False,
    wait: WaitOption = False,
    timeout: TimeoutOption = "15m",
    interval: IntervalOption = "10s",
    json_output: JsonOption = False,
) -> None:
    """Write the domain's records at your DNS provider: plan first, merge, never clobber (exit 7 on conflicts)."""
    state = get_state(ctx, json_output)
    schedule = wait_schedule(wait, interval, timeout)
    if dry_run and wait:
        raise UsageError("--dry-run writes nothing, so there is nothing to --wait for.")
    domain = state.backend().get(ref)
    publish_records(state, domain, PublishOptions(provider=provider, dry_run=dry_run, yes=yes, replace=replace,
                                                  schedule=schedule))


@app.command()
def unpublish(
    ctx: typer.Context,
    ref: RefArgument,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be undone and change nothing.")
                       ] = False,
    yes: YesOption = False,
    json_output: JsonOption = False,
) -> None:
    """Undo exactly what `publish` wrote for the domain (records changed since are left alone and reported)."""
    from stackshift_cli.cli.publishing import unpublish as undo_published

    undo_published(get_state(ctx, json_output), ref, dry_run=dry_run, yes=yes)


@app.command("rotate-dkim")
def rotate_dkim(
    ctx: typer.Context,
    ref: RefArgument,
    selector: Annotated[Optional[str], typer.Option(
        "--selector", metavar="S", help="The new selector (default stackshift-YYYYMMDD).", show_default=False)
    ] = None,
    key_size: Annotated[int, typer.Option(
        "--key-size", metavar="BITS", help="Size of the new RSA key: 1024, 2048, 3072 or 4096.")] = 2048,
    overlap: Annotated[str, typer.Option(
        "--overlap", metavar="DURATION", help="How long the old key stays published once the new one signs.")] = "7d",
    publish: Annotated[bool, typer.Option(
        "--publish", help="Publish the new record (and later the revocation) through `domains publish`.")] = False,
    provider: ProviderOption = None,
    now: Annotated[bool, typer.Option(
        "--now", help="Compromised key: revoke the old key as soon as the new one signs (no overlap).")] = False,
    abort: Annotated[bool, typer.Option("--abort", help="Before the new key signs: remove it and its record.")
                     ] = False,
    new: Annotated[bool, typer.Option("--new", help="Start another rotation once the last one is done.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Rotate the domain's DKIM key without a minute unsigned: start a rotation, or move it on (run it again)."""
    from datetime import timedelta

    from stackshift_cli.cli.rotating import RotateOptions, rotate
    from stackshift_cli.config import parse_duration

    state = get_state(ctx, json_output)
    if abort and (publish or now or selector or new):
        raise UsageError("--abort takes no other option.")
    rotate(state, ref, RotateOptions(selector=selector, key_size=key_size,
                                     overlap=timedelta(seconds=parse_duration(overlap)), publish=publish,
                                     provider=provider, now=now, abort=abort, new=new))


ExportFormat = Enum("ExportFormat", {f: f for f in EXPORT_FORMATS}, type=str)  # type: ignore[misc]


@app.command("dkim-export")
def dkim_export(
    ctx: typer.Context,
    ref: RefArgument,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", show_default=False,
        help="opendkim (KeyTable and SigningTable lines), rspamd (local.d/dkim_signing.conf), pem (the key file's "
             "path; with --reveal, the key).")],
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="With --format pem: print the private key itself, not its path.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Print what your own mail server needs to sign with the domain's DKIM key (the key stays where it is)."""
    from stackshift_cli import dkim_export as export
    from stackshift_cli.errors import StackshiftError
    from stackshift_cli.escape import visible

    state = get_state(ctx, json_output)
    ui = state.ui
    if reveal and fmt.value != "pem":
        raise UsageError("--reveal goes with --format pem (the other formats name the key file; they never hold "
                         "the key).", hint=f"Run `stackshift domains dkim-export {ref} --format pem --reveal`.")
    backend = state.backend()
    if not backend.keeps_private_keys:
        raise StackshiftError("The StackShift API keeps the DKIM private key (it signs with it); it cannot be "
                              "exported.",
                              hint="To sign with your own mail server, create the domain in the local store "
                                   "(--backend local) and publish its records.")
    domain = backend.get(ref)
    if domain.dkim_key_path is None or domain.dkim_selector is None:
        raise StackshiftError(f"{domain.name} has no DKIM key in {backend.where} to export.",
                              hint=f"Run `stackshift domains show {domain.name}` to see its records.")
    path, selector = domain.dkim_key_path, domain.dkim_selector
    owner, mode = _key_file(path, domain.name)  # the file is there (and is a file) before anything names it
    data: dict[str, object] = {"domain": domain.name, "selector": selector, "keyPath": path, "format": fmt.value}
    if fmt.value == "opendkim":
        lines = export.opendkim_lines(domain.name, selector, path)
        data["opendkim"] = {"keyTable": lines.key_table, "signingTable": lines.signing_table}
        output = [lines.key_table, lines.signing_table]
        notes = ["Line 1 goes in OpenDKIM's KeyTable file, line 2 in its SigningTable file (the `*@` pattern needs "
                 "`SigningTable refile:/path/to/SigningTable` in opendkim.conf; `KeyTable file:/path/to/KeyTable`)."]
        reader = "OpenDKIM"
    elif fmt.value == "rspamd":
        block = export.rspamd_config(domain.name, selector, path)
        data["rspamd"] = block
        output = [block]
        notes = ["This goes in Rspamd's local.d/dkim_signing.conf (merge it into a `domain { }` section already "
                 "there)."]
        from stackshift_cli.records import registrable_domain

        if registrable_domain(domain.name) != domain.name:
            notes.append(f"{domain.name} is under {registrable_domain(domain.name)}: Rspamd signs as the registrable "
                         "domain by default (use_esld = true) and would not use this entry; set `use_esld = false;` "
                         "in that file.")
        reader = "Rspamd (user _rspamd)"
    elif reveal:
        data["pem"] = pem = export.pem_text(_read_key(path, domain.name), path)
        output = [pem]
        notes = []
        reader = ""
    else:
        output = [visible(path)]
        notes = ["This is the path of the private key file; `--reveal` prints the key itself."]
        reader = ""
    if ui.json:
        ui.emit_json(data)
        return
    for text in output:
        ui.line(text)
    for note in notes:
        ui.info(note)
    if reader:
        ui.info(f"{reader} must be able to read the key file: it is mode {mode:04o}, owned by {owner}, in a directory "
                f"only {owner} can enter. Copy it where the mail server keeps its keys, owned by the server's user "
                "(install -m 0600 -o USER), and change the path above to the copy's (export again after a key "
                "rotation); or run the mail server as that user.")


def _key_file(path: str, name: str) -> tuple[str, int]:
    """The owner of the key file at `path` (a user name, or its uid when it has none) and its permission bits;
    StoreError when there is no such file."""
    import os
    import stat

    from stackshift_cli.errors import StoreError

    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        raise StoreError(f"The DKIM private key of {name} cannot be read at {path}: {exc.strerror or exc}.",
                         hint="Restore it from a backup: without it, nothing can sign with this key.") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"The DKIM private key of {name} at {path} is not a regular file.",
                         hint="Restore it from a backup: without it, nothing can sign with this key.")
    mode = stat.S_IMODE(info.st_mode)
    try:
        import pwd

        return pwd.getpwuid(info.st_uid).pw_name, mode
    except (ImportError, KeyError):
        return f"uid {info.st_uid}", mode


def _read_key(path: str, name: str) -> bytes:
    """The key file's bytes (never followed as a link); StoreError when it cannot be read."""
    import os

    from stackshift_cli.dkim_export import MAX_PEM_BYTES
    from stackshift_cli.errors import StoreError

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise StoreError(f"The DKIM private key of {name} cannot be read at {path}: {exc.strerror or exc}.",
                         hint="Check the file's permissions, or restore it from a backup.") from None


@app.command()
def history(
    ctx: typer.Context,
    ref: RefArgument,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="D", help="Only events from this long ago (7d, 24h) or this time (2026-11-01T00:00Z).",
        show_default=False)] = None,
    json_output: JsonOption = False,
) -> None:
    """Every status change verify saw for the domain and its records, newest last."""
    from stackshift_cli.cli.watching import show_history

    show_history(get_state(ctx, json_output), ref, since)


@app.command()
def watch(
    ctx: typer.Context,
    refs: Annotated[Optional[list[str]], typer.Argument(
        metavar="NAME|ID", help="The domains to watch (default: every one that is not disabled).",
        show_default=False)] = None,
    interval: Annotated[str, typer.Option(
        "--interval", metavar="DURATION", help="Time between the starts of two rounds.")] = "1h",
    once: Annotated[bool, typer.Option(
        "--once", help="One round, then exit 0 (all verified), 3 (any failed, a regression past its window "
                       "included) or 4 (any pending).")
    ] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per change, each line flushed at once.")
                     ] = False,
    prometheus: Annotated[Optional[str], typer.Option(
        "--prometheus", metavar="FILE", help="Rewrite this node_exporter textfile (*.prom) after each round.",
        show_default=False)] = None,
    nameserver: Annotated[Optional[list[str]], typer.Option(
        "--nameserver", metavar="IP[:PORT]", help="Resolver to query (repeatable; default: the system's).")] = None,
) -> None:
    """Re-verify domains round after round and print each change once, as it is stored."""
    from stackshift_cli.cli.watching import run_watch

    run_watch(get_state(ctx), refs or [], interval=interval, once=once, jsonl=jsonl, prometheus=prometheus,
              nameservers=nameserver)

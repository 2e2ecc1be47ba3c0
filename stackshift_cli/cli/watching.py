"""What `domains history` and `domains watch` do between parsing and watch.py / history.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import typer

from stackshift_cli.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from stackshift_cli.cli.state import State


def since_time(text: str) -> datetime:
    """--since: a duration back from now (7d, 24h), or a time (ISO 8601, UTC unless it says otherwise)."""
    from datetime import timedelta

    from stackshift_cli.config import parse_duration
    from stackshift_cli.domain import parse_time, utcnow

    try:
        return utcnow() - timedelta(seconds=parse_duration(text))
    except UsageError:
        pass
    try:
        when = parse_time(text.strip())
    except (ValueError, TypeError):
        when = None
    if when is None:
        raise UsageError(f"--since {text} is neither a duration nor a time.",
                         hint="Use a duration such as 7d or 24h, or a time such as 2026-11-01T00:00:00Z.")
    return when


def show_history(state: State, ref: str, since: str | None) -> None:
    from stackshift_cli.output import tsv

    ui = state.ui
    if since is not None and not since.strip():
        raise UsageError("--since is empty.", hint="Use a duration such as 7d or 24h, or a time.")
    backend = state.backend()
    domain = backend.get(ref)
    history = backend.history()
    try:
        events = history.events(domain.id, since=since_time(since) if since else None)
    finally:
        history.close()
    if ui.json:
        ui.emit_json([e.to_json() for e in events])
        return
    if not events:
        ui.info(f"No status change of {domain.name} recorded{' since then' if since else ''}.")
        return
    for event in events:
        data = event.to_json()
        what = "-" if event.is_domain else f"{event.purpose or ''} {event.type} {event.host}"
        ui.line(tsv(data["at"], event.kind, what, f"{event.old_status or '-'} → {event.new_status}",
                    event.explanation or ""))


def run_watch(state: State, refs: Sequence[str], *, interval: str, once: bool, jsonl: bool, prometheus: str | None,
              nameservers: Sequence[str] | None) -> None:
    from pathlib import Path

    from stackshift_cli.config import parse_duration
    from stackshift_cli.services import sigterm_as_interrupt, chosen_nameservers
    from stackshift_cli.watch import WatchOptions, watch

    interval_s = parse_duration(interval)
    if interval_s < 10:
        raise UsageError(f"--interval {interval} is too short: rounds must be at least 10s apart.")
    path = Path(prometheus).expanduser() if prometheus else None
    if path is not None:
        from stackshift_cli.metrics import check_path

        check_path(path)  # before the first round's checks, not after
    state.settings.duration("verify.regression_window")
    options = WatchOptions(refs=list(refs), interval=interval_s, once=once, jsonl=jsonl, prometheus=path,
                           nameservers=chosen_nameservers(state.settings, nameservers))
    with sigterm_as_interrupt():
        code = watch(state.backend(), state.settings, state.ui, options)
    if code:
        raise typer.Exit(code)

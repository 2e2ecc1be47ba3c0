"""`domains watch`: re-verify domains round after round, print each change once, feed Prometheus.

A round checks every watched domain (a few at a time, in worker threads), stores each verdict as `verify` does
(the regression rule and the history: history.py), then prints the events the round appended, one line per change:
a domain whose status changed gives one line (its record changes inside it), a record that changed while the
domain's status stayed gives a line of its own. With --prometheus the textfile is replaced after each round
(metrics.py). The clock is passed in, so rounds can be tested across a regression window without waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from stackshift_cli.errors import StackshiftError
from stackshift_cli.statuses import DISABLED, FAILED, PENDING

if TYPE_CHECKING:
    from stackshift_cli.backends.base import Backend
    from stackshift_cli.config import Settings
    from stackshift_cli.domain import Domain
    from stackshift_cli.history import Event
    from stackshift_cli.output import Ui

CHECKS_AT_ONCE = 16


@dataclass
class WatchOptions:
    refs: Sequence[str] = ()
    interval: float = 3600.0
    once: bool = False
    jsonl: bool = False
    prometheus: Path | None = None
    nameservers: Sequence[str] | None = None


def exit_code(domains: Sequence[Domain]) -> int:
    """--once: 3 when any watched domain is failed (a regression past its window included), 4 when any is pending,
    0 when every one is verified."""
    statuses = {d.status for d in domains}
    if FAILED in statuses:
        return 3
    if PENDING in statuses or "missing" in statuses:
        return 4
    return 0


def watch(backend: Backend, settings: Settings, ui: Ui, options: WatchOptions, *,
          clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run rounds until --once's first ends (its exit code) or a signal stops it (raised as KeyboardInterrupt)."""
    from stackshift_cli.domain import utcnow

    now = clock or utcnow
    while True:
        started = time.monotonic()
        domains = watch_round(backend, settings, ui, options, now())
        if options.prometheus is not None:
            from stackshift_cli import metrics

            metrics.write_textfile(options.prometheus, metrics.textfile(domains,
                                                                        round_seconds=time.monotonic() - started))
        if options.once:
            return exit_code(domains)
        sleep(max(0.0, options.interval - (time.monotonic() - started)))


def watch_round(backend: Backend, settings: Settings, ui: Ui, options: WatchOptions, at: datetime) -> list[Domain]:
    """One round: check the watched domains, store the verdicts (at `at`), print the changes; the domains stored."""
    from concurrent.futures import ThreadPoolExecutor

    targets = _targets(backend, ui, options.refs)
    history = backend.history()
    try:
        mark = history.last_id()
    finally:
        history.close()
    stored: list[Domain] = []
    pool = ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE, thread_name_prefix="stackshift-watch")
    try:
        futures = [pool.submit(backend.check, domain, nameservers=options.nameservers) for domain in targets]
        for domain, future in zip(targets, futures):
            try:
                checked = future.result()
            except Exception as exc:  # one domain that cannot be checked does not stop the watch
                ui.warn(f"{domain.name} could not be checked: {getattr(exc, 'message', exc)}")
                stored.append(domain)
                continue
            try:
                stored.append(backend.save_check(replace(checked, last_checked_at=at)))
            except StackshiftError as exc:  # deleted meanwhile, a store locked too long: the next round tries again
                ui.warn(f"{domain.name}: {exc.message}")
                continue
            mark = _print_new(backend, ui, mark, jsonl=options.jsonl)  # as stored: a round cut short loses no line
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C or SIGTERM: the round in flight is abandoned
    return stored


def _print_new(backend: Backend, ui: Ui, mark: int, *, jsonl: bool) -> int:
    """Print the events stored after `mark`; the new mark."""
    history = backend.history()
    try:
        events = history.events(after_id=mark)
    finally:
        history.close()
    print_events(ui, events, jsonl=jsonl)
    return max([mark, *(e.id or 0 for e in events)])


def _targets(backend: Backend, ui: Ui, refs: Sequence[str]) -> list[Domain]:
    """The domains named (a disabled one is left out, with a warning), else every one that is not disabled."""
    if not refs:
        return [d for d in backend.list() if d.status != DISABLED]
    named = [backend.get(ref) for ref in dict.fromkeys(refs)]
    for domain in named:
        if domain.status == DISABLED:
            ui.warn(f"{domain.name} is disabled: it is not watched.")
    return [d for d in named if d.status != DISABLED]


def print_events(ui: Ui, events: Sequence[Event], *, jsonl: bool) -> None:
    """One line per change: a domain-level event carries the record changes of the same check; record changes of a
    domain whose status did not change are lines of their own. Each line is flushed at once (log shippers)."""
    from stackshift_cli.output import json_line, tsv

    groups: dict[tuple[str, datetime], list[Event]] = {}
    for event in events:
        groups.setdefault((event.domain_id, event.at), []).append(event)
    for group in groups.values():
        head = next((e for e in group if e.is_domain), None)
        lines = [(head, [e for e in group if not e.is_domain])] if head else [(e, []) for e in group]
        for event, records in lines:
            if jsonl:
                data = event.to_json()
                if records:
                    data["records"] = [r.to_json() for r in records]
                ui.line(json_line(data))
            else:
                what = "-" if event.is_domain else f"{event.purpose or ''} {event.type} {event.host}"
                ui.line(tsv(event.to_json()["at"], event.domain, event.kind, what, event.old_status or "-",
                            event.new_status, event.explanation or ""))
            ui.stdout.flush()

"""Use cases the CLI calls: what a command does, and the product's policy, without the CLI's parsing and printing.

`verify_domains` checks domains now (or until verified, on a schedule) and stores the verdicts. Its policy:
one domain by NAME|ID or every domain; disabled domains are never checked or changed; the resolvers are the
ones given, else dns.nameservers; with --all a domain that cannot be checked is reported and the others go on,
and one deleted meanwhile is skipped; Ctrl-C or SIGTERM stops the run and what was checked is stored and shown;
and where a backend's verdicts come from elsewhere (the API), stackshift adds its own DNS diagnosis to each
record that is not verified (README, "Verify on the API").
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from stackshift_cli.domain import DISABLED, VERIFIED, DnsRecord, Domain
from stackshift_cli.errors import ExitCode, StackshiftError, UsageError

if TYPE_CHECKING:
    from stackshift_cli.backends.base import Backend
    from stackshift_cli.config import Settings
    from stackshift_cli.output import Ui, VerifyStream
    from stackshift_cli.verify.wait import Progress, Runner, Schedule


# verify --all checks in worker processes (one per core) from this many domains: below it, forking costs more
# than it saves (a process checks ~500 correct domains a second on its own).
PROCESSES_FROM = 200


@dataclass(frozen=True)
class Shard:
    """One of `count` partitions of the domains, numbered from 0 (`--shard I/N`): a domain belongs to the
    partition its id hashes to, the same on every machine and every run, so N hosts that each take one share
    the domains without talking to each other."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'I/N' -> Shard(I, N), with 0 <= I < N (a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX is I)."""
        index, slash, count = text.strip().partition("/")
        shown = repr(text if len(text) <= 40 else text[:40] + "…")
        if not (slash and index.isascii() and index.isdigit() and count.isascii() and count.isdigit()):
            raise UsageError(f"--shard {shown} is not I/N (two whole numbers, such as 0/4).",
                             hint="For example: --shard \"$JOB_COMPLETION_INDEX/4\"")
        # int() of thousands of digits is refused by Python itself; no valid I or N has more than 7
        if len(index.lstrip("0")) > 7 or len(count.lstrip("0")) > 7 or not 1 <= int(count) <= 1_000_000 \
                or int(index) >= int(count):
            raise UsageError(f"--shard {shown}: I must be from 0 to N-1, and N from 1 to 1000000.")
        return cls(int(index), int(count))

    def holds(self, domain_id: str) -> bool:
        from hashlib import blake2b

        return int.from_bytes(blake2b(domain_id.encode(), digest_size=8).digest(), "big") % self.count == self.index


@dataclass(frozen=True)
class Target:
    """What `verify` checks: one domain (`ref`, a NAME|ID), or every domain that is not disabled (`every`),
    optionally only those of one shard."""

    ref: str | None = None
    every: bool = False
    shard: Shard | None = None

    def __post_init__(self) -> None:
        if (self.ref is None) == (not self.every):
            raise UsageError("Give one domain (NAME or ID), or --all.",
                             hint="For example: stackshift domains verify example.com --wait")
        if self.shard is not None and not self.every:
            raise UsageError("--shard takes the domains of one partition of --all; give --all, not a domain.")


@dataclass
class VerifyOutcome:
    """The domains as the run left them (stored verdicts; one that could not be checked carries check_error)."""

    results: list[Domain] = field(default_factory=list)  # empty when the report was written as they came
    timed_out: bool = False  # --wait gave up at --timeout
    stopped_on_failure: bool = False  # --fail-fast stopped at a failed verdict
    code: ExitCode | None = None  # from the tally of a run that kept no results

    @property
    def exit_code(self) -> ExitCode:
        from stackshift_cli.verify.wait import exit_code

        return self.code if self.code is not None else exit_code(self.results)


def chosen_nameservers(settings: Settings, given: Sequence[str] | None) -> list[str]:
    """The resolvers a verify run queries: those given (--nameserver), else dns.nameservers (environment, config);
    [] for the system's. Checked here, so a bad value from anywhere stops the run before any lookup."""
    from stackshift_cli.config import parse_nameservers

    if not given:
        return list(settings.get("dns.nameservers") or [])
    try:
        parse_nameservers(list(given))
    except UsageError as exc:
        raise UsageError(f"Invalid --nameserver: {exc.message}", hint=exc.hint) from None
    return [item.strip() for item in given]


def verify_domains(backend: Backend, settings: Settings, ui: Ui, target: Target, *, schedule: Schedule | None = None,
                   fail_fast: bool = False, nameservers: Sequence[str] | None = None,
                   on_result: Callable[[Domain | None, Domain], None] | None = None,
                   concurrency: int | None = None, report: bool = False) -> VerifyOutcome:
    """Check the target's domains and store the verdicts; with a schedule, re-check until every one is verified
    or the schedule's timeout passes (with fail_fast, until the first failed verdict).

    Progress is shown on stderr as it happens (output.VerifyDisplay). With `report`, the report is written on
    stdout too: as the results come when nothing needs them all at once (--all without --wait, to a script:
    memory stays flat in the number of domains), else at the end; without it, the results are returned. An
    interrupt (KeyboardInterrupt, or errors.Terminated for SIGTERM) is re-raised after what was checked so far
    is reported. `nameservers`: see chosen_nameservers (None: dns.nameservers). `on_result(before, after)` is
    called from the main thread with each stored verdict, after the display (before: the domain as it was just
    before that check). `concurrency`: the most DNS queries (API requests) in flight at once."""
    from stackshift_cli.output import VerifyDisplay, VerifyStream, regressions_line, verify_report
    from stackshift_cli.verify import check_settings
    from stackshift_cli.verify.wait import Progress

    check_settings(settings)
    count, domains = _targets(backend, ui, target)
    if not count:
        if report and ui.json:
            ui.emit_json([] if target.every else None)
        return VerifyOutcome()
    if nameservers is None:
        nameservers = chosen_nameservers(settings, None)
    stream = VerifyStream(ui) if report and target.every and schedule is None and (ui.json or not ui.stdout_tty) \
        else None
    progress = Progress({})
    regressed: dict[str, Domain] = {}
    with sigterm_as_interrupt(), VerifyDisplay(ui, waiting=schedule is not None, many=target.every) as display:
        def result(old: Domain | None, new: Domain, progress: Progress) -> None:
            if new.regressed_at is not None and stream is not None:
                regressed[new.id] = new  # a streamed report keeps nothing else: for the last word on regressions
            else:
                regressed.pop(new.id, None)
            display.result(old, new, progress)
            if stream is not None:
                stream.result(new)
            if on_result is not None:
                on_result(old, new)

        def skip(domain: Domain) -> None:
            _report_skipped(ui, domain)
            if stream is not None:
                stream.drop(domain)

        runner = _runner(backend, settings, ui, nameservers, concurrency, count, schedule=schedule, fail_fast=fail_fast,
                         isolate=target.every, keep=stream is None, on_result=result,
                         on_error=lambda domain, exc: _report_check_error(ui, domain, exc),
                         on_skip=lambda domain, exc: skip(domain))
        display.start(count, progress)
        given = _given(domains, stream)
        try:
            runner.run(given, progress)
        except KeyboardInterrupt:
            display.stop()
            if stream is not None:
                stream.close()
            else:
                verify_report(ui, list(progress.results.values()), many=target.every)
            raise
    if stream is not None:
        stream.close()
        if regressed:
            ui.warn(regressions_line(regressed.values()) or "")
        return VerifyOutcome([], progress.timed_out, progress.stopped_on_failure, code=progress.exit_code())
    results = list(progress.results.values())
    if report:
        line = regressions_line(results) if target.every else None
        if line:
            ui.warn(line)  # first: what broke since it was verified
        verify_report(ui, results, many=target.every)
    return VerifyOutcome(results, progress.timed_out, progress.stopped_on_failure)


def _given(domains: Iterable[Domain], stream: VerifyStream | None) -> Iterator[Domain]:
    """The domains as the Runner takes them, each announced to the stream (which keeps their order)."""
    for domain in domains:
        if stream is not None:
            stream.expect(domain)
        yield domain


def _runner(backend: Backend, settings: Settings, ui: Ui, nameservers: Sequence[str], concurrency: int | None,
            count: int, **options) -> Runner:
    """The Runner of a verify run: stackshift's own DNS checks in one event loop and one DNS session (for --all of
    many domains, in worker processes, each with its own), with up to `concurrency` domains and queries in flight
    in all; a backend that judges elsewhere (the API), in threads."""
    from stackshift_cli.verify import DEFAULT_CONCURRENCY, Session
    from stackshift_cli.verify.wait import MAX_IN_FLIGHT, Runner

    limit = concurrency or DEFAULT_CONCURRENCY
    common = dict(save=backend.save_check, min_check_time=settings.duration("dns.timeout"), **options)
    if backend.judges_remotely:
        return Runner(check=_checker(backend, settings, ui, nameservers), in_flight=min(limit, MAX_IN_FLIGHT),
                      **common)
    processes = min(_processes(count), limit) if options["isolate"] else 1  # --concurrency 1: one check at a time
    session = Session(settings, nameservers, queries_in_flight=max(1, limit // processes),
                      remember_zones=not options["isolate"])
    return Runner(check_async=lambda domain: backend.check_async(domain, session), start_round=session.new_round,
                  finish=session.close, in_flight=limit, processes=processes, **common)


def _processes(count: int) -> int:
    """How many worker processes check `count` domains of `verify --all`: one per usable core (at most
    MAX_PROCESSES) once there are enough domains to keep them busy (PROCESSES_FROM), else the run's own."""
    from stackshift_cli.verify.processes import MAX_PROCESSES, can_fork, usable_cores

    if count < PROCESSES_FROM or not can_fork():
        return 1
    return max(1, min(usable_cores(), MAX_PROCESSES, count // PROCESSES_FROM))


def _targets(backend: Backend, ui: Ui, target: Target) -> tuple[int, Iterable[Domain]]:
    """The domains to check, and how many: the one named (an error when it is disabled), or every one that is not
    disabled (of the shard, with one), read as the run takes them (Backend.each)."""
    if not target.every:
        domain = backend.get(target.ref or "")
        if domain.status == DISABLED:
            raise StackshiftError(f"{domain.name} is disabled; verify does not check or change disabled domains.")
        return 1, [domain]
    shard, skipped = target.shard, 0

    def select(domain_id: str, status: str) -> bool:
        nonlocal skipped
        if shard is not None and not shard.holds(domain_id):
            return False
        if status == DISABLED:
            skipped += 1
            return False
        return True

    count, domains = backend.each(select)
    if skipped:
        ui.info(f"Skipping {skipped} disabled domain(s): verify never changes them.")
    if not count and not ui.json:
        ui.info("No domains to verify. Create one with `stackshift domains create example.com`.")
    return count, domains


def _checker(backend: Backend, settings: Settings, ui: Ui, nameservers: Sequence[str]) -> Callable[[Domain], Domain]:
    """The check of one domain, as the Runner calls it in a worker thread."""

    def check(domain: Domain) -> Domain:
        checked = backend.check(domain, nameservers=nameservers)
        if backend.judges_remotely:
            checked = with_local_diagnosis(checked, settings, ui, nameservers)
        return checked

    return check


# ---------------------------------------------------------------- the API's verdict and stackshift's diagnosis


def with_local_diagnosis(checked: Domain, settings: Settings, ui: Ui, nameservers: Sequence[str] | None = None
                         ) -> Domain:
    """Verdicts from elsewhere, each kept, with stackshift's own DNS diagnosis added to the explanation of every
    record that is not verified. When stackshift cannot look at all, the verdicts alone, and a warning."""
    from stackshift_cli.verify import check_records

    pending = [i for i, r in enumerate(checked.records) if r.status != VERIFIED]
    if not pending:
        return checked
    try:
        diagnosed = check_records(checked.name, [checked.records[i] for i in pending], settings,
                                  nameservers=nameservers)
    except StackshiftError as exc:
        ui.warn(f"stackshift could not run its own DNS check: {exc.message}")
        return checked
    records = list(checked.records)
    for index, merged in zip(pending, merge_diagnosis([records[i] for i in pending], diagnosed)):
        records[index] = merged
    return replace(checked, records=tuple(records))


def merge_diagnosis(api_records: Sequence[DnsRecord], local: Sequence[DnsRecord]) -> list[DnsRecord]:
    """Each API record with its status kept and stackshift's explanation added (same order, same length)."""
    return [replace(a, explanation=merge_explanations(a, b)) for a, b in zip(api_records, local)]


def merge_explanations(api_record: DnsRecord, local: DnsRecord) -> str | None:
    """The API's explanation (if any), then what stackshift's own DNS check found; said once when both say
    the same thing (or one says all the other does)."""
    theirs, ours = api_record.explanation, local.explanation
    if not ours:
        return theirs
    label = "stackshift" if local.status == api_record.status else f"stackshift sees {local.status}"
    if theirs and _same_words(ours) in _same_words(theirs):  # the API's says it all
        return theirs if local.status == api_record.status else f"{theirs} — {label}"
    if theirs and _same_words(theirs) in _same_words(ours):  # ours repeats the API's, and adds to it
        return f"{label}: {ours}"
    return f"{theirs} — {label}: {ours}" if theirs else f"{label}: {ours}"


def _same_words(text: str) -> str:
    """Text compared for meaning: case, spacing and final punctuation aside."""
    return " ".join(text.casefold().split()).rstrip(".!")


# ---------------------------------------------------------------- what a run says on the way


def _report_check_error(ui: Ui, domain: Domain, exc: BaseException) -> None:
    """One domain of `verify --all` could not be checked: say so now (the others go on)."""
    import traceback

    from stackshift_cli.escape import visible

    if ui.debug:
        traceback.print_exception(exc, file=ui.stderr)
    ui.error(f"{domain.name} could not be checked: internal error: {type(exc).__name__}: {visible(str(exc))}",
             "This is a bug in stackshift; the other domains are still checked. Run again with --debug for the "
             "traceback and report it.")


def _report_skipped(ui: Ui, domain: Domain) -> None:
    """One domain of `verify --all` was deleted (by another process, or in the account) while it was checked."""
    ui.warn(f"{domain.name} ({domain.id}) was deleted while it was being checked; skipped.")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a run the way Ctrl-C does (raising errors.Terminated, a KeyboardInterrupt): what was checked is
    stored and printed. Only the main thread can take signals; elsewhere (an embedding program) nothing changes."""
    import signal
    import threading

    from stackshift_cli.errors import Terminated

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

"""SIGTERM and Ctrl-C during a round of the real `stackshift domains watch`, against the lab's BIND behind a slow
resolver (a delay proxy), so the round is in flight when the signal lands: exit 143 or 130 with one line on stderr,
a store that passes integrity_check, a history with no half-written check, and a --prometheus file that is either
absent or whole."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackshift_cli.domain import parse_time
from tests.dnslab.pyservers import DelayProxy
from tests.helpers import Cli, stackshift_command
from tests.publish.conftest import lab_env

DELAY_MS = 400  # each resolver query: a round takes a few of them, one after the other
FAMILIES = {"stackshift_domain_status", "stackshift_record_status", "stackshift_domain_last_checked_timestamp_seconds",
            "stackshift_domain_verified_since_timestamp_seconds", "stackshift_watch_round_duration_seconds"}


@dataclass
class Stopped:
    code: int
    stdout: str
    stderr: str
    in_flight: bool  # the round had started and had not written its --prometheus file when the signal was sent
    prom: Path


@pytest.fixture
def domains(dnslab, zone, cli: Cli) -> list[str]:
    """Three domains in the zone, published and verified (their first events in the history); then the DKIM
    record of each is deleted, so the next check of each is a regression: a domain event and a record event."""
    names = [zone, f"a.{zone}", f"b.c.d.{zone}"]
    for name in names:
        assert cli("domains", "create", name).exit_code == 0
        result = cli("domains", "publish", name, "--provider", "rfc2136", "--yes")
        assert result.exit_code == 0, result.stderr
    result = cli("domains", "verify", "--all")
    assert result.exit_code == 0, result.stdout + result.stderr
    for name in names:
        dnslab.remove(f"stackshift._domainkey.{name}", "TXT")
    dnslab.flush_resolver()
    return names


@pytest.fixture
def slow_env(dnslab) -> Iterator[tuple[dict[str, str], DelayProxy]]:
    """The lab's environment with its resolver behind a proxy that holds each query DELAY_MS; and the proxy."""
    proxy = dnslab.start_delay_proxy(upstream=dnslab.resolver, delay_ms=DELAY_MS)
    try:
        yield {**os.environ, **lab_env(dnslab),
               "STACKSHIFT_NAMESERVERS": f"{proxy.address[0]}:{proxy.address[1]}"}, proxy
    finally:
        proxy.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def lab_env_of(slow_env) -> dict[str, str]:
    env, _ = slow_env
    return {k: v for k, v in env.items() if k.startswith("STACKSHIFT_")}


def last_event(data_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'stackshift.db'}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


def stop_watch(slow_env, tmp_path: Path, signum: int, *, after: float = 0.2, stored: bool = False,
               second_round: bool = False, extra: tuple[str, ...] = ()) -> Stopped:
    """Start `domains watch --interval 10s --prometheus FILE` (with `second_round`, let the first round finish),
    then send `signum` `after` seconds into the round (once its first query has reached the slow resolver), or
    with `stored` as soon as the round has stored its first domain's events; and collect the exit."""
    env, proxy = slow_env
    data_dir = Path(env["STACKSHIFT_DATA_DIR"])
    baseline = last_event(data_dir)
    prom = tmp_path / "metrics" / "stackshift.prom"
    prom.parent.mkdir(exist_ok=True)
    proc = subprocess.Popen([*stackshift_command(), "domains", "watch", "--interval", "10s", "--prometheus",
                             str(prom), *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if second_round:
            wait_for(prom.exists, 30, "the first round's metrics file")
        written = prom.stat().st_mtime_ns if prom.exists() else None
        seen = proxy.queries
        wait_for(lambda: proxy.queries > seen, 30, "a round's first query")
        if stored:
            wait_for(lambda: last_event(data_dir) > baseline, 30, "the round's first stored domain")
        else:
            time.sleep(after)
        finished = (prom.stat().st_mtime_ns if prom.exists() else None) != written
        in_flight = proc.poll() is None and not finished
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Stopped(proc.returncode, stdout, stderr, in_flight, prom)


def assert_store_whole(data_dir: Path, names: list[str]) -> list[tuple]:
    """integrity_check passes; every event row is complete; replaying each domain's events gives exactly the
    statuses stored for it and its records (so no check's events were half-written); the events of the domain
    and of its records in one check share the same time. Returns the event rows."""
    conn = sqlite3.connect(f"file:{data_dir / 'stackshift.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute("SELECT id, domain_id, domain_name, at, purpose, host, type, old_status, new_status "
                            "FROM events ORDER BY id").fetchall()
        domains = {row[0]: row[1:] for row in conn.execute(
            "SELECT id, name, status, last_change_at, last_checked_at FROM domains")}
        records = {(d, p, h, t): s for d, p, h, t, s in conn.execute(
            "SELECT domain_id, purpose, host, type, status FROM records")}
    finally:
        conn.close()
    assert {name for name, *_ in domains.values()} == set(names)
    for row in rows:
        _, domain_id, name, at, purpose, host, rtype, old, new = row
        assert isinstance(new, str) and new, row
        assert parse_time(at) is not None, row
        assert domain_id in domains and name == domains[domain_id][0], row
        assert (purpose is None) == (host is None) == (rtype is None), row
    for domain_id, (name, status, last_change_at, last_checked_at) in domains.items():
        own = [r for r in rows if r[1] == domain_id]
        state: dict[tuple, str] = {}  # as `domains create` left it: the domain pending, its records missing
        for _, _, _, _, purpose, host, rtype, old, new in own:
            key = (purpose, host, rtype)
            was = state.get(key, "pending" if purpose is None else "missing")
            assert was == old, f"{name}: an event of {key} is missing before {old} -> {new}"
            state[key] = new
        assert state.get((None, None, None)) == status, name
        stored = {(p, h, t): s for (d, p, h, t), s in records.items() if d == domain_id}
        assert {k: v for k, v in state.items() if k != (None, None, None)} == stored, name
        assert last_change_at == max(r[3] for r in own), name
    # One check's events are consecutive rows (one INSERT in one transaction) with one time: the domain's own
    # event first, then its records'. A change of the domain's status here always comes with a record's.
    checks: list[list[tuple]] = []
    for row in rows:
        last = checks[-1][-1] if checks else None
        if last is not None and last[0] + 1 == row[0] and last[1:4] == row[1:4]:
            checks[-1].append(row)
        else:
            checks.append([row])
    for check in checks:
        kinds = [r[4] is None for r in check]
        assert kinds.count(True) <= 1 and (not kinds[0] or any(not k for k in kinds)), check
        assert all(kinds[0] or not k for k in kinds), check  # the domain's event comes first
    return rows


def regressions(rows: list[tuple]) -> list[tuple]:
    """(domain, at) of each regression check in the rows: the domain's event and its DKIM record's event."""
    found = []
    by_check: dict[tuple[str, str], list[tuple]] = {}
    for row in rows:
        by_check.setdefault((row[2], row[3]), []).append(row)
    for key, group in by_check.items():
        kinds = {(r[4], r[7], r[8]) for r in group}
        if (None, "verified", "pending") in kinds:
            assert ("dkim", "verified", "missing") in kinds, group  # the domain's event never comes alone
            found.append(key)
        else:
            assert not any(r[4] == "dkim" and r[8] == "missing" for r in group), group  # nor the record's
    return found


def assert_prometheus_absent_or_whole(path: Path, names: list[str]) -> bool:
    """The metrics file is absent, or complete (every family, every watched domain); no temporary file is left
    where the textfile collector would read it. True when it exists."""
    from prometheus_client.parser import text_string_to_metric_families

    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".prom") and p != path]
    if not path.exists():
        return False
    text = path.read_text()
    assert text.endswith("\n")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == FAMILIES
    statuses = {s.labels["domain"] for s in families["stackshift_domain_status"].samples}
    assert statuses == set(names)
    assert len(families["stackshift_watch_round_duration_seconds"].samples) == 1
    return True


SIGNALS = [pytest.param(signal.SIGTERM, 143, "Terminated.", id="SIGTERM"),
           pytest.param(signal.SIGINT, 130, "Interrupted.", id="SIGINT")]


@pytest.mark.parametrize(("signum", "code", "message"), SIGNALS)
def test_a_signal_early_in_a_round_stops_it_with_nothing_stored_of_it(domains, slow_env, data_dir, tmp_path,
                                                                        signum, code, message):
    before = last_event(data_dir)
    stopped = stop_watch(slow_env, tmp_path, signum, after=0.2, extra=("--jsonl",))
    assert stopped.code == code, (stopped.stdout, stopped.stderr)
    assert stopped.stderr.strip().splitlines() == [f"Error: {message}"], stopped.stderr
    assert stopped.in_flight, "the round had finished before the signal: make the resolver slower"
    rows = assert_store_whole(data_dir, domains)
    assert rows[-1][0] == before and regressions(rows) == []  # no domain of the round was stored yet
    assert stopped.stdout == ""
    assert not assert_prometheus_absent_or_whole(stopped.prom, domains)  # the first round never wrote it


@pytest.mark.parametrize(("signum", "code", "message"), SIGNALS)
def test_a_signal_between_the_domains_of_a_round_leaves_each_stored_whole_or_not_at_all(
        domains, slow_env, data_dir, tmp_path, signum, code, message):
    """The zone's apex is checked first (its subdomains need more queries to find their zone): the signal lands
    once its verdicts and events are stored, while the others are still being checked."""
    stopped = stop_watch(slow_env, tmp_path, signum, stored=True, extra=("--jsonl",))
    assert stopped.code == code, (stopped.stdout, stopped.stderr)
    assert stopped.stderr.strip().splitlines() == [f"Error: {message}"], stopped.stderr
    assert stopped.in_flight, "the round had finished before the signal: make the resolver slower"
    stored = regressions(assert_store_whole(data_dir, domains))
    assert 1 <= len(stored) < len(domains), stored
    for line in stopped.stdout.splitlines():  # whatever was printed is whole lines
        assert json.loads(line)["domain"] in domains
    assert not assert_prometheus_absent_or_whole(stopped.prom, domains)
    name = stored[0][0]
    history = Cli(lab_env_of(slow_env))("domains", "history", name, "--json").json()
    assert [(e["event"], e.get("purpose"), e["newStatus"]) for e in history[-2:]] == \
        [("regression", None, "pending"), ("record", "dkim", "missing")]


def test_sigterm_in_a_later_round_leaves_the_last_rounds_metrics_file_whole(domains, slow_env, data_dir,
                                                                            tmp_path):
    """The first round finishes (its changes printed, its file written); SIGTERM lands in the second."""
    stopped = stop_watch(slow_env, tmp_path, signal.SIGTERM, second_round=True, extra=("--jsonl",))
    assert stopped.code == 143, (stopped.stdout, stopped.stderr)
    assert stopped.stderr.strip().splitlines() == ["Error: Terminated."], stopped.stderr
    assert stopped.in_flight, "the second round had finished before the signal: make the resolver slower"
    rows = assert_store_whole(data_dir, domains)
    assert sorted(name for name, _ in regressions(rows)) == sorted(domains)
    printed = [json.loads(line) for line in stopped.stdout.splitlines()]
    assert sorted(e["domain"] for e in printed) == sorted(domains)  # the first round's: one line per domain
    assert {(e["event"], tuple((r["purpose"], r["newStatus"]) for r in e["records"])) for e in printed} == \
        {("regression", (("dkim", "missing"),))}
    assert assert_prometheus_absent_or_whole(stopped.prom, domains)  # the first round's, whole
    from prometheus_client.parser import text_string_to_metric_families

    status = {(s.labels["domain"], s.labels["status"]): s.value for f in
              text_string_to_metric_families(stopped.prom.read_text()) if f.name == "stackshift_domain_status"
              for s in f.samples}
    assert {d for (d, s), v in status.items() if v == 1} == set(domains)
    assert {d for (d, s), v in status.items() if v == 1 and s == "pending"} == set(domains)

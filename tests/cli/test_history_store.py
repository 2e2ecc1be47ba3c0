"""`domains history` on a generated local store: 10,000 events of the domain (and 10,000 of another) are read
through the events_by_domain index in well under a second, newest last; --since filters by a duration or a time;
rows stackshift would not write are left out."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stackshift_cli.domain import format_time, parse_time, utcnow
from stackshift_cli.history import Event, History
from tests.helpers import Cli

NAME = "example.com"
OTHER_ID = "dom_00000000000000ff"  # another domain's events, in the same table and index
COUNT = 10_000


@pytest.fixture
def store(local_cli: Cli, data_dir: Path) -> tuple[Path, str]:
    """A real local store with one domain made by the CLI; (the store's path, the domain's id)."""
    result = local_cli("domains", "create", NAME, "--json")
    assert result.exit_code == 0, result.stderr
    path = data_dir / "stackshift.db"
    assert path.exists()
    return path, result.json()["id"]


def iso(when: datetime) -> str:
    text = format_time(when)
    assert text is not None
    return text


def record_event(domain_id: str, name: str, at: datetime, i: int) -> Event:
    """A DKIM record going between verified and missing (the i-th event), or the domain's own status."""
    old, new = ("verified", "missing") if i % 2 else ("missing", "verified")
    if i % 5 == 0:
        return Event(at, domain_id, name, old.replace("missing", "pending"), new.replace("missing", "pending"),
                     f"event {i}")
    return Event(at, domain_id, name, old, new, f"event {i}", "dkim", "stackshift._domainkey", "TXT")


def append(path: Path, events: list[Event]) -> None:
    """Insert events as the store does (History.append), all in one transaction."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        with conn:  # one transaction, committed at the end
            History(conn, "local", path).append(events)
    finally:
        conn.close()


def fill(path: Path, domain_id: str, *, end: datetime, count: int = COUNT, span: timedelta = timedelta(minutes=50)
         ) -> None:
    """`count` events of the domain and as many of OTHER_ID, evenly over the `span` that ends at `end`, in one
    transaction; the i-th event of the domain explains itself as "event i"."""
    step = span / count
    ours = [record_event(domain_id, NAME, end - (count - i) * step, i) for i in range(count)]
    others = [record_event(OTHER_ID, "other.example", end - (count - i) * step, i) for i in range(count)]
    mixed = [e for pair in zip(ours, others) for e in pair]  # interleaved: the index, not the order, finds ours
    append(path, mixed)


def history_json(cli: Cli, *args: str) -> list[dict]:
    result = cli("domains", "history", NAME, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def events_sql(path: Path, **kwargs) -> list[str]:
    """The statements History.events runs for `kwargs`, with their parameters bound (SQLite's trace)."""
    seen: list[str] = []
    conn = sqlite3.connect(path)
    try:
        conn.set_trace_callback(seen.append)
        History(conn, "local", path).events(**kwargs)
    finally:
        conn.close()
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def query_plan(path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    finally:
        conn.close()


# ---------------------------------------------------------------- 10,000 events


@pytest.mark.parametrize("since", [None, "since"])
def test_the_query_history_runs_uses_the_events_by_domain_index(store, since):
    path, domain_id = store
    now = utcnow()
    fill(path, domain_id, end=now)
    kwargs = {"since": now - timedelta(hours=1)} if since else {}
    statements = events_sql(path, domain_id=domain_id, **kwargs)
    assert len(statements) == 1, statements
    sql = statements[0]
    assert "events" in sql and domain_id in sql  # the exact statement, its parameters bound
    plan = query_plan(path, sql)
    uses = [step for step in plan if "events" in step and "USING" in step]
    assert any("INDEX events_by_domain" in step for step in uses), plan
    assert not any(re.fullmatch(r"SCAN events", step.strip()) for step in plan), plan  # no full scan


def test_history_of_10000_events_returns_well_under_a_second_newest_last(local_cli, store):
    path, domain_id = store
    before = len(history_json(local_cli))  # create records no change; whatever it records comes first
    now = utcnow()
    fill(path, domain_id, end=now)
    history_json(local_cli)  # the first run pays for imports; the second is the one timed
    started = time.perf_counter()
    events = history_json(local_cli)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"domains history took {elapsed:.2f}s for {COUNT} events"
    ours = events[before:]
    assert len(ours) == COUNT and len(events) == COUNT + before
    assert [e["explanation"] for e in ours] == [f"event {i}" for i in range(COUNT)]  # newest last
    times = [e["at"] for e in events]  # one fixed-width UTC form: sorted as text is sorted in time
    assert all(parse_time(t) for t in times) and times == sorted(times)
    assert events[-1]["at"] == iso(now - timedelta(minutes=50) / COUNT)
    assert {e["domain"] for e in events} == {NAME}  # none of the other domain's
    assert ours[1] == {"at": ours[1]["at"], "domain": NAME, "event": "record", "oldStatus": "verified",
                       "newStatus": "missing", "explanation": "event 1", "purpose": "dkim",
                       "host": "stackshift._domainkey", "type": "TXT"}
    assert ours[0]["event"] == "verified" and "purpose" not in ours[0]
    assert ours[5]["event"] == "regression"  # pending after verified: a domain event of its own kind


def test_history_piped_is_one_line_per_event(local_cli, store):
    path, domain_id = store
    before = len(history_json(local_cli))
    fill(path, domain_id, end=utcnow(), count=1000)
    result = local_cli("domains", "history", NAME)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()[before:]
    assert len(lines) == 1000
    assert lines[1].split("\t")[1:] == ["record", "dkim TXT stackshift._domainkey", "verified → missing", "event 1"]
    assert lines[0].split("\t")[1:] == ["verified", "-", "pending → verified", "event 0"]


# ---------------------------------------------------------------- --since


@pytest.fixture
def dated(store) -> datetime:
    """Events of the domain three days ago (10), two hours ago (10) and in the last half hour (10); now."""
    path, domain_id = store
    now = utcnow()
    events = []
    for label, end in (("old", now - timedelta(days=3)), ("hours", now - timedelta(hours=2)),
                       ("recent", now - timedelta(minutes=1))):
        events += [Event(end - timedelta(minutes=10 - i), domain_id, NAME, "verified", "pending",
                         f"{label} {i}", "spf", "@", "TXT") for i in range(10)]
    append(path, events)
    return now


def explained(events: list[dict]) -> list[str]:
    return [e["explanation"] for e in events if e["explanation"] and e["explanation"][0].islower()]


def test_since_a_duration_keeps_only_the_events_since_then(local_cli, dated):
    assert explained(history_json(local_cli, "--since", "1h")) == [f"recent {i}" for i in range(10)]
    assert explained(history_json(local_cli, "--since", "1d")) == \
        [f"hours {i}" for i in range(10)] + [f"recent {i}" for i in range(10)]
    assert len(explained(history_json(local_cli, "--since", "7d"))) == 30
    assert len(explained(history_json(local_cli))) == 30


def test_since_an_iso_time_keeps_the_events_from_that_time(local_cli, dated):
    day_ago = iso(dated - timedelta(days=1))
    assert explained(history_json(local_cli, "--since", day_ago)) == \
        [f"hours {i}" for i in range(10)] + [f"recent {i}" for i in range(10)]
    offset = (dated - timedelta(minutes=30)).astimezone().isoformat(timespec="seconds")  # local, with its offset
    assert explained(history_json(local_cli, "--since", offset)) == [f"recent {i}" for i in range(10)]
    assert explained(history_json(local_cli, "--since", iso(dated + timedelta(minutes=1)))) == []


@pytest.mark.parametrize("bad", ["yesterday", "1x", "-1h", "0s", "2026-13-45", "2026-11-01T25:00:00Z"])
def test_a_bad_since_is_exit_2(local_cli, dated, bad):
    result = local_cli("domains", "history", NAME, "--since", bad)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "--since" in result.stderr or "duration" in result.stderr


def test_history_when_nothing_changed_says_so(local_cli, store):
    result = local_cli("domains", "history", NAME, "--since", format_time(utcnow() + timedelta(days=1)))
    assert result.exit_code == 0 and result.stdout == ""
    assert "No status change of example.com" in result.stderr
    assert local_cli("domains", "history", NAME, "--since", format_time(utcnow() + timedelta(days=1)),
                     "--json").json() == []


# ---------------------------------------------------------------- hostile rows


def test_rows_stackshift_would_not_write_are_left_out(local_cli, store):
    path, domain_id = store
    before = len(history_json(local_cli))
    now = utcnow()
    good_at = format_time(now - timedelta(minutes=5))
    conn = sqlite3.connect(path)
    try:
        with conn:
            rows = [
                (good_at, NAME, "verified", "pending", "good 1"),
                (good_at, "not a dns name!", "verified", "pending", "bad name"),
                (good_at, "\x1b[31mred.example", "verified", "pending", "escape in the name"),
                (good_at, NAME, "verified", "x" * 65, "status over 64 characters"),
                (good_at, NAME, "y" * 65, "pending", "old status over 64 characters"),
                ("not a time", NAME, "verified", "pending", "unparseable at"),
                ("2026-99-99T99:99:99Z", NAME, "verified", "pending", "impossible at"),
                (format_time(now - timedelta(minutes=4)), NAME, "pending", "verified", "good 2"),
            ]
            conn.executemany(
                "INSERT INTO events (scope, domain_id, at, domain_name, old_status, new_status, explanation) "
                "VALUES ('local', ?, ?, ?, ?, ?, ?)", [(domain_id, *row) for row in rows])
            conn.execute("INSERT INTO events (scope, domain_id, at, domain_name, new_status, explanation) "
                         "VALUES ('local', ?, ?, ?, 'pending', ?)", (domain_id, 12345, NAME, "a number for at"))
    finally:
        conn.close()
    events = history_json(local_cli)[before:]
    assert [e["explanation"] for e in events] == ["good 1", "good 2"]
    result = local_cli("domains", "history", NAME)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "x" * 65 not in result.stdout
    assert [line.split("\t")[-1] for line in result.stdout.splitlines()[before:]] == ["good 1", "good 2"]


def test_deleting_a_domain_deletes_its_history(isolated_env):
    import sqlite3

    from tests.helpers import Cli

    cli = Cli({"STACKSHIFT_BACKEND": "local"})
    assert cli("domains", "create", "gone.example").exit_code == 0
    assert cli("domains", "verify", "gone.example").exit_code in (3, 4)  # no DNS here: the check records events
    store = isolated_env / "data" / "stackshift.db"
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    assert cli("domains", "delete", "gone.example", "--yes").exit_code == 0
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0

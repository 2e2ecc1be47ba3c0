"""Listings of the local store (issue 11): read in two ordered passes over one snapshot, handed on as they are read,
each domain the JSON object the model makes of it, its rows checked like every row the store holds."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from stackshift_cli.backends.local import SCHEMA_VERSION, LocalBackend, _domain_json, _json_line, stored_time
from stackshift_cli.config import Settings
from stackshift_cli.configfile import DB_NAME
from stackshift_cli.domain import format_time, parse_time
from stackshift_cli.errors import StoreError
from tests.helpers import run_on_pty, run_process, stackshift_command


def backend(data_dir) -> LocalBackend:
    return LocalBackend(Settings("default"), data_dir)


def clone(data_dir, count: int, *, names: str = "d{i}.example", first: int = 0, **changes: object) -> list[str]:
    """`count` copies of the store's first domain (new ids and names, numbered from `first`, created after it),
    inserted with SQL, with `changes` to their columns; their ids, in order."""
    conn = sqlite3.connect(data_dir / DB_NAME)
    try:
        with conn:
            source = conn.execute("SELECT * FROM domains ORDER BY rowid LIMIT 1").fetchone()
            columns = [c[1] for c in conn.execute("PRAGMA table_info(domains)")]
            records = conn.execute("SELECT * FROM records WHERE domain_id = ? ORDER BY position", (source[0],)).fetchall()
            ids = []
            for i in range(first, first + count):
                domain_id = f"dom_{0xa000000000000000 + i:016x}"
                row = dict(zip(columns, source), id=domain_id, name=names.format(i=i), key_file=f"{domain_id}.pem",
                           created_at=f"2030-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z")
                row.update(changes)
                conn.execute(f"INSERT INTO domains ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                             list(row.values()))
                conn.executemany(f"INSERT INTO records VALUES ({', '.join('?' * len(records[0]))})",
                                 [(domain_id, *r[1:]) for r in records])
                ids.append(domain_id)
    finally:
        conn.close()
    return ids


@pytest.fixture
def store(local_cli, data_dir):
    """One domain made by `create`, with its key file."""
    assert local_cli("domains", "create", "example.com").exit_code == 0
    return data_dir


def test_a_listing_is_the_json_of_the_domains_list_returns(store):
    clone(store, 3)
    local = backend(store)
    domains = local.list()
    assert [d.name for d in domains] == ["example.com", "d0.example", "d1.example", "d2.example"]
    assert list(local.listing()) == [d.to_json() for d in domains] == [local.get(d.id).to_json() for d in domains]
    tables = [{k: v for k, v in d.to_json().items() if k != "records"} for d in domains]
    assert list(local.listing(records=False)) == tables


# Rows a store may hold that stackshift never writes: each must list exactly as the model shows it.
ODD_RECORDS = [
    {"explanation": "quote \" backslash \\ tab \t newline \n NUL \x00 DEL \x7f bidi \u202e é 漢字 \U0001f600"},
    {"purpose": None},
    {"purpose": "unknown"},
    {"purpose": "spf", "status": "verified"},  # a second SPF record: the first one's status is the check's
    {"type": "MX", "priority": None},
    {"priority": 10},
    {"priority": "10"},
    {"priority": 1.5},
    {"required": 0},
    {"required": 7},
    {"required": "yes"},
    {"status": 3},
    {"value": ""},
    {"name": 42},
]
ODD_DOMAINS = [
    {"created_at": "2026-02-30T00:00:00Z"},  # no such day
    {"created_at": "2026-01-01T24:00:00Z"},
    {"created_at": "2026-01-01T00:00:00+02:00"},  # another form: normalised to UTC
    {"created_at": "0999-01-01T00:00:00Z"},
    {"created_at": "yesterday"},
    {"created_at": 1700000000},
    {"last_checked_at": "2026-11-28T00:43:39Z"},
    {"last_checked_at": ""},
    {"status": "unknown-word"},
    {"name": "bücher.example"},
    {"name": 7},
    {"dkim_selector": "s\u202e1"},
]


@pytest.mark.parametrize("change", ODD_RECORDS, ids=lambda c: ",".join(c))
def test_odd_records_list_as_the_model_shows_them(store, change):
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        if change.get("purpose") == "spf":
            conn.execute("INSERT INTO records SELECT domain_id, 99, purpose, type, name, host, value, priority, required,"
                         " 'verified', explanation FROM records WHERE purpose = 'spf'")
        else:
            conn.execute(f"UPDATE records SET {', '.join(f'{k} = ?' for k in change)} WHERE position = 1",
                         list(change.values()))
    conn.close()
    assert_lists_as_the_model(store)


@pytest.mark.parametrize("change", ODD_DOMAINS, ids=lambda c: f"{','.join(c)}={list(c.values())[0]!r}")
def test_odd_domain_rows_list_as_the_model_shows_them(store, change):
    clone(store, 1 if "name" in change else 2, **change)
    assert_lists_as_the_model(store)


def assert_lists_as_the_model(data_dir) -> None:
    local = backend(data_dir)
    expected = [d.to_json() for d in local.list()]
    assert list(local.listing()) == expected
    assert list(local.listing_json()) == [json.dumps(data, ensure_ascii=False) for data in expected]


@pytest.mark.parametrize("value", [
    "2026-11-28T00:43:39Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
    "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "1000-01-01T00:00:00Z", "0999-12-31T23:59:59Z",
    "9999-12-31T23:59:59Z", "2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+01:00", "2026-01-01 00:00:00",
    "2026-01-01T00:00:00", "2026-01-01", "２０２６-01-01T00:00:00Z", "", None, 0, 1.5, b"2026",
])
def test_stored_times_show_as_the_model_formats_them(value):
    assert stored_time(value) == format_time(parse_time(value))


TEXT = st.text(st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=st.tuples(st.one_of(TEXT, st.just("MX")), TEXT, TEXT, TEXT, st.one_of(st.none(), TEXT, st.just("spf")),
                        st.one_of(st.integers(-2, 2), TEXT), st.one_of(TEXT, st.integers()),
                        st.one_of(st.none(), TEXT), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), TEXT)),
       domain=st.tuples(TEXT, TEXT, st.one_of(st.none(), TEXT), st.one_of(st.none(), TEXT, st.just("2026-01-01T00:00:00Z"))))
def test_a_json_line_is_json_dumps_of_the_object(record, domain):
    """_json_line writes what json writes, whatever text or numbers the rows hold."""
    name, status, selector, checked = domain
    row = ("dom_0123456789abcdef", name, status, selector, "dom_0123456789abcdef.pem", "2026-01-01T00:00:00Z", checked,
           None)
    records = [("dom_0123456789abcdef", *record), ("dom_0123456789abcdef", *record)]
    assert _json_line(row, records) == json.dumps(_domain_json(row, records), ensure_ascii=False)


def test_a_listing_reads_the_store_in_a_few_statements_whatever_its_size(store):
    """Not one query per domain (1 + 2N before): the same few statements for 3 domains and for 300."""
    counts = []
    for count, first in ((3, 0), (300, 3)):
        clone(store, count, first=first)
        local = backend(store)
        statements: list[str] = []
        local.conn.set_trace_callback(statements.append)
        listed = sum(1 for _ in local.listing())
        counts.append(len(statements))
        assert listed == sum(1 for _ in backend(store).list())
    assert counts[0] == counts[1] <= 6


@pytest.mark.parametrize("sql", [
    "SELECT d.id FROM domains d ORDER BY d.created_at, d.rowid",
    "SELECT r.domain_id FROM domains d JOIN records r ON r.domain_id = d.id ORDER BY d.created_at, d.rowid, r.position",
    "SELECT r.domain_id FROM domains d JOIN records r ON r.domain_id = d.id WHERE d.status = 'x' "
    "ORDER BY d.created_at, d.rowid, r.position",
])
def test_listings_stream_in_index_order_without_sorting(store, sql):
    conn = sqlite3.connect(store / DB_NAME)
    plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
    conn.close()
    assert "domains_by_created" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("sql, index", [
    ("SELECT id FROM domains WHERE name = 'example.com'", "sqlite_autoindex_domains_2"),  # show, create: by name
    ("SELECT * FROM domains d WHERE d.id = 'dom_0123456789abcdef'", "sqlite_autoindex_domains_1"),  # by id
    ("SELECT * FROM records r WHERE r.domain_id = 'dom_0123456789abcdef' ORDER BY r.position",
     "sqlite_autoindex_records_1"),
    ("DELETE FROM records WHERE domain_id = 'dom_0123456789abcdef'", "sqlite_autoindex_records_1"),
])
def test_show_create_and_delete_look_rows_up_by_index(store, sql, index):
    """show, create and delete stay flat in the store's size: each lookup is an index search, never a scan."""
    conn = sqlite3.connect(store / DB_NAME)
    plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
    conn.close()
    assert index in plan and "SCAN" not in plan, plan


def test_a_store_of_schema_2_gets_the_index_and_lists_in_the_same_order(store):
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        conn.execute("DROP INDEX domains_by_created")  # what schemas 3 to 6 added: a store of schema 2
        conn.execute("DROP TABLE publish_journal")
        conn.execute("DROP TABLE dkim_rotations")
        conn.execute("DROP TABLE events")
        for column in ("key_generation", "verified_since", "regressed_at", "last_change_at", "status_explanation"):
            conn.execute(f"ALTER TABLE domains DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    clone(store, 3)
    names = [d["name"] for d in backend(store).listing()]
    assert names == ["example.com", "d0.example", "d1.example", "d2.example"]
    conn = sqlite3.connect(store / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "domains_by_created" in [row[1] for row in conn.execute("PRAGMA index_list(domains)")]
    conn.close()


@pytest.mark.parametrize("column, value, problem", [
    ("id", "dom_../../etc/x", "is not a stackshift domain id"),
    ("key_file", "../../secret.pem", "key file is"),
])
def test_a_refused_row_is_the_same_error_and_comes_before_any_output(store, column, value, problem):
    """A row stackshift refuses, after valid ones, stops the listing before anything is printed, with the error
    reading it whole gave."""
    ids = clone(store, 3)
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        conn.execute(f"UPDATE domains SET {column} = ? WHERE id = ?", (value, ids[1]))
    conn.close()
    with pytest.raises(StoreError, match=problem) as listed:
        list(backend(store).listing())
    with pytest.raises(StoreError) as listed_whole:
        backend(store).list()
    assert listed.value.message == listed_whole.value.message and "d1.example" in listed.value.message
    for args in (["--json"], []):
        result = run_process("domains", "list", *args)
        assert result.exit_code == 1 and result.stdout == "", result.stdout
        assert result.stderr.startswith("Error: The store") and problem in result.stderr


def test_piped_json_is_an_array_of_one_compact_object_per_line(store):
    clone(store, 2)
    result = run_process("domains", "list", "--json")
    assert result.exit_code == 0
    lines = result.stdout.split("\n")
    assert lines[0] == "[" and lines[-2:] == ["]", ""] and len(lines) == 3 + 3
    objects = [json.loads(line.rstrip(",")) for line in lines[1:-2]]
    assert json.loads(result.stdout) == objects == [d.to_json() for d in backend(store).list()]
    assert lines[1:-2] == [json.dumps(data, ensure_ascii=False) + "," for data in objects[:-1]] + [
        json.dumps(objects[-1], ensure_ascii=False)]


def test_json_on_a_terminal_is_indented_as_before(store):
    clone(store, 1)
    expected = json.dumps([d.to_json() for d in backend(store).list()], indent=2, ensure_ascii=False)
    code, screen = run_on_pty("domains", "list", "--json", env={"NO_COLOR": "1"})
    assert code == 0
    assert screen.rstrip("\n") == expected


def test_hostile_text_in_the_store_is_escaped_in_every_listing(store):
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        conn.execute("UPDATE domains SET status = ?, last_checked_at = ?", ("x\x1b[2J\u202e", "\x07now\x9b"))
        conn.execute("UPDATE records SET status = ? WHERE purpose = 'spf'", ("\x1b]8;;x\x1b\\",))
    conn.close()
    raw = ("\x1b", "\x07", "\x9b", "\u202e")
    for args in (["--json"], []):
        result = run_process("domains", "list", *args)
        assert result.exit_code == 0 and not [c for c in raw if c in result.stdout], result.stdout
    assert json.loads(run_process("domains", "list", "--json").stdout)[0]["status"] == "x\x1b[2J\u202e"
    code, screen = run_on_pty("domains", "list", env={"NO_COLOR": ""}, columns=200)
    assert code == 0 and "x\\x1b[2J\\u202e" in screen
    assert not [c for c in ("\x07", "\x9b", "\u202e") if c in screen] and "\x1b[2J" not in screen


def test_a_terminal_shows_aligned_columns_of_any_number_of_rows(store):
    clone(store, 200)
    clone_idn = sqlite3.connect(store / DB_NAME)
    with clone_idn:
        clone_idn.execute("UPDATE domains SET name = 'xn--bcher-kva.example' WHERE name = 'd7.example'")
    clone_idn.close()
    code, screen = run_on_pty("domains", "list", env={"NO_COLOR": "1"}, columns=160)
    assert code == 0
    lines = screen.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME"))
    rows = lines[header + 1:]
    assert len(rows) == 201 and rows[0].startswith("example.com ")
    assert any(row.startswith("xn--bcher-kva.example (bücher.example)") for row in rows)
    starts = {lines[header].index(word) for word in ("STATUS", "CREATED")}
    assert all(row[start - 2:start] == "  " and row[start] != " " for row in rows for start in starts)


def test_a_reader_that_stops_reading_mid_listing_ends_it_quietly(store):
    """`stackshift domains list --json | head -1` on a listing far larger than a pipe holds: exit 0, nothing said."""
    clone(store, 3000)
    for args in (["--json"], []):
        proc = subprocess.Popen([*stackshift_command(), "domains", "list", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout.readline()
        proc.stdout.close()
        stderr = proc.stderr.read()
        assert proc.wait(timeout=60) == 0 and stderr == b""


def test_each_hands_on_the_chosen_domains_in_list_order_a_page_at_a_time(store, monkeypatch):
    """verify --all reads its domains through Backend.each: the ids first, then the domains a page at a time, so a
    domain deleted after the ids were read, before its page, is left out (the run never holds every domain)."""
    import stackshift_cli.backends.local as local

    monkeypatch.setattr(local, "EACH_PAGE", 7)
    ids = clone(store, 40)
    everything = [d.id for d in backend(store).list()]
    chosen = [i for n, i in enumerate(everything) if n % 3 != 1]
    seen: list[tuple[str, str]] = []
    count, domains = backend(store).each(lambda i, s: seen.append((i, s)) is None and i in chosen)
    assert count == len(chosen) and [i for i, _ in seen] == everything
    assert {s for _, s in seen} == {"pending"}
    first = [next(domains).id for _ in range(3)]  # within the first page
    gone = chosen[-2]  # in a later page
    assert gone in ids
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        conn.execute("DELETE FROM records WHERE domain_id = ?", (gone,))
        conn.execute("DELETE FROM domains WHERE id = ?", (gone,))
    conn.close()
    rest = [d.id for d in domains]
    assert first + rest == [i for i in chosen if i != gone]


def test_each_refuses_a_bad_row_before_handing_on_any_domain(store):
    ids = clone(store, 3)
    conn = sqlite3.connect(store / DB_NAME)
    with conn:
        conn.execute("UPDATE domains SET key_file = ? WHERE id = ?", ("../../secret.pem", ids[2]))
    conn.close()
    with pytest.raises(StoreError, match="key file is") as refused:
        backend(store).each(lambda i, s: True)
    with pytest.raises(StoreError) as listed_whole:
        backend(store).list()
    assert refused.value.message == listed_whole.value.message


def test_save_check_returns_the_domain_exactly_as_the_store_then_holds_it(store):
    """save_check does not read the domain back: what it returns must be what a read gives (records, statuses,
    explanations, the time to the second, the bulk-sender requirements)."""
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from stackshift_cli.requirements import DmarcFacts, requirements

    local = backend(store)
    (domain,) = local.list()
    records = [replace(r, status="verified" if i % 2 else "failed", explanation=f"why \x1b[2J {i} é")
               for i, r in enumerate(domain.records)]
    checked = domain.with_records(records, datetime(2031, 2, 3, 4, 5, 6, 789012, tzinfo=timezone.utc),
                                  timedelta(hours=72))
    checked = replace(checked, requirements=requirements(
        checked, DmarcFacts(f"_dmarc.{domain.name}", "quarantine", "r", "s", True)))
    saved = local.save_check(checked)
    assert saved == backend(store).get(domain.id)
    assert saved.to_json() == backend(store).get(domain.id).to_json()

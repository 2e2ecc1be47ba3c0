"""The publish journal (publish/journal.py) on a real SQLite file: what it keeps, and rows it refuses to trust."""

from __future__ import annotations

import json

import pytest

from stackshift_cli.providers import ZoneRecord
from stackshift_cli.publish.journal import APPLIED, FAILED, PLANNED, UNDONE, Journal

SPF = ZoneRecord("TXT", "example.com", "v=spf1 include:spf.stackshift.email ~all", 300)
OLD = ZoneRecord("TXT", "example.com", "v=spf1 mx ~all", 300, strings=("v=spf1 ", "mx ~all"))


@pytest.fixture
def journal(tmp_path):
    journal = Journal.at(tmp_path / "data" / "publish-journal.db", "local")
    yield journal
    journal.close()


def test_a_run_is_journalled_as_planned_then_marked_newest_first(journal):
    ids = journal.begin("run1", "dom_0", "example.com", "rfc2136", "example.com",
                        [("example.com", "spf", [OLD], [SPF]), ("_dmarc.example.com", "dmarc", [], [])])
    assert [e.state for e in journal.entries("example.com")] == [PLANNED, PLANNED]
    journal.mark(ids[0], APPLIED)
    journal.mark(ids[1], FAILED, "refused")
    entries = journal.entries("example.com")
    assert [(e.name, e.state) for e in entries] == [("example.com", APPLIED)]
    assert entries[0].removed == (OLD,) and entries[0].added == (SPF,)  # the strings as published, kept
    journal.mark(ids[0], UNDONE)
    assert journal.entries("example.com") == [] and journal.last_provider("example.com") == "rfc2136"


def test_the_journal_file_is_private(tmp_path, journal):
    assert (tmp_path / "data" / "publish-journal.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("column, value", [
    ("added", "not json"),
    ("added", json.dumps([{"type": "TXT", "name": "evil.example.net", "value": "x"}])),  # not a DNS name under…
    ("added", json.dumps([{"type": "NS", "name": "example.com", "value": "x"}])),  # a type stackshift never writes
    ("added", json.dumps([{"name": "example.com"}])),
    ("added", "[" + ",".join(['{"type": "TXT", "name": "example.com", "value": "x"}'] * 3000) + "]"),  # too big
    ("name", "other.example.net"),  # not in the zone
    ("name", "bad name..example.com"),
    ("zone", "-bad-"),
    ("state", "exploded"),
])
def test_rows_that_are_not_what_stackshift_writes_are_ignored(journal, column, value):
    ids = journal.begin("run1", "dom_0", "example.com", "rfc2136", "example.com",
                        [("example.com", "spf", [], [SPF])])
    journal.mark(ids[0], APPLIED)
    journal.conn.execute(f"UPDATE publish_journal SET {column} = ? WHERE id = ?", (value, ids[0]))
    assert journal.entries("example.com") == []


def test_an_empty_journal_creates_nothing(tmp_path):
    empty = Journal.empty("local")
    assert empty.entries("example.com") == [] and empty.last_provider("example.com") is None
    assert list(tmp_path.iterdir()) == []

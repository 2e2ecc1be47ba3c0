"""The file of remembered zones (verify/zonecache.py) is data from outside: read with limits, every entry checked,
anything not exactly what the module writes ignored; written bounded, atomically, 0600."""

from __future__ import annotations

import json
import os
import stat

import pytest

from stackshift_cli.verify import zonecache
from stackshift_cli.verify.answers import Server, Zone

NOW = 1_800_000_000.0
VIEW = "192.0.2.53#53;53"
GOOD = {"zone": "example.com", "at": NOW - 60, "servers": [["192.0.2.1", 53, "ns1.example.net"],
                                                           ["2001:db8::1", 53, None]]}


def write(path, views) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"views": views}))


def test_what_save_writes_load_reads_back(tmp_path):
    path = zonecache.path_in(tmp_path)
    zone = Zone("example.com", (Server("192.0.2.1", 53, "ns1.example.net"), Server("2001:db8::1", 5353, None)))
    zonecache.save(path, VIEW, {"mail.example.com": zone}, now=NOW)
    assert zonecache.load(path, VIEW, now=NOW + 1) == {"mail.example.com": zone}
    assert zonecache.load(path, "other;53", now=NOW + 1) == {}  # other resolvers: other zones
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("entry", [
    {**GOOD, "zone": "other.org"},  # a domain's zone is at or above it
    {**GOOD, "zone": "exa mple.com"},
    {**GOOD, "zone": "$(touch x).com"},
    {**GOOD, "zone": "example..com"},
    {**GOOD, "at": NOW - 8 * 24 * 3600},  # older than a week
    {**GOOD, "at": NOW + 3600},  # from the future
    {**GOOD, "at": "yesterday"},
    {**GOOD, "servers": []},
    {**GOOD, "servers": [["192.0.2.1", 53, "ns1.example.net"]] * 17},
    {**GOOD, "servers": [["not-an-address", 53, None]]},
    {**GOOD, "servers": [["192.0.2.1", 0, None]]},
    {**GOOD, "servers": [["192.0.2.1", 70000, None]]},
    {**GOOD, "servers": [["192.0.2.1", "53", None]]},
    {**GOOD, "servers": [["192.0.2.1", 53, "ns\n1"]]},
    {**GOOD, "servers": [["192.0.2.1", 53]]},
    {**GOOD, "servers": "192.0.2.1"},
    "example.com",
    None,
])
def test_an_entry_not_exactly_as_written_is_ignored(tmp_path, entry):
    path = zonecache.path_in(tmp_path)
    write(path, {VIEW: {"www.example.com": entry, "example.com": GOOD}})
    assert list(zonecache.load(path, VIEW, now=NOW)) == ["example.com"]


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"views": []}', b'{"views": {"' + VIEW.encode() +
                                     b'": []}}', b"\xff\xfe", b"{" * 100_000, b"[" * 200_000])
def test_a_broken_file_is_no_guess_at_all(tmp_path, content):
    path = zonecache.path_in(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert zonecache.load(path, VIEW, now=NOW) == {}


def test_a_file_over_the_size_limit_is_not_read(tmp_path):
    path = zonecache.path_in(tmp_path)
    write(path, {VIEW: {"example.com": GOOD, "padding": "x" * zonecache.MAX_FILE_BYTES}})
    assert zonecache.load(path, VIEW, now=NOW) == {}


def test_the_file_keeps_the_most_recent_domains_and_views_within_its_limits(tmp_path):
    path = zonecache.path_in(tmp_path)
    zone = Zone("example.com", (Server("192.0.2.1", 53, None),))
    for n in range(zonecache.MAX_ZONES_PER_VIEW + 10):
        zonecache.save(path, VIEW, {f"d{n}.example.com": zone}, now=NOW)
    kept = zonecache.load(path, VIEW, now=NOW)
    assert len(kept) == zonecache.MAX_ZONES_PER_VIEW
    assert f"d{zonecache.MAX_ZONES_PER_VIEW + 9}.example.com" in kept and "d0.example.com" not in kept
    for n in range(zonecache.MAX_VIEWS + 3):
        zonecache.save(path, f"view{n};53", {"example.com": zone}, now=NOW)
    views = json.loads(path.read_text())["views"]
    assert len(views) == zonecache.MAX_VIEWS and f"view{zonecache.MAX_VIEWS + 2};53" in views and VIEW not in views


def test_a_zone_found_with_an_error_or_no_server_is_not_remembered(tmp_path):
    path = zonecache.path_in(tmp_path)
    zonecache.save(path, VIEW, {"a.example": Zone("a.example", ()),
                                "b.example": Zone("b.example", (Server("192.0.2.1"),), error="lame")}, now=NOW)
    assert zonecache.load(path, VIEW, now=NOW) == {}

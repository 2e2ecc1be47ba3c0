"""metrics.py: the node_exporter textfile (parsed back with prometheus_client's parser) and its atomic writer."""

from __future__ import annotations

import errno
import os
import re
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stackshift_cli.domain import DnsRecord, Domain
from stackshift_cli.errors import ExitCode, StackshiftError, UsageError
from stackshift_cli.metrics import textfile, write_textfile

FAMILIES = {
    "stackshift_domain_status",
    "stackshift_record_status",
    "stackshift_domain_last_checked_timestamp_seconds",
    "stackshift_domain_verified_since_timestamp_seconds",
    "stackshift_watch_round_duration_seconds",
}
DOMAIN_STATUSES = ("pending", "verified", "failed", "disabled")
RECORD_STATUSES = ("missing", "pending", "verified", "failed")

CHECKED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
SINCE = datetime(2026, 2, 1, 8, 30, 0, 250000, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 1, 12, 5, 0, tzinfo=timezone.utc)

# One line of the text format (version 0.0.4) as node_exporter's parser reads it: a comment, or a sample whose
# label values hold only the three escapes the format has (\\, \" and \n), never a raw line feed or double quote.
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_VALUE = r"(?:[+-]?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)"
_LINE = re.compile(rf"# (?:HELP|TYPE) {_NAME} .*|# .*|{_NAME}(?:\{{{_LABEL}(?:,{_LABEL})*\}})? {_VALUE}")


def rec(purpose: str | None, status: str, *, required: bool = True, name: str = "example.com",
        rtype: str = "TXT", value: str = "v") -> DnsRecord:
    return DnsRecord(type=rtype, name=name, host="@", value=value, purpose=purpose, required=required, status=status)


def all_verified() -> tuple[DnsRecord, ...]:
    return tuple(rec(p, "verified") for p in ("spf", "dkim", "dmarc", "returnPath"))


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Family -> {sorted label pairs: value}, after checking each line against the format and the types."""
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):  # only a line feed ends a line (a carriage return is a character)
        assert _LINE.fullmatch(line), line
    families: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        assert family.name not in families, family.name
        samples = families.setdefault(family.name, {})
        for sample in family.samples:
            assert sample.name == family.name
            assert sample.timestamp is None  # the textfile collector refuses timestamps
            key = tuple(sorted(sample.labels.items()))
            assert key not in samples, key  # a repeated series fails node_exporter's whole scrape
            samples[key] = sample.value
    return families


def domain_status(name: str, status: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {(("domain", name), ("status", s)): float(s == status) for s in DOMAIN_STATUSES}


def record_status(name: str, purpose: str, status: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {(("domain", name), ("purpose", purpose), ("status", s)): float(s == status) for s in RECORD_STATUSES}


def by_domain(name: str, value: float) -> dict[tuple[tuple[str, str], ...], float]:
    return {(("domain", name),): value}


# ---------------------------------------------------------------- textfile()


def test_every_family_with_its_samples():
    domains = [
        # Given out of order: the file is sorted by name.
        Domain(id="d5", name="rotating.example", status="pending", last_checked_at=CHECKED, records=(
            rec("spf", "verified"),
            rec("dkim", "verified", name="s1._domainkey.rotating.example"),  # the old key
            rec("dkim", "pending", name="s2._domainkey.rotating.example"),  # the new one, not yet seen
            rec("dmarc", "verified"))),
        Domain(id="d1", name="verified.example", status="verified", last_checked_at=CHECKED, verified_since=SINCE,
               records=all_verified() + (rec("inbound", "missing", required=False, rtype="MX"),)),
        Domain(id="d2", name="pending.example", status="pending", last_checked_at=CHECKED,
               records=(rec("spf", "verified"), rec("dkim", "missing"), rec("dmarc", "pending"))),
        Domain(id="d3", name="failed.example", status="failed", last_checked_at=CHECKED,
               records=(rec("spf", "failed"), rec("dkim", "verified"))),
        Domain(id="d4", name="never.example", status="pending", records=(rec("spf", "missing"),)),
        Domain(id="d6", name="off.example", status="disabled", last_checked_at=CHECKED, records=()),
    ]
    families = parse(textfile(domains, round_seconds=2.5, now=NOW))

    assert set(families) == FAMILIES
    assert families["stackshift_domain_status"] == {
        **domain_status("failed.example", "failed"),
        **domain_status("never.example", "pending"),
        **domain_status("off.example", "disabled"),
        **domain_status("pending.example", "pending"),
        **domain_status("rotating.example", "pending"),
        **domain_status("verified.example", "verified"),
    }
    assert families["stackshift_record_status"] == {
        **record_status("failed.example", "dkim", "verified"),
        **record_status("failed.example", "spf", "failed"),
        **record_status("never.example", "spf", "missing"),
        **record_status("pending.example", "dkim", "missing"),
        **record_status("pending.example", "dmarc", "pending"),
        **record_status("pending.example", "spf", "verified"),
        **record_status("rotating.example", "dkim", "pending"),  # the worst of the two DKIM records
        **record_status("rotating.example", "dmarc", "verified"),
        **record_status("rotating.example", "spf", "verified"),
        **record_status("verified.example", "dkim", "verified"),
        **record_status("verified.example", "dmarc", "verified"),
        **record_status("verified.example", "inbound", "missing"),  # optional, and the only one of its purpose
        **record_status("verified.example", "returnPath", "verified"),
        **record_status("verified.example", "spf", "verified"),
    }
    checked = CHECKED.timestamp()
    assert families["stackshift_domain_last_checked_timestamp_seconds"] == {  # never.example: no line
        **by_domain("failed.example", checked),
        **by_domain("off.example", checked),
        **by_domain("pending.example", checked),
        **by_domain("rotating.example", checked),
        **by_domain("verified.example", checked),
    }
    assert families["stackshift_domain_verified_since_timestamp_seconds"] == by_domain("verified.example",
                                                                                        1769934600.25)
    assert families["stackshift_watch_round_duration_seconds"] == {(): 2.5}


def test_order_is_by_domain_then_purpose_and_the_output_is_deterministic():
    domains = [
        Domain(id=f"d{i}", name=name, status="verified", last_checked_at=CHECKED, verified_since=SINCE,
               records=all_verified())
        for i, name in enumerate(["b.example", "a.example", "c.example", "a-b.example"])
    ]
    text = textfile(domains, round_seconds=1, now=NOW)
    assert text == textfile(reversed(domains), round_seconds=1, now=NOW)
    assert text.endswith("\n") and not text.endswith("\n\n")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    names = ["a-b.example", "a.example", "b.example", "c.example"]
    assert [s.labels["domain"] for s in families["stackshift_domain_status"].samples] == \
        [n for n in names for _ in DOMAIN_STATUSES]
    assert [s.labels["status"] for s in families["stackshift_domain_status"].samples][:4] == list(DOMAIN_STATUSES)
    record_samples = families["stackshift_record_status"].samples
    assert [(s.labels["domain"], s.labels["purpose"]) for s in record_samples] == \
        [(n, p) for n in names for p in sorted(["spf", "dkim", "dmarc", "returnPath"]) for _ in RECORD_STATUSES]
    assert [s.labels["domain"] for s in families["stackshift_domain_last_checked_timestamp_seconds"].samples] == \
        names
    # The families in a fixed order, each one's lines together (the format requires it).
    assert [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")] == [
        "stackshift_domain_status", "stackshift_record_status", "stackshift_domain_last_checked_timestamp_seconds",
        "stackshift_domain_verified_since_timestamp_seconds", "stackshift_watch_round_duration_seconds"]
    assert text.splitlines()[0] == "# Written by stackshift domains watch at 2026-03-01T12:05:00Z."


def test_the_worst_required_record_of_a_purpose():
    domain = Domain(id="d1", name="rot.example", status="pending", last_checked_at=CHECKED, records=(
        # DKIM: the required record decides; an optional one that failed does not count.
        rec("dkim", "verified", name="s1._domainkey.rot.example"),
        rec("dkim", "failed", required=False, name="s2._domainkey.rot.example"),
        # SPF: failed beats everything.
        rec("spf", "verified"), rec("spf", "missing"), rec("spf", "failed"), rec("spf", "pending"),
        # DMARC: missing beats pending, pending beats verified.
        rec("dmarc", "pending"), rec("dmarc", "missing"), rec("dmarc", "verified"),
        rec("returnPath", "verified", rtype="CNAME"), rec("returnPath", "pending", rtype="CNAME"),
        # Only optional records: the worst of them.
        rec("inbound", "verified", required=False, rtype="MX"), rec("inbound", "failed", required=False, rtype="MX"),
    ))
    families = parse(textfile([domain], round_seconds=0))
    assert families["stackshift_record_status"] == {
        **record_status("rot.example", "dkim", "verified"),
        **record_status("rot.example", "dmarc", "missing"),
        **record_status("rot.example", "inbound", "failed"),
        **record_status("rot.example", "returnPath", "pending"),
        **record_status("rot.example", "spf", "failed"),
    }


def test_a_record_without_a_purpose_counts_under_the_check_that_claims_it():
    domain = Domain(id="d1", name="api.example", status="pending", records=(
        rec(None, "verified", name="s1._domainkey.api.example"),  # DKIM by its name
        rec(None, "failed", value="v=spf1 include:spf.stackshift.email ~all"),  # SPF by its value
        rec(None, "pending", value="something else"),  # claimed by no check: left out
    ))
    assert parse(textfile([domain], round_seconds=0))["stackshift_record_status"] == {
        **record_status("api.example", "dkim", "verified"),
        **record_status("api.example", "spf", "failed"),
    }


def test_statuses_outside_the_vocabulary():
    domain = Domain(id="d1", name="odd.example", status="suspended", records=(
        rec("spf", "temperror"), rec("spf", "missing"),  # unknown ranks above missing ...
        rec("dkim", "temperror"), rec("dkim", "failed"),  # ... and below failed
    ))
    families = parse(textfile([domain], round_seconds=0))
    # All 0: no series of its own (an API word would make a new series), `sum by (domain) (...) == 0` finds it.
    assert families["stackshift_domain_status"] == domain_status("odd.example", "none of them")
    assert families["stackshift_record_status"] == {
        **record_status("odd.example", "dkim", "failed"),
        **record_status("odd.example", "spf", "none of them"),
    }


def test_verified_since_only_for_a_verified_domain():
    # A domain that regressed keeps its verified_since in the model while its regression window runs.
    regressed = Domain(id="d1", name="regressed.example", status="pending", last_checked_at=CHECKED,
                       verified_since=SINCE, records=(rec("spf", "failed"),))
    just_verified = Domain(id="d2", name="new.example", status="verified", last_checked_at=CHECKED,
                           verified_since=None, records=all_verified())
    families = parse(textfile([regressed, just_verified], round_seconds=0))
    assert families["stackshift_domain_verified_since_timestamp_seconds"] == {}


def test_no_domains():
    families = parse(textfile([], round_seconds=0.125, now=NOW))
    assert set(families) == FAMILIES
    assert families["stackshift_watch_round_duration_seconds"] == {(): 0.125}
    assert all(families[name] == {} for name in FAMILIES - {"stackshift_watch_round_duration_seconds"})


def test_a_name_given_twice_is_one_domain_the_one_checked_last():
    old = Domain(id="d1", name="twice.example", status="failed", last_checked_at=CHECKED - timedelta(hours=1))
    new = Domain(id="d1", name="twice.example", status="verified", last_checked_at=CHECKED, verified_since=SINCE)
    for domains in ([old, new], [new, old]):
        families = parse(textfile(domains, round_seconds=0))
        assert families["stackshift_domain_status"] == domain_status("twice.example", "verified")
        assert families["stackshift_domain_last_checked_timestamp_seconds"] == by_domain("twice.example",
                                                                                          CHECKED.timestamp())


def test_times_are_unix_seconds_and_a_naive_time_is_utc():
    aware = Domain(id="d1", name="a.example", last_checked_at=datetime(1970, 1, 2, tzinfo=timezone.utc))
    offset = Domain(id="d2", name="b.example", last_checked_at=datetime(1970, 1, 2, 1, tzinfo=timezone(timedelta(
        hours=1))))
    naive = Domain(id="d3", name="c.example", last_checked_at=datetime(1970, 1, 2))
    text = textfile([aware, offset, naive], round_seconds=0, now=datetime(2026, 3, 1, 12, 5))
    assert parse(text)["stackshift_domain_last_checked_timestamp_seconds"] == {
        **by_domain("a.example", 86400), **by_domain("b.example", 86400), **by_domain("c.example", 86400)}
    assert 'stackshift_domain_last_checked_timestamp_seconds{domain="a.example"} 86400\n' in text
    assert text.splitlines()[0] == "# Written by stackshift domains watch at 2026-03-01T12:05:00Z."


@pytest.mark.parametrize(("seconds", "written"), [
    (0, "0"), (3, "3"), (0.5, "0.5"), (1e-7, "1e-07"), (float("nan"), "NaN"), (float("inf"), "+Inf"),
])
def test_the_round_duration_as_the_format_writes_numbers(seconds, written):
    text = textfile([], round_seconds=seconds)
    assert text.splitlines()[-1] == f"stackshift_watch_round_duration_seconds {written}"
    parse(text)


@pytest.mark.parametrize("name", [
    'evil"} 1\nstackshift_domain_status{domain="x',  # would close the label and forge a series
    "back\\slash.example",
    "trailing\\",
    '"',
    "new\nline",
    "\\n literally",
    "cr\rtab\tnul\x00.example",
    "b\u00fccher.example",  # a U-label that slipped through: kept as UTF-8
    "bad\udc96byte.example",  # a lone surrogate (a byte that was not UTF-8): must still give valid UTF-8
])
def test_a_hostile_name_stays_one_label_value(name, tmp_path):
    domain = Domain(id="d1", name=name, status="verified", last_checked_at=CHECKED, verified_since=SINCE,
                    records=(rec("spf", "verified"),))
    text = textfile([domain], round_seconds=1)
    families = parse(text)
    expected = name.encode("utf-8", "backslashreplace").decode("utf-8")  # what a surrogate becomes
    assert families["stackshift_domain_status"] == domain_status(expected, "verified")
    assert families["stackshift_record_status"] == record_status(expected, "spf", "verified")
    assert families["stackshift_domain_last_checked_timestamp_seconds"] == by_domain(expected, CHECKED.timestamp())
    # Every sample on a line of its own: 4 + 4 + 1 + 1 + 1 samples, 5 HELP, 5 TYPE and the header comment.
    assert text.count("\n") == 11 + 10 + 1
    # And the file node_exporter reads is valid UTF-8.
    path = tmp_path / "hostile.prom"
    write_textfile(path, text)
    assert parse(path.read_bytes().decode("utf-8")) == families


# ---------------------------------------------------------------- write_textfile()


def _domains(count: int) -> list[Domain]:
    return [Domain(id=f"d{i}", name=f"domain-{i:03d}.example", status="verified", last_checked_at=CHECKED,
                   verified_since=SINCE, records=all_verified()) for i in range(count)]


def _check_whole(text: str) -> int:
    """The number of domains in a file that must be whole: every family, the trailer, consistent counts."""
    families = parse(text)
    assert set(families) == FAMILIES
    assert families["stackshift_watch_round_duration_seconds"] == {(): 0.5}  # the last family: the file's end
    count = len(families["stackshift_domain_status"]) // len(DOMAIN_STATUSES)
    assert len(families["stackshift_record_status"]) == count * 4 * len(RECORD_STATUSES)
    assert len(families["stackshift_domain_last_checked_timestamp_seconds"]) == count
    assert len(families["stackshift_domain_verified_since_timestamp_seconds"]) == count
    return count


def test_a_reader_never_sees_a_partial_file(tmp_path):
    path = tmp_path / "stackshift.prom"
    # Sizes from nothing to ~60 KB and back, so a torn read would be a truncated or mixed file.
    texts = [textfile(_domains((i * 37) % 101), round_seconds=0.5, now=NOW) for i in range(200)]
    write_textfile(path, texts[0])
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                with open(path, "rb") as handle:  # what node_exporter does at each scrape
                    seen.append(_check_whole(handle.read().decode("utf-8")))
        except BaseException as exc:  # noqa: BLE001  (reported by the test below)
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for text in texts:
            write_textfile(path, text)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[0]
    assert len(seen) > 20  # the reader did read while the file was rewritten
    assert len(set(seen)) > 1  # ... and saw more than one version of it
    assert _check_whole(path.read_text()) == (199 * 37) % 101
    assert path.read_text() == texts[-1]
    assert sorted(os.listdir(tmp_path)) == ["stackshift.prom"]  # no temporary file left
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_mode_is_0644_whatever_the_umask_and_the_previous_file(tmp_path):
    path = tmp_path / "node.prom"
    path.write_text("old\n")
    path.chmod(0o600)
    old_umask = os.umask(0o077)
    try:
        write_textfile(path, textfile([], round_seconds=1))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text().startswith("# Written by stackshift")
    assert os.listdir(tmp_path) == ["node.prom"]


def test_a_missing_directory_is_one_line_and_leaves_nothing(tmp_path):
    path = tmp_path / "textfile_collector" / "stackshift.prom"
    with pytest.raises(StackshiftError) as caught:
        write_textfile(path, textfile([], round_seconds=1))
    error = caught.value
    assert not isinstance(error, UsageError) and error.exit_code == ExitCode.ERROR
    assert "\n" not in error.message and error.hint is None
    assert str(path) in error.message
    assert "does not exist" in error.message and "create it" in error.message
    assert os.listdir(tmp_path) == []


def test_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "stackshift.prom"
    with pytest.raises(StackshiftError) as caught:
        write_textfile(path, "")
    assert "\n" not in caught.value.message and str(path) in caught.value.message
    assert "is not a directory" in caught.value.message
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, "may not create files"), (errno.EPERM, "may not create files"),
    (errno.EROFS, "read-only file system"), (errno.ENOSPC, "no space is left"), (errno.ENOENT, "does not exist"),
    (errno.EIO, "Input/output error"),
])
def test_each_write_failure_says_what_to_do(code, words):
    from stackshift_cli.metrics import _write_error

    message = _write_error(Path("/var/lib/x/stackshift.prom"), OSError(code, os.strerror(code)))
    assert words in message and "/var/lib/x/stackshift.prom" in message and "\n" not in message


def test_a_directory_this_user_may_not_write(tmp_path):
    """Root may write in any directory, so as root the directory is a read-only mount instead of a mode."""
    import subprocess

    directory = tmp_path / "locked"
    directory.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(directory)], check=True)
    else:
        directory.chmod(0o555)
    try:
        with pytest.raises(StackshiftError) as caught:
            write_textfile(directory / "stackshift.prom", "")
        assert os.listdir(directory) == []
    finally:
        if as_root:
            subprocess.run(["umount", str(directory)], check=True)
        else:
            directory.chmod(0o755)
    assert "\n" not in caught.value.message and str(directory / "stackshift.prom") in caught.value.message
    assert ("read-only" if as_root else "may not create files") in caught.value.message


@pytest.mark.parametrize("name", ["stackshift.txt", "stackshift.prom.tmp", "stackshift", "stackshift.PROM"])
def test_a_name_the_collector_would_not_read_is_refused(tmp_path, name):
    with pytest.raises(UsageError) as caught:
        write_textfile(tmp_path / name, "")
    assert caught.value.exit_code == ExitCode.USAGE == 2
    assert "\n" not in caught.value.message and ".prom" in caught.value.message and name in caught.value.message
    assert os.listdir(tmp_path) == []


def test_a_directory_is_refused(tmp_path):
    directory = tmp_path / "metrics.prom"
    directory.mkdir()
    with pytest.raises(UsageError) as caught:
        write_textfile(directory, "")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "\n" not in caught.value.message and "is a directory" in caught.value.message
    assert os.listdir(directory) == [] and os.listdir(tmp_path) == ["metrics.prom"]


def test_the_path_is_shown_visibly(tmp_path):
    path = tmp_path / "bad\nname.txt"
    with pytest.raises(UsageError) as caught:
        write_textfile(path, "")
    assert "\n" not in caught.value.message and "bad\\nname.txt" in caught.value.message


def test_a_relative_path_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_textfile(Path("here.prom"), "x 1\n")
    assert (tmp_path / "here.prom").read_text() == "x 1\n"
    assert os.listdir(tmp_path) == ["here.prom"]

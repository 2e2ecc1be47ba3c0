"""The regression rule and the history's events (history.py), on hand-built domains: no servers, a clock passed in."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from stackshift_cli.domain import DnsRecord, Domain
from stackshift_cli.history import Before, changes, settle, with_changes
from stackshift_cli.output import Ui
from stackshift_cli.watch import exit_code, print_events

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
WINDOW = timedelta(hours=72)


def domain(*statuses: str, status: str | None = None) -> Domain:
    names = [("spf", "example.com", "TXT"), ("dkim", "s._domainkey.example.com", "TXT"),
             ("dmarc", "_dmarc.example.com", "TXT")]
    records = tuple(DnsRecord(t, n, n.removesuffix(".example.com") or "@", "v", purpose=p, status=s,
                              explanation=f"{p} is {s}")
                    for (p, n, t), s in zip(names, statuses))
    aggregate = status or ("verified" if all(s == "verified" for s in statuses) else "pending")
    return Domain("dom_0123456789abcdef", "example.com", aggregate, records)


def verified_before(since: datetime = T0) -> Before:
    return Before.of(replace(domain("verified", "verified", "verified"), verified_since=since))


def test_a_verified_domain_whose_record_breaks_is_pending_at_once():
    checked = domain("verified", "missing", "verified", status="pending")
    settled = settle(checked, verified_before(), now=T0 + timedelta(days=3), window=WINDOW)
    assert settled.status == "pending" and settled.regressed_at == T0 + timedelta(days=3)
    assert settled.explanation.startswith("was verified since 2026-11-01T12:00:00Z; now DKIM TXT s._domainkey is "
                                          "missing")


def test_a_regression_even_with_a_failed_record_is_pending_within_the_window():
    checked = domain("failed", "verified", "verified", status="failed")
    assert settle(checked, verified_before(), now=T0, window=WINDOW).status == "pending"


def test_an_unrepaired_regression_is_failed_after_the_window():
    first = settle(domain("verified", "missing", "verified"), verified_before(), now=T0, window=WINDOW)
    before = Before.of(first)
    assert settle(domain("verified", "missing", "verified"), before, now=T0 + WINDOW - timedelta(seconds=1),
                  window=WINDOW).status == "pending"
    late = settle(domain("verified", "missing", "verified"), before, now=T0 + WINDOW, window=WINDOW)
    assert late.status == "failed" and late.regressed_at == T0 and "Not repaired within 72 h" in late.explanation


def test_a_repaired_regression_is_verified_again_since_the_repair():
    regressed = settle(domain("verified", "missing", "verified"), verified_before(), now=T0, window=WINDOW)
    repaired = settle(domain("verified", "verified", "verified"), Before.of(regressed), now=T0 + timedelta(hours=5),
                      window=WINDOW)
    assert repaired.status == "verified" and repaired.regressed_at is None and repaired.explanation is None
    assert repaired.verified_since == T0 + timedelta(hours=5)


def test_a_domain_never_verified_follows_the_aggregate_rule():
    never = Before.of(domain("missing", "missing", "missing"))
    checked = domain("verified", "failed", "verified", status="failed")
    settled = settle(checked, never, now=T0, window=WINDOW)
    assert settled.status == "failed" and settled.regressed_at is None and settled.explanation is None


def test_verified_since_is_kept_while_it_stays_verified():
    settled = settle(domain("verified", "verified", "verified"), verified_before(T0), now=T0 + timedelta(days=9))
    assert settled.verified_since == T0


def test_a_check_that_changes_nothing_makes_no_event():
    same = domain("verified", "verified", "verified")
    assert changes(Before.of(same), same, T0) == []


def test_events_name_the_domain_and_each_record_that_changed():
    after = settle(domain("verified", "missing", "verified"), verified_before(), now=T0, window=WINDOW)
    events = changes(verified_before(), after, T0)
    assert [(e.kind, e.old_status, e.new_status, e.purpose) for e in events] == [
        ("regression", "verified", "pending", None), ("record", "verified", "missing", "dkim")]
    assert with_changes(after, events).last_change_at == T0


def printed(events, jsonl: bool) -> list[str]:
    out = io.StringIO()
    print_events(Ui(stdout=out, color=False), events, jsonl=jsonl)
    return out.getvalue().splitlines()


def test_watch_prints_one_line_per_change_with_the_records_inside_the_domains():
    after = settle(domain("verified", "missing", "verified"), verified_before(), now=T0, window=WINDOW)
    [line] = printed(changes(verified_before(), after, T0), jsonl=True)
    data = json.loads(line)
    assert data["event"] == "regression" and data["domain"] == "example.com"
    assert [r["purpose"] for r in data["records"]] == ["dkim"]
    only_record = changes(Before.of(domain("verified", "verified", "missing", status="verified")),
                          domain("verified", "verified", "verified"), T0)
    [tsv] = printed(only_record, jsonl=False)
    assert tsv.split("\t")[2:6] == ["record", "dmarc TXT _dmarc", "missing", "verified"]


def test_once_exits_0_when_all_verified_4_when_any_pending_3_when_any_failed():
    ok, pending, failed = (domain("verified"), domain("missing"), domain("failed", status="failed"))
    assert (exit_code([ok]), exit_code([ok, pending]), exit_code([ok, pending, failed])) == (0, 4, 3)

"""The aggregate rule: how record verdicts make a domain's status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stackshift_cli.domain import DnsRecord, Domain, aggregate_status, utcnow


def _records(*statuses: str, optional: str | None = None) -> list[DnsRecord]:
    purposes = ["spf", "dkim", "dmarc", "returnPath"]
    records = [DnsRecord(type="TXT", name="example.com", host="@", value="v", purpose=p, status=s)
               for p, s in zip(purposes, statuses)]
    if optional:
        records.append(DnsRecord(type="MX", name="inbound.example.com", host="inbound", value="mx", priority=10,
                                 purpose="inbound", required=False, status=optional))
    return records


NOW = utcnow()
WINDOW = timedelta(hours=72)


@pytest.mark.parametrize(
    ("statuses", "optional", "age_hours", "expected"),
    [
        (("verified",) * 4, None, 1, "verified"),
        (("verified",) * 4, "missing", 1, "verified"),  # an optional record never holds a domain back
        (("verified",) * 4, "failed", 1, "verified"),
        (("verified", "verified", "verified", "failed"), None, 1, "failed"),
        (("verified", "missing", "verified", "verified"), None, 1, "pending"),
        (("verified", "missing", "verified", "verified"), None, 73, "failed"),  # missing past the window
        (("verified", "pending", "verified", "verified"), None, 73, "pending"),  # a DNS error never fails it
        (("missing",) * 4, None, 71, "pending"),
    ],
)
def test_aggregate_status(statuses, optional, age_hours, expected):
    created = NOW - timedelta(hours=age_hours)
    assert aggregate_status(_records(*statuses, optional=optional), created, NOW, WINDOW) == expected


def test_a_check_never_changes_a_disabled_domain():
    domain = Domain(id="dom_1", name="example.com", status="disabled", records=tuple(_records("missing", "missing",
                    "missing", "missing")), created_at=NOW)
    checked = domain.with_records(_records("verified", "verified", "verified", "verified"), NOW, WINDOW)
    assert checked.status == "disabled" and checked.check_status("dkimStatus") == "verified"


def test_check_statuses_follow_the_records():
    domain = Domain(id="dom_1", name="example.com", created_at=NOW)
    checked = domain.with_records(_records("verified", "failed", "missing", "pending"), NOW, WINDOW)
    assert checked.to_json()["spfStatus"] == "verified" and checked.to_json()["dkimStatus"] == "failed"
    assert checked.to_json()["dmarcStatus"] == "missing" and checked.to_json()["returnPathStatus"] == "pending"
    assert checked.status == "failed" and checked.last_checked_at == NOW


def test_unknown_api_statuses_are_kept_as_they_are():
    domain = Domain.from_json({"id": "dom_1", "name": "Example.com.", "status": "quarantined",
                               "spfStatus": "weird", "records": [{"type": "txt", "name": "example.com",
                                                                  "value": "v", "status": "odd", "extra": 1}],
                               "unknownField": True})
    assert domain.status == "quarantined" and domain.check_status("spfStatus") == "weird"
    assert domain.name == "example.com" and domain.records[0].status == "odd" and domain.records[0].type == "TXT"

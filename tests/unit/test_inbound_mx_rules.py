"""The inbound MX record (stackshift_cli/checks/inbound_mx.py), as a table of hand-built MX answers.

`create --inbound` asks for MX <priority> inbound.stackshift.email at inbound.<domain>: the exchange must be
among the MX records at that name (RFC 5321 5.1), with the expected preference (RFC 1035 3.3.9). Pure: the
zones are built by hand (tests/answers.py).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import pytest

from stackshift_cli.checks import inbound_mx
from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify.answers import Rr
from tests.answers import Zone

NAME = "inbound.example.com"
EXCHANGE = "inbound.stackshift.email"


class Case(NamedTuple):
    zone: Mapping[str, object]
    status: str
    phrases: tuple[str, ...] = ()  # empty: no explanation at all
    priority: int | None = 10  # the expected preference; None: an API record that names none


CASES = [
    pytest.param(Case({NAME: [f"MX 10 {EXCHANGE}"]}, VERIFIED), id="exchange-and-priority"),
    pytest.param(Case({NAME: [f"MX 20 {EXCHANGE}"]}, FAILED,
                      (f"The MX record for {EXCHANGE} at {NAME} has priority 20; set it to 10.",)),
                 id="other-priority"),
    pytest.param(Case({NAME: [Rr(NAME, "MX", 300, "Inbound.StackShift.Email.", priority=10)]}, VERIFIED),
                 id="exchange-in-capitals-with-a-final-dot"),
    pytest.param(Case({NAME: [f"MX 10 {EXCHANGE}", "MX 20 mx.other.example"]}, VERIFIED),
                 id="beside-another-exchange"),
    pytest.param(Case({NAME: [f"MX 20 {EXCHANGE}", f"MX 10 {EXCHANGE}"]}, VERIFIED),
                 id="twice-once-with-the-priority"),
    pytest.param(Case({NAME: ["MX 10 mx.other.example"]}, FAILED,
                      (f"The MX records at {NAME} (10 mx.other.example) do not include {EXCHANGE}",
                       f"Publish MX 10 {EXCHANGE}", "remove the others unless you also receive mail there")),
                 id="only-another-exchange"),
    pytest.param(Case({}, MISSING, (f"No MX record at {NAME}. Publish: MX 10 {EXCHANGE}",)), id="nothing-published"),
    pytest.param(Case({NAME: [f"MX 30 {EXCHANGE}"]}, VERIFIED, priority=None), id="no-priority-asked-any-verifies"),
    pytest.param(Case({}, MISSING, (f"Publish: MX 10 {EXCHANGE}",), priority=None),
                 id="no-priority-asked-suggests-10"),
    # The MX records of the CNAME's target are not the name's own: missing here, and the wrong-type diagnosis
    # makes it failed (tests/unit/test_diagnosis_rules.py).
    pytest.param(Case({NAME: [f"CNAME {EXCHANGE}"], EXCHANGE: [f"MX 10 {EXCHANGE}"]}, MISSING,
                      (f"No MX record at {NAME}",)), id="cname-in-its-place"),
]


@pytest.mark.parametrize("case", CASES)
def test_exchange_must_be_published_with_its_priority_rfc5321_5_1_rfc1035_3_3_9(case):
    verdict = inbound_mx.evaluate(Zone(case.zone).answer(NAME, "MX"), exchange=EXCHANGE, priority=case.priority)
    assert verdict.status == case.status, verdict.explanation
    if case.phrases:
        for phrase in case.phrases:
            assert phrase in verdict.explanation, f"{phrase!r} not in {verdict.explanation!r}"
    else:
        assert verdict.explanation is None

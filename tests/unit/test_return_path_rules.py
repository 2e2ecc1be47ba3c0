"""The return-path record (stackshift_cli/checks/return_path.py and the CNAME judge, checks/cname.py), as tables.

The return path must be a CNAME to StackShift's bounce host, so that bounces (RFC 5321 4.4, the Return-Path
the receiver records) reach StackShift. Pure: each zone is hand-built (tests/answers.py) and answered the way
the check asks: the CNAME at the name, its A answer beside it (a proxying provider answers with addresses),
and, for a CNAME to another name, the chain the resolver follows from it (RFC 1034 3.6.2).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import pytest

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.verify.answers import Rr
from tests.answers import Zone, return_path_verdict

NAME = "bounces.example.com"
TARGET = "bounces.stackshift.email"


class Case(NamedTuple):
    zone: Mapping[str, object]
    status: str
    phrases: tuple[str, ...] = ()  # empty: no explanation at all
    never: tuple[str, ...] = ()
    target: str = TARGET  # the target the expected record names


def check(case: Case) -> None:
    verdict = return_path_verdict(Zone(case.zone), NAME, target=case.target)
    assert verdict.status == case.status, verdict.explanation
    if case.phrases:
        for phrase in case.phrases:
            assert phrase in verdict.explanation, f"{phrase!r} not in {verdict.explanation!r}"
    else:
        assert verdict.explanation is None
    for phrase in case.never:
        assert phrase not in (verdict.explanation or "")


# ---------------------------------------------------------------- RFC 4343, RFC 1034 3.6.2: the target of the CNAME

TARGETS = [
    pytest.param(Case({NAME: [f"CNAME {TARGET}"]}, VERIFIED), id="cname-to-the-bounce-host"),
    pytest.param(Case({NAME: [Rr(NAME, "CNAME", 300, "BOUNCES.StackShift.Email.")]}, VERIFIED),
                 id="published-target-in-capitals-with-a-final-dot"),
    pytest.param(Case({NAME: [f"CNAME {TARGET}"]}, VERIFIED, target="Bounces.StackShift.Email."),
                 id="expected-target-in-capitals-with-a-final-dot"),
    pytest.param(Case({NAME: ["CNAME bounces.other.example"]}, FAILED,
                      (f"The return-path CNAME at {NAME} points to bounces.other.example, not {TARGET}",
                       f"Change its target to {TARGET}")), id="cname-to-another-host"),
    pytest.param(Case({NAME: ["CNAME rp.other.example"], "rp.other.example": [f"CNAME {TARGET}"]}, VERIFIED,
                      (f"{NAME} reaches {TARGET} through a chain of CNAMEs ({NAME} → rp.other.example → {TARGET})",
                       f"a CNAME straight to {TARGET} saves receivers a lookup")), id="chain-reaching-the-target"),
    pytest.param(Case({NAME: ["CNAME rp.other.example"], "rp.other.example": ["CNAME rp2.other.example"],
                       "rp2.other.example": [f"CNAME {TARGET}"]}, VERIFIED,
                      (f"({NAME} → rp.other.example → rp2.other.example → {TARGET})",)),
                 id="longer-chain-reaching-the-target"),
    pytest.param(Case({NAME: ["CNAME rp.other.example"], "rp.other.example": ["CNAME elsewhere.other.example"]},
                      FAILED, (f"points to rp.other.example, not {TARGET}",), never=("chain",)),
                 id="chain-never-reaching-the-target"),
    pytest.param(Case({NAME: ["CNAME rp.other.example"], "rp.other.example": [f"CNAME {NAME}"]}, FAILED,
                      (f"points to rp.other.example, not {TARGET}",)), id="chain-looping-back"),
]


@pytest.mark.parametrize("case", TARGETS)
def test_cname_target_compared_without_case_or_final_dot_and_chains_followed_rfc4343_rfc1034_3_6_2(case):
    """Names compare case-insensitively (RFC 4343) and the final dot only marks them absolute; a chain of CNAMEs
    (RFC 1034 3.6.2) that reaches the bounce host works for receivers, so it verifies with a note."""
    check(case)


# ---------------------------------------------------------------- what stands at the name instead

INSTEAD = [
    pytest.param(Case({}, MISSING, (f"No CNAME record at {NAME}. Publish a CNAME pointing to {TARGET}.",)),
                 id="nothing-published"),
    pytest.param(Case({NAME: ["A 192.0.2.10"]}, FAILED,
                      (f"{NAME} answers with address records (192.0.2.10) instead of a CNAME to {TARGET}",
                       "your DNS provider flattens or proxies it", "Turn the proxy off for this record",
                       'set it to "DNS only"', "make it a plain CNAME")), id="flattened-to-an-address"),
    pytest.param(Case({NAME: ["A 192.0.2.10", "A 192.0.2.11", "A 192.0.2.12", "A 192.0.2.13"]}, FAILED,
                      ("address records (192.0.2.10, 192.0.2.11, 192.0.2.12) instead of a CNAME", "proxy"),
                      never=("192.0.2.13",)), id="flattened-to-many-addresses-names-three"),
    # Another type at the name is `missing` for this check; the wrong-type diagnosis then makes it failed
    # (tests/unit/test_diagnosis_rules.py).
    pytest.param(Case({NAME: [f"TXT {TARGET}"]}, MISSING, (f"No CNAME record at {NAME}",), never=("proxy",)),
                 id="txt-record-in-its-place"),
]


@pytest.mark.parametrize("case", INSTEAD)
def test_addresses_instead_of_the_cname_mean_a_proxying_provider(case):
    """A name that answers with addresses but has no CNAME was flattened (or proxied) by the DNS provider: bounces
    then go to the proxy, not to StackShift."""
    check(case)

"""Which answer a check judges (stackshift_cli/verify/views.py), from hand-built observations.

The verdict follows the zone's authoritative servers: they see a record as soon as it is published, and no cache
fools them. Servers that disagree mean the zone is still being copied between them (RFC 1034 4.3.5; the SOA
serial, RFC 1035 3.3.13, says which is behind): pending. Servers that do not answer are named and the others
decide; when none answers the resolver decides, and says its answer may come from a cache. A resolver that still
serves an older answer gets a note saying how long its cache may keep it (the record's TTL, or for "no such
record" the negative-caching TTL from the SOA, RFC 2308 5). Pure: `tests.answers.observation` builds what each
server answers; no server is asked anything.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from stackshift_cli.domain import PENDING
from stackshift_cli.verify import views
from stackshift_cli.verify.answers import Observation, Rr, Server, Soa, Verdict
from tests.answers import observation

NAME = "_dmarc.example.com"
NS1 = Server("192.0.2.1", host="ns1.example.com")
NS2 = Server("192.0.2.2", host="ns2.example.com")
NS3 = Server("192.0.2.3", host="ns3.example.com")
RESOLVER = Server("192.0.2.53")
NEW = "v=DMARC1; p=none;"
OLD = "v=DMARC1; p=reject;"
PUBLISHED = {NAME: [f"TXT {NEW}"]}  # a server that has the record
BEFORE = {}  # a server that does not have it yet (NXDOMAIN)
SOA = Soa("example.com", 2026112901, 240, 300)
LABEL1, LABEL2, LABEL3 = "ns1.example.com (192.0.2.1)", "ns2.example.com (192.0.2.2)", "ns3.example.com (192.0.2.3)"


def txt(text: str, ttl: int) -> Rr:
    """A TXT record at NAME with its TTL (as a cache counts it down)."""
    return Rr(NAME, "TXT", ttl, text, (text,))


def seen(authoritative, **kwargs) -> Observation:
    return observation(NAME, "TXT", authoritative, resolver_server=RESOLVER, **kwargs)


class Settles(NamedTuple):
    observation: Observation
    answered_by: Server | None  # whose answer is judged; None: pending
    phrases: tuple[str, ...] = ()  # in the pending explanation, or in the notes beside the verdict (empty: none)


def check(case: Settles) -> views.Settled | Verdict:
    settled = views.settle(case.observation)
    if case.answered_by is None:
        assert isinstance(settled, Verdict) and settled.status == PENDING, settled
        text = settled.explanation
    else:
        assert isinstance(settled, views.Settled), settled
        assert settled.answer.server == case.answered_by
        assert settled.zone == case.observation.zone.name
        assert settled.from_resolver == (case.answered_by == RESOLVER)
        text = " ".join(settled.notes)
        if not case.phrases:
            assert settled.notes == ()
    for phrase in case.phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"
    return settled


# ---------------------------------------------------------------- agreement: the authoritative servers decide

AGREEMENT = [
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: PUBLISHED}, resolver=PUBLISHED), NS1), id="every-server-has-it"),
    pytest.param(Settles(seen({NS1: BEFORE, NS2: BEFORE}, resolver=BEFORE), NS1), id="no-server-has-it"),
    pytest.param(Settles(seen({NS1: {NAME: [txt(NEW, 300)]}, NS2: {NAME: [txt(NEW, 3600)]}}), NS1),
                 id="same-record-other-ttl"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: PUBLISHED}, serials={NS1: 5, NS2: 4}), NS1),
                 id="serials-differ-but-not-this-answer"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: PUBLISHED}, resolver=BEFORE, soa=SOA), NS1),
                 id="resolver-cache-disagrees"),
]


@pytest.mark.parametrize("case", AGREEMENT)
def test_authoritative_servers_that_agree_decide_whatever_the_resolver_caches(case):
    """Servers agree on what the answer says (its records and whether the name exists), not on TTLs or serials."""
    check(case)


# ---------------------------------------------------------------- propagation: servers that disagree

PROPAGATION = [
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: BEFORE}, serials={NS1: 2, NS2: 1}), None,
                         ("The zone example.com is still propagating between its authoritative servers",
                          f"{LABEL2}, serial 1 lags behind {LABEL1}, serial 2",
                          f"they give different answers for TXT at {NAME}",
                          "Nothing to change; verify again in a few minutes.")), id="one-server-lags"),
    pytest.param(Settles(seen({NS2: BEFORE, NS1: PUBLISHED}, serials={NS1: 2, NS2: 1}), None,
                         (f"{LABEL2}, serial 1 lags behind {LABEL1}, serial 2",)), id="lagging-server-listed-first"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: BEFORE, NS3: BEFORE}, serials={NS1: 2, NS2: 1, NS3: 1}), None,
                         (f"{LABEL2}, serial 1, {LABEL3}, serial 1 lag behind {LABEL1}, serial 2",)),
                 id="two-servers-lag"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: {NAME: [f"TXT {OLD}"]}}, serials={NS1: 7, NS2: 6}), None,
                         (f"{LABEL2}, serial 6 lags behind {LABEL1}, serial 7",)), id="old-record-on-the-lagging-one"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: BEFORE}, serials={NS1: 2, NS2: None}), None,
                         (f"{LABEL2}, serial unknown lags behind {LABEL1}, serial 2",)), id="one-serial-unknown"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: BEFORE}), None,
                         (f"The authoritative servers of example.com disagree about TXT at {NAME}",
                          f"({LABEL1}, serial unknown vs {LABEL2}, serial unknown)",
                          "the DNS provider is still copying the zone", "Verify again in a few minutes.")),
                 id="serials-unknown"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: BEFORE, NS3: "TIMEOUT"}, serials={NS1: 2, NS2: 1}), None,
                         (f"{LABEL2}, serial 1 lags behind {LABEL1}, serial 2",)), id="beside-a-silent-server"),
    pytest.param(Settles(observation(NAME, "TXT", {Server("127.0.0.5", 5353, "nsa.lab.test"): PUBLISHED,
                                                   Server("127.0.0.6", 5353, "nsb.lab.test"): BEFORE},
                                     serials={Server("127.0.0.5", 5353, "nsa.lab.test"): 3,
                                              Server("127.0.0.6", 5353, "nsb.lab.test"): 2}), None,
                         ("nsb.lab.test (127.0.0.6:5353), serial 2 lags behind nsa.lab.test (127.0.0.5:5353), "
                          "serial 3",)),
                 id="servers-on-another-port"),
]


@pytest.mark.parametrize("case", PROPAGATION)
def test_servers_that_disagree_are_pending_naming_the_lagging_ones_by_serial_rfc1034_4_3_5(case):
    """The servers with the lowest SOA serials lag: they are named, with every serial, and nothing is to change."""
    check(case)


# ---------------------------------------------------------------- servers that do not answer

UNREACHABLE = [
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: "TIMEOUT"}), NS1,
                         (f"{LABEL2} did not answer (no answer within 1s ({LABEL2}))",
                          "the other authoritative servers of example.com agree.")), id="one-silent-server"),
    pytest.param(Settles(seen({NS1: "SERVFAIL", NS2: PUBLISHED}), NS2,
                         (f"{LABEL1} did not answer (SERVFAIL from {LABEL1})",)), id="one-server-failing"),
    pytest.param(Settles(seen({NS1: PUBLISHED, NS2: "TIMEOUT", NS3: "SERVFAIL"}), NS1,
                         (f"{LABEL2}, {LABEL3} did not answer (no answer within 1s ({LABEL2}); SERVFAIL from "
                          f"{LABEL3})",)),
                 id="two-servers-out-of-three"),
]


@pytest.mark.parametrize("case", UNREACHABLE)
def test_servers_that_do_not_answer_are_named_and_the_others_decide(case):
    check(case)


# ---------------------------------------------------------------- no authoritative server: the resolver decides

NO_AUTHORITY = [
    pytest.param(Settles(seen({NS1: "TIMEOUT", NS2: "TIMEOUT"}, resolver=PUBLISHED), RESOLVER,
                         ("No authoritative server of example.com could be reached (no answer within 1s "
                          f"({LABEL1}); no answer within 1s ({LABEL2}))",
                          "so the resolver 192.0.2.53 decided; its answer may come from a cache.")),
                 id="every-server-silent"),
    pytest.param(Settles(seen({}, zone=None, zone_error="the zone of _dmarc.example.com could not be found "
                                                        "(SERVFAIL from 192.0.2.53)", resolver=PUBLISHED), RESOLVER,
                         ("The zone of _dmarc.example.com could not be found (SERVFAIL from 192.0.2.53), so the "
                          "resolver 192.0.2.53 decided",)), id="zone-not-found"),
    pytest.param(Settles(seen({}, zone=None, resolver=BEFORE), RESOLVER,
                         (f"The authoritative servers of {NAME} could not be found, so the resolver 192.0.2.53 "
                          "decided",)), id="no-server-listed"),
    pytest.param(Settles(seen({NS1: "TIMEOUT", NS2: "SERVFAIL"}, resolver="SERVFAIL"), None,
                         (f"The check of TXT at {NAME} could not finish: no authoritative server of example.com "
                          f"could be reached (no answer within 1s ({LABEL1}); SERVFAIL from {LABEL2})",
                          "and the resolver failed too (SERVFAIL from 192.0.2.53)",
                          "This is usually temporary; verify again later.")), id="resolver-fails-too"),
    pytest.param(Settles(seen({NS1: "TIMEOUT"}), None,
                         ("no authoritative server of example.com could be reached", "and the resolver failed too")),
                 id="no-resolver-answer"),
]


@pytest.mark.parametrize("case", NO_AUTHORITY)
def test_when_no_authoritative_server_answers_the_resolver_decides_and_says_so(case):
    check(case)


# ---------------------------------------------------------------- RFC 2308: a resolver still serving its cache


class Lag(NamedTuple):
    observation: Observation
    phrases: tuple[str, ...]  # empty: no note


NOTES = [
    pytest.param(Lag(seen({NS1: PUBLISHED}, resolver=PUBLISHED), ()), id="resolver-agrees"),
    pytest.param(Lag(seen({NS1: {NAME: [txt(NEW, 300)]}}, resolver={NAME: [txt(NEW, 17)]}), ()),
                 id="resolver-agrees-counting-the-ttl-down"),
    pytest.param(Lag(seen({NS1: PUBLISHED}, resolver=BEFORE, soa=SOA),
                     ("The authoritative servers already serve the current answer, but the resolver 192.0.2.53 still "
                      "answers from its cache that the record does not exist, for at most 240 s more (the zone's "
                      "negative-caching TTL, from its SOA record)",
                      "receivers using it see the old answer until then",
                      "Nothing to do: the cache expires by itself.")),
                 id="negative-answer-cached-for-the-soa-ttl"),
    pytest.param(Lag(seen({NS1: PUBLISHED}, resolver=BEFORE),
                     ("that the record does not exist, until its negative-caching TTL expires",)),
                 id="negative-answer-cached-without-soa"),
    pytest.param(Lag(seen({NS1: PUBLISHED}, resolver={NAME: [txt(OLD, 3600), txt("v=spf1 -all", 120)]}),
                     ("still answers from its cache with the old record, for at most 3600 s more (the old "
                      "record's TTL)",)),
                 id="old-record-cached-for-its-longest-ttl"),
    pytest.param(Lag(seen({NS1: BEFORE}, soa=SOA, resolver={NAME: [txt(OLD, 60)]}),
                     ("with the old record, for at most 60 s more",)), id="removed-record-still-cached"),
    pytest.param(Lag(seen({NS1: PUBLISHED}, resolver="SERVFAIL"),
                     ("The resolver could not answer (SERVFAIL from 192.0.2.53); the authoritative servers decided.",)),
                 id="resolver-failing"),
    pytest.param(Lag(seen({NS1: PUBLISHED}), ()), id="no-resolver-answer"),
    pytest.param(Lag(seen({NS1: "TIMEOUT"}, resolver=PUBLISHED), ()), id="resolver-decided-itself"),
]


@pytest.mark.parametrize("case", NOTES)
def test_a_resolver_serving_an_older_answer_is_noted_with_how_long_its_cache_keeps_it_rfc2308_5(case):
    settled = views.settle(case.observation)
    assert isinstance(settled, views.Settled), settled
    note = views.resolver_note(settled)
    if not case.phrases:
        assert note is None
        return
    for phrase in case.phrases:
        assert phrase in note, f"{phrase!r} not in {note!r}"

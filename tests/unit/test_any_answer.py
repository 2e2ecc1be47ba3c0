"""No answer of any shape crashes a check: every evaluator returns a verdict for whatever a server sends.

Property tests over generated answers (hostile servers choose the records, names, strings and rcodes); a
crash in one check used to take `verify --all` down for every domain (issue 8).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.domain import RECORD_STATUSES, DnsRecord
from stackshift_cli.escape import visible
from stackshift_cli.checks import cname, dkim, dmarc, inbound_mx as mx, return_path as returnpath, spf
from stackshift_cli.verify import diagnose
from stackshift_cli.verify.answers import Answer, Rr, Server

SERVER = Server("127.0.0.1")
RCODES = ("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "TIMEOUT", "BADRESPONSE", "BADNAME")
TYPES = ("TXT", "CNAME", "MX", "A", "AAAA", "SPF", "NS")

names = st.one_of(
    st.sampled_from(["example.com", "_dmarc.example.com", "stackshift._domainkey.example.com",
                     "bounces.example.com", "spf.stackshift.email", "other.example.org", ""]),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=80),
)
texts = st.one_of(
    st.sampled_from(["v=spf1 include:spf.stackshift.email ~all", "v=DMARC1; p=none", "v=DKIM1; k=rsa; p=",
                     "v=spf1 redirect=example.com", "v=spf1 include:example.com", "v=DMARC1; p=reject; psd=y"]),
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda t: "v=spf1 " + t),
    st.text(max_size=60).map(lambda t: "v=DMARC1; " + t),
    st.binary(max_size=40).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
)


@st.composite
def records(draw, owner: str | None = None):
    rtype = draw(st.sampled_from(TYPES))
    name = owner if owner is not None and draw(st.booleans()) else draw(names)
    if rtype in ("TXT", "SPF"):
        strings = tuple(draw(st.lists(texts, min_size=0, max_size=3)))
        return Rr(name, rtype, draw(st.integers(0, 2**31)), "".join(strings), strings)
    if rtype == "MX":
        return Rr(name, rtype, 300, draw(names), priority=draw(st.integers(0, 65535)))
    return Rr(name, rtype, 300, draw(names))


@st.composite
def answers(draw, name: str, rtype: str):
    return Answer(SERVER, name, rtype, draw(st.sampled_from(RCODES)),
                  tuple(draw(st.lists(records(owner=name), max_size=6))), error=draw(st.none() | st.text(max_size=20)))


def _printable(verdict) -> None:
    """A status of the vocabulary, and an explanation that the engine's final escaping makes safe to print."""
    assert verdict.status in RECORD_STATUSES
    if verdict.explanation is not None:
        shown = visible(verdict.explanation)
        assert visible(shown) == shown
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in shown)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_spf_judges_any_answers_without_raising(data):
    top = data.draw(answers("example.com", "TXT"))
    fetched = {}
    texts_found = [r.text for r in top.rrs("TXT") if spf.is_spf(r.text)]
    for _ in range(6):
        if len(texts_found) != 1:
            break
        needed = spf.walk("example.com", texts_found[0], "spf.stackshift.email", fetched).needed - fetched.keys()
        if not needed:
            break
        fetched.update({key: data.draw(answers(*key)) for key in sorted(needed)})
    verdict = spf.evaluate(top, include="spf.stackshift.email", expected="v=spf1 include:spf.stackshift.email ~all",
                           fetched=fetched)
    _printable(verdict)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_dmarc_judges_any_answers_without_raising(data):
    own = data.draw(answers("_dmarc.mail.example.com", "TXT"))
    walked = {n: data.draw(answers(f"_dmarc.{n}", "TXT")) for n in dmarc.walk_names("mail.example.com")[1:]}
    _printable(dmarc.evaluate(own, domain="mail.example.com", expected="v=DMARC1; p=none;", walked=walked,
                              return_path="bounces.mail.example.com").verdict)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_dkim_cname_mx_and_return_path_judge_any_answers_without_raising(data):
    name = "stackshift._domainkey.example.com"
    _printable(dkim.evaluate(data.draw(answers(name, "TXT")), expected="v=DKIM1; k=rsa; p=MIIBIjANBg"))
    _printable(dkim.evaluate_delegation(data.draw(answers(name, "CNAME")), target="s1.dkim.stackshift.email",
                                        chain=data.draw(answers(name, "A"))))
    _printable(mx.evaluate(data.draw(answers("inbound.example.com", "MX")), exchange="inbound.stackshift.email",
                           priority=10))
    _printable(returnpath.evaluate(data.draw(answers("bounces.example.com", "CNAME")),
                                   data.draw(answers("bounces.example.com", "A")), target="bounces.stackshift.email",
                                   chain=data.draw(answers("bounces.example.com", "A"))))
    _printable(cname.evaluate(data.draw(answers("x.example.com", "CNAME")), target="y.example.com"))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_diagnoses_of_a_missing_record_read_any_answers_without_raising(data):
    record = DnsRecord("CNAME", "bounces.example.com", "bounces", "bounces.stackshift.email", purpose="returnPath")
    probes = diagnose.probes(record, "example.com", "example.com")
    found = {key: data.draw(answers(*key)) for key in probes}
    verdict = diagnose.explain_missing(record, "example.com", "example.com", found)
    if verdict is not None:
        assert verdict.status in RECORD_STATUSES

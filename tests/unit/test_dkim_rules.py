"""DKIM key records by RFC 6376 3.6.1 and RFC 8301: the rules of stackshift_cli/verify/dkim.py, as tables.

StackShift signs email with rsa-sha256 under the selector `stackshift`, so the key record at
stackshift._domainkey.<domain> must hold its RSA key and allow sha256 and the email service. Pure: the TXT answers
are built by hand; the oracle (dkimpy) verifies a real signature against each record, its DNS answered in memory.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import dkim
import pytest

from stackshift_cli.domain import FAILED, MISSING, VERIFIED
from stackshift_cli.keys import generate_dkim_keypair
from stackshift_cli.records import dkim_record_value
from stackshift_cli.checks import dkim as dkim_rules
from stackshift_cli.checks.cname import same_name
from stackshift_cli.verify.answers import Answer, Rr, Server
from tests.answers import Zone

SELECTOR_NAME = "stackshift._domainkey.example.com"
SERVER = Server("127.0.0.1")
MESSAGE = (b"From: Sender <sender@example.com>\r\n"
           b"To: Reader <reader@example.net>\r\n"
           b"Subject: DKIM rules\r\n"
           b"\r\n"
           b"Signed by StackShift's key.\r\n")


class Keys(NamedTuple):
    pem: bytes
    public_b64: str
    other_public_b64: str  # another key pair's public key: not this domain's key

    @property
    def expected(self) -> str:
        return dkim_record_value(self.public_b64)


@pytest.fixture(scope="module")
def keys() -> Keys:
    pem, public_b64 = generate_dkim_keypair()
    return Keys(pem, public_b64, generate_dkim_keypair()[1])


def _answer(text: str | None) -> Answer:
    """The resolver's answer at the selector name: one TXT record, or NXDOMAIN."""
    if text is None:
        return Answer(SERVER, SELECTOR_NAME, "TXT", "NXDOMAIN")
    return Answer(SERVER, SELECTOR_NAME, "TXT", "NOERROR", (Rr(SELECTOR_NAME, "TXT", 300, text, (text,)),),
                  authoritative=True)


class Variant(NamedTuple):
    record: str | None  # a template: {expected} the published value, {p} the key, {spaced} it with spaces,
    #                     {broken} it with a literal "\\n" pasted in, {other} another key; None: no record
    status: str
    phrases: tuple[str, ...]  # empty: no explanation at all
    dkimpy: bool  # whether dkimpy verifies a real rsa-sha256 signature against this record

    def text(self, keys: Keys) -> str | None:
        if self.record is None:
            return None
        spaced = " ".join(keys.public_b64[i:i + 64] for i in range(0, len(keys.public_b64), 64))
        broken = keys.public_b64[:100] + "\\n" + keys.public_b64[100:]
        return self.record.format(expected=keys.expected, p=keys.public_b64, spaced=spaced, broken=broken,
                                  other=keys.other_public_b64)


VARIANTS = {
    "published-value": Variant("{expected}", VERIFIED, (), True),
    "no-version-tag": Variant("k=rsa; p={p}", VERIFIED, (), True),  # v= is optional (3.6.1)
    # h= (acceptable hash algorithms, 3.6.1): must allow sha256, the only hash RFC 8301 leaves
    "h-sha1": Variant("{expected}; h=sha1", FAILED,
                      ("has h=sha1, which does not allow sha256", "StackShift signs with rsa-sha256",
                       "(RFC 6376 3.6.1, RFC 8301)", "Remove the h= tag (or list sha256 in it)"), True),
    "h-sha1-sha256": Variant("{expected}; h=sha1:sha256", VERIFIED, (), True),
    "h-sha256": Variant("{expected}; h=sha256", VERIFIED, (), True),
    # s= (service types, 3.6.1): a colon-separated list that must hold email or *
    "s-email": Variant("{expected}; s=email", VERIFIED, (), True),
    "s-star": Variant("{expected}; s=*", VERIFIED, (), True),
    "s-email-other": Variant("{expected}; s=email:other", VERIFIED, (), False),
    "s-other": Variant("{expected}; s=other", FAILED,
                       ("has s=other, which lists neither email nor *", "may not be used to sign email",
                        "Remove the s= tag (or set s=email)"), False),
    # t= (flags, 3.6.1): y is testing mode
    "t-y": Variant("{expected}; t=y", VERIFIED,
                   ("has t=y (testing mode)", "Remove t=y once you are done testing"), True),
    "t-y-s": Variant("{expected}; t=y:s", VERIFIED, ("has t=y (testing mode)",), True),
    "t-s": Variant("{expected}; t=s", VERIFIED, (), True),
    # k= (key type): StackShift's key is RSA
    "k-ed25519": Variant("v=DKIM1; k=ed25519; p={p}", FAILED,
                         ("says k=ed25519, but this key is RSA", "Set k=rsa (or remove the k= tag)"), False),
    # p= (3.6.1): an empty value means the key was revoked
    "revoked": Variant("v=DKIM1; k=rsa; p=", FAILED,
                       ("is empty (p=), which means the key is revoked", "Publish: {expected}"), False),
    "another-key": Variant("v=DKIM1; k=rsa; p={other}", FAILED,
                           ("is not this domain's key", "Replace the value with: {expected}"), False),
    "whitespace-in-p": Variant("v=DKIM1; k=rsa; p={spaced}", VERIFIED,
                               ("contains spaces or line breaks", "It verifies, since DKIM ignores whitespace in keys",
                                "republishing it on one line"), True),
    "literal-line-break-in-p": Variant("v=DKIM1; k=rsa; p={broken}", FAILED,
                                       ("contains literal line-break characters (\\n)",
                                        "Paste the key as one line, without line breaks"), False),
    # 3.2: a tag=value list; a part without its tag name is no key record at all
    "key-without-p-tag": Variant("v=DKIM1; k=rsa; {p}", FAILED,
                                 ("is not a valid DKIM key record", "is not a tag=value pair", "Publish: {expected}"),
                                 False),
    # v= (3.6.1): if present, DKIM1 exactly, and the first tag
    "v-not-first": Variant("k=rsa; p={p}; v=DKIM1", FAILED,
                           ("has v=DKIM1 after other tags; it must come first", "Publish: {expected}"), True),
    "v-dkim2": Variant("v=DKIM2; k=rsa; p={p}", FAILED,
                       ("has v=DKIM2; the version must be v=DKIM1", "Publish: {expected}"), False),
    "v-lowercase": Variant("v=dkim1; k=rsa; p={p}", FAILED, ("has v=dkim1; the version must be v=DKIM1",), False),
    "v-twice": Variant("v=DKIM1; {expected}", FAILED,
                       ("is damaged: the v=DKIM1 tag appears 2 times", "Publish it once"), False),
    # no record at the selector name
    "missing": Variant(None, MISSING, ("No DKIM key (TXT record) at stackshift._domainkey.example.com",
                                       "Publish: {expected}"), False),
}

# Where dkimpy 1.1.8 departs from RFC 6376, the verdict follows the RFC: each entry says why they differ.
DKIMPY_DEPARTS_FROM_RFC = {
    "h-sha1": "dkimpy never reads the key record's h= tag; RFC 6376 3.6.1 and 6.1.2 make a verifier ignore a key "
              "record that does not allow the signature's hash (PERMFAIL, inappropriate hash algorithm)",
    "s-email-other": "dkimpy compares s= as one string; RFC 6376 3.6.1 makes s= a colon-separated list and tells "
                     "verifiers to ignore unknown service types, so email:other allows email",
    "v-not-first": "dkimpy accepts v= anywhere; RFC 6376 3.6.1 says v= MUST be the first tag of the key record, "
                   "and 6.1.2 has verifiers ignore a key record that does not adhere to the format (key syntax error)",
}

AGREEING = [pytest.param(name, id=name) for name in VARIANTS if name not in DKIMPY_DEPARTS_FROM_RFC]
DEPARTING = [pytest.param(name, id=name) for name in DKIMPY_DEPARTS_FROM_RFC]


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in VARIANTS])
def test_key_record_rules(name, keys):
    """RFC 6376 3.6.1 and RFC 8301: the key record must carry StackShift's RSA key and allow rsa-sha256 on email."""
    variant = VARIANTS[name]
    verdict = dkim_rules.evaluate(_answer(variant.text(keys)), expected=keys.expected)
    assert verdict.status == variant.status
    if variant.phrases:
        assert verdict.explanation is not None
        for phrase in variant.phrases:
            assert phrase.format(expected=keys.expected) in verdict.explanation
    else:
        assert verdict.explanation is None
    assert (verdict.explanation is not None and "testing mode" in verdict.explanation) == name.startswith("t-y")


class Publication(NamedTuple):
    zone: Callable[[Keys], dict]  # the records at (and around) the selector name
    status: str
    phrases: tuple[str, ...]  # empty: no explanation at all


OTHER_NAME = "key.example.net"

PUBLICATIONS = [
    # RFC 6376 3.6.2.2: the strings of one TXT record are concatenated, so a provider may split a long key
    pytest.param(Publication(lambda k: {SELECTOR_NAME: [("TXT", [k.expected[:100], k.expected[100:200],
                                                                 k.expected[200:]])]}, VERIFIED, ()),
                 id="split-into-strings-of-one-record"),
    pytest.param(Publication(lambda k: {SELECTOR_NAME: [f"TXT v=DKIM1; k=rsa; p={k.public_b64[:150]}",
                                                        f"TXT {k.public_b64[150:]}"]}, FAILED,
                             ("was split into 2 separate TXT records", "probably by line breaks in the pasted key",
                              "publish it as one record, on one line")),
                 id="split-into-separate-records"),
    pytest.param(Publication(lambda k: {SELECTOR_NAME: ["TXT v=DKIM1; p=MIIBnotours",
                                                        "TXT google-site-verification=x"]},
                             FAILED, ("has 2 TXT records; a DKIM selector must have exactly one",)),
                 id="two-unrelated-records"),
    # a CNAME to a key hosted elsewhere is followed (RFC 1034 3.6.2): the key at its end is judged
    pytest.param(Publication(lambda k: {SELECTOR_NAME: [f"CNAME {OTHER_NAME}"], OTHER_NAME: [("TXT", k.expected)]},
                             VERIFIED, ()), id="cname-to-the-key"),
    pytest.param(Publication(lambda k: {SELECTOR_NAME: [f"CNAME {OTHER_NAME}"],
                                        OTHER_NAME: [f"TXT v=DKIM1; k=rsa; p={k.other_public_b64}"]}, FAILED,
                             (f"The DKIM key at {OTHER_NAME} (reached from {SELECTOR_NAME} through a CNAME) is not "
                              "this domain's key",)), id="cname-to-another-key"),
    pytest.param(Publication(lambda k: {SELECTOR_NAME: [f"CNAME {OTHER_NAME}"]}, FAILED,
                             (f"{SELECTOR_NAME} is a CNAME to {OTHER_NAME}, which has no DKIM key (TXT record)",
                              "Point the CNAME at the right target")), id="cname-to-nothing"),
]


@pytest.mark.parametrize("publication", PUBLICATIONS)
def test_key_record_as_published_strings_records_and_cnames_rfc6376_3_6_2_2(publication, keys):
    """RFC 6376 3.6.2.2: one TXT record, its strings joined; a key split into separate records is no key; a
    CNAME at the selector name is followed to the key it points at."""
    answer = Zone(publication.zone(keys)).answer(SELECTOR_NAME, "TXT")
    verdict = dkim_rules.evaluate(answer, expected=keys.expected)
    assert verdict.status == publication.status, verdict.explanation
    if publication.phrases:
        for phrase in publication.phrases:
            assert phrase in verdict.explanation
    else:
        assert verdict.explanation is None


DELEGATED = "s1._domainkey.example.com"
HOSTED = "s1.dkim.stackshift.email"

DELEGATIONS = [
    pytest.param({DELEGATED: [f"CNAME {HOSTED}"]}, HOSTED, VERIFIED, (), id="cname-to-the-hosted-key"),
    pytest.param({DELEGATED: [Rr(DELEGATED, "CNAME", 300, "S1.DKIM.StackShift.Email.")]}, HOSTED, VERIFIED, (),
                 id="target-in-capitals-with-a-final-dot"),
    pytest.param({DELEGATED: [f"CNAME {HOSTED}"]}, "s2.dkim.stackshift.email", FAILED,
                 ("The DKIM CNAME at s1._domainkey.example.com points to s1.dkim.stackshift.email, not "
                  "s2.dkim.stackshift.email", "Change its target to s2.dkim.stackshift.email"),
                 id="cname-to-another-selector"),
    pytest.param({DELEGATED: ["CNAME hop.example.net"], "hop.example.net": [f"CNAME {HOSTED}"]}, HOSTED, VERIFIED,
                 (f"reaches {HOSTED} through a chain of CNAMEs ({DELEGATED} → hop.example.net → {HOSTED})",),
                 id="chain-reaching-the-hosted-key"),
    pytest.param({DELEGATED: ["TXT v=DKIM1; k=rsa; p=MIIB"]}, HOSTED, MISSING,
                 (f"No CNAME record at {DELEGATED}. Publish a CNAME pointing to {HOSTED}",),
                 id="key-published-instead-of-the-cname"),
]


@pytest.mark.parametrize(("records", "target", "status", "phrases"), DELEGATIONS)
def test_dkim_expected_as_a_cname_is_judged_by_its_target_rfc1034_3_6_2(records, target, status, phrases):
    """A backend that hosts the key asks for a CNAME: its target is compared (case and final dot ignored, RFC
    4343), and a chain of CNAMEs that reaches it works for receivers. (A TXT record in its place: the wrong-type
    diagnosis, tests/unit/test_diagnosis_rules.py.)"""
    zone = Zone(records)
    found = zone.answer(DELEGATED, "CNAME")
    alias = found.cname()
    chain = zone.answer(DELEGATED, "A") if alias is not None and not same_name(alias.text, target) else None
    verdict = dkim_rules.evaluate_delegation(found, target=target, chain=chain)
    assert verdict.status == status, verdict.explanation
    for phrase in phrases:
        assert phrase in verdict.explanation
    if not phrases:
        assert verdict.explanation is None


@pytest.fixture(scope="module")
def signed(keys) -> bytes:
    """MESSAGE with a real DKIM-Signature (rsa-sha256, d=example.com, s=stackshift), as StackShift sends it."""
    signature = dkim.sign(MESSAGE, b"stackshift", b"example.com", keys.pem,
                          include_headers=[b"from", b"to", b"subject"])
    assert b"a=rsa-sha256" in signature and b"s=stackshift" in signature
    return signature + MESSAGE


def _dkimpy_verifies(signed: bytes, record: str | None) -> bool:
    """dkimpy's verdict on the signature, with the key record answered from memory (asked at the selector name)."""
    asked: list[bytes] = []

    def dnsfunc(name, timeout=5):
        asked.append(name)
        return record.encode("ascii") if record is not None else None

    verified = dkim.verify(signed, dnsfunc=dnsfunc)
    assert asked == [f"{SELECTOR_NAME}.".encode()]
    return verified


def test_dkimpy_verifies_the_signature_against_the_published_value(keys, signed):
    """The oracle itself: the published value verifies, and a changed message does not."""
    assert _dkimpy_verifies(signed, keys.expected) is True
    assert _dkimpy_verifies(signed.replace(b"Signed by", b"Forged by"), keys.expected) is False


@pytest.mark.parametrize("name", AGREEING)
def test_verdict_agrees_with_dkimpy_verifying_a_real_signature(name, keys, signed):
    """An independent oracle: stackshift says verified exactly when dkimpy verifies StackShift's rsa-sha256
    signature with this key record (a t=y record verifies in both)."""
    variant = VARIANTS[name]
    record = variant.text(keys)
    verified_by_dkimpy = _dkimpy_verifies(signed, record)
    assert verified_by_dkimpy is variant.dkimpy
    verdict = dkim_rules.evaluate(_answer(record), expected=keys.expected)
    assert (verdict.status == VERIFIED) is verified_by_dkimpy


@pytest.mark.parametrize("name", DEPARTING)
def test_dkimpy_departs_from_rfc_6376_only_where_recorded(name, keys, signed):
    """The recorded exceptions to the oracle: dkimpy disagrees, and the verdict is the RFC's (see
    DKIMPY_DEPARTS_FROM_RFC). Should a dkimpy release fix one, this fails: move the variant back to the oracle."""
    variant = VARIANTS[name]
    record = variant.text(keys)
    verified_by_dkimpy = _dkimpy_verifies(signed, record)
    assert verified_by_dkimpy is variant.dkimpy
    verdict = dkim_rules.evaluate(_answer(record), expected=keys.expected)
    assert verdict.status == variant.status
    assert (verdict.status == VERIFIED) is not verified_by_dkimpy


@pytest.mark.parametrize("record", [
    "v=DKIM1; k=rsa; " + "x" * 30_000,  # a part that is no tag=value pair
    "v=DKIM1; k=" + "e" * 30_000 + "; p=MIIB",  # a huge key type
    "v=DKIM1; h=" + "s" * 30_000 + "; p=MIIB",
    "v=" + "D" * 30_000 + "; p=MIIB",
], ids=["no-tag", "k", "h", "v"])
def test_an_explanation_never_embeds_a_whole_huge_published_value(record, keys):
    """Issue 9, item 17: a 30 KB published value is quoted shortened, not echoed whole."""
    verdict = dkim_rules.evaluate(_answer(record), expected=keys.expected)
    assert verdict.status == FAILED
    assert len(verdict.explanation) < 2000 and "…" in verdict.explanation

"""DKIM signing and verifying with dkimpy, the public keys looked up through the DNS lab's resolver (never the
system's): what a receiver does with a message signed by the domain's key.

    signed = sign(message("mail.tsig1.test"), domain="mail.tsig1.test", selector="stackshift", key_pem=pem)
    assert verify(signed, dnslab)

dkimpy asks its `dnsfunc` for a TXT record as `dnsfunc(name, timeout=...)`, `name` being bytes that end with a dot
(b"stackshift._domainkey.mail.tsig1.test."), and wants the record's character-strings joined into one bytes value,
or None when there is none (dkim/dnsplug.py, get_txt_dnspython: the first TXT record of the answer, strings joined
with no separator). `lab_txt` does that against `lab.resolver` ("127.0.0.1:PORT"). A lookup that cannot finish
(timeout, SERVFAIL) raises dkim.DnsTimeoutError, which dkimpy reports as a failed verification with that reason
(dkimpy's own plug-in reads SERVFAIL as "no record"; here it is kept apart, so a broken lab is not a missing key).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, NamedTuple

TXT_TIMEOUT = 5.0


def message(sender_domain: str) -> bytes:
    """A small RFC 5322 message from someone@<sender_domain>, CRLF line endings."""
    lines = [
        f"From: Someone <someone@{sender_domain}>",
        "To: Receiver <receiver@example.net>",
        "Subject: DKIM lab message",
        "Date: Thu, 01 Jan 2026 12:00:00 +0000",
        f"Message-ID: <dkim-lab.1@{sender_domain}>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Hello from the DNS lab.",
        "This body is covered by the DKIM body hash.",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def sign(message: bytes, *, domain: str, selector: str, key_pem: bytes) -> bytes:
    """`message` with a DKIM-Signature header (rsa-sha256, relaxed/relaxed) made with `key_pem` for d=`domain`,
    s=`selector`, placed first: the signed message."""
    import dkim

    header = dkim.sign(message, selector.encode("ascii"), domain.encode("ascii"), key_pem,
                       canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"rsa-sha256",
                       logger=_quiet_logger())
    return header + message


def lab_txt(lab: Any) -> Callable[..., bytes | None]:
    """A dkimpy `dnsfunc` that asks the lab's resolver (`lab.resolver`, "IP:PORT") for TXT records."""
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    host, _, port = lab.resolver.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)

    def txt(name: bytes, timeout: float = TXT_TIMEOUT) -> bytes | None:
        import dkim

        try:
            answer = resolver.resolve(name.decode("ascii"), "TXT", raise_on_no_answer=False, lifetime=timeout,
                                      search=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.resolver.NoNameservers as exc:
            raise dkim.DnsTimeoutError(f"the lab resolver could not answer: {exc}") from None
        except dns.exception.Timeout as exc:
            raise dkim.DnsTimeoutError(f"the lab resolver timed out: {exc}") from None
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None

    return txt


def verify(signed: bytes, lab: Any) -> bool:
    """Whether the first DKIM signature of `signed` verifies, its key looked up through the lab (dkim.verify)."""
    import dkim

    return bool(dkim.verify(signed, logger=_quiet_logger(), dnsfunc=lab_txt(lab)))


class Verification(NamedTuple):
    valid: bool
    reason: str | None  # why it did not verify, as dkimpy says it (None when valid)


def verify_details(signed: bytes, lab: Any) -> Verification:
    """As `verify`, with the reason when it fails: what dkimpy raised or logged as an error (a missing key, a body
    hash mismatch, a DNS failure), else that the signature over the headers did not verify."""
    import dkim

    logger, errors = _collecting_logger()
    checker = dkim.DKIM(signed, logger=logger, timeout=TXT_TIMEOUT)
    try:
        valid = bool(checker.verify(dnsfunc=lab_txt(lab)))
    except dkim.DKIMException as exc:
        return Verification(False, str(exc))
    if valid:
        return Verification(True, None)
    if errors:
        return Verification(False, "; ".join(errors))
    if not any(name.lower() == b"dkim-signature" for name, _ in checker.headers):
        return Verification(False, "the message has no DKIM-Signature header")
    return Verification(False, "the signature (b=) does not verify over the signed headers with the published key")


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("tests.dkim_lab.quiet")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _collecting_logger() -> tuple[logging.Logger, list[str]]:
    """A logger of its own (not shared between calls or threads) that keeps the messages dkimpy logs as errors."""
    errors: list[str] = []
    logger = logging.Logger("tests.dkim_lab.details")  # not registered: garbage with its handler
    logger.propagate = False
    logger.addHandler(_Collect(errors))
    return logger, errors

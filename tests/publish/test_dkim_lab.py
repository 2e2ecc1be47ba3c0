"""Mail signed with a domain's DKIM key verifies once `domains publish` has written its records to the lab
(tests/dkim_lab.py: dkimpy, keys looked up through the lab's resolver); a changed body, an unpublished selector or
another key does not."""

from __future__ import annotations

import email
import json
from pathlib import Path

import pytest

from tests.dkim_lab import message, sign, verify, verify_details


def published(cli, domain: str, *create_args: str) -> dict:
    """Create `domain`, publish its records through RFC 2136, and return `domains show --json`."""
    result = cli("domains", "create", domain, "--json", *create_args)
    assert result.exit_code == 0, result.stderr
    publish = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes")
    assert publish.exit_code == 0, publish.stderr
    shown = cli("domains", "show", domain, "--json")
    assert shown.exit_code == 0, shown.stderr
    return json.loads(shown.stdout)


def key_pem(shown: dict) -> bytes:
    return Path(shown["dkimPrivateKeyPath"]).read_bytes()


@pytest.fixture
def signed(cli, dnslab, zone) -> tuple[bytes, dict]:
    shown = published(cli, f"mail.{zone}")
    mail = sign(message(shown["name"]), domain=shown["name"], selector=shown["dkimSelector"], key_pem=key_pem(shown))
    return mail, shown


def test_the_message_is_small_and_from_the_domain():
    parsed = email.message_from_bytes(message("mail.example.test"))
    assert parsed["From"] == "Someone <someone@mail.example.test>"
    assert parsed.get_payload().startswith("Hello")


def test_a_message_signed_with_the_published_key_verifies(signed, dnslab):
    mail, shown = signed
    header = mail.split(b"\r\n", 1)[0]
    assert header.startswith(b"DKIM-Signature:") and b"a=rsa-sha256" in mail and b"c=relaxed/relaxed" in mail
    assert f"d={shown['name']}".encode() in mail and f"s={shown['dkimSelector']}".encode() in mail
    assert verify(mail, dnslab) is True
    assert verify_details(mail, dnslab) == (True, None)


def test_a_changed_body_does_not_verify(signed, dnslab):
    mail, _ = signed
    tampered = mail.replace(b"Hello from the DNS lab.", b"Hello from somewhere else.")
    assert tampered != mail
    assert verify(tampered, dnslab) is False
    valid, reason = verify_details(tampered, dnslab)
    assert not valid and "body hash mismatch" in reason


def test_a_changed_signed_header_does_not_verify(signed, dnslab):
    mail, _ = signed
    tampered = mail.replace(b"Subject: DKIM lab message", b"Subject: DKIM lab messages")
    assert verify(tampered, dnslab) is False
    valid, reason = verify_details(tampered, dnslab)
    assert not valid and "does not verify" in reason


def test_a_selector_with_no_record_does_not_verify(signed, dnslab):
    _, shown = signed
    mail = sign(message(shown["name"]), domain=shown["name"], selector="unpublished", key_pem=key_pem(shown))
    assert verify(mail, dnslab) is False
    valid, reason = verify_details(mail, dnslab)
    assert not valid and "missing public key" in reason and "unpublished._domainkey" in reason


def test_another_key_under_the_published_selector_does_not_verify(signed, dnslab):
    from stackshift_cli.keys import generate_dkim_keypair

    _, shown = signed
    other_pem, _ = generate_dkim_keypair()
    mail = sign(message(shown["name"]), domain=shown["name"], selector=shown["dkimSelector"], key_pem=other_pem)
    assert verify(mail, dnslab) is False
    assert verify_details(mail, dnslab).reason


def test_an_unsigned_message_does_not_verify(dnslab):
    assert verify(message("mail.example.test"), dnslab) is False
    assert verify_details(message("mail.example.test"), dnslab) == (False, "the message has no DKIM-Signature header")


def test_a_4096_bit_key_signs_mail_that_verifies_through_its_split_record(cli, dnslab, zone):
    shown = published(cli, f"big.{zone}", "--key-size", "4096")
    mail = sign(message(shown["name"]), domain=shown["name"], selector=shown["dkimSelector"], key_pem=key_pem(shown))
    assert verify_details(mail, dnslab) == (True, None)

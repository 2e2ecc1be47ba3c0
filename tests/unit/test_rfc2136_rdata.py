"""The rfc2136 provider's pure parts: the rdata an update carries (RFC 1035 3.3, RFC 8945 6)."""

from __future__ import annotations

import pytest

from stackshift_cli.providers import ZoneRecord
from stackshift_cli.providers.rfc2136 import _algorithm, _rdata


def test_txt_longer_than_255_octets_is_split_into_character_strings_rfc1035_3_3():
    value = "v=DKIM1; k=rsa; p=" + "A" * 400
    rdata = _rdata(ZoneRecord("TXT", "s._domainkey.example.com", value))
    assert [len(s) for s in rdata.strings] == [255, len(value) - 255]
    assert b"".join(rdata.strings).decode() == value


def test_txt_read_from_a_server_is_removed_in_the_strings_it_was_published_in():
    record = ZoneRecord("TXT", "example.com", "v=spf1 mx -all", strings=("v=spf1 ", "mx -all"))
    assert _rdata(record).strings == (b"v=spf1 ", b"mx -all")


def test_cname_and_mx_targets_are_absolute():
    assert _rdata(ZoneRecord("CNAME", "b.example.com", "bounces.stackshift.email")).to_text() == \
        "bounces.stackshift.email."
    assert _rdata(ZoneRecord("MX", "i.example.com", "inbound.stackshift.email", priority=10)).to_text() == \
        "10 inbound.stackshift.email."


@pytest.mark.parametrize("name, wire", [("hmac-sha256", "hmac-sha256."), ("HMAC-SHA512", "hmac-sha512."),
                                        ("hmac-md5", "HMAC-MD5.SIG-ALG.REG.INT.")])
def test_tsig_algorithm_names_rfc8945_6(name, wire):
    assert str(_algorithm(name)) == wire

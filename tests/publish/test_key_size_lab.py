"""A 4096-bit DKIM key in the DNS lab: its 754-byte record published through RFC 2136 (three strings) and verified."""

from __future__ import annotations

import json


def test_a_4096_bit_key_is_published_in_strings_and_verified(cli, dnslab, zone):
    domain = f"mail.{zone}"
    result = cli("domains", "create", domain, "--key-size", "4096", "--json")
    assert result.exit_code == 0, result.stderr
    value = next(r["value"] for r in json.loads(result.stdout)["records"] if r["purpose"] == "dkim")
    published = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes")
    assert published.exit_code == 0, published.stderr
    [rdata] = dnslab.rdatas(f"stackshift._domainkey.{domain}", "TXT")
    assert len(rdata.strings) == 3 and b"".join(rdata.strings).decode() == value
    verify = cli("domains", "verify", domain, "--json")
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["dkimStatus"] == "verified"

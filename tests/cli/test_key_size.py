"""`stackshift domains create --key-size`: the key of that size on disk, its p= in the record, the 1024 warning,
the choices, the API backend's refusal, and a 4096-bit key's record in every format."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import pytest

from tests.helpers import run_on_pty


def created(cli, name: str, *args: str) -> dict:
    result = cli("domains", "create", name, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def private_key(cli, name: str):
    """The domain's private key, loaded from the file `domains show --json` names."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = cli("domains", "show", name, "--json").json()["dkimPrivateKeyPath"]
    return load_pem_private_key(Path(path).read_bytes(), password=None)


def public_b64(key) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def dkim_value(domain: dict) -> str:
    return next(r["value"] for r in domain["records"] if r["purpose"] == "dkim")


@pytest.mark.parametrize("bits", [1024, 2048, 3072, 4096])
def test_each_size_makes_a_key_of_that_size_whose_public_half_is_the_record(local_cli, bits):
    domain = created(local_cli, f"k{bits}.example", "--key-size", str(bits))
    key = private_key(local_cli, domain["name"])
    assert key.key_size == bits
    assert dkim_value(domain) == f"v=DKIM1; k=rsa; p={public_b64(key)}"


def test_without_the_option_the_key_has_2048_bits_and_no_warning(local_cli):
    result = local_cli("domains", "create", "plain.example")
    assert result.exit_code == 0, result.stderr
    assert "Warning" not in result.stderr
    assert private_key(local_cli, "plain.example").key_size == 2048


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_1024_bits_warns_that_receivers_treat_it_as_weak_and_goes_on(local_cli, json_flag):
    result = local_cli("domains", "create", "weak.example", "--key-size", "1024", *json_flag)
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "1024-bit" in warnings[0] and "weak" in warnings[0] and "Gmail" in warnings[0]
    assert "BEGIN" not in result.stdout + result.stderr
    assert local_cli("domains", "show", "weak.example").exit_code == 0


def test_2048_and_up_do_not_warn(local_cli):
    for bits in ("2048", "3072"):
        result = local_cli("domains", "create", f"s{bits}.example", "--key-size", bits)
        assert result.exit_code == 0 and "Warning" not in result.stderr


def test_an_existing_domain_with_exist_ok_is_not_warned_about(local_cli):
    created(local_cli, "old.example")
    result = local_cli("domains", "create", "old.example", "--exist-ok", "--key-size", "1024")
    assert result.exit_code == 0 and "Warning" not in result.stderr
    assert private_key(local_cli, "old.example").key_size == 2048  # the existing key, unchanged


@pytest.mark.parametrize("size", ["512", "2047", "8192", "big", ""])
def test_another_size_is_a_usage_error_and_nothing_is_stored(local_cli, data_dir, size):
    result = local_cli("domains", "create", "bad.example", "--key-size", size)
    assert result.exit_code == 2
    assert "--key-size" in result.stderr and "1024" in result.stderr and result.stdout == ""
    assert local_cli("domains", "list", "--json").json() == []
    keys = data_dir / "keys"
    assert not keys.exists() or not any(keys.iterdir())


@pytest.mark.parametrize("bits", ["1024", "3072", "4096"])
def test_the_api_backend_refuses_a_key_size_before_sending_anything(api_server, bits):
    from tests.helpers import Cli

    cli = Cli(api_server.env())
    result = cli("domains", "create", "sized.example", "--key-size", bits)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == ("Error: The StackShift API does not let clients choose the DKIM key size; omit --key-size.")
    assert len(lines) == 2 and "--backend local" in lines[1]  # one line and its hint
    assert result.stdout == ""
    assert api_server.requests_to("POST") == [] and api_server.domains() == []


def test_the_api_backend_takes_2048_the_size_it_makes_and_sends_no_size(api_server):
    from tests.helpers import Cli

    cli = Cli(api_server.env())
    result = cli("domains", "create", "sized.example", "--key-size", "2048", "--json")
    assert result.exit_code == 0, result.stderr
    assert api_server.requests_to("POST", "/mail/domains")[0].body == {"name": "sized.example"}


# ---------------------------------------------------------------- a 4096-bit key's record (754 bytes) in every format


@pytest.fixture
def big(local_cli) -> tuple[str, str]:
    """A domain with a 4096-bit key: its name and its DKIM record's value (over 255 bytes)."""
    domain = created(local_cli, "big.example", "--key-size", "4096")
    value = dkim_value(domain)
    assert len(value.encode()) > 2 * 255  # three strings in a zone
    return domain["name"], value


def test_4096_record_in_json_plain_and_csv_is_whole(local_cli, big):
    name, value = big
    as_json = local_cli("domains", "records", name, "--format", "json").json()
    assert [r["value"] for r in as_json if r["purpose"] == "dkim"] == [value]
    plain = local_cli("domains", "records", name, "--format", "plain").stdout.splitlines()
    assert f"stackshift._domainkey\tTXT\t{value}" in plain
    rows = list(csv.DictReader(io.StringIO(local_cli("domains", "records", name, "--format", "csv").stdout)))
    assert [r["value"] for r in rows if r["purpose"] == "dkim"] == [value]


def test_4096_record_in_a_zone_is_split_into_strings_of_at_most_255_bytes_that_join_to_the_value(local_cli, big):
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    name, value = big
    zone = local_cli("domains", "records", name, "--format", "zone").stdout
    line = next(line for line in zone.splitlines() if line.startswith(f"stackshift._domainkey.{name}."))
    owner, ttl, klass, rtype, rdata_text = line.split("\t")
    assert (klass, rtype) == ("IN", "TXT")
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata_text)
    assert len(rdata.strings) == 3 and all(len(s) <= 255 for s in rdata.strings)
    assert b"".join(rdata.strings).decode() == value


def test_4096_record_on_a_terminal_is_cut_in_the_table_and_whole_in_the_copy_ready_lines(big):
    name, value = big
    code, screen = run_on_pty("domains", "records", name, columns=120)
    assert code == 0, screen
    assert "…" in screen  # the table cuts the long value
    assert f"stackshift._domainkey\tTXT\t{value}" in screen.splitlines()

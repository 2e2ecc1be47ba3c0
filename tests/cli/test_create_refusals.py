"""`domains create` refuses names that cannot be sender domains or whose records cannot be published, and
warns about look-alike names; refusals quote the input shortened and escaped (issue 9, items 9, 16, 17)."""

from __future__ import annotations

import pytest

LABEL = "a" * 63


@pytest.mark.parametrize("name", ["co.uk", "github.io", "pvt.k12.ma.us", "CO.UK."],
                         ids=["co.uk", "github.io", "three-labels", "case"])
def test_a_public_suffix_is_refused(cli, name):
    result = cli("domains", "create", name)
    assert result.exit_code == 2
    assert "is a public suffix" in result.stderr and "such as example." in result.stderr
    assert cli("domains", "list", "--json").json() == []


@pytest.mark.parametrize("name, selector, octets", [
    pytest.param(f"{LABEL}.{LABEL}.{LABEL}.{'d' * 57}.com", None, 275, id="253-octet-name"),
    pytest.param("example.com", ".".join(["s" * 63] * 4), 278, id="selector-of-four-63-octet-labels"),
    pytest.param(f"{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 36}.com", None, 254, id="one-octet-over"),
])
def test_a_domain_whose_record_names_would_exceed_253_octets_is_refused(cli, name, selector, octets):
    args = ["domains", "create", name] + (["--dkim-selector", selector] if selector else [])
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert f"which is {octets} octets long; a DNS name has at most 253" in result.stderr
    assert cli("domains", "list", "--json").json() == []


def test_a_domain_whose_longest_record_name_is_253_octets_is_accepted(cli):
    name = f"{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 35}.com"  # stackshift._domainkey. + name = 253 octets
    assert len(f"stackshift._domainkey.{name}") == 253
    assert cli("domains", "create", name).exit_code == 0


def test_a_name_mixing_latin_and_cyrillic_is_created_with_a_warning_showing_both_forms(cli):
    result = cli("domains", "create", "p\u0430ypal.com", "--json")  # a Cyrillic 'а'
    assert result.exit_code == 0
    assert result.json()["name"] == "xn--pypal-4ve.com"
    assert "p\u0430ypal.com (xn--pypal-4ve.com) mixes Cyrillic and Latin letters" in result.stderr


@pytest.mark.parametrize("name", ["bücher.example", "例え.jp", "пример.рф"], ids=["latin", "japanese", "cyrillic"])
def test_a_name_in_one_script_gets_no_warning(cli, name):
    result = cli("domains", "create", name)
    assert result.exit_code == 0
    assert "mixes" not in result.stderr


def test_a_refusal_quotes_long_input_shortened_and_escaped(cli):
    hostile = "\x1b[2J" + "x" * 5000 + "!.com"
    result = cli("domains", "create", hostile)
    assert result.exit_code == 2
    line = result.stderr.splitlines()[0]
    assert "\x1b" not in result.stderr and "\\x1b[2J" in line
    assert len(line) < 250 and "…" in line

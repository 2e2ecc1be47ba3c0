"""dkim_export: the OpenDKIM lines, the Rspamd entry, the PEM check, and what each format refuses to carry."""

from __future__ import annotations

import pytest

from stackshift_cli.dkim_export import UnsafeForConfig, opendkim_lines, pem_text, rspamd_config
from stackshift_cli.errors import ExitCode, StackshiftError

KEY = "/var/lib/stackshift/keys/dom_0123456789abcdef.pem"


def test_opendkim_key_table_and_signing_table_lines():
    lines = opendkim_lines("example.com", "stackshift", KEY)
    assert lines.key_table == f"stackshift._domainkey.example.com example.com:stackshift:{KEY}"
    assert lines.signing_table == "*@example.com stackshift._domainkey.example.com"


def test_opendkim_lines_for_a_selector_of_two_labels_and_an_idn():
    lines = opendkim_lines("xn--bcher-kva.example", "s1.mail", KEY)
    assert lines.key_table == f"s1.mail._domainkey.xn--bcher-kva.example xn--bcher-kva.example:s1.mail:{KEY}"
    assert lines.signing_table == "*@xn--bcher-kva.example s1.mail._domainkey.xn--bcher-kva.example"


def test_rspamd_entry_is_the_documented_domain_section():
    assert rspamd_config("example.com", "stackshift", KEY) == (
        "domain {\n"
        "  example.com {\n"
        f'    path = "{KEY}";\n'
        '    selector = "stackshift";\n'
        "  }\n"
        "}")


@pytest.mark.parametrize("path", [
    "/data dir/keys/k.pem", "/data\tdir/k.pem", "/data\ndir/k.pem", "/c:/keys/k.pem", "/a#b/k.pem", '/a"b/k.pem',
    "/a'b/k.pem", "/a\\b/k.pem", "/a\x1bb/k.pem", "/a\u2028b/k.pem", "relative/k.pem", "",
])
def test_opendkim_refuses_a_path_its_key_table_cannot_carry(path):
    with pytest.raises(UnsafeForConfig) as caught:
        opendkim_lines("example.com", "stackshift", path)
    assert caught.value.exit_code == ExitCode.ERROR and caught.value.hint
    assert "\n" not in caught.value.message and "\x1b" not in caught.value.message  # quoted: shown escaped


@pytest.mark.parametrize("path", ['/a"b/k.pem', "/a\\b/k.pem", "/$domain/k.pem", "/a\nb/k.pem", "/a\x00b/k.pem",
                                  "k.pem"])
def test_rspamd_refuses_a_path_its_string_cannot_carry(path):
    with pytest.raises(UnsafeForConfig):
        rspamd_config("example.com", "stackshift", path)


@pytest.mark.parametrize("path", ["/Users/me/Library/Application Support/stackshift/keys/k.pem", "/c:/k.pem",
                                  "/a#b/k.pem", "/a'b/k.pem"])
def test_rspamd_takes_what_a_quoted_ucl_string_carries(path):
    assert f'path = "{path}";' in rspamd_config("example.com", "stackshift", path)


@pytest.mark.parametrize("domain, selector", [
    ("Example.com", "stackshift"), ("example.com ", "stackshift"), ("example.com", "s:1"), ("example.com", ""),
    ("exa mple.com", "s"), ("example.com\n", "s"), ("example..com", "s"), ("example.com", 'a"b'),
])
def test_names_that_are_not_dns_names_are_refused_by_both_formats(domain, selector):
    for build in (opendkim_lines, rspamd_config):
        with pytest.raises(UnsafeForConfig):
            build(domain, selector, KEY)


def test_pem_text_is_the_file_without_its_final_line_break():
    pem = b"-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkq\nhkiG9w0BAQEFAASC==\n-----END PRIVATE KEY-----\n"
    assert pem_text(pem, KEY) == pem.decode().rstrip("\n")
    assert pem_text(pem.replace(b"\n", b"\r\n"), KEY) == pem.decode().rstrip("\n")


@pytest.mark.parametrize("data", [
    b"", b"not a key\n", b"-----BEGIN PRIVATE KEY-----\nMIIB\x1b[31m\n-----END PRIVATE KEY-----\n",
    b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
    b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\nmore\n",
    b"-----BEGIN PRIVATE KEY-----\n" + b"A" * 70_000 + b"\n-----END PRIVATE KEY-----\n",
])
def test_pem_text_refuses_anything_but_one_pem_block(data):
    with pytest.raises(StackshiftError) as caught:
        pem_text(data, KEY)
    assert "does not hold a PEM private key" in caught.value.message and caught.value.hint

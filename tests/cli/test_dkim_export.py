"""`stackshift domains dkim-export NAME|ID --format opendkim|rspamd|pem [--reveal]`: what each format prints, where
the notes go, that the key itself appears only with --reveal, and the refusals (unsafe paths, the API backend)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from tests.helpers import Cli


def created(cli: Cli, name: str) -> dict:
    result = cli("domains", "create", name, "--json")
    assert result.exit_code == 0, result.stderr
    shown = cli("domains", "show", name, "--json")
    assert shown.exit_code == 0, shown.stderr
    return shown.json()


@pytest.fixture
def domain(local_cli) -> dict:
    return created(local_cli, "example.com")


def key_body_lines(domain: dict) -> list[str]:
    """The base64 lines of the domain's key file: none may appear in an output without --reveal."""
    pem = Path(domain["dkimPrivateKeyPath"]).read_text()
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_opendkim_prints_the_key_table_line_then_the_signing_table_line(local_cli, domain):
    path = domain["dkimPrivateKeyPath"]
    result = local_cli("domains", "dkim-export", "example.com", "--format", "opendkim")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"stackshift._domainkey.example.com example.com:stackshift:{path}",
                                          "*@example.com stackshift._domainkey.example.com"]
    assert "KeyTable" in result.stderr and "SigningTable" in result.stderr and "refile:" in result.stderr
    owner = pwd.getpwuid(os.stat(path).st_uid).pw_name
    assert "OpenDKIM must be able to read the key file" in result.stderr and "0600" in result.stderr
    assert f"owned by {owner}, in a directory only {owner} can enter" in result.stderr


def test_the_id_and_a_selector_of_the_users_choice_work_too(local_cli):
    result = local_cli("domains", "create", "sel.example", "--dkim-selector", "S2026", "--json")
    domain_id = result.json()["id"]
    lines = local_cli("domains", "dkim-export", domain_id, "-f", "opendkim").stdout.splitlines()
    assert lines[0].startswith("s2026._domainkey.sel.example sel.example:s2026:/")
    assert lines[1] == "*@sel.example s2026._domainkey.sel.example"


def test_rspamd_prints_the_domain_section_of_local_d_dkim_signing_conf(local_cli, domain):
    result = local_cli("domains", "dkim-export", "example.com", "--format", "rspamd")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f'domain {{\n  example.com {{\n    path = "{domain["dkimPrivateKeyPath"]}";\n'
                             '    selector = "stackshift";\n  }\n}\n')
    assert "local.d/dkim_signing.conf" in result.stderr and "_rspamd" in result.stderr
    assert "use_esld" not in result.stderr  # example.com is its own registrable domain


def test_rspamd_for_a_subdomain_says_to_turn_off_use_esld(local_cli):
    created(local_cli, "mail.example.com")
    result = local_cli("domains", "dkim-export", "mail.example.com", "--format", "rspamd")
    assert result.exit_code == 0
    assert "use_esld = false;" in result.stderr and "mail.example.com" in result.stdout


def test_pem_without_reveal_prints_the_path_and_says_how_to_get_the_key(local_cli, domain):
    result = local_cli("domains", "dkim-export", "example.com", "--format", "pem")
    assert result.exit_code == 0
    assert result.stdout == domain["dkimPrivateKeyPath"] + "\n"
    assert "--reveal" in result.stderr


def test_pem_with_reveal_prints_the_key_file_as_it_is(local_cli, domain):
    result = local_cli("domains", "dkim-export", "example.com", "--format", "pem", "--reveal")
    assert result.exit_code == 0
    assert result.stdout == Path(domain["dkimPrivateKeyPath"]).read_text()
    assert result.stdout.startswith("-----BEGIN PRIVATE KEY-----\n")


@pytest.mark.parametrize("fmt", ["opendkim", "rspamd", "pem"])
def test_json_names_the_domain_selector_key_path_and_format(local_cli, domain, fmt):
    result = local_cli("domains", "dkim-export", "example.com", "--format", fmt, "--json")
    assert result.exit_code == 0 and result.stderr == ""
    data = result.json()
    common = {"domain": "example.com", "selector": "stackshift", "keyPath": domain["dkimPrivateKeyPath"],
              "format": fmt}
    assert {k: data[k] for k in common} == common
    extra = set(data) - set(common)
    assert extra == {"opendkim": {"opendkim"}, "rspamd": {"rspamd"}, "pem": set()}[fmt]
    if fmt == "opendkim":
        human = local_cli("domains", "dkim-export", "example.com", "--format", fmt).stdout.splitlines()
        assert data["opendkim"] == {"keyTable": human[0], "signingTable": human[1]}
    if fmt == "rspamd":
        assert data["rspamd"] + "\n" == local_cli("domains", "dkim-export", "example.com", "--format", fmt).stdout


def test_json_with_reveal_holds_the_pem(local_cli, domain):
    data = local_cli("domains", "dkim-export", "example.com", "-f", "pem", "--reveal", "--json").json()
    assert data["pem"] + "\n" == Path(domain["dkimPrivateKeyPath"]).read_text()


@pytest.mark.parametrize("args", [
    ["-f", "opendkim"], ["-f", "rspamd"], ["-f", "pem"], ["-f", "opendkim", "--json"], ["-f", "pem", "--json"],
    ["-f", "rspamd", "--json"],
])
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_the_key_is_in_no_output_without_reveal(local_cli, domain, args, debug):
    result = local_cli(*debug, "domains", "dkim-export", "example.com", *args)
    assert result.exit_code == 0, result.stderr
    shown = result.stdout + result.stderr
    assert "PRIVATE KEY" not in shown
    assert not any(line in shown for line in key_body_lines(domain))


def test_reveal_goes_with_pem_only(local_cli, domain):
    for fmt in ("opendkim", "rspamd"):
        result = local_cli("domains", "dkim-export", "example.com", "-f", fmt, "--reveal")
        assert result.exit_code == 2 and result.stdout == ""
        assert "--reveal goes with --format pem" in result.stderr and "PRIVATE KEY" not in result.stderr


@pytest.mark.parametrize("args", [[], ["--format", "bind"], ["--format", "PEM"]])
def test_a_missing_or_unknown_format_is_a_usage_error(local_cli, domain, args):
    result = local_cli("domains", "dkim-export", "example.com", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert "--format" in result.stderr


def test_an_unknown_domain_exits_5(local_cli):
    result = local_cli("domains", "dkim-export", "nowhere.example", "-f", "opendkim")
    assert result.exit_code == 5 and result.stdout == ""


def test_a_missing_key_file_is_an_error_not_a_config_naming_it(local_cli, domain):
    os.unlink(domain["dkimPrivateKeyPath"])
    for fmt in ("opendkim", "rspamd", "pem"):
        result = local_cli("domains", "dkim-export", "example.com", "-f", fmt)
        assert result.exit_code == 1 and result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[0].startswith("Error: The DKIM private key of example.com cannot be read at ") and len(lines) == 2


def test_a_key_file_that_is_not_a_pem_key_is_not_revealed(local_cli, domain):
    Path(domain["dkimPrivateKeyPath"]).write_bytes(b"\x1b]0;owned\x07 not a key\n")
    result = local_cli("domains", "dkim-export", "example.com", "-f", "pem", "--reveal")
    assert result.exit_code == 1 and result.stdout == ""
    assert "does not hold a PEM private key" in result.stderr and "\x1b" not in result.stderr


# ---------------------------------------------------------------- data directories whose path a format cannot carry


def in_data_dir(tmp_path, dirname: str) -> tuple[Cli, dict]:
    cli = Cli({"STACKSHIFT_BACKEND": "local", "STACKSHIFT_DATA_DIR": str(tmp_path / dirname)})
    return cli, created(cli, "example.com")


@pytest.mark.parametrize("dirname", ["Application Support", "c:drive", "hash#dir", "quote'dir"])
def test_opendkim_refuses_a_key_path_its_key_table_would_cut_and_rspamd_takes_it(tmp_path, dirname):
    cli, domain = in_data_dir(tmp_path, dirname)
    result = cli("domains", "dkim-export", "example.com", "-f", "opendkim")
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Error: The key file's path ") and "KeyTable" in lines[0]
    assert "STACKSHIFT_DATA_DIR" in lines[1]
    rspamd = cli("domains", "dkim-export", "example.com", "-f", "rspamd")
    assert rspamd.exit_code == 0 and f'path = "{domain["dkimPrivateKeyPath"]}";' in rspamd.stdout


@pytest.mark.parametrize("dirname, opendkim_too", [('quote"dir', True), ("back\\slash", True),
                                                    ("dollar$domain", False)])
def test_rspamd_refuses_a_key_path_its_string_cannot_carry(tmp_path, dirname, opendkim_too):
    cli, _ = in_data_dir(tmp_path, dirname)
    result = cli("domains", "dkim-export", "example.com", "-f", "rspamd")
    assert result.exit_code == 1 and result.stdout == "" and len(result.stderr.splitlines()) == 2
    assert "Rspamd" in result.stderr
    opendkim = cli("domains", "dkim-export", "example.com", "-f", "opendkim")
    assert opendkim.exit_code == (1 if opendkim_too else 0)  # OpenDKIM replaces no $variables in a key path


def test_a_path_with_a_line_break_is_refused_by_both_formats_and_printed_escaped_by_pem(tmp_path):
    cli, domain = in_data_dir(tmp_path, "line\nbreak")
    for fmt in ("opendkim", "rspamd"):
        result = cli("domains", "dkim-export", "example.com", "-f", fmt)
        assert result.exit_code == 1 and result.stdout == ""
        assert len(result.stderr.splitlines()) == 2 and "line\\nbreak" in result.stderr
    pem = cli("domains", "dkim-export", "example.com", "-f", "pem")
    assert pem.exit_code == 0 and pem.stdout == domain["dkimPrivateKeyPath"].replace("\n", "\\n") + "\n"


# ---------------------------------------------------------------- the API backend keeps the key


@pytest.mark.parametrize("args", [["-f", "opendkim"], ["-f", "rspamd"], ["-f", "pem"], ["-f", "pem", "--reveal"],
                                  ["-f", "pem", "--json"]])
def test_the_api_backend_cannot_export_a_key_it_keeps(api_server, args):
    cli = Cli(api_server.env())
    assert cli("domains", "create", "api.example").exit_code == 0
    api_server.requests.clear()
    result = cli("domains", "dkim-export", "api.example", *args)
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: The StackShift API keeps the DKIM private key (it signs with it); it cannot be exported."
    assert len(lines) == 2 and "--backend local" in lines[1]
    assert api_server.requests == []  # nothing asked of the API

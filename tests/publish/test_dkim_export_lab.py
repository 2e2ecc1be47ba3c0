"""The exported OpenDKIM and Rspamd config against the DNS lab: OpenDKIM's own key test (opendkim-testkey, from
Debian's opendkim-tools) accepts the KeyTable line, and mail signed with the key path and selector read back from
each format verifies (dkimpy, tests/dkim_lab.py).

opendkim-testkey resolves through libunbound, which its config file points at an Unbound config
(`ResolverConfiguration` in Debian's 2.11 build): a `forward-zone` to the lab's resolver at `IP@PORT` reaches the
lab on its port. Two things matter there: Unbound answers names under `test.` itself (NXDOMAIN, RFC 6761) unless
`local-zone: "test." nodefault`, and it queries no 127.0.0.0/8 address unless `do-not-query-localhost: no`.
With a KeyTable, opendkim-testkey exits 0 whatever it found: its verdict is the "N pass, M fail" line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.dkim_lab import message, sign, verify_details

_KEY_TABLE = re.compile(r"(?P<keyname>\S+) (?P<domain>[^:\s]+):(?P<selector>[^:\s]+):(?P<path>/\S+)")
_RSPAMD = re.compile(r'domain \{\n  (?P<domain>\S+) \{\n    path = "(?P<path>[^"]+)";\n'
                     r'    selector = "(?P<selector>[^"]+)";\n  \}\n\}')


def opendkim_testkey() -> str:
    found = shutil.which("opendkim-testkey") or shutil.which("opendkim-testkey", path="/usr/sbin:/sbin")
    assert found, "opendkim-testkey is not installed; scripts/test installs it (Debian's opendkim-tools)"
    return found


@pytest.fixture
def published(cli, dnslab, zone) -> dict:
    domain = f"mail.{zone}"
    assert cli("domains", "create", domain).exit_code == 0
    result = cli("domains", "publish", domain, "--provider", "rfc2136", "--yes")
    assert result.exit_code == 0, result.stderr
    return json.loads(cli("domains", "show", domain, "--json").stdout)


def exported(cli, domain: str, fmt: str) -> dict:
    result = cli("domains", "dkim-export", domain, "--format", fmt, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def run_testkey(lab, workdir: Path, key_table_line: str) -> subprocess.CompletedProcess[str]:
    """opendkim-testkey on a KeyTable of that one line, resolving through the lab."""
    host, _, port = lab.resolver.rpartition(":")
    (workdir / "KeyTable").write_text(key_table_line + "\n")
    (workdir / "unbound.conf").write_text(
        "server:\n"
        "    do-not-query-localhost: no\n"
        '    local-zone: "test." nodefault\n'
        "forward-zone:\n"
        '    name: "."\n'
        f"    forward-addr: {host}@{port}\n")
    (workdir / "opendkim.conf").write_text(f"KeyTable file:{workdir / 'KeyTable'}\n"
                                           f"ResolverConfiguration {workdir / 'unbound.conf'}\n")
    return subprocess.run([opendkim_testkey(), "-x", str(workdir / "opendkim.conf"), "-vvv"], capture_output=True,
                          text=True, timeout=60)


def test_opendkim_testkey_accepts_the_exported_key_table_line(cli, dnslab, published, tmp_path):
    data = exported(cli, published["name"], "opendkim")
    run = run_testkey(dnslab, tmp_path, data["opendkim"]["keyTable"])
    keyname = f"stackshift._domainkey.{published['name']}"
    assert "1 key checked; 1 pass, 0 fail" in run.stdout, run.stdout + run.stderr
    assert f"key {keyname}: OK" in run.stdout
    assert "unsafe permissions" not in run.stderr  # the file is 0600


def test_opendkim_testkey_fails_a_key_table_line_with_another_key(cli, dnslab, published, tmp_path):
    """The check above is not vacuous: the same line naming a key that is not the published one fails."""
    from stackshift_cli.keys import generate_dkim_keypair

    other = tmp_path / "other.pem"
    other.write_bytes(generate_dkim_keypair()[0])
    other.chmod(0o600)
    line = exported(cli, published["name"], "opendkim")["opendkim"]["keyTable"]
    run = run_testkey(dnslab, tmp_path, line.rsplit(":", 1)[0] + f":{other}")
    assert "1 key checked; 0 pass, 1 fail" in run.stdout, run.stdout + run.stderr


def test_mail_signed_as_the_key_table_line_says_verifies(cli, dnslab, published):
    data = exported(cli, published["name"], "opendkim")
    entry = _KEY_TABLE.fullmatch(data["opendkim"]["keyTable"])
    assert entry, data
    assert data["opendkim"]["signingTable"] == f"*@{entry['domain']} {entry['keyname']}"
    assert entry["keyname"] == f"{entry['selector']}._domainkey.{entry['domain']}"
    mail = sign(message(entry["domain"]), domain=entry["domain"], selector=entry["selector"],
                key_pem=Path(entry["path"]).read_bytes())
    assert verify_details(mail, dnslab) == (True, None)


def test_mail_signed_as_the_rspamd_entry_says_verifies(cli, dnslab, published):
    entry = _RSPAMD.fullmatch(exported(cli, published["name"], "rspamd")["rspamd"])
    assert entry
    mail = sign(message(entry["domain"]), domain=entry["domain"], selector=entry["selector"],
                key_pem=Path(entry["path"]).read_bytes())
    assert verify_details(mail, dnslab) == (True, None)


def test_the_revealed_pem_signs_mail_that_verifies(cli, dnslab, published):
    data = exported(cli, published["name"], "pem")
    assert "pem" not in data
    revealed = cli("domains", "dkim-export", published["name"], "--format", "pem", "--reveal")
    mail = sign(message(published["name"]), domain=published["name"], selector=published["dkimSelector"],
                key_pem=revealed.stdout.encode())
    assert verify_details(mail, dnslab) == (True, None)

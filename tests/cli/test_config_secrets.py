"""The publishing keys (`publish.*`), the DNS providers' own keys (`publish.PROVIDER.OPTION`), and secrets: set only
with `config set KEY -` (a hidden prompt, or standard input), shown as their last four characters, never echoed."""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib

import pytest

from stackshift_cli.config import KEYS, Settings, known_key
from stackshift_cli.configfile import ConfigFile
from stackshift_cli.errors import UsageError
from tests.helpers import Cli, run_process, stackshift_command, type_at_hidden_prompt

SECRET = "c2VjcmV0IGtleSBieXRlcyBmb3IgVFNJRw=="  # base64 of "secret key bytes for TSIG"
TOKEN = "pdns-token-Zq81xw"


@pytest.fixture
def cli(monkeypatch) -> Cli:
    """The CLI with nothing set in the environment, so `config list` shows only the file (no command here asks DNS)."""
    monkeypatch.delenv("STACKSHIFT_NAMESERVERS")
    return Cli()


def stored(config_dir) -> dict:
    path = config_dir / "config.toml"
    return tomllib.loads(path.read_text()).get("profiles", {}).get("default", {}) if path.exists() else {}


def assert_one_error(result, *phrases: str, code: int = 2) -> None:
    """One error line and its hint, never a traceback."""
    assert result.exit_code == code, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ") and len(lines) == 2, result.stderr
    assert "Traceback" not in result.stderr and "Internal error" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


# ---------------------------------------------------------------- the publish.* keys


@pytest.mark.parametrize(("key", "value", "kept"), [
    ("publish.provider", "CloudFlare", "cloudflare"),
    ("publish.provider", "rfc2136", "rfc2136"),
    ("publish.ttl", "60", 60),
    ("publish.ttl", "86400", 86400),
    ("publish.timeout", "10m", "10m"),
    ("publish.timeout", "45s", "45s"),
    ("publish.rfc2136.server", "NS1.Example.NET.", "ns1.example.net"),
    ("publish.rfc2136.server", "192.0.2.53", "192.0.2.53"),
    ("publish.rfc2136.server", "[2001:DB8::53]", "2001:db8::53"),
    ("publish.rfc2136.server", "localhost", "localhost"),
    ("publish.rfc2136.port", "5353", 5353),
    ("publish.rfc2136.key_name", "stackshift-key.", "stackshift-key"),
    ("publish.rfc2136.key_name", "TSIG_key.Example.com", "tsig_key.example.com"),
    ("publish.rfc2136.key_algorithm", "HMAC-SHA512", "hmac-sha512"),
    ("publish.rfc2136.key_algorithm", "hmac-md5", "hmac-md5"),
])
def test_a_good_value_is_stored_in_its_plain_form(cli, config_dir, key, value, kept):
    result = cli("config", "set", key, value)
    assert result.exit_code == 0, result.stderr
    node = stored(config_dir)
    for part in key.split("."):
        node = node[part]
    assert node == kept
    assert cli("config", "get", key, "--json").json() == {"key": key, "value": kept, "source": "file"}


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("publish.provider", "cloudflar", "is not a DNS provider stackshift can publish to"),
    ("publish.provider", "", "is not a DNS provider"),
    ("publish.ttl", "59", "use a whole number of seconds from 60 to 86400"),
    ("publish.ttl", "86401", "from 60 to 86400"),
    ("publish.ttl", "5m", "is not a TTL"),
    ("publish.ttl", "-300", "is not a TTL"),
    ("publish.timeout", "11m", "longer than 600s, the most a request to a DNS provider may take"),
    ("publish.timeout", "soon", "is not a duration"),
    ("publish.rfc2136.server", "192.0.2.53:5353", "its port is publish.rfc2136.port"),
    ("publish.rfc2136.server", "https://ns1.example.net", "is not a host name or an IP address"),
    ("publish.rfc2136.server", "ns1..example.net", "is not a host name or an IP address"),
    ("publish.rfc2136.server", "-ns1.example.net", "is not a host name"),
    ("publish.rfc2136.server", "ns1.exa mple.net", "is not a host name"),
    ("publish.rfc2136.server", "999.1.1.1", "is not a host name or an IP address"),
    ("publish.rfc2136.port", "0", "not a port"),
    ("publish.rfc2136.port", "65536", "not a port"),
    ("publish.rfc2136.key_name", "a..b", "is not a TSIG key name"),
    ("publish.rfc2136.key_name", "key name", "is not a TSIG key name"),
    ("publish.rfc2136.key_name", "x" * 64, "is not a TSIG key name"),
    ("publish.rfc2136.key_algorithm", "hmac-sha3", "is not one of: hmac-sha256, hmac-sha384"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_a_bad_value_is_one_error_line_and_nothing_is_written(cli, config_dir, key, value, fragment):
    result = cli("config", "set", key, "--", value)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ") and fragment in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) <= 2 and "Traceback" not in result.stderr
    assert not (config_dir / "config.toml").exists()


def test_the_publish_defaults(cli):
    data = {key: cli("config", "get", key, "--json").json() for key in
            ("publish.ttl", "publish.timeout", "publish.rfc2136.port", "publish.rfc2136.key_algorithm")}
    assert {k: (v["value"], v["source"]) for k, v in data.items()} == {
        "publish.ttl": (300, "default"), "publish.timeout": ("30s", "default"), "publish.rfc2136.port": (53, "default"),
        "publish.rfc2136.key_algorithm": ("hmac-sha256", "default")}
    for key in ("publish.provider", "publish.rfc2136.server", "publish.rfc2136.key_name",
                "publish.rfc2136.key_secret"):
        result = cli("config", "get", key)
        assert result.exit_code == 1 and result.stdout == "" and f"{key} is not set" in result.stderr


@pytest.mark.parametrize(("key", "variable", "in_env", "effective"), [
    ("publish.rfc2136.port", "STACKSHIFT_RFC2136_PORT", "5353", 5353),
    ("publish.rfc2136.server", "STACKSHIFT_RFC2136_SERVER", "ns2.example.net", "ns2.example.net"),
    ("publish.rfc2136.key_name", "STACKSHIFT_RFC2136_KEY_NAME", "other-key.", "other-key"),
    ("publish.rfc2136.key_algorithm", "STACKSHIFT_RFC2136_KEY_ALGORITHM", "hmac-sha384", "hmac-sha384"),
    ("publish.provider", "STACKSHIFT_PUBLISH_PROVIDER", "PowerDNS", "powerdns"),
])
def test_the_environment_overrides_the_file(cli, key, variable, in_env, effective):
    file_value = {"publish.rfc2136.port": "5300", "publish.rfc2136.server": "ns1.example.net",
                  "publish.rfc2136.key_name": "stackshift-key", "publish.rfc2136.key_algorithm": "hmac-sha512",
                  "publish.provider": "rfc2136"}[key]
    assert cli("config", "set", key, file_value).exit_code == 0
    result = cli("config", "get", key, "--json", env={variable: in_env})
    assert result.json() == {"key": key, "value": effective, "source": f"env {variable}"}
    assert cli("config", "get", key, "--json").json()["source"] == "file"
    listed = cli("config", "list", "--all", env={variable: in_env}).stdout
    assert f"\t(env {variable})" in listed


def test_a_bad_value_in_the_environment_names_the_variable(cli):
    result = cli("config", "get", "publish.rfc2136.port", env={"STACKSHIFT_RFC2136_PORT": "0"})
    assert result.exit_code == 2
    assert "Invalid value for publish.rfc2136.port from env STACKSHIFT_RFC2136_PORT" in result.stderr


def test_a_bad_value_in_the_file_names_the_file(cli, config_dir):
    config_dir.mkdir(mode=0o700)
    (config_dir / "config.toml").write_text('[profiles.default.publish]\nttl = "soon"\n'
                                            '[profiles.default.publish.rfc2136]\nport = true\n')
    assert "Invalid value for publish.ttl from the config file" in cli("config", "get", "publish.ttl").stderr
    result = cli("config", "get", "publish.rfc2136.port")
    assert result.exit_code == 2 and "it is true or false" in result.stderr


# ---------------------------------------------------------------- secrets


def test_a_secret_set_from_stdin_is_stored_private_and_shown_redacted(cli, config_dir):
    result = cli("config", "set", "publish.rfc2136.key_secret", "-", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Set publish.rfc2136.key_secret = ****{SECRET[-4:]} in profile default.\n"
    assert stored(config_dir)["publish"]["rfc2136"]["key_secret"] == SECRET
    assert stat.S_IMODE((config_dir / "config.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700

    assert cli("config", "get", "publish.rfc2136.key_secret").stdout == f"****{SECRET[-4:]}\n"
    assert cli("config", "get", "publish.rfc2136.key_secret", "--json").json() == {
        "key": "publish.rfc2136.key_secret", "value": "****" + SECRET[-4:], "source": "file"}
    assert cli("config", "get", "publish.rfc2136.key_secret", "--reveal").stdout == SECRET + "\n"
    assert cli("config", "list").stdout == f"publish.rfc2136.key_secret=****{SECRET[-4:]}\n"
    assert cli("config", "list", "--json").json()["values"] == {"publish.rfc2136.key_secret": "****" + SECRET[-4:]}


def test_a_secret_never_appears_in_output_unless_revealed(cli):
    shown = []
    for debug in ([], ["--debug"]):
        for args in (["config", "set", "publish.rfc2136.key_secret", "-"], ["config", "list"],
                     ["config", "list", "--all"], ["config", "list", "--json"],
                     ["config", "get", "publish.rfc2136.key_secret"],
                     ["config", "get", "publish.rfc2136.key_secret", "--json"]):
            result = cli(*debug, *args, input=SECRET + "\n")
            assert result.exit_code == 0, result.stderr
            shown.append(result.stdout + result.stderr)
        # refused ones too: a second line, something that is not base64
        for text in (SECRET + "\n" + SECRET + "\n", SECRET + "!\n"):
            result = cli(*debug, "config", "set", "publish.rfc2136.key_secret", "-", input=text)
            assert result.exit_code == 2
            shown.append(result.stdout + result.stderr)
    assert all(SECRET not in text and SECRET[:-4] not in text for text in shown), shown
    assert any("Traceback" in text for text in shown), "--debug shows the traceback of a refusal (without the secret)"


def test_a_secret_in_the_environment_is_redacted_too(cli):
    result = cli("config", "get", "publish.rfc2136.key_secret", "--json",
                 env={"STACKSHIFT_RFC2136_KEY_SECRET": SECRET})
    assert result.json() == {"key": "publish.rfc2136.key_secret", "value": "****" + SECRET[-4:],
                             "source": "env STACKSHIFT_RFC2136_KEY_SECRET"}
    bad = cli("config", "get", "publish.rfc2136.key_secret", env={"STACKSHIFT_RFC2136_KEY_SECRET": "x" + SECRET})
    assert bad.exit_code == 2 and "STACKSHIFT_RFC2136_KEY_SECRET" in bad.stderr and SECRET not in bad.stderr


@pytest.mark.parametrize("key", ["publish.rfc2136.key_secret", "publish.powerdns.auth_token", "api.key"])
def test_a_secret_on_the_command_line_is_refused_and_not_written(cli, config_dir, key):
    result = cli("config", "set", key, SECRET)
    assert_one_error(result, f"{key} is not set on the command line, where it would stay in your shell history.")
    assert SECRET not in result.stdout + result.stderr
    assert not (config_dir / "config.toml").exists()
    if key == "api.key":
        assert "stackshift auth login" in result.stderr and "stackshift config set api.key -" in result.stderr
    else:
        assert f"Run `stackshift config set {key} -` and type or pipe the value." in result.stderr


@pytest.mark.parametrize(("text", "phrase"), [
    ("", "No value for publish.rfc2136.key_secret on standard input."),
    (" \n", "No value for publish.rfc2136.key_secret on standard input."),
    (f"{SECRET}\n{SECRET}\n", "Standard input holds more than one line"),
    (f"{SECRET}\n\n", "Standard input holds more than one line"),
    ("bm90IGJhc2U2NA\n", "is not base64"),  # padding missing
    ("not base64 at all\n", "is not base64"),
    ("====\n", "is not base64"),
])
def test_a_secret_from_stdin_that_is_not_one_is_refused(cli, config_dir, text, phrase):
    result = cli("config", "set", "publish.rfc2136.key_secret", "-", input=text)
    assert_one_error(result, phrase)
    assert not (config_dir / "config.toml").exists()


def test_a_crlf_line_is_one_line(cli, config_dir):
    assert cli("config", "set", "publish.rfc2136.key_secret", "-", input=SECRET + "\r\n").exit_code == 0
    assert stored(config_dir)["publish"]["rfc2136"]["key_secret"] == SECRET


def test_dash_reads_any_key_from_stdin(cli, config_dir, monkeypatch):
    assert cli("config", "set", "publish.rfc2136.server", "-", input="ns1.example.net\n").exit_code == 0
    assert cli("config", "set", "dns.timeout", "-", input="4s").exit_code == 0
    assert stored(config_dir)["publish"]["rfc2136"] == {"server": "ns1.example.net"}
    assert stored(config_dir)["dns"] == {"timeout": "4s"}
    result = cli("config", "set", "publish.ttl", "-", input="30\n")
    assert result.exit_code == 2 and "is not a TTL" in result.stderr


def test_api_key_can_be_set_from_stdin(cli, config_dir):
    result = cli("config", "set", "api.key", "-", input="sk_test_0123456789abcdef\n")
    assert result.exit_code == 0, result.stderr
    assert "sk_test_0123456789abcdef" not in result.stderr and "****cdef" in result.stderr
    assert stored(config_dir)["api"]["key"] == "sk_test_0123456789abcdef"
    bad = cli("config", "set", "api.key", "-", input="has space\n")
    assert bad.exit_code in (2, 6) and "characters an API key cannot have" in bad.stderr


def test_a_real_process_reads_the_secret_from_its_piped_stdin(config_dir):
    result = run_process("config", "set", "publish.rfc2136.key_secret", "-", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert stored(config_dir)["publish"]["rfc2136"]["key_secret"] == SECRET
    assert stat.S_IMODE((config_dir / "config.toml").stat().st_mode) == 0o600


def test_stdin_that_is_not_text_is_one_error_line(config_dir):
    proc = subprocess.run([*stackshift_command(), "config", "set", "publish.powerdns.auth_token", "-"],
                          input=b"\xff\xfe token\n", capture_output=True, timeout=60,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 2 and proc.stderr.decode().startswith("Error: Standard input is not text (UTF-8)")
    assert not (config_dir / "config.toml").exists()


def test_on_a_terminal_the_value_is_asked_for_with_hidden_input(config_dir):
    code, shown = type_at_hidden_prompt(["config", "set", "publish.rfc2136.key_secret", "-"],
                                        b"Value for publish.rfc2136.key_secret:", SECRET.encode() + b"\n")
    assert code == 0, shown
    assert "Value for publish.rfc2136.key_secret: " in shown and SECRET not in shown, "the value is not echoed"
    assert f"****{SECRET[-4:]}" in shown
    assert stored(config_dir)["publish"]["rfc2136"]["key_secret"] == SECRET


# ---------------------------------------------------------------- the providers' keys


def test_a_provider_token_is_set_from_stdin_and_redacted(cli, config_dir):
    result = cli("config", "set", "publish.powerdns.auth_token", "-", input=TOKEN + "\n")
    assert result.exit_code == 0, result.stderr
    assert TOKEN not in result.stderr and f"****{TOKEN[-4:]}" in result.stderr
    assert cli("config", "set", "publish.powerdns.pdns_server", "https://pdns.example.net:8081").exit_code == 0
    assert stored(config_dir)["publish"]["powerdns"] == {"auth_token": TOKEN,
                                                         "pdns_server": "https://pdns.example.net:8081"}
    listed = cli("config", "list")
    assert listed.stdout == (f"publish.powerdns.auth_token=****{TOKEN[-4:]}\n"
                             "publish.powerdns.pdns_server=https://pdns.example.net:8081\n")
    assert cli("config", "get", "publish.powerdns.auth_token").stdout == f"****{TOKEN[-4:]}\n"
    assert cli("config", "get", "publish.powerdns.auth_token", "--reveal").stdout == TOKEN + "\n"
    assert cli("config", "get", "publish.powerdns.pdns_server").stdout == "https://pdns.example.net:8081\n"
    everything = cli("config", "list", "--all").stdout
    assert f"publish.powerdns.auth_token=****{TOKEN[-4:]}\t(file)" in everything and TOKEN not in everything
    assert "publish.cloudflare." not in everything, "only the providers' keys that are set are listed"
    assert len(everything.splitlines()) == len(KEYS) + 2
    assert cli("config", "unset", "publish.powerdns.auth_token").exit_code == 0
    assert stored(config_dir)["publish"]["powerdns"] == {"pdns_server": "https://pdns.example.net:8081"}


def test_lexicons_own_variable_is_the_source_and_overrides_the_file(cli):
    cli("config", "set", "publish.powerdns.auth_token", "-", input=TOKEN)
    env = {"LEXICON_POWERDNS_AUTH_TOKEN": "from-the-environment-7788"}
    assert cli("config", "get", "publish.powerdns.auth_token", "--json", env=env).json() == {
        "key": "publish.powerdns.auth_token", "value": "****7788", "source": "env LEXICON_POWERDNS_AUTH_TOKEN"}
    assert cli("config", "get", "publish.powerdns.auth_token", "--reveal", env=env).stdout == \
        "from-the-environment-7788\n"
    listed = cli("config", "list", "--all", env={"LEXICON_CLOUDFLARE_AUTH_TOKEN": "cf-token-abcd1234"}).stdout
    assert "publish.cloudflare.auth_token=****1234\t(env LEXICON_CLOUDFLARE_AUTH_TOKEN)" in listed


def test_a_provider_option_that_is_not_a_secret_is_set_on_the_command_line(cli):
    assert known_key("publish.powerdns.pdns_server").secret is False
    assert known_key("publish.powerdns.auth_token").secret is True
    assert known_key("publish.powerdns.auth_token").env == "LEXICON_POWERDNS_AUTH_TOKEN"
    result = cli("config", "set", "publish.powerdns.pdns_server_id", "localhost")
    assert result.stderr == "Set publish.powerdns.pdns_server_id = localhost in profile default.\n"


@pytest.mark.parametrize("value, phrase", [
    ("two\nlines", "a control character or a line break"),
    ("esc\x1b[2Jape", "a control character"),
    ("x" * 1001, "at most 1000"),
    ("   ", "The value is empty."),
])
def test_a_provider_value_is_one_line_of_printable_text(cli, config_dir, value, phrase):
    result = cli("config", "set", "publish.powerdns.pdns_server", "--", value)
    assert_one_error(result, phrase)
    assert "\x1b" not in result.stderr and not (config_dir / "config.toml").exists()


@pytest.mark.parametrize("key", ["publish.nosuchprovider.x", "publish.powerdns.nosuchoption", "publish.powerdns",
                                 "publish.rfc2136.key_secrets", "publish.powerdns.auth_token.x"])
def test_an_unknown_provider_or_option_is_an_unknown_key(cli, config_dir, key):
    for args in (["config", "get", key], ["config", "set", key, "x"], ["config", "unset", key]):
        result = cli(*args)
        assert_one_error(result, f"'{key}' is not a config key.", "stackshift providers list")
    assert not (config_dir / "config.toml").exists()
    assert "providers list" not in cli("config", "get", "no.such.key").stderr


def test_settings_read_a_providers_option(config_dir):
    cli = Cli()
    cli("config", "set", "publish.powerdns.auth_token", "-", input=TOKEN)
    settings = Settings("default", ConfigFile(config_dir / "config.toml"))
    assert settings.get("publish.powerdns.auth_token") == TOKEN
    assert settings.source("publish.powerdns.auth_token") == "file"
    assert settings.get("publish.powerdns.pdns_server") is None
    assert settings.provider_keys_set() == ["publish.powerdns.auth_token"]
    with pytest.raises(UsageError):
        settings.get("publish.nosuchprovider.auth_token")

"""`stackshift config`: path, list, get, set, unset, profiles, and a config file that stays private."""

from __future__ import annotations

import stat
import tomllib

import pytest

from tests.helpers import Cli


@pytest.fixture
def local_cli() -> Cli:
    """The CLI with no backend chosen in the environment, so `config list` shows only the file."""
    return Cli()


def test_path_prints_the_config_file(local_cli, config_dir):
    result = local_cli("config", "path")
    assert result.stdout.strip() == str(config_dir / "config.toml")
    assert local_cli("config", "path", "--json").json()["configFile"] == str(config_dir / "config.toml")


def test_set_get_unset_round_trip(local_cli, config_dir, monkeypatch):
    monkeypatch.delenv("STACKSHIFT_NAMESERVERS")  # (set by isolated_env) the file's value is the one shown
    assert local_cli("config", "set", "dns.nameservers", "127.0.0.1:5353,[::1]:53").exit_code == 0
    assert local_cli("config", "get", "dns.nameservers").stdout.strip() == "127.0.0.1:5353,[::1]:53"
    path = config_dir / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert tomllib.loads(path.read_text())["profiles"]["default"]["dns"]["nameservers"] == ["127.0.0.1:5353",
                                                                                         "[::1]:53"]
    assert local_cli("config", "unset", "dns.nameservers").exit_code == 0
    assert local_cli("config", "get", "dns.nameservers").exit_code == 1
    assert "profiles" not in tomllib.loads(path.read_text()) or tomllib.loads(path.read_text())["profiles"][
        "default"] == {}


def test_get_shows_defaults_and_their_source(local_cli):
    assert local_cli("config", "get", "sending.spf_include").stdout.strip() == "spf.stackshift.email"
    data = local_cli("config", "get", "verify.window", "--json").json()
    assert data == {"key": "verify.window", "value": "72h", "source": "default"}


def test_list_shows_what_is_set_and_all_with_sources(local_cli, monkeypatch):
    monkeypatch.delenv("STACKSHIFT_NAMESERVERS")  # (set by isolated_env) only the file's values are listed
    local_cli("config", "set", "sending.dmarc_policy", "reject")
    assert local_cli("config", "list").stdout == "sending.dmarc_policy=reject\n"
    everything = local_cli("config", "list", "--all").stdout
    assert "api.url=https://api.stackshift.dev\t(default)" in everything
    assert "sending.dmarc_policy=reject\t(file)" in everything
    data = local_cli("config", "list", "--json").json()
    assert data["profile"] == "default" and data["values"] == {"sending.dmarc_policy": "reject"}


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [("dns.nameservers", "not-an-ip", "not a nameserver"), ("backend", "cloud", "not one of"),
     ("sending.dmarc_policy", "maybe", "not one of"), ("api.url", "ftp://x", "not an http"),
     ("verify.window", "soon", "not a duration"), ("dns.authoritative_port", "0", "not a port"),
     ("dns.authoritative_port", "70000", "not a port"), ("no.such.key", "1", "not a config key"),
     ("api.url", "http://api.example.com", "over plain http the API key would travel in cleartext"),
     ("api.url", "https://me:pw@api.example.com", "has a user name or password in it"),
     ("api.max_response_bytes", "lots", "not a size"), ("api.max_response_bytes", "100", "out of range"),
     ("api.max_response_bytes", "2GB", "out of range")],
)
def test_set_refuses_invalid_values_and_writes_nothing(local_cli, config_dir, key, value, fragment):
    result = local_cli("config", "set", key, value)
    assert result.exit_code == 2 and fragment in result.stderr
    assert not (config_dir / "config.toml").exists()


def test_api_max_response_bytes_takes_sizes_and_stores_bytes(local_cli, config_dir):
    assert local_cli("config", "get", "api.max_response_bytes", "--json").json() == {
        "key": "api.max_response_bytes", "value": 10_000_000, "source": "default"}
    assert local_cli("config", "set", "api.max_response_bytes", "512KiB").exit_code == 0
    assert local_cli("config", "get", "api.max_response_bytes").stdout == "524288\n"
    assert tomllib.loads((config_dir / "config.toml").read_text())["profiles"]["default"]["api"] == {
        "max_response_bytes": 524288}


def test_api_key_is_not_set_from_the_command_line(local_cli, config_dir):
    result = local_cli("config", "set", "api.key", "sk_live_secret")
    assert result.exit_code == 2 and "auth login" in result.stderr
    assert not (config_dir / "config.toml").exists()


def test_profiles_are_separate(local_cli):
    local_cli("--profile", "work", "config", "set", "sending.dkim_selector", "work2026")
    assert local_cli("config", "get", "sending.dkim_selector").stdout.strip() == "stackshift"
    assert local_cli("--profile", "work", "config", "get", "sending.dkim_selector").stdout.strip() == "work2026"
    env = {"STACKSHIFT_PROFILE": "work"}
    assert local_cli("config", "get", "sending.dkim_selector", env=env).stdout.strip() == "work2026"


def test_sending_profile_shapes_new_records(local_cli):
    local_cli("config", "set", "sending.dmarc_rua", "reports@example.com")
    local_cli("config", "set", "sending.dkim_selector", "s1")
    data = local_cli("domains", "create", "example.com", "--json").json()
    assert data["records"][1]["name"] == "s1._domainkey.example.com"
    assert data["records"][2]["value"] == "v=DMARC1; p=none; rua=mailto:reports@example.com;"


def test_environment_overrides_the_file(local_cli):
    local_cli("config", "set", "dns.nameservers", "127.0.0.1")
    result = local_cli("config", "get", "dns.nameservers", "--json", env={"STACKSHIFT_NAMESERVERS": "127.0.0.2"})
    assert result.json()["value"] == ["127.0.0.2"] and result.json()["source"] == "env STACKSHIFT_NAMESERVERS"


def test_corrupt_config_file_is_reported_and_kept(local_cli, config_dir):
    config_dir.mkdir(mode=0o700)
    path = config_dir / "config.toml"
    path.write_text("[profiles.default\nbroken = ")
    for args in (["config", "list"], ["config", "set", "backend", "local"], ["domains", "list"]):
        result = local_cli(*args)
        assert result.exit_code == 1 and "not valid TOML" in result.stderr, result.stderr
    assert path.read_text() == "[profiles.default\nbroken = "


def test_invalid_value_in_the_file_names_its_origin(local_cli, config_dir):
    config_dir.mkdir(mode=0o700)
    (config_dir / "config.toml").write_text('[profiles.default.sending]\ndmarc_policy = "sometimes"\n')
    result = local_cli("domains", "create", "example.com")
    assert result.exit_code == 2 and "sending.dmarc_policy" in result.stderr and "config file" in result.stderr
    assert local_cli("domains", "list", "--json").json() == []

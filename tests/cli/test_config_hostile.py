"""Config from a file or the environment is validated where it is read (issue 9, items 8 and 15): values of the
wrong type, tables where values belong, durations that overflow, DMARC addresses that would inject tags, MX
priorities out of range, and profiles that do not exist are one error line, never "Internal error"."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackshift_cli.config import KEYS, ConfigFile, Settings
from stackshift_cli.errors import StackshiftError
from tests.helpers import Cli


@pytest.fixture
def cli() -> Cli:
    return Cli({"STACKSHIFT_BACKEND": "local"})


def write_config(config_dir, text: str):
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(text)
    return path


def assert_one_error_line(result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, result.stderr
    assert "Internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


@pytest.mark.parametrize("toml, key, shown", [
    ("[profiles.default.sending]\ndkim_selector = 5\n", "sending.dkim_selector", "it is a whole number"),
    ("[profiles.default.sending]\nspf_include = 5\n", "sending.spf_include", "it is a whole number"),
    ("[profiles.default.sending]\nreturn_path_host = true\n", "sending.return_path_host", "it is true or false"),
    ("[profiles.default.sending]\ninbound_priority = 1.5\n", "sending.inbound_priority", "it is a number"),
    ("[profiles.default.sending.dkim_selector]\nx = 1\n", "sending.dkim_selector", "it is a table"),
    ("[profiles.default.dns]\nnameservers = [1, 2]\n", "dns.nameservers", "a list that holds more than text"),
], ids=["selector-int", "include-int", "host-bool", "priority-float", "selector-table", "nameservers-ints"])
def test_a_config_value_of_the_wrong_type_is_one_error_line(cli, config_dir, toml, key, shown, monkeypatch):
    monkeypatch.delenv("STACKSHIFT_NAMESERVERS")  # (set by isolated_env) the file's value is the one read
    write_config(config_dir, toml)
    args = ("domains", "verify", "--all") if key.startswith("dns.") else ("domains", "create", "example.com")
    assert_one_error_line(cli(*args), 2, f"Invalid value for {key} from the config file", shown)


def test_a_value_where_a_table_belongs_is_reported_and_the_file_is_left_alone(cli, config_dir):
    path = write_config(config_dir, '[profiles.default]\ndns = "x"\n')
    before = path.read_bytes()
    assert_one_error_line(cli("config", "set", "dns.timeout", "4s"), 1, "profiles.default.dns is 'x'",
                          "where a table of keys belongs")
    assert path.read_bytes() == before
    assert_one_error_line(cli("config", "get", "dns.timeout"), 1, "profiles.default.dns is 'x'")


def test_a_profile_that_is_not_a_table_is_reported(cli, config_dir):
    write_config(config_dir, 'profiles.default = "x"\n')
    assert_one_error_line(cli("config", "set", "dns.timeout", "4s"), 1, "profiles.default is 'x'")


@pytest.mark.parametrize("value, phrase", [
    ("99999999999999d", "longer than 3650 days"),
    ("1e400", "is not a duration"),
    ("nan", "is not a duration"),
], ids=["huge", "overflow", "nan"])
def test_a_duration_that_would_overflow_is_refused(cli, config_dir, value, phrase):
    write_config(config_dir, f'[profiles.default.verify]\nwindow = "{value}"\n')
    cli("domains", "create", "example.com")
    assert_one_error_line(cli("domains", "verify", "example.com", "--nameserver", "127.0.0.1:9"), 2,
                          "Invalid value for verify.window", phrase)


@pytest.mark.parametrize("key, value, phrase", [
    ("dns.timeout", "2m", "longer than 60s, the most a DNS query may take"),
    ("api.timeout", "1h", "longer than 600s, the most an API request may take"),
    ("sending.inbound_priority", "99999999", "not an MX priority; use 0 to 65535"),
    ("sending.inbound_priority", "-1", "is not a whole number"),
    ("sending.dmarc_rua", "x@example.com;p=reject;pct=0", "not a valid domain name for DMARC reports"),
    ("sending.dmarc_rua", "a@example.com,mailto:b@evil.example", "is not an email address"),
    ("sending.dmarc_rua", "dmarc@example.com\x1b[2J", "for DMARC reports"),
    ("sending.dmarc_rua", "dmarc@exa mple.com", "not a valid domain name"),
    ("sending.dmarc_rua", "dmarc@", "for DMARC reports"),
], ids=["dns-timeout", "api-timeout", "priority-big", "priority-negative", "rua-tags", "rua-two", "rua-esc",
        "rua-space", "rua-no-domain"])
def test_values_that_would_break_what_they_end_up_in_are_refused_at_set(cli, config_dir, key, value, phrase):
    result = cli("config", "set", key, "--", value)
    assert_one_error_line(result, 2, phrase)
    assert "\x1b" not in result.stderr
    assert not (config_dir / "config.toml").exists() or key.split(".")[-1] not in (config_dir / "config.toml").read_text()


def test_a_dmarc_rua_that_would_inject_tags_in_the_file_is_refused_at_create(cli, config_dir):
    write_config(config_dir, '[profiles.default.sending]\ndmarc_rua = "x@example.com;p=reject;pct=0"\n')
    assert_one_error_line(cli("domains", "create", "example.com"), 2, "Invalid value for sending.dmarc_rua")
    assert cli("domains", "list", "--json").json() == []


def test_a_valid_dmarc_rua_still_makes_one_rua_tag(cli, config_dir):
    assert cli("config", "set", "sending.dmarc_rua", "mailto:DMARC+reports@Example.com").exit_code == 0
    records = cli("domains", "create", "example.com", "--json").json()["records"]
    dmarc = next(r["value"] for r in records if r["purpose"] == "dmarc")
    assert dmarc == "v=DMARC1; p=none; rua=mailto:DMARC+reports@Example.com;"


def test_a_profile_that_does_not_exist_is_an_error_naming_those_that_do(cli, config_dir):
    write_config(config_dir, '[profiles.work]\nbackend = "local"\n[profiles.home.dns]\ntimeout = "2s"\n')
    result = cli("domains", "list", env={"STACKSHIFT_PROFILE": "wrok"})
    assert_one_error_line(result, 2, "There is no profile wrok", "the profiles are: default, home, work")
    assert_one_error_line(cli("--profile", "nope", "config", "get", "dns.timeout"), 2, "There is no profile nope")
    assert cli("--profile", "work", "domains", "list", "--json").json() == []
    assert cli("domains", "list", "--json").json() == []  # default always exists


def test_config_set_creates_a_new_profile(cli, config_dir):
    assert cli("--profile", "fresh", "config", "set", "dns.timeout", "4s").exit_code == 0
    assert tomllib.loads((config_dir / "config.toml").read_text())["profiles"]["fresh"] == {"dns": {"timeout": "4s"}}
    assert cli("--profile", "fresh", "config", "get", "dns.timeout").stdout.strip() == "4s"


@pytest.mark.parametrize("name", ["work\n", "wo rk", "-x", "a" * 65], ids=["newline", "space", "dash", "long"])
def test_a_profile_name_that_is_not_one_is_refused(cli, name):
    result = cli("--profile", name, "config", "set", "dns.timeout", "4s")
    assert result.exit_code == 2 and "is not a valid profile name" in result.stderr


toml_values = st.recursive(
    st.one_of(st.text(max_size=30), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)),
    max_leaves=10,
)
key_parts = st.sampled_from(sorted({part for k in KEYS for part in k.split(".")} | {"x"}))
profiles = st.dictionaries(st.sampled_from(["default", "work"]), st.dictionaries(
    key_parts, st.one_of(toml_values, st.dictionaries(key_parts, toml_values, max_size=4)), max_size=6), max_size=2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(profiles.map(lambda p: {"profiles": p}), st.dictionaries(st.text(max_size=8), toml_values)))
def test_any_config_file_gives_values_or_one_stackshift_error(tmp_path, document):
    """Every key of every profile, and the sending profile, read from a random TOML document: a parsed value or
    a StackshiftError (one error line), never another exception."""
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(document))
    for profile in ("default", "work"):
        settings_ = Settings(profile, ConfigFile(path))
        for name in [*KEYS, "sending"]:
            try:
                settings_.sending_profile() if name == "sending" else settings_.get(name)
                settings_.require_profile()
            except StackshiftError:
                pass


@pytest.mark.parametrize("toml, key", [
    ('[profiles.default]\napi = "x"\n', "api.url"),
    ("[profiles]\ndefault = 3\n", "dns.timeout"),
    ('profiles = "x"\n', "dns.timeout"),
], ids=["value-where-a-table-belongs", "profile-not-a-table", "profiles-not-a-table"])
def test_config_set_on_a_file_of_the_wrong_shape_is_one_error_line_and_changes_nothing(cli, config_dir, toml, key):
    path = write_config(config_dir, toml)
    before = path.read_bytes()
    value = "https://api.example.com" if key == "api.url" else "4s"
    result = cli("config", "set", key, value)
    assert result.exit_code == 1, result.stderr
    assert "Internal error" not in result.stderr and result.stderr.startswith("Error: ")
    assert "config file" in result.stderr and path.read_bytes() == before

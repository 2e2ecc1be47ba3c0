"""The API key never travels in cleartext and credentials never sit in the URL: api.url (config key, env
STACKSHIFT_API_URL) is https, or http on loopback only, and holds no user name or password. A refused URL is
one error line that says why and never prints the credentials; no request is sent."""

from __future__ import annotations

import tomllib

import pytest

from tests.api.test_api_faults import assert_one_error_line
from tests.helpers import Cli

SECRET = "hunter2-s3cret"


def refused_everywhere(result, *fragments: str, debug: bool = False) -> None:
    """Exit 2, one error line (--debug adds the traceback), and the secret nowhere."""
    assert result.exit_code == 2, result.stderr
    if debug:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and all(f in errors[0] for f in fragments), result.stderr
    else:
        assert_one_error_line(result, *fragments)
    assert SECRET not in result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("url", [
    "http://api.stackshift.dev", "http://192.0.2.10:8080", "http://[2001:db8::1]/v1", "http://localhost.evil.example",
    "http://127.0.0.1.nip.io", "http://0x7f000001", "http://[::ffff:127.0.0.1]",
])
def test_config_set_refuses_plain_http_off_loopback(url, config_dir):
    result = Cli()("config", "set", "api.url", url)
    refused_everywhere(result, "is refused: over plain http the API key would travel in cleartext")
    assert "http:// only for an API on this machine (localhost, 127.0.0.0/8, ::1)" in result.stderr
    assert not (config_dir / "config.toml").exists()


@pytest.mark.parametrize("url", [
    f"http://admin:{SECRET}@127.0.0.1:8080", f"https://admin:{SECRET}@api.stackshift.dev/v1",
    f"https://{SECRET}@api.stackshift.dev", f"https://admin:{SECRET}/x@api.stackshift.dev",
    f"https://admin:{SECRET}@api.stackshift.dev:notaport",
])
def test_config_set_refuses_credentials_in_the_url_without_printing_them(url, config_dir):
    result = Cli()("config", "set", "api.url", url)
    refused_everywhere(result, "has a user name or password in it", "stackshift does not accept credentials in a URL")
    assert "https://…@" in result.stderr or "http://…@" in result.stderr
    assert not (config_dir / "config.toml").exists()


@pytest.mark.parametrize("url, fragment", [
    ("ftp://api.stackshift.dev", "is not an http(s) URL"),
    ("https://", "is not an http(s) URL"),
    ("https://api.stackshift.dev:99999", "is not an http(s) URL"),
    ("https://api stackshift.dev", "is not an http(s) URL"),
    ("https://api.stackshift.dev/v1?debug=1", "has a query or a fragment"),
])
def test_config_set_refuses_what_is_no_base_url(url, fragment, config_dir):
    refused_everywhere(Cli()("config", "set", "api.url", url), fragment)
    assert not (config_dir / "config.toml").exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:8080/v1", "http://LOCALHOST", "http://[::1]:8080",
    "https://api.stackshift.dev/v1/", "https://api.example.com:8443",
])
def test_config_set_accepts_https_and_loopback_http(url, config_dir):
    result = Cli()("config", "set", "api.url", url)
    assert result.exit_code == 0, result.stderr
    stored = tomllib.loads((config_dir / "config.toml").read_text())["profiles"]["default"]["api"]["url"]
    assert stored == url.rstrip("/")


BAD_URL = f"http://admin:{SECRET}@api.stackshift.dev"


@pytest.mark.parametrize("args", [
    ("auth", "status"), ("auth", "status", "--json"), ("--debug", "domains", "list"), ("domains", "list"),
    ("config", "get", "api.url"), ("config", "list", "--all"), ("domains", "create", "new.example"),
], ids=["auth-status", "auth-status-json", "debug-list", "list", "config-get", "config-list", "create"])
def test_credentials_in_the_environment_are_refused_and_never_printed(args, api_server):
    cli = Cli({"STACKSHIFT_API_URL": BAD_URL, "STACKSHIFT_API_KEY": api_server.key, "STACKSHIFT_BACKEND": "api"})
    result = cli(*args)
    refused_everywhere(result, "Invalid value for api.url from env STACKSHIFT_API_URL: The API URL "
                               "http://…@api.stackshift.dev has a user name or password in it",
                       debug="--debug" in args)
    assert api_server.requests == []


def test_credentials_in_the_config_file_are_refused_and_never_printed(api_server, config_dir):
    config_dir.mkdir(mode=0o700)
    (config_dir / "config.toml").write_text(f'[profiles.default.api]\nurl = "{BAD_URL}"\n')
    cli = Cli({"STACKSHIFT_API_KEY": api_server.key, "STACKSHIFT_BACKEND": "api"})
    for args in (("auth", "status"), ("--debug", "domains", "list")):
        result = cli(*args)
        refused_everywhere(result, "Invalid value for api.url from the config file", "has a user name or password",
                           debug="--debug" in args)
    fixed = cli("config", "unset", "api.url")
    assert fixed.exit_code == 0, "the bad value can be removed"


def test_plain_http_off_loopback_in_the_environment_sends_no_request(api_server):
    cli = Cli({"STACKSHIFT_API_URL": "http://api.stackshift.dev", "STACKSHIFT_API_KEY": api_server.key,
               "STACKSHIFT_BACKEND": "api"})
    result = cli("domains", "list")
    refused_everywhere(result, "Invalid value for api.url from env STACKSHIFT_API_URL: 'http://api.stackshift.dev' "
                               "is refused: over plain http the API key would travel in cleartext")


def test_login_with_a_plain_http_url_refuses_before_sending_the_key(api_server, config_dir):
    cli = Cli({"STACKSHIFT_API_URL": "http://api.stackshift.dev"})
    result = cli("auth", "login", input=api_server.key + "\n")
    assert result.exit_code == 2
    assert "over plain http the API key would travel in cleartext" in result.stderr
    assert not (config_dir / "config.toml").exists()


def test_loopback_by_name_reaches_the_test_server(api_server):
    """The suite's own server runs on http://127.0.0.1:PORT; `localhost` names it too."""
    cli = Cli({**api_server.env(), "STACKSHIFT_API_URL": f"http://localhost:{api_server.port}"})
    result = cli("domains", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == []
    assert len(api_server.requests) == 1

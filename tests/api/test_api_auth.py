"""`stackshift auth login|status|logout`, and how the stored key chooses the backend."""

from __future__ import annotations

import stat
import tomllib

import pytest

from tests.api.server import Fault
from tests.helpers import Cli, type_at_hidden_prompt


@pytest.fixture
def plain_cli(api_server) -> Cli:
    """A CLI that knows the server's URL but has no key yet."""
    return Cli({"STACKSHIFT_API_URL": api_server.url})


def stored(config_dir, profile: str = "default") -> dict:
    path = config_dir / "config.toml"
    if not path.exists():
        return {}
    return tomllib.loads(path.read_text()).get("profiles", {}).get(profile, {})


def test_login_reads_the_key_from_stdin_checks_it_and_stores_it_private(plain_cli, api_server, config_dir):
    result = plain_cli("auth", "login", input=api_server.key + "\n")
    assert result.exit_code == 0, result.stderr
    assert stored(config_dir)["api"]["key"] == api_server.key
    assert stat.S_IMODE((config_dir / "config.toml").stat().st_mode) == 0o600
    checks = api_server.requests_to("GET", "/mail/domains")
    assert len(checks) == 1 and checks[0].query == {"limit": ["1"]}
    assert checks[0].headers["authorization"] == f"Bearer {api_server.key}"
    assert "Logged in" in result.stderr and api_server.key[-4:] in result.stderr


def test_login_refused_key_is_not_stored(plain_cli, api_server, config_dir):
    result = plain_cli("auth", "login", input="sk_wrong_key_12345678\n")
    assert result.exit_code == 6
    assert "refused this key; nothing was stored" in result.stderr
    assert "sk_wrong_key_12345678" not in result.stderr + result.stdout
    assert not (config_dir / "config.toml").exists()


def test_login_with_an_unreachable_api_stores_nothing(plain_cli, api_server, config_dir):
    api_server.fail(*[Fault(503, b"", headers={"Retry-After": "0"}) for _ in range(4)])
    result = plain_cli("auth", "login", input=api_server.key)
    assert result.exit_code == 1
    assert "HTTP 503" in result.stderr
    assert not (config_dir / "config.toml").exists()


@pytest.mark.parametrize("text, message", [
    ("", "No API key on standard input"),
    ("  \n\n", "No API key on standard input"),
    ("one\ntwo\n", "more than one line"),
    ("has space", "characters an API key cannot have"),
])
def test_login_rejects_bad_input_without_calling_the_api(plain_cli, api_server, config_dir, text, message):
    result = plain_cli("auth", "login", input=text)
    assert result.exit_code in (2, 6)
    assert message in result.stderr
    assert api_server.requests == []
    assert not (config_dir / "config.toml").exists()


def test_login_never_takes_the_key_from_a_flag(plain_cli, api_server):
    result = plain_cli("auth", "login", "--key", api_server.key)
    assert result.exit_code == 2
    assert api_server.requests == []


def test_login_into_a_named_profile(plain_cli, api_server, config_dir):
    result = plain_cli("--profile", "work", "auth", "login", input=api_server.key)
    assert result.exit_code == 0, result.stderr
    assert stored(config_dir, "work")["api"]["key"] == api_server.key
    assert stored(config_dir, "default") == {}


def test_stored_key_makes_api_the_default_backend(plain_cli, api_server):
    assert plain_cli("auth", "login", input=api_server.key).exit_code == 0
    result = plain_cli("domains", "create", "stored.example", "--json")
    assert result.exit_code == 0, result.stderr
    assert [d.name for d in api_server.domains()] == ["stored.example"]
    local = plain_cli("--backend", "local", "domains", "list", "--json")
    assert local.json() == []


def test_env_key_overrides_the_stored_key(plain_cli, api_server):
    assert plain_cli("auth", "login", input=api_server.key).exit_code == 0
    result = plain_cli("domains", "list", env={"STACKSHIFT_API_KEY": "sk_other_key_abcdefgh"})
    assert result.exit_code == 6
    assert "sk_other_key_abcdefgh" not in result.stderr


def test_status_shows_profile_backend_url_and_last_four_only(plain_cli, api_server):
    plain_cli("auth", "login", input=api_server.key)
    result = plain_cli("auth", "status")
    assert result.exit_code == 0, result.stderr
    fields = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert fields["profile"] == "default"
    assert fields["backend"].startswith("api ")
    assert fields["apiUrl"] == f"{api_server.url} (env STACKSHIFT_API_URL)"
    assert fields["apiKey"] == f"****{api_server.key[-4:]} (file)"
    assert api_server.key not in result.stdout + result.stderr
    assert api_server.requests_to("GET") == api_server.requests[:1], "status makes no request"


def test_status_json(plain_cli, api_server, config_dir):
    plain_cli("auth", "login", input=api_server.key)
    data = plain_cli("auth", "status", "--json").json()
    assert data == {
        "profile": "default", "backend": "api", "backendSource": "default: api when a key is set",
        "apiUrl": api_server.url, "apiUrlSource": "env STACKSHIFT_API_URL",
        "apiKey": "****" + api_server.key[-4:], "apiKeySource": "file",
        "configFile": str(config_dir / "config.toml"),
    }


def test_status_without_a_key_exits_6(config_dir):
    result = Cli()("auth", "status", "--json")
    assert result.exit_code == 6
    data = result.json()
    assert data["apiKey"] is None and data["backend"] == "local"
    assert data["apiUrl"] == "https://api.stackshift.dev"
    assert "stackshift auth login" in result.stderr


def test_logout_removes_the_key_and_the_backend_falls_back_to_local(plain_cli, api_server, config_dir):
    plain_cli("auth", "login", input=api_server.key)
    result = plain_cli("auth", "logout")
    assert result.exit_code == 0
    assert "Removed the API key" in result.stderr
    assert "key" not in stored(config_dir).get("api", {})
    assert plain_cli("auth", "status", "--json").json()["backend"] == "local"
    again = plain_cli("auth", "logout", "--json")
    assert again.exit_code == 0 and again.json() == {"profile": "default", "removed": False}


def test_logout_warns_when_the_environment_still_has_a_key(plain_cli, api_server):
    result = plain_cli("auth", "logout", env={"STACKSHIFT_API_KEY": api_server.key})
    assert result.exit_code == 0
    assert "STACKSHIFT_API_KEY is set" in result.stderr


def test_login_on_a_terminal_prompts_with_hidden_input(api_server, config_dir):
    code, shown = type_at_hidden_prompt(["auth", "login"], b"API key", api_server.key.encode() + b"\n",
                                        env={"STACKSHIFT_API_URL": api_server.url})
    assert code == 0, shown
    assert "API key" in shown and "Logged in" in shown
    assert api_server.key not in shown, "the typed key is not echoed"
    assert stored(config_dir)["api"]["key"] == api_server.key

"""`stackshift providers list` and how `publish` chooses a provider (README, "Providers and credentials")."""

from __future__ import annotations

import json

import pytest

from stackshift_cli.errors import UsageError
from stackshift_cli.publish.service import choose_provider
from stackshift_cli.publish.zone import ZoneFound
from tests.helpers import Cli


@pytest.fixture
def local() -> Cli:
    return Cli({"STACKSHIFT_BACKEND": "local"})


def test_providers_list_json_names_every_provider_and_its_settings(local):
    result = local("providers", "list", "--json")
    assert result.exit_code == 0
    providers = {p["name"]: p for p in json.loads(result.stdout)}
    assert len(providers) > 80 and list(providers)[0] == "rfc2136"
    rfc2136 = {c["env"]: c for c in providers["rfc2136"]["credentials"]}
    assert set(rfc2136) == {"STACKSHIFT_RFC2136_SERVER", "STACKSHIFT_RFC2136_PORT", "STACKSHIFT_RFC2136_KEY_NAME",
                            "STACKSHIFT_RFC2136_KEY_SECRET", "STACKSHIFT_RFC2136_KEY_ALGORITHM"}
    assert rfc2136["STACKSHIFT_RFC2136_KEY_SECRET"]["secret"] is True
    cloudflare = {c["key"]: c for c in providers["cloudflare"]["credentials"]}
    assert cloudflare["publish.cloudflare.auth_token"]["env"] == "LEXICON_CLOUDFLARE_AUTH_TOKEN"
    assert cloudflare["publish.cloudflare.auth_token"]["secret"] is True


def test_providers_list_piped_is_tsv_with_names_only(local, monkeypatch):
    monkeypatch.setenv("LEXICON_CLOUDFLARE_AUTH_TOKEN", "s3cret-token-value")
    result = local("providers", "list")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0][:2] == ["rfc2136", "rfc2136"] and all(len(row) == 3 for row in rows)
    assert "s3cret-token-value" not in result.stdout + result.stderr


def zone(*nameservers: str) -> ZoneFound:
    return ZoneFound("example.com", "ns1.example.net", nameservers)


@pytest.mark.parametrize("nameservers, guess", [(("abby.ns.cloudflare.com", "rob.ns.cloudflare.com"), "cloudflare"),
                                                (("ns-1.awsdns-01.org",), "route53")])
def test_a_provider_is_proposed_from_the_name_servers_never_used(nameservers, guess, isolated_env):
    from stackshift_cli.config import Settings

    with pytest.raises(UsageError) as refused:
        choose_provider(Settings("default"), None, zone(*nameservers))
    assert f"--provider {guess}" in refused.value.hint and f"publish.provider {guess}" in refused.value.hint


def test_the_provider_comes_from_the_flag_then_environment_then_config_then_the_journal(isolated_env, monkeypatch):
    from stackshift_cli.config import Settings

    settings = Settings("default")
    assert choose_provider(settings, None, zone("ns.example.net"), "rfc2136").name == "rfc2136"
    settings.file.set("default", "publish.provider", "powerdns")
    assert choose_provider(Settings("default"), None, zone(), "rfc2136").name == "powerdns"
    monkeypatch.setenv("STACKSHIFT_PUBLISH_PROVIDER", "cloudflare")
    assert choose_provider(Settings("default"), None, zone(), "rfc2136").name == "cloudflare"
    assert choose_provider(Settings("default"), "RFC2136", zone(), None).name == "rfc2136"


def test_an_unknown_provider_names_the_closest(isolated_env):
    from stackshift_cli.config import Settings

    with pytest.raises(UsageError) as refused:
        choose_provider(Settings("default"), "cloudflair", zone(), None)
    assert "cloudflare" in refused.value.hint


def test_a_provider_without_any_credential_is_refused_before_any_call(isolated_env, monkeypatch):
    from stackshift_cli.config import Settings
    from stackshift_cli.providers import provider_info
    from stackshift_cli.providers.lexicon import LexiconPublisher

    for name in list(__import__("os").environ):
        if name.startswith("LEXICON_"):
            monkeypatch.delenv(name)
    with pytest.raises(UsageError) as refused:
        LexiconPublisher.open(provider_info("cloudflare"), Settings("default"), "example.com")
    assert "No credentials for cloudflare" in refused.value.message
    assert "LEXICON_CLOUDFLARE_AUTH_TOKEN" in refused.value.hint

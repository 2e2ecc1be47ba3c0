"""What the client sends and accepts (docs/api.md), and that the key never reaches any output."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stackshift_cli import __version__
from stackshift_cli.config import ConfigFile
from tests.api.server import Fault
from tests.helpers import Cli, run_on_pty, run_process


def test_requests_carry_bearer_key_and_user_agent(api_cli, api_server):
    assert api_cli("domains", "create", "headers.example").exit_code == 0
    assert api_cli("domains", "list").exit_code == 0
    assert api_server.requests
    for seen in api_server.requests:
        assert seen.headers["authorization"] == f"Bearer {api_server.key}"
        assert seen.headers["user-agent"] == f"stackshift-cli/{__version__}"


def test_create_sends_name_selector_and_inbound(api_cli, api_server):
    result = api_cli("domains", "create", "Bücher.Example.", "--dkim-selector", "S2026", "--inbound", "--json")
    assert result.exit_code == 0, result.stderr
    post = api_server.requests_to("POST", "/mail/domains")[0]
    assert post.body == {"name": "xn--bcher-kva.example", "dkimSelector": "s2026", "inbound": True}
    assert post.headers["idempotency-key"]
    assert result.json()["dkimSelector"] == "s2026"


def test_create_without_options_sends_only_the_name(api_cli, api_server):
    assert api_cli("domains", "create", "plain.example").exit_code == 0
    assert api_server.requests_to("POST", "/mail/domains")[0].body == {"name": "plain.example"}


def test_list_follows_cursors_past_one_page(api_cli, api_server):
    api_server.page_limit = 2
    names = [f"d{i}.example" for i in range(5)]
    for name in names:
        assert api_cli("domains", "create", name).exit_code == 0
    api_server.requests.clear()
    result = api_cli("domains", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert sorted(d["name"] for d in result.json()) == names
    pages = api_server.requests_to("GET", "/mail/domains")
    assert [p.query.get("cursor") for p in pages] == [None, ["c2"], ["c4"]]


def test_a_name_on_a_later_page_is_resolved_to_its_id(api_cli, api_server):
    api_server.page_limit = 1
    for name in ("a.example", "b.example", "c.example"):
        assert api_cli("domains", "create", name).exit_code == 0
    target = next(d for d in api_server.domains() if d.name == "c.example")
    api_server.requests.clear()
    result = api_cli("domains", "delete", "C.Example", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["id"] == target.id
    assert [r.path for r in api_server.requests_to("DELETE")] == [f"/mail/domains/{target.id}"]
    assert sorted(d.name for d in api_server.domains()) == ["a.example", "b.example"]


def test_an_id_is_used_as_is_without_listing(api_cli, api_server):
    domain_id = api_cli("domains", "create", "byid.example", "--json").json()["id"]
    api_server.requests.clear()
    result = api_cli("domains", "show", domain_id, "--json")
    assert result.exit_code == 0
    assert [(r.method, r.path) for r in api_server.requests] == [("GET", f"/mail/domains/{domain_id}")]


def test_a_repeated_cursor_stops_the_listing(api_cli, api_server):
    page = {"data": [], "nextCursor": "same"}
    api_server.fail(Fault(200, page), Fault(200, page))
    result = api_cli("domains", "list")
    assert result.exit_code == 1
    assert "cursor it had already returned" in result.stderr


def test_unknown_fields_missing_optional_fields_and_unknown_statuses_are_tolerated(api_cli, api_server):
    minimal = {
        "id": "dom_1234567890abcdef", "name": "odd.example", "status": "suspended", "dkimStatus": "quarantined",
        "plan": {"tier": "pro"},
        "records": [{"type": "txt", "name": "odd.example.", "value": "v=spf1 -all", "status": "propagating",
                     "vendorField": 1}],
    }
    api_server.fail(Fault(200, minimal, method="GET", path="/mail/domains/dom_"))
    result = api_cli("domains", "show", "dom_1234567890abcdef")
    assert result.exit_code == 0, result.stderr
    fields = dict(line.split("\t", 1) for line in result.stdout.split("\n\n")[0].splitlines())
    assert fields["status"] == "suspended"
    assert fields["dkimStatus"] == "quarantined"
    assert fields["createdAt"] == "-" and fields["lastCheckedAt"] == "never"
    assert "odd.example\tTXT\tv=spf1 -all" in result.stdout
    api_server.fail(Fault(200, minimal, method="GET", path="/mail/domains/dom_"))
    data = api_cli("domains", "show", "dom_1234567890abcdef", "--json").json()
    assert data["status"] == "suspended" and data["records"][0]["status"] == "propagating"


def test_list_by_status_filters_the_api_answer(api_cli, api_server):
    assert api_cli("domains", "create", "p.example").exit_code == 0
    assert api_cli("domains", "list", "--status", "pending", "--json").json()[0]["name"] == "p.example"
    assert api_cli("domains", "list", "--status", "verified", "--json").json() == []


def test_api_url_with_a_path_prefix(api_server):
    cli = Cli({**api_server.env(), "STACKSHIFT_API_URL": api_server.url + "/v9/"})
    result = cli("domains", "list")
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr and "check api.url" in result.stderr
    assert api_server.requests[0].path == "/v9/mail/domains"


# ---------------------------------------------------------------- the key is never shown


def every_command(domain_id: str) -> list[list[str]]:
    return [
        ["domains", "create", "secret.example"],
        ["domains", "create", "secret.example"],  # 409
        ["domains", "create", "secret.example", "--exist-ok", "--json"],
        ["domains", "list"], ["domains", "list", "--json"],
        ["domains", "show", "secret.example"], ["domains", "show", domain_id, "--json"],
        ["domains", "records", "secret.example", "--format", "zone"],
        ["domains", "records", "secret.example", "--format", "csv"],
        ["domains", "verify", "secret.example"], ["domains", "verify", "--all", "--json"],
        ["domains", "show", "missing.example"],  # 404
        ["auth", "status"], ["auth", "status", "--json"],
        ["config", "list", "--all"], ["config", "list", "--json"], ["config", "get", "api.key"],
        ["config", "path", "--json"],
        ["domains", "delete", "secret.example", "--yes"],
        ["domains", "delete", domain_id, "--yes"],  # 404
    ]


def test_the_key_appears_in_no_output_of_any_command(api_cli, api_server, config_dir):
    ConfigFile(config_dir / "config.toml").set("default", "dns.timeout", "0.2s")  # verify's own DNS check
    api_server.verdicts = [{"dkim": ("failed", "Wrong key.")}]
    domain_id = "dom_0000000000000000"
    outputs = []
    for debug in ([], ["--debug"]):
        login = api_cli(*debug, "auth", "login", input=api_server.key)
        assert login.exit_code == 0, login.stderr
        outputs.append(login.stdout + login.stderr)
        for args in every_command(domain_id):
            result = api_cli(*debug, *args)
            outputs.append(result.stdout + result.stderr)
            if args[:2] == ["domains", "create"] and result.exit_code == 0 and "--json" in args:
                domain_id = result.json()["id"]
        logout = api_cli(*debug, "auth", "logout")
        outputs.append(logout.stdout + logout.stderr)
    assert any("Bearer ****" in out for out in outputs), "--debug logs the redacted header"
    assert all(api_server.key not in out for out in outputs)


def test_the_key_appears_in_no_error_even_when_the_server_echoes_it(api_cli, api_server):
    echo = {"error": {"code": "unauthorized", "message": f"Key {api_server.key} is revoked."}}
    api_server.fail(Fault(401, echo), Fault(500, f"<html><title>{api_server.key}</title></html>",
                                           content_type="text/html"))
    first = api_cli("--debug", "domains", "list")
    api_server.fail(*[Fault(502, f"<html><title>{api_server.key}</title></html>", content_type="text/html",
                            headers={"Retry-After": "0"}) for _ in range(4)])
    second = api_cli("--debug", "domains", "list")
    assert (first.exit_code, second.exit_code) == (6, 1)
    for result in (first, second):
        assert "[redacted]" in result.stderr
        assert api_server.key not in result.stdout + result.stderr


def test_the_key_appears_in_no_output_of_the_real_process_with_debug(api_server):
    env = api_server.env()
    created = run_process("--debug", "domains", "create", "proc.example", "--json", env=env)
    assert created.exit_code == 0, created.stderr
    assert created.json()["name"] == "proc.example"
    assert "debug: -> POST" in created.stderr and "Idempotency-Key" in created.stderr
    listed = run_process("--debug", "domains", "list", env=env)
    refused = run_process("--debug", "domains", "list", env={**env, "STACKSHIFT_API_KEY": api_server.key + "x"})
    assert listed.exit_code == 0 and "proc.example" in listed.stdout
    assert refused.exit_code == 6
    for result in (created, listed, refused):
        assert api_server.key not in result.stdout + result.stderr


# ---------------------------------------------------------------- httpx only when the API is used


IMPORTS = """
import sys
from stackshift_cli.cli.app import run
code = run(sys.argv[1:])
print("httpx" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("args", [["domains", "list", "--json"], ["--help"], ["auth", "status", "--json"]])
def test_the_local_backend_never_imports_httpx(args):
    proc = subprocess.run([sys.executable, "-c", IMPORTS, *args], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "STACKSHIFT_BACKEND": "local"})
    assert proc.stderr.strip().splitlines()[-1] == "False", proc.stderr


def test_the_api_backend_imports_httpx(api_server):
    proc = subprocess.run([sys.executable, "-c", IMPORTS, "domains", "list", "--json"], capture_output=True,
                          text=True, timeout=60, env={**__import__("os").environ, **api_server.env()})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "True"


def test_on_a_terminal_commands_say_they_use_the_api_backend(api_server):
    code, shown = run_on_pty("domains", "list", env=api_server.env())
    assert code == 0, shown
    assert "Using the api backend, profile default." in shown
    assert api_server.key not in shown

"""`stackshift domains create|records|list|show|delete` on every backend: output, JSON, exit codes."""

from __future__ import annotations

import csv
import io
import re

import pytest

DOMAIN_FIELDS = {"id", "name", "status", "spfStatus", "dkimStatus", "dmarcStatus", "returnPathStatus", "records",
                 "createdAt", "lastCheckedAt"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_create_prints_the_records_to_publish(cli):
    result = cli("domains", "create", "Example.COM.")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["@", "TXT"], ["stackshift._domainkey", "TXT"],
                                                        ["_dmarc", "TXT"], ["bounces", "CNAME"]]
    assert lines[0] == "@\tTXT\tv=spf1 include:spf.stackshift.email ~all"
    assert re.fullmatch(r"stackshift\._domainkey\tTXT\tv=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}", lines[1])
    assert "Created example.com" in result.stderr
    assert "stackshift domains verify example.com --wait" in result.stderr


def test_create_json_is_the_domain_object(cli):
    data = cli("domains", "create", "example.com", "--json").json()
    assert DOMAIN_FIELDS <= set(data)
    assert data["name"] == "example.com" and data["status"] == "pending"
    assert {data[k] for k in ("spfStatus", "dkimStatus", "dmarcStatus", "returnPathStatus")} == {"missing"}
    assert ISO_UTC.match(data["createdAt"]) and data["lastCheckedAt"] is None
    assert [r["purpose"] for r in data["records"]] == ["spf", "dkim", "dmarc", "returnPath"]
    for record in data["records"]:
        assert {"type", "name", "host", "value", "status", "required", "explanation", "purpose"} <= set(record)
        assert record["status"] == "missing" and record["explanation"] is None and record["required"] is True


def test_create_with_selector_and_inbound(cli):
    data = cli("domains", "create", "example.com", "--dkim-selector", "S2026", "--inbound", "--json").json()
    names = [r["name"] for r in data["records"]]
    assert "s2026._domainkey.example.com" in names
    mx = data["records"][-1]
    assert (mx["type"], mx["name"], mx["value"], mx["priority"], mx["required"]) == (
        "MX", "inbound.example.com", "inbound.stackshift.email", 10, False)


def test_create_unicode_name_is_stored_as_a_label(cli):
    data = cli("domains", "create", "bücher.example", "--json").json()
    assert data["name"] == "xn--bcher-kva.example"
    assert cli("domains", "show", "BÜCHER.example.", "--json").json()["id"] == data["id"]


def test_create_existing_name_is_an_error_unless_exist_ok(cli):
    first = cli("domains", "create", "example.com", "--json").json()
    again = cli("domains", "create", "EXAMPLE.com")
    assert again.exit_code == 2
    assert "already exists" in again.stderr and again.stdout == ""
    ok = cli("domains", "create", "example.com", "--exist-ok", "--json")
    assert ok.exit_code == 0
    assert ok.json()["id"] == first["id"]
    assert ok.json()["records"] == first["records"]
    assert len(cli("domains", "list", "--json").json()) == 1


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("https://example.com/x", "Did you mean 'example.com'?"), ("user@example.com", "Did you mean 'example.com'?"),
     ("192.0.2.1", "IP address"), ("*.example.com", "wildcard"), ("localhost", "single label"),
     ("exa_mple.com", "letters, digits and hyphens"), ("", "empty")],
)
def test_create_rejects_invalid_names_and_stores_nothing(cli, name, fragment):
    result = cli("domains", "create", name)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert cli("domains", "list", "--json").json() == []


def test_create_rejects_an_invalid_selector(cli):
    result = cli("domains", "create", "example.com", "--dkim-selector", "bad_selector")
    assert result.exit_code == 2 and "DKIM selector" in result.stderr
    assert cli("domains", "list", "--json").json() == []


def test_records_by_name_and_by_id_agree(cli):
    created = cli("domains", "create", "example.com", "--json").json()
    by_name = cli("domains", "records", "example.com", "--json").json()
    by_id = cli("domains", "records", created["id"], "--format", "json").json()
    assert by_name == by_id == created["records"]


def test_records_plain_when_piped(cli):
    cli("domains", "create", "example.com")
    result = cli("domains", "records", "example.com")
    assert result.exit_code == 0
    assert all(line.count("\t") == 2 for line in result.stdout.splitlines())
    assert len(result.stdout.splitlines()) == 4
    assert cli("domains", "records", "example.com", "--format", "plain").stdout == result.stdout


def test_records_zone_and_csv_formats(cli):
    cli("domains", "create", "example.com", "--inbound")
    zone = cli("domains", "records", "example.com", "--format", "zone").stdout
    assert 'example.com.\t3600\tIN\tTXT\t"v=spf1 include:spf.stackshift.email ~all"' in zone
    assert "inbound.example.com.\t3600\tIN\tMX\t10 inbound.stackshift.email." in zone
    rows = list(csv.DictReader(io.StringIO(cli("domains", "records", "example.com", "--format", "csv").stdout)))
    assert [r["type"] for r in rows] == ["TXT", "TXT", "TXT", "CNAME", "MX"]


def test_records_rejects_an_unknown_format(cli):
    cli("domains", "create", "example.com")
    result = cli("domains", "records", "example.com", "--format", "yaml")
    assert result.exit_code == 2 and "--format" in result.stderr


@pytest.mark.parametrize("command", ["records", "show", "delete"])
def test_unknown_domain_exits_5(cli, command):
    args = ["domains", command, "missing.example"] + (["--yes"] if command == "delete" else [])
    result = cli(*args)
    assert result.exit_code == 5
    assert "missing.example" in result.stderr and result.stdout == ""
    assert cli("domains", "show", "dom_0000000000000000").exit_code == 5


def test_invalid_name_argument_exits_2(cli):
    result = cli("domains", "show", "https://example.com/")
    assert result.exit_code == 2 and "URL" in result.stderr


def test_list_rows_and_json(cli):
    assert cli("domains", "list", "--json").json() == []
    assert cli("domains", "list").stdout == ""
    cli("domains", "create", "b.example")
    cli("domains", "create", "a.example")
    rows = [line.split("\t") for line in cli("domains", "list").stdout.splitlines()]
    assert [r[0] for r in rows] == ["b.example", "a.example"]
    assert rows[0][1:6] == ["pending", "missing", "missing", "missing", "missing"]
    assert ISO_UTC.match(rows[0][6]) and rows[0][7] == "never"
    data = cli("domains", "list", "--json").json()
    assert [d["name"] for d in data] == ["b.example", "a.example"]
    assert all(DOMAIN_FIELDS <= set(d) for d in data)


def test_list_filters_by_status(cli):
    cli("domains", "create", "a.example")
    assert len(cli("domains", "list", "--status", "pending", "--json").json()) == 1
    assert cli("domains", "list", "--status", "verified", "--json").json() == []
    bad = cli("domains", "list", "--status", "done")
    assert bad.exit_code == 2 and "--status" in bad.stderr


def test_show_has_every_field(cli):
    created = cli("domains", "create", "example.com", "--json").json()
    shown = cli("domains", "show", "example.com", "--json").json()
    assert DOMAIN_FIELDS <= set(shown)
    assert "dkimPrivateKeyPath" in shown
    assert {k: shown[k] for k in DOMAIN_FIELDS} == {k: created[k] for k in DOMAIN_FIELDS}
    text = cli("domains", "show", created["id"]).stdout
    assert f"id\t{created['id']}" in text and "spfStatus\tmissing" in text and "dkimPrivateKeyPath\t" in text
    assert "@\tTXT\tv=spf1" in text


def test_delete_requires_yes_without_a_terminal(cli):
    cli("domains", "create", "example.com")
    result = cli("domains", "delete", "example.com")
    assert result.exit_code == 2
    assert "--yes required when not running interactively" in result.stderr
    assert len(cli("domains", "list", "--json").json()) == 1


def test_delete_lists_what_the_user_may_remove(cli, backend_name):
    created = cli("domains", "create", "example.com", "--json").json()
    result = cli("domains", "delete", "example.com", "--yes")
    assert result.exit_code == 0
    assert ("from the local store" if backend_name == "local" else "from your StackShift account") in result.stderr
    assert "does not change DNS at your provider" in result.stderr
    assert result.stdout.splitlines()[0] == "@\tTXT\tv=spf1 include:spf.stackshift.email ~all"
    assert len(result.stdout.splitlines()) == len(created["records"])
    assert cli("domains", "list", "--json").json() == []
    assert cli("domains", "show", created["id"]).exit_code == 5


def test_delete_json(cli):
    created = cli("domains", "create", "example.com", "--json").json()
    data = cli("domains", "delete", created["id"], "--yes", "--json").json()
    assert data["deleted"] is True and data["id"] == created["id"] and data["records"] == created["records"]

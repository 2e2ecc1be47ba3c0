"""Record output formats: the zone fragment loads in dnspython and named-checkzone, CSV and plain lines."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import dns.zone

from stackshift_cli.keys import generate_dkim_keypair
from stackshift_cli.output import plain_record_lines, records_csv, split_txt, zone_fragment
from stackshift_cli.records import SendingProfile, build_records


def _records():
    _, public_key = generate_dkim_keypair()
    return build_records("example.com", selector="stackshift", public_key_b64=public_key, inbound=True,
                         profile=SendingProfile(dmarc_rua="dmarc@example.com"))


def _zone_text(records):
    header = ("$ORIGIN example.com.\n$TTL 3600\n"
              "@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300\n"
              "@ IN NS ns1.example.com.\nns1 IN A 192.0.2.53\n")
    return header + zone_fragment(records, origin="example.com") + "\n"


def test_zone_fragment_round_trips_through_dnspython():
    records = _records()
    zone = dns.zone.from_text(_zone_text(records), origin="example.com.", relativize=False)
    for record in records:
        rdataset = zone.find_rdataset(record.name + ".", record.type)
        (rdata,) = list(rdataset)
        if record.type == "TXT":
            assert b"".join(rdata.strings).decode() == record.value
            assert all(len(s) <= 255 for s in rdata.strings)
        elif record.type == "CNAME":
            assert rdata.target.to_text(omit_final_dot=True) == record.value
        elif record.type == "MX":
            assert (rdata.preference, rdata.exchange.to_text(omit_final_dot=True)) == (10, record.value)
    dkim = zone.find_rdataset("stackshift._domainkey.example.com.", "TXT")
    assert len(list(dkim)[0].strings) == 2  # a 2048-bit key is split into 255-byte strings


def test_zone_fragment_passes_named_checkzone(tmp_path):
    checkzone = shutil.which("named-checkzone") or "/usr/bin/named-checkzone"
    path = tmp_path / "example.com.zone"
    path.write_text(_zone_text(_records()))
    proc = subprocess.run([checkzone, "example.com", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout


def test_zone_fragment_escapes_quotes():
    from stackshift_cli.domain import DnsRecord

    record = DnsRecord(type="TXT", name="x.example.com", host="x", value='a "quoted" \\ value')
    zone = dns.zone.from_text(
        "$ORIGIN example.com.\n@ 300 IN SOA ns. h. 1 1 1 1 1\n@ 300 IN NS ns.\n" + zone_fragment([record]) + "\n",
        origin="example.com.", relativize=False)
    (rdata,) = list(zone.find_rdataset("x.example.com.", "TXT"))
    assert b"".join(rdata.strings).decode() == record.value


def test_split_txt_keeps_every_byte():
    value = "x" * 600
    chunks = split_txt(value)
    assert [len(c) for c in chunks] == [255, 255, 90] and "".join(chunks) == value


def test_csv_has_a_header_and_one_row_per_record():
    records = _records()
    rows = list(csv.DictReader(io.StringIO(records_csv(records))))
    assert [r["host"] for r in rows] == [r.host for r in records]
    assert rows[1]["value"] == records[1].value
    assert rows[-1]["priority"] == "10" and rows[-1]["required"] == "false"


def test_plain_lines_are_host_type_value():
    lines = plain_record_lines(_records())
    assert lines[0] == "@\tTXT\tv=spf1 include:spf.stackshift.email ~all"
    assert lines[-1] == "inbound\tMX\t10 inbound.stackshift.email"
    assert all(line.count("\t") == 2 for line in lines)

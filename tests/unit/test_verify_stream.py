"""output.VerifyStream: the report of `verify --all` written as the results come, to a script (--json, or stdout
not a terminal). It must write the bytes output.verify_report writes at the end for the same results, in the order
the domains were given whatever order their checks end in, and hold back only what arrived ahead of an earlier
domain still being checked.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.domain import Domain
from stackshift_cli.output import Ui, VerifyStream, verify_report
from stackshift_cli.records import SendingProfile, build_records

STATUSES = ("verified", "failed", "pending", "missing")
EXPLANATIONS = (None, "", "Found at every server.", "tab\there, newline\nthere", "non-ASCII: bücher.example — ok",
                "quote \" and backslash \\", "\x1b[31mescape\x1b[0m")
NAMES = ("example.com", "bücher.example", "mail.example.org", "xn--bcher-kva.example", "a.b.c.example.net",
         "z.example", "under_score.example", "d1.example.com", "d2.example.com", "d3.example.com")


def domain(n: int, status_seed: int = 0) -> Domain:
    """A checked domain with its five records, varied statuses and explanations (some needing escaping)."""
    name = NAMES[n % len(NAMES)] if n < len(NAMES) else f"d{n}.example.com"
    records = build_records(name, selector="stackshift", public_key_b64="MIIBIjANBgkq", inbound=n % 2 == 0,
                            profile=SendingProfile())
    judged = tuple(r.with_verdict(STATUSES[(n + i + status_seed) % len(STATUSES)],
                                  EXPLANATIONS[(n * 3 + i) % len(EXPLANATIONS)]) for i, r in enumerate(records))
    checked = datetime(2026, 11, 29, 16, n % 60, tzinfo=timezone.utc)
    return Domain(id=f"dom_{n:016x}", name=name, status=STATUSES[(n + status_seed) % 3], records=judged,
                  created_at=checked, last_checked_at=checked, dkim_selector="stackshift")


def ui(json_output: bool) -> Ui:
    return Ui(json=json_output, stdout=io.StringIO(), stderr=io.StringIO(), color=False)


def report_at_the_end(json_output: bool, domains: list[Domain]) -> str:
    out = ui(json_output)
    verify_report(out, domains, many=True)
    return out.stdout.getvalue()


def expecting(json_output: bool, domains: list[Domain]) -> tuple[Ui, VerifyStream]:
    """A stream to a script's stdout that was given `domains`, none of them checked yet."""
    out = ui(json_output)
    stream = VerifyStream(out)
    for d in domains:
        stream.expect(d)
    return out, stream


def streamed(json_output: bool, given_order: list[Domain], completion: list[int],
             dropped: frozenset[int] = frozenset()) -> str:
    """The stream's output when the domains are given in `given_order` and their checks end in the order of the
    places in `completion` (those in `dropped` end without a result: deleted meanwhile)."""
    out, stream = expecting(json_output, given_order)
    for place in completion:
        if place in dropped:
            stream.drop(given_order[place])
        else:
            stream.result(given_order[place])
    stream.close()
    return out.stdout.getvalue()


FORMATS = pytest.mark.parametrize("json_output", [True, False], ids=["json", "tsv"])


@FORMATS
@pytest.mark.parametrize("count", [0, 1, 2, 7])
def test_the_stream_writes_the_bytes_of_the_report_written_at_the_end(json_output, count):
    domains = [domain(n) for n in range(count)]
    assert streamed(json_output, domains, list(range(count))) == report_at_the_end(json_output, domains)


@FORMATS
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_stream_writes_the_domains_in_the_order_given_whatever_order_their_checks_end_in(json_output, data):
    count = data.draw(st.integers(min_value=1, max_value=12), label="count")
    domains = [domain(n, status_seed=count) for n in range(count)]
    completion = data.draw(st.permutations(range(count)), label="completion")
    assert streamed(json_output, domains, completion) == report_at_the_end(json_output, domains)


@FORMATS
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_dropped_domain_is_left_out_and_the_others_keep_their_order(json_output, data):
    count = data.draw(st.integers(min_value=1, max_value=10), label="count")
    domains = [domain(n) for n in range(count)]
    completion = data.draw(st.permutations(range(count)), label="completion")
    dropped = data.draw(st.frozensets(st.integers(min_value=0, max_value=count - 1)), label="dropped")
    kept = [d for place, d in enumerate(domains) if place not in dropped]
    assert streamed(json_output, domains, completion, dropped) == report_at_the_end(json_output, kept)


def test_the_streamed_json_of_every_domain_dropped_is_an_empty_array():
    domains = [domain(n) for n in range(3)]
    text = streamed(True, domains, [2, 0, 1], frozenset({0, 1, 2}))
    assert text == report_at_the_end(True, []) == "[]\n"


def test_a_result_is_written_as_soon_as_every_domain_given_before_it_has_one():
    domains = [domain(n) for n in range(4)]
    out, stream = expecting(True, domains)
    written = out.stdout.getvalue

    stream.result(domains[0])  # the first one: written at once
    after_first = written()
    assert after_first.startswith("[\n") and f'"id": "{domains[0].id}"' in after_first

    stream.result(domains[2])  # ahead of domains[1], still being checked: held back
    stream.result(domains[3])
    assert written() == after_first

    stream.result(domains[1])  # the gap is filled: it and those held behind it are written, in order
    everything = written()
    positions = [everything.index(f'"id": "{d.id}"') for d in domains]
    assert positions == sorted(positions)
    assert not everything.endswith("]\n")  # the array is ended by close() only
    stream.close()
    assert written() == report_at_the_end(True, domains)


def test_a_tab_separated_result_is_written_as_soon_as_every_domain_given_before_it_has_one():
    domains = [domain(n) for n in range(3)]
    out, stream = expecting(False, domains)
    stream.result(domains[1])
    assert out.stdout.getvalue() == ""
    stream.result(domains[0])
    assert out.stdout.getvalue() == report_at_the_end(False, domains[:2])
    stream.drop(domains[2])
    stream.close()
    assert out.stdout.getvalue() == report_at_the_end(False, domains[:2])


@FORMATS
def test_close_writes_what_was_held_behind_a_domain_that_never_got_a_result(json_output):
    """An interrupted run: the first domain's check never ended. What came after it is written (in order) and a
    JSON array is still complete."""
    domains = [domain(n) for n in range(4)]
    text = streamed(json_output, domains, [3, 1])
    assert text == report_at_the_end(json_output, [domains[1], domains[3]])
    if json_output:
        assert [d["id"] for d in json.loads(text)] == [domains[1].id, domains[3].id]

"""What `unpublish` does with each journal entry, given what the zone holds now (publish/service.plan_undo, pure)."""

from __future__ import annotations

from stackshift_cli.providers import ZoneRecord
from stackshift_cli.publish.journal import APPLIED, PLANNED, Entry
from stackshift_cli.publish.service import DELETE, GONE, LEFT, RESTORE, plan_undo

NAME = "example.com"
OURS = ZoneRecord("TXT", NAME, "v=spf1 mx include:spf.stackshift.email -all", 300)
THEIRS = ZoneRecord("TXT", NAME, "v=spf1 mx -all", 300)
OTHER = ZoneRecord("TXT", NAME, "google-site-verification=abc", 300)


def entry(removed=(), added=(OURS,), state=APPLIED, entry_id=1) -> Entry:
    return Entry(entry_id, "run", "dom_0", NAME, "rfc2136", NAME, NAME, "spf", tuple(removed), tuple(added), state,
                 "2026-11-29T00:00:00Z")


def test_a_record_stackshift_created_and_still_there_is_deleted():
    [undo] = plan_undo([entry()], {NAME: [OURS, OTHER]})
    assert undo.action == DELETE and undo.edit.remove == (OURS,) and undo.edit.add == ()
    assert set(undo.edit.expect) == {OURS, OTHER}  # the undo, too, expects the zone as it was read


def test_a_record_stackshift_updated_gets_its_previous_value_back():
    [undo] = plan_undo([entry(removed=[THEIRS])], {NAME: [OURS]})
    assert undo.action == RESTORE and undo.edit.remove == (OURS,) and undo.edit.add == (THEIRS,)


def test_a_record_changed_since_is_left_alone():
    changed = ZoneRecord("TXT", NAME, "v=spf1 a mx include:spf.stackshift.email -all", 300)
    [undo] = plan_undo([entry(removed=[THEIRS])], {NAME: [changed]})
    assert undo.action == LEFT and undo.edit is None


def test_an_edit_that_never_landed_is_nothing_to_undo():
    [undo] = plan_undo([entry(state=PLANNED)], {NAME: [OTHER]})
    assert undo.action == GONE and undo.edit is None


def test_an_edit_in_flight_that_landed_is_undone():
    [undo] = plan_undo([entry(state=PLANNED)], {NAME: [OURS]})
    assert undo.action == DELETE


def test_a_zone_already_as_before_publish_is_nothing_to_undo():
    assert plan_undo([entry(removed=[THEIRS])], {NAME: [THEIRS]})[0].action == GONE
    assert plan_undo([entry()], {NAME: [OTHER]})[0].action == GONE  # the created record was removed by hand


def test_entries_at_one_name_are_undone_newest_first_against_the_zone_each_leaves():
    first = ZoneRecord("TXT", NAME, "v=spf1 include:spf.stackshift.email ~all", 300)
    created = entry(added=[first], entry_id=1)
    merged = entry(removed=[first], added=[OURS], entry_id=2)
    undos = plan_undo([merged, created], {NAME: [OURS]})
    assert [u.action for u in undos] == [RESTORE, DELETE]
    assert undos[1].edit.remove == (first,) and undos[1].edit.expect == (first,)

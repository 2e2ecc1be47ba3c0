"""escape.visible(): text from outside shown with every control or invisible character as an escape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackshift_cli.escape import visible


@pytest.mark.parametrize("raw, shown", [
    ("v=spf1 a -all", "v=spf1 a -all"),
    ("a\rptr", "a\\rptr"),
    ("a\nb\tc", "a\\nb\\tc"),
    ("nul\x00", "nul\\x00"),
    ("\x1b[2Jclear", "\\x1b[2Jclear"),
    ("bell\x07", "bell\\x07"),
    ("del\x7f", "del\\x7f"),
    ("c1\x9b", "c1\\x9b"),
    (b"\x96all".decode("utf-8", "surrogateescape"), "\\x96all"),  # a byte that is not UTF-8
    ("\u202eevil", "\\u202eevil"),  # right-to-left override
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("\ufeffbom", "\\ufeffbom"),
    ("bücher", "bücher"),  # printable letters stay
    ("back\\slash", "back\\slash"),
], ids=["plain", "cr", "lf-tab", "nul", "esc", "bel", "del", "c1", "non-utf8-byte", "bidi", "zero-width", "bom",
        "letters", "backslash"])
def test_control_and_invisible_characters_become_escapes(raw, shown):
    assert visible(raw) == shown


@given(st.text() | st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_visible_text_is_printable_and_escaping_twice_changes_nothing(text):
    shown = visible(text)
    assert visible(shown) == shown
    assert all(c.isprintable() for c in shown)

"""Text from outside (DNS answers, API responses) made visible: control and invisible characters become escapes.

Pure and dependency-free. A raw byte that is not UTF-8 arrives here as a surrogate escape (TXT strings are decoded
with `surrogateescape`) and is shown as `\\x96`; a tab, CR or LF as `\\t`, `\\r`, `\\n`; other C0/C1 controls, DEL,
bidirectional overrides, zero-width and other format characters as `\\xNN` or `\\uNNNN`. Printable text, including
printable non-ASCII letters, is kept. Backslashes are kept as they are, so escaping twice changes nothing.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def visible(text: str) -> str:
    """`text` with every character a terminal would act on, or hide, written as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_visible_char(c) for c in text)


def quoted(text: str, limit: int = 100) -> str:
    """Outside text as an error message quotes it: visible, and cut to `limit` characters with an ellipsis."""
    shown = visible(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _visible_char(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if code > 0x7F and (unicodedata.category(char) in _INVISIBLE_CATEGORIES or char.isspace()):
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return char

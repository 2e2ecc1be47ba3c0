"""Public Suffix List look-ups that do not parse the list (pure, once the list's bytes are read).

`publicsuffixlist.PublicSuffixList()` parses its whole bundled list when it is built, IDNA-encoding every rule:
tens of milliseconds on each process start, before the first DNS query of `domains verify`. A command needs a
handful of look-ups, so this module reads the same data file and answers exactly as `PublicSuffixList()` with its
defaults does (ICANN and private sections, unknown TLDs public, wildcards, exceptions, Unicode and xn-- rules),
checking only the rules a name could match:

- a line is a rule when its own text is its rule (the list's lines, lowercased, comment lines dropped, in a set:
  a few C calls, no loop over the lines); the few lines that are not (non-ASCII, or with spaces or tabs) get the
  library's own formula, `line.lower().split(" ")[0].rstrip()`;
- the library also adds the IDNA (2003) encoding of every rule, so `xn--p1ai` matches the rule `рф`. Only the few
  hundred non-ASCII rules change when encoded, and only names with an xn-- label can match an encoding. Those
  rules are indexed (at the first such name) by their ASCII labels; a label nameprep leaves as it is encodes to
  xn-- and its Punycode, so it is compared with the name's decoded label, and the others are encoded (memoized).
  Encoding a Unicode label gives an xn-- label unless nameprep turns it into plain ASCII (a fullwidth letter,
  "ß" -> "ss"); a list with such a label, or with other shapes the library treats oddly (see `Rules.parse`), is
  left to the library itself.

Cost, for the bundled list: about 4 ms at the first look-up of a process (the library's parse: about 28 ms), 1 ms
more at the first name with an xn-- label, microseconds a look-up after that.

The library checks a name's suffixes from the longest, exception rule first, then the wildcard, then the rule
itself; `Rules._count_public` is its `_countpublic`, line by line.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

# str.isspace() bytes other than space and newline: `rstrip()` takes them off a rule line's end.
_OTHER_WHITESPACE = b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f"
# The separators the IDNA codec splits a name on, besides the full stop (encodings.idna.dots).
_OTHER_DOTS = ("\u3002", "\uff0e", "\uff61")
_ACE = "xn--"


class Lookup(Protocol):
    def privatesuffix(self, name: str, /) -> str | None: ...

    def publicsuffix(self, name: str, /) -> str | None: ...


def privatesuffix(name: str) -> str | None:
    """`PublicSuffixList().privatesuffix(name)`: the registrable domain (lowercased), None for a public suffix or a
    name with an empty label."""
    return _installed().privatesuffix(name)


def publicsuffix(name: str) -> str | None:
    """`PublicSuffixList().publicsuffix(name)`: the longest public suffix of the name (lowercased)."""
    return _installed().publicsuffix(name)


def from_bytes(data: bytes) -> Lookup:
    """The look-ups of a list file's bytes: those of `PublicSuffixList(open(file, "rb"))`."""
    rules = Rules.parse(data)
    if rules is not None:
        return rules
    import io

    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(io.BytesIO(data))


@lru_cache(maxsize=1)
def _installed() -> Lookup:
    """The list bundled with the installed publicsuffixlist, the file PublicSuffixList() reads by default."""
    with open(_data_file(), "rb") as file:
        return from_bytes(file.read())


def _data_file() -> str:
    """publicsuffixlist.PSLFILE, found the library's way (next to its __init__.py) without importing it."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("publicsuffixlist")
    if spec is not None and spec.origin is not None:
        path = os.path.join(os.path.dirname(spec.origin), "public_suffix_list.dat")
        if os.path.exists(path):
            return path
    from publicsuffixlist import PSLFILE

    return PSLFILE


class Rules:
    """A list's rules, kept as the lines of the file (see the module's docstring)."""

    def __init__(self, lines: frozenset[bytes], tokens: frozenset[str], unicode_tokens: list[str],
                 unmapped: frozenset[str]) -> None:
        self._lines = lines  # lowercased lines that are their own rule (plus blank and non-ASCII lines: never asked)
        self._tokens = tokens  # the rules of the other lines
        self._unicode_tokens = unicode_tokens  # the non-ASCII rules, whose encodings are other rules
        self._unmapped = unmapped  # their characters that nameprep's mapping leaves as they are
        self._index: dict[tuple[bool, tuple[str | None, ...]], list[tuple[str, ...]]] | None = None
        self._encoded: dict[str, str] = {}

    @classmethod
    def parse(cls, data: bytes) -> Rules | None:
        """The rules of a list file's bytes; None when the list has a shape whose answers only the library's own
        parse gives: a rule starting "!!" (the library strips all of them before encoding), a non-ASCII rule with
        an ideographic or fullwidth full stop (the encoding has more labels than the library counts), or a
        Unicode label that nameprep maps to ASCII."""
        import re
        from itertools import filterfalse

        # A line starting with // is a comment (its rule would start with //). Lowercasing bytes lowercases ASCII
        # only: exact for the ASCII lines; the others are lowercased as str below.
        text = re.sub(rb"\n//[^\n]*", b"", b"\n" + data).lower()
        if b"\n!!" in text:
            return None
        lines = text.split(b"\n")
        if b" " in text or any(byte in text for byte in _OTHER_WHITESPACE):
            plain: frozenset[bytes] = frozenset()
            others = lines
        else:
            plain = frozenset(lines)
            others = list(filterfalse(bytes.isascii, lines))
        tokens = {line.decode("utf8", "surrogateescape").lower().split(" ")[0].rstrip() for line in others}
        tokens = {token for token in tokens if token and not token.startswith("//")}

        unicode_tokens = [token for token in tokens if not token.isascii()]
        joined = "\n".join(unicode_tokens)
        if any(dot in joined for dot in _OTHER_DOTS):
            return None
        to_ascii, unmapped = _classify(joined)
        if to_ascii:
            return None
        return cls(plain, frozenset(tokens), unicode_tokens, unmapped)

    def privatesuffix(self, name: str) -> str | None:
        labels = _labels(name)
        if labels is None:
            return None
        count = self._count_public(labels)
        if not count or len(labels) < count + 1:
            return None
        return ".".join(labels[-(count + 1):])

    def publicsuffix(self, name: str) -> str | None:
        labels = _labels(name)
        if labels is None:
            return None
        count = self._count_public(labels)
        if not count or len(labels) < count:
            return None
        return ".".join(labels[-count:])

    def _count_public(self, labels: list[str]) -> int:
        """How many of the name's last labels are public (PublicSuffixList._countpublic, accept_unknown=True).
        The library starts at the longest rule's label count; a longer suffix matches no rule, so starting at
        the whole name gives the same answer."""
        count = len(labels)
        if count == 1:
            return 1
        for start in range(count):
            depth = count - start
            suffix = ".".join(labels[start:])
            if self._is_rule("!" + suffix):  # an exception rule: its wildcard's parent is the public part
                return depth - 1
            if self._is_rule("*." + suffix):  # the next label is public too; a whole-name match is the root
                return depth + 1 if start else depth
            if self._is_rule(suffix):
                return depth
        return 1  # an unknown TLD is public

    def _is_rule(self, rule: str) -> bool:
        """Whether `rule` is in the library's set: a rule of the list, or the IDNA encoding of one."""
        if rule in self._tokens:
            return True
        if not rule.isascii():
            return False  # encodings are ASCII
        return rule.encode("ascii") in self._lines or (_ACE in rule and self._is_encoded_rule(rule))

    def _is_encoded_rule(self, rule: str) -> bool:
        """Whether `rule` (with an xn-- label) is the encoding of a non-ASCII rule. Unicode labels encode to xn--
        labels (parse left lists with other ones to the library) and ASCII ones to themselves, so the candidates
        are the rules with Unicode labels where `rule` has xn-- labels, and its other labels."""
        if self._index is None:
            self._index = {}
            for token in self._unicode_tokens:
                exception = token.startswith("!")
                parts = tuple((token[1:] if exception else token).split("."))
                key = tuple(None if not part.isascii() or part.startswith(_ACE) else part for part in parts)
                self._index.setdefault((exception, key), []).append(parts)
        exception = rule.startswith("!")
        labels = (rule[1:] if exception else rule).split(".")
        key = tuple(None if label.startswith(_ACE) else label for label in labels)
        for candidate in self._index.get((exception, key), ()):
            if all(ours == theirs or (not theirs.isascii() and self._encodes_to(theirs, ours))
                   for ours, theirs in zip(labels, candidate)):
                return True
        return False

    def _encodes_to(self, label: str, ace: str) -> bool:
        """Whether the library's encoding of the Unicode `label` is the xn-- label `ace`. When nameprep leaves the
        label as it is (no character it maps, already NFKC), the encoding is xn-- and the label's Punycode, so
        only the label `ace` decodes to can match: the others need no encoding."""
        if label not in self._encoded:
            import unicodedata

            if all(c in self._unmapped for c in label if not c.isascii()) and (
                    unicodedata.ucd_3_2_0.normalize("NFKC", label) == label) and label != _decode(ace):
                return False
            from encodings.idna import ToASCII

            self._encoded[label] = ToASCII(label).decode("ascii")
        return self._encoded[label] == ace


def _labels(name: str) -> list[str] | None:
    """The lowercased labels, as PublicSuffixList._preparedomain: one trailing dot dropped, None with an empty
    label."""
    if name.endswith("."):
        name = name[:-1]
    labels = name.lower().split(".")
    return None if "" in labels else labels


@lru_cache(maxsize=64)
def _decode(ace: str) -> str | None:
    """The Unicode label an xn-- label's Punycode decodes to; None when it is no Punycode."""
    try:
        return ace[len(_ACE):].encode("ascii").decode("punycode")
    except UnicodeError:
        return None


def _classify(rules: str) -> tuple[bool, frozenset[str]]:
    """Whether a non-ASCII label of these rules (one a line) could be ASCII after nameprep (its encoding no xn--
    label), and the rules' non-ASCII characters that nameprep's mapping leaves as they are.

    nameprep deletes the characters of RFC 3454 table B.1, maps the others by table B.2, then applies NFKC (all
    with Unicode 3.2). Its result is ASCII only if the NFKD of every mapped character is: so a label with a
    character whose mapping is itself and that has no decomposition (a CJK ideograph, a Cyrillic letter) never
    is. The test of the other characters is exact."""
    import stringprep
    import unicodedata

    ucd = unicodedata.ucd_3_2_0
    to_ascii = set()
    unmapped = set()
    for c in set(rules):
        if c.isascii():
            continue
        if c.lower() == c and ord(c) not in stringprep.b3_exceptions and not stringprep.in_table_b1(c):
            # table B.2 maps c to itself when its NFKC is itself too; its NFKD is c (or Hangul jamo) when it has
            # no decomposition
            if not ucd.decomposition(c):
                unmapped.add(c)
                continue
            if ucd.normalize("NFKC", c) == c:
                unmapped.add(c)
        if stringprep.in_table_b1(c) or ucd.normalize("NFKD", stringprep.map_table_b2(c)).isascii():
            to_ascii.add(c)
    return (any(not label.isascii() and all(c.isascii() or c in to_ascii for c in label)
                for label in rules.replace("\n", ".").split(".")) if to_ascii else False), frozenset(unmapped)

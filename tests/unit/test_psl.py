"""Public Suffix List look-ups (stackshift_cli.psl): the answers of publicsuffixlist.PublicSuffixList() with its
defaults, for hand-built lists and for every rule of the bundled one."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from publicsuffixlist import PSLFILE, PublicSuffixList

from stackshift_cli import psl


def _rules_of(data: bytes) -> list[str]:
    """The rules of a list file, by the library's own formula."""
    rules = (line.decode("utf8", "surrogateescape").lower().split(" ")[0].rstrip() for line in io.BytesIO(data))
    return [rule for rule in rules if rule and not rule.startswith("//")]


with open(PSLFILE, "rb") as _file:
    _BUNDLED = _file.read()
_RULES = _rules_of(_BUNDLED)
_LIBRARY = PublicSuffixList()


def _names_under(rule: str) -> list[str]:
    """The rule as a name, and names one and two labels below it (a wildcard's * as a label), in the rule's form and,
    when it has Unicode labels, in xn-- form."""
    base = rule.lstrip("!").replace("*", "w")
    forms = [base]
    if not base.isascii():
        forms.append(base.encode("idna").decode("ascii"))
    return [name for form in forms for name in (form, "x." + form, "a.b." + form)]


def _assert_same(lookup, library, name: str) -> None:
    assert (lookup.privatesuffix(name), lookup.publicsuffix(name)) == (
        library.privatesuffix(name), library.publicsuffix(name)), name


# --- the bundled list: hand-picked names -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "private", "public"),
    [
        ("co.uk", None, "co.uk"),
        ("example.co.uk", "example.co.uk", "co.uk"),
        ("a.b.example.co.uk", "example.co.uk", "co.uk"),
        ("github.io", None, "github.io"),  # the private section counts
        ("user.github.io", "user.github.io", "github.io"),
        ("a.user.github.io", "user.github.io", "github.io"),
        # *.ck with the exception !www.ck
        ("ck", None, "ck"),
        ("foo.ck", None, "foo.ck"),
        ("a.foo.ck", "a.foo.ck", "foo.ck"),
        ("b.a.foo.ck", "a.foo.ck", "foo.ck"),
        ("www.ck", "www.ck", "ck"),
        ("a.www.ck", "www.ck", "ck"),
        # *.kawasaki.jp with the exception !city.kawasaki.jp; kawasaki.jp is the wildcard's implicit root
        ("kawasaki.jp", None, "kawasaki.jp"),
        ("foo.kawasaki.jp", None, "foo.kawasaki.jp"),
        ("a.foo.kawasaki.jp", "a.foo.kawasaki.jp", "foo.kawasaki.jp"),
        ("city.kawasaki.jp", "city.kawasaki.jp", "kawasaki.jp"),
        ("a.city.kawasaki.jp", "city.kawasaki.jp", "kawasaki.jp"),
        # an unknown TLD is public
        ("example.invalidtld", "example.invalidtld", "invalidtld"),
        ("a.example.invalidtld", "example.invalidtld", "invalidtld"),
        # single labels are public suffixes, listed or not
        ("com", None, "com"),
        ("invalidtld", None, "invalidtld"),
        ("localhost", None, "localhost"),
        # one trailing dot is dropped; a second one is an empty label
        ("example.com.", "example.com", "com"),
        ("com.", None, "com"),
        ("example.com..", None, None),
        # answers are lowercase
        ("EXAMPLE.Co.UK", "example.co.uk", "co.uk"),
        ("WWW.CK", "www.ck", "ck"),
        ("Mail.Example.COM", "example.com", "com"),
        # IDN rules match in Unicode and in xn-- form (the library adds every rule's IDNA encoding)
        ("公司.hk", None, "公司.hk"),
        ("example.公司.hk", "example.公司.hk", "公司.hk"),
        ("xn--55qx5d.hk", None, "xn--55qx5d.hk"),
        ("example.xn--55qx5d.hk", "example.xn--55qx5d.hk", "xn--55qx5d.hk"),
        ("EXAMPLE.XN--55QX5D.HK", "example.xn--55qx5d.hk", "xn--55qx5d.hk"),
        ("a.b.個人.香港", "b.個人.香港", "個人.香港"),
        ("a.b.xn--gmqw5a.xn--j6w193g", "b.xn--gmqw5a.xn--j6w193g", "xn--gmqw5a.xn--j6w193g"),
        ("a.京都.jp", "a.京都.jp", "京都.jp"),
        ("a.xn--1lqs71d.jp", "a.xn--1lqs71d.jp", "xn--1lqs71d.jp"),
        ("пример.рф", "пример.рф", "рф"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", "xn--p1ai"),
        # a name mixing the forms matches no rule of two labels (公司.香港 is one): a rule matches in one form
        ("a.公司.xn--j6w193g", "公司.xn--j6w193g", "xn--j6w193g"),
        ("a.xn--55qx5d.香港", "xn--55qx5d.香港", "香港"),
        # empty labels make no name
        ("", None, None),
        (".", None, None),
        ("..", None, None),
        (".com", None, None),
        ("example..com", None, None),
        # labels the library takes as they are
        ("*.ck", None, "*.ck"),  # matches the wildcard rule itself
        ("a.*.ck", "a.*.ck", "*.ck"),
        ("example.ｃｏｍ", "example.ｃｏｍ", "ｃｏｍ"),  # no IDNA mapping of the name: an unknown TLD
    ],
)
def test_the_bundled_list_answers(name, private, public):
    assert (psl.privatesuffix(name), psl.publicsuffix(name)) == (private, public)
    _assert_same(psl, _LIBRARY, name)


def test_the_bundled_list_is_the_one_the_library_reads():
    assert psl._data_file() == PSLFILE


def test_the_bundled_list_takes_the_short_cut():
    """The bundled list has none of the shapes left to the library (Rules.parse), so no look-up parses it."""
    assert isinstance(psl._installed(), psl.Rules)


# --- the bundled list: every rule ------------------------------------------------------------------------------

def test_every_rule_of_the_bundled_list():
    for rule in _RULES:
        for name in _names_under(rule):
            _assert_same(psl, _LIBRARY, name)


_LABEL = st.text(st.sampled_from("abcxyzABC019-_*!ü公Ωｃ"), min_size=0, max_size=6)


@st.composite
def _names(draw) -> str:
    suffix = draw(st.sampled_from(_RULES)).lstrip("!")
    suffix = ".".join(draw(_LABEL.filter(bool)) if label == "*" else label for label in suffix.split("."))
    if not suffix.isascii() and draw(st.booleans()):
        try:
            suffix = suffix.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # a drawn label the codec refuses: keep the Unicode form
    labels = draw(st.lists(_LABEL, max_size=4))
    name = ".".join([*labels, suffix])
    if draw(st.booleans()):
        name = name.upper()
    return name + draw(st.sampled_from(["", ".", ".."]))


@settings(max_examples=2000, deadline=None)
@given(name=_names())
def test_names_under_any_rule_get_the_library_answers(name):
    _assert_same(psl, _LIBRARY, name)


# --- hand-built lists ------------------------------------------------------------------------------------------

_BASIC = """// a comment, with spaces: co.uk
com
co.uk
*.ck
!www.ck
*.kawasaki.jp
!city.kawasaki.jp
// ===BEGIN PRIVATE DOMAINS===
github.io
"""

_ODD_LINES = (
    "example.org // a rule with a comment after it\n"
    "net\r\n"
    "org\t\n"
    "  indented.example\n"
    "Upper.CASE\n"
    "\u212aom\n"  # KELVIN SIGN: lowercases to "k"
    "nbsp.example\u00a0\n"  # trailing Unicode white space
    "foo.net // naïve\n"
    "/slash\n"
    "last.line"  # no final newline
)

_UNICODE = """рф
公司.hk
*.日本
!例.日本
個人.香港
aéroport.ci
xn--ascii.公司
ας.gr
cafe\u0301.fr
"""  # the last two are no nameprep output (a final sigma, a decomposed é): their encodings are of ασ and café


def _names_of(text: str) -> list[str]:
    names = ["", ".", "unknown", "a.unknown", "a..b"]
    for line in text.splitlines():  # the lines' words, rules or not
        names += [word for word in line.split()] + ["a." + word for word in line.split()]
    for rule in _rules_of(text.encode("utf8")):
        names += _names_under(rule) + [n.upper() for n in _names_under(rule)] + [rule, "a." + rule]
    return names


@pytest.mark.parametrize("text", [_BASIC, _ODD_LINES, _UNICODE, _BASIC + _ODD_LINES + _UNICODE],
                         ids=["basic", "odd-lines", "unicode", "all"])
def test_hand_built_lists_get_the_library_answers(text):
    data = text.encode("utf8")
    lookup = psl.from_bytes(data)
    assert isinstance(lookup, psl.Rules)
    library = PublicSuffixList(io.BytesIO(data))
    for name in _names_of(text) + _names_of(_BASIC + _UNICODE):
        _assert_same(lookup, library, name)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # the library strips every leading "!" before encoding: "!x.com" is an exception rule
        ("!!x.com\n*.com\n", ["a.x.com", "b.a.x.com", "x.com"]),
        # an ideographic full stop: the library's encoding of the rule has more labels than the rule
        ("a\u3002jp\njp\n", ["b.a.jp", "a.jp"]),
        ("a\u3002b\u3002jp\nc.d.e\n", ["x.a.b.jp", "a.b.jp"]),
        # nameprep maps a label to ASCII (IDNA 2003): fullwidth letters, "ß" to "ss", a byte order mark to nothing
        ("ｃｏ.uk\n", ["a.co.uk", "a.ｃｏ.uk"]),
        ("straße.de\n", ["a.strasse.de", "a.straße.de"]),
        ("\ufeff//x.com\ncom\n", ["a.//x.com", "a.com"]),
    ],
    ids=["double-exception", "ideographic-stop", "ideographic-stops", "fullwidth", "sharp-s", "byte-order-mark"],
)
def test_lists_the_short_cut_does_not_cover_are_left_to_the_library(text, names):
    data = text.encode("utf8")
    lookup = psl.from_bytes(data)
    assert isinstance(lookup, PublicSuffixList)
    library = PublicSuffixList(io.BytesIO(data))
    for name in names:
        _assert_same(lookup, library, name)


def test_importing_the_module_reads_nothing():
    """The list is read at the first look-up: importing loads neither publicsuffixlist nor the IDNA codec."""
    code = ("import sys\nimport stackshift_cli.psl\n"
            "print(','.join(m for m in ('publicsuffixlist', 'stringprep', 'encodings.idna') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""

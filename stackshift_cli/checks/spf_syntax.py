"""The syntax of an SPF record (RFC 7208 section 12, the collected ABNF): terms, or why a term is wrong (pure).

A receiver that finds a syntax error anywhere in a record returns "permerror" without evaluating any of it
(RFC 7208 4.6), so `parse()` reads every term and reports every problem, each naming the term, its number and
its position. Names that the grammar allows but DNS cannot look up (an empty label, a label over 63 octets)
are reported too: no receiver can evaluate them.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Union

from stackshift_cli.escape import quoted
from stackshift_cli.names import MAX_NAME_OCTETS
from stackshift_cli.verify.answers import dns_name_problem

VERSION = "v=spf1"
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
QUERYING = ("include", "a", "mx", "ptr", "exists", "redirect")  # the terms RFC 7208 4.6.4 counts
QUALIFIERS = "+-~?"
MACRO_LETTERS = "slodiphv"  # RFC 7208 7.2; c, r and t are allowed only in explanation text
EXPLANATION_ONLY_LETTERS = "crt"
DELIMITERS = ".-+,/_="

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

_MECHANISM_NAME = re.compile(r"[A-Za-z0-9]*")
_MODIFIER = re.compile(r"([A-Za-z0-9._-]*)=")
_MODIFIER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}")
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?")
_TRAILING_CIDR = re.compile(r"(.*?)((?:/[0-9]+)?(?://[0-9]+)?)", re.DOTALL)
_MACRO_BODY = re.compile(r"([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)")


def is_spf(text: str) -> bool:
    """RFC 7208 4.5: an SPF record starts with 'v=spf1' (any case) followed by a space or its end."""
    return text[:6].lower() == VERSION and (len(text) == 6 or text[6] == " ")


@dataclass(frozen=True)
class Term:
    """One mechanism or modifier as published, with its parts."""

    text: str
    index: int  # 1 for the first term after v=spf1
    offset: int  # the character where it starts in the record (0-based)
    name: str  # the mechanism or modifier name, lower case
    modifier: bool = False
    qualifier: str = "+"
    domain_spec: str | None = None  # include/a/mx/ptr/exists/redirect/exp target, macros unexpanded
    cidr4: int | None = None
    cidr6: int | None = None
    network: Network | None = None  # ip4 / ip6
    value: str | None = None  # an unknown modifier's value

    @property
    def queries_dns(self) -> bool:
        return self.name in QUERYING

    @property
    def where(self) -> str:
        """'term 3 ("ip4:1.2.3.4/33", at character 20)': how explanations name a term."""
        return f'term {self.index} ("{quoted(self.text, 80)}", at character {self.offset + 1})'


@dataclass(frozen=True)
class Problem:
    """Why one term (or the record as a whole) is not valid SPF."""

    text: str
    index: int
    offset: int
    message: str

    def describe(self) -> str:
        return f'term {self.index} ("{quoted(self.text, 80)}", at character {self.offset + 1}): {self.message}'


@dataclass(frozen=True)
class Record:
    text: str
    terms: tuple[Term, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def mechanisms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.modifier)

    def modifier(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.modifier and t.name == name), None)

    @property
    def has_all(self) -> bool:
        return any(t.name == "all" for t in self.mechanisms)


class _Invalid(Exception):
    pass


@lru_cache(maxsize=1024)  # a bulk run meets the same few records (ours, our include's) in every domain
def parse(text: str) -> Record:
    """Every term of an SPF record and every problem with them. `text` must satisfy `is_spf()`."""
    terms: list[Term] = []
    problems: list[Problem] = []
    for index, (offset, token) in enumerate(_tokens(text), start=1):
        try:
            terms.append(_term(token, index, offset))
        except _Invalid as exc:
            problems.append(Problem(token, index, offset, str(exc)))
    for name in ("redirect", "exp"):
        seen = [t for t in terms if t.modifier and t.name == name]
        for extra in seen[1:]:
            problems.append(Problem(extra.text, extra.index, extra.offset,
                                    f"{name}= appears more than once (also term {seen[0].index}); a record may "
                                    "have it at most once (RFC 7208 6)"))
    problems.sort(key=lambda p: p.index)
    return Record(text, tuple(terms), tuple(problems))


def _tokens(text: str) -> list[tuple[int, str]]:
    """The terms after 'v=spf1' and where each starts; only the space character separates terms (4.6.1)."""
    found: list[tuple[int, str]] = []
    start = None
    for position in range(len(VERSION), len(text) + 1):
        at_space = position == len(text) or text[position] == " "
        if at_space and start is not None:
            found.append((start, text[start:position]))
            start = None
        elif not at_space and start is None:
            start = position
    return found


def _term(token: str, index: int, offset: int) -> Term:
    _check_characters(token)
    qualifier = token[0] if token[0] in QUALIFIERS else ""
    body = token[len(qualifier):]
    name = _always(_MECHANISM_NAME.match(body)).group(0)
    rest = body[len(name):]
    if name.lower() in MECHANISMS and (not rest or rest[0] in ":/"):
        return _mechanism(token, index, offset, qualifier or "+", name.lower(), rest)
    modifier = _MODIFIER.match(body)
    if modifier:
        if qualifier:
            raise _Invalid(f"a modifier takes no qualifier ({qualifier}); write {body}")
        return _modifier(token, index, offset, modifier.group(1), body[modifier.end():])
    lowered = name.lower()
    if lowered in ("redirect", "exp") and rest[:1] == ":":
        raise _Invalid(f"{lowered} is a modifier and takes '=': write {lowered}={rest[1:]}")
    if lowered in MECHANISMS:
        if lowered == "all":
            raise _Invalid("'all' takes nothing after it")
        raise _Invalid(f"'{quoted(rest[:1])}' cannot follow '{lowered}': write {lowered}:domain or {lowered}/prefix")
    raise _Invalid("it is neither a mechanism (all, include, a, mx, ptr, ip4, ip6, exists) nor a modifier "
                   "(name=value)")


def _always(found: re.Match[str] | None) -> re.Match[str]:
    """The match of a pattern that matches every text it is given here (its parts are all optional)."""
    if found is None:
        raise AssertionError("a pattern that always matches did not")
    return found


def _check_characters(token: str) -> None:
    for char in token:
        if "\x21" <= char <= "\x7e":
            continue
        if char in "\t\r\n\v\f":
            raise _Invalid(f"it contains {quoted(char)}: only spaces may separate the terms of an SPF record "
                           "(RFC 7208 4.6.1)")
        if char == "\x00":
            raise _Invalid("it contains a NUL byte (\\x00)")
        if char < "\x80":
            raise _Invalid(f"it contains the control character {quoted(char)}")
        raise _Invalid(f"it contains {quoted(char)}, which is not ASCII: an SPF record holds printable ASCII only "
                       "(RFC 7208 12)")


def _mechanism(token: str, index: int, offset: int, qualifier: str, name: str, rest: str) -> Term:
    def term(**parts) -> Term:
        return Term(token, index, offset, name, qualifier=qualifier, **parts)

    if name == "all":
        if rest:
            raise _Invalid("'all' takes no domain or prefix length")
        return term()
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            raise _Invalid(f"{name} needs a domain: {name}:example.com")
        spec = rest[1:]
        cidr = _always(_TRAILING_CIDR.fullmatch(spec)).group(2)
        if cidr and spec[: -len(cidr)] and _domain_spec_problem(spec[: -len(cidr)]) is None:
            raise _Invalid(f"{name} takes no prefix length ({cidr})")
        _domain_spec(spec, name)
        return term(domain_spec=spec)
    if name == "ptr":
        if rest.startswith("/"):
            raise _Invalid("ptr takes no prefix length")
        if rest:
            _domain_spec(rest[1:], name)
        return term(domain_spec=rest[1:] if rest else None)
    if name in ("a", "mx"):
        target: str | None = None
        cidr = rest
        if rest.startswith(":"):
            target, cidr = _always(_TRAILING_CIDR.fullmatch(rest[1:])).groups()
            _domain_spec(target, name)
        cidr4, cidr6 = _dual_cidr(cidr, name)
        return term(domain_spec=target, cidr4=cidr4, cidr6=cidr6)
    return _ip(term, name, rest)


def _ip(term, name: str, rest: str) -> Term:
    if not rest.startswith(":") or len(rest) == 1:
        example = "ip4:192.0.2.0/24" if name == "ip4" else "ip6:2001:db8::/32"
        raise _Invalid(f"{name} needs an address: {example}")
    address, slash, length = rest[1:].partition("/")
    family, limit, digits = (4, 32, 2) if name == "ip4" else (6, 128, 3)
    if name == "ip4":
        _ip4_address(address)
    else:
        _ip6_address(address)
    prefix = None
    if slash:
        if length.startswith("/"):
            raise _Invalid(f"{name} takes one prefix length (/N, 0–{limit}); //N is only for a and mx")
        prefix = _prefix(length, limit, digits, f"an IPv{family}")
    network = ipaddress.ip_network(f"{address}/{prefix if prefix is not None else limit}", strict=False)
    return term(network=network, cidr4=prefix if family == 4 else None, cidr6=prefix if family == 6 else None)


def _ip4_address(address: str) -> None:
    if _IP4.fullmatch(address):
        return
    host, colon, port = address.partition(":")
    if colon and _IP4.fullmatch(host):
        raise _Invalid(f"{host} is followed by a port ({colon}{quoted(port)}); an SPF address takes no port")
    if re.fullmatch(r"[0-9]+(\.[0-9]+){0,2}", address):
        raise _Invalid(f"{address} is not a full IPv4 address: write all four numbers, with a prefix length for a "
                       "range (192.0.2.0/24)")
    raise _Invalid(f"{quoted(address)} is not an IPv4 address")


def _ip6_address(address: str) -> None:
    try:
        if "%" in address:  # a zone index: valid for Python, not in SPF
            raise ValueError
        ipaddress.IPv6Address(address)
    except ValueError:
        raise _Invalid(f"{quoted(address)} is not an IPv6 address") from None


def _prefix(text: str, limit: int, digits: int, family: str) -> int:
    if not text.isdigit():
        raise _Invalid(f"/{quoted(text)} is not a prefix length")
    if len(text) > 1 and text.startswith("0"):
        raise _Invalid(f"/{text}: a prefix length has no leading zeros")
    if len(text) > digits or int(text) > limit:
        raise _Invalid(f"the prefix length must be 0–{limit} for {family} address (/{text})")
    return int(text)


def _dual_cidr(text: str, name: str) -> tuple[int | None, int | None]:
    match = _DUAL_CIDR.fullmatch(text)
    if not match:
        raise _Invalid(f"'{quoted(text)}' is not a prefix length: {name} takes /N for IPv4 and //N for IPv6 "
                       f"({name}/24, {name}//64, {name}/24//64)")
    ip4, ip6 = match.groups()
    return (_prefix(ip4, 32, 2, "an IPv4") if ip4 is not None else None,
            _prefix(ip6, 128, 3, "an IPv6") if ip6 is not None else None)


def _modifier(token: str, index: int, offset: int, name: str, value: str) -> Term:
    if not _MODIFIER_NAME.fullmatch(name):
        raise _Invalid("a modifier name must start with a letter (name=value)")
    lowered = name.lower()
    if lowered in ("redirect", "exp"):
        _domain_spec(value, f"{lowered}=")
        return Term(token, index, offset, lowered, modifier=True, domain_spec=value)
    problem = _macro_problem(value)
    if problem:
        raise _Invalid(problem)
    return Term(token, index, offset, lowered, modifier=True, value=value)


def _domain_spec(spec: str, what: str) -> None:
    if not spec:
        raise _Invalid(f"{what} has no domain after {'=' if what.endswith('=') else ':'}")
    problem = _domain_spec_problem(spec)
    if problem:
        raise _Invalid(problem)


def _domain_spec_problem(spec: str) -> str | None:
    """RFC 7208 7.1: domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand."""
    tokens = _macro_tokens(spec)
    if isinstance(tokens, str):
        return tokens
    if tokens and tokens[-1][0] == "macro":
        return None
    literal_tail = ""
    for kind, text in reversed(tokens):
        if kind == "macro":
            break
        literal_tail = text + literal_tail
    tail = literal_tail[:-1] if literal_tail.endswith(".") else literal_tail
    if "." not in tail:
        return f"{quoted(spec)} is not a domain: it needs a dot and a top-level name (example.com)"
    top = tail.rsplit(".", 1)[1]
    if not _TOPLABEL.fullmatch(top):
        return _toplabel_problem(spec, top)
    if all(kind == "literal" for kind, _ in tokens):
        return dns_name_problem(spec[:-1] if spec.endswith(".") else spec)
    return None


def _toplabel_problem(spec: str, top: str) -> str:
    if not top:
        return f"{quoted(spec)} ends in an empty label"
    if top.isdigit():
        if _IP4.fullmatch(spec.rstrip(".")):
            return f"{spec} is an IP address where a domain is needed: write ip4:{spec.rstrip('.')}"
        return f"{quoted(spec)} ends in '{top}', but a top-level name cannot be all digits"
    if top.startswith("-") or top.endswith("-"):
        return f"{quoted(spec)} ends in '{quoted(top)}', but a label cannot start or end with a hyphen"
    host, colon, port = top.partition(":")
    if colon and port.isdigit():
        return f"{quoted(spec)} has a port ({colon}{port}); a domain in SPF takes no port"
    return f"{quoted(spec)} ends in '{quoted(top)}', but a top-level name holds only letters, digits and hyphens"


def _macro_problem(text: str) -> str | None:
    tokens = _macro_tokens(text)
    return tokens if isinstance(tokens, str) else None


def _macro_tokens(text: str) -> list[tuple[str, str]] | str:
    """macro-string (RFC 7208 7.1) as ('literal'|'macro', text) tokens, or what is wrong with it."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "%":
            tokens.append(("literal", char))
            i += 1
            continue
        following = text[i + 1: i + 2]
        if following and following in "%_-":
            tokens.append(("macro", text[i: i + 2]))
            i += 2
            continue
        if following != "{":
            return (f"'%' at '{quoted(text[i:i + 3])}' must start a macro (%{{d}}) or be written %% (a literal %), "
                    "%_ (a space) or %- (an encoded space)")
        end = text.find("}", i)
        if end < 0:
            return f"the macro '{quoted(text[i:])}' is not closed with '}}'"
        body = text[i + 2: end]
        problem = _macro_body_problem(body)
        if problem:
            return problem
        tokens.append(("macro", text[i: end + 1]))
        i = end + 1
    return tokens


def _macro_body_problem(body: str) -> str | None:
    match = _MACRO_BODY.fullmatch(body)
    if not match:
        return (f"%{{{quoted(body)}}} is not a macro: a macro letter, then optional digits, 'r' and delimiters "
                f"({DELIMITERS}), as in %{{d2}} or %{{ir}}")
    letter, digits = match.group(1).lower(), match.group(2)
    if letter in EXPLANATION_ONLY_LETTERS:
        return (f"%{{{body}}}: the macro letter {letter} is allowed only in explanation text (the TXT record an "
                "exp= modifier points to), not in the SPF record (RFC 7208 7.2)")
    if letter not in MACRO_LETTERS:
        return f"%{{{body}}}: {letter} is not a macro letter (s, l, o, d, i, p, h, v)"
    if digits and not digits.strip("0"):  # not int(): it refuses more than 4300 digits
        return f"%{{{body}}}: the number of labels to keep must be 1 or more"
    return None


def expand(spec: str, *, domain: str, sender_domain: str) -> str | None:
    """A domain-spec with its macros expanded (RFC 7208 7.3) as far as the domains alone decide it: %{d} and
    %{o}. None when it depends on the sending host or address (%{i}, %{s}, %{l}, %{h}, %{p}, %{v})."""
    tokens = _macro_tokens(spec)
    if isinstance(tokens, str):
        return None
    out: list[str] = []
    for kind, text in tokens:
        if kind == "literal":
            out.append(text)
        elif text in ("%%", "%_", "%-"):
            out.append({"%%": "%", "%_": " ", "%-": "%20"}[text])
        else:
            letter, digits, reverse, delimiters = _always(_MACRO_BODY.fullmatch(text[2:-1])).groups()
            value = {"d": domain, "o": sender_domain}.get(letter.lower())
            if value is None:
                return None
            parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
            if reverse:
                parts.reverse()
            keep = digits.lstrip("0")  # never "0": parse refuses it
            if keep and len(keep) <= len(str(len(parts))):  # more digits than the labels have: keep them all
                parts = parts[-int(keep):]
            out.append(".".join(parts))
    name = "".join(out)
    name = name[:-1] if name.endswith(".") else name
    while len(name) > MAX_NAME_OCTETS and "." in name:  # 7.3: truncate from the left, a label at a time
        name = name.split(".", 1)[1]
    return name

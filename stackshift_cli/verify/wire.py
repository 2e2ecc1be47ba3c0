"""A reader for the DNS answers a check receives (RFC 1035 4.1), lighter than dnspython's general one.

A bulk run reads tens of thousands of answers; dnspython builds a full object model for each (rdata classes,
rdatasets, canonical forms) and that was a third of a run's CPU. This reader decodes only what the checks read,
for the handful of record types they ask about, and gives exactly what `lookup._answer` makes of dnspython's
parse: the same records, grouped into RRsets the same way (owner and type, case-insensitively; TTL the
smallest; one record of a singleton type such as CNAME; duplicates once), the same text for names (dnspython's
escapes, lower case).

It is strict on purpose: for anything it does not fully understand (another record type or class, an opcode
other than QUERY, an extended RCODE, a compression pointer dnspython would refuse, trailing bytes, a TXT record
without strings ...) it gives None and the caller parses the answer with dnspython, which then also says what is
wrong with it. tests/unit/test_wire.py checks the two agree on real and on mangled answers.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

A, NS, CNAME, SOA, PTR, MX, TXT, DNAME, OPT, SPF = 1, 2, 5, 6, 12, 15, 16, 39, 41, 99
TYPE_NAMES = {A: "A", NS: "NS", CNAME: "CNAME", SOA: "SOA", PTR: "PTR", MX: "MX", TXT: "TXT", DNAME: "DNAME",
              SPF: "SPF"}
_SINGLETONS = frozenset({CNAME, SOA, DNAME})  # dnspython keeps the last record of these in an RRset
_MAX_POINTER_HOPS = 16  # dnspython's MAX_COMPRESSION_POINTER_CHAIN
_ESCAPED = b'"().;\\@$'
_PLAIN_LABEL = re.compile(rb"[!#%&'*+,\-/0-9:<=>?A-Z\[\]^_`a-z{|}~]*")  # 0x21-0x7e but the escaped ones
_BYTE_TEXT = [("\\" + chr(c)) if c in _ESCAPED else chr(c) if 0x20 < c < 0x7F else f"\\{c:03d}" for c in range(256)]
_RR_HEADER = struct.Struct("!HHIH")
_SOA_TAIL = struct.Struct("!IIIII")


class _Unsure(Exception):
    """Something this reader does not handle: dnspython reads the answer instead."""


@dataclass(frozen=True)
class RRset:
    owner: str  # lower case, dnspython's escapes, no final dot ("" for the root)
    type: int
    ttl: int
    rdatas: tuple  # A: "a.b.c.d"; NS/CNAME/PTR/DNAME: target text; MX: (preference, exchange text);
    # SOA: (mname, rname, serial, refresh, retry, expire, minimum); TXT/SPF: tuple of bytes


@dataclass(frozen=True)
class Message:
    flags: int  # the header's flags (QR, AA, TC, RD, RA ... and the 4-bit RCODE)
    rcode: int
    answer: tuple[RRset, ...]
    authority: tuple[RRset, ...]
    additional: tuple[RRset, ...]


def read(data: bytes) -> Message | None:
    """The answer's sections as RRsets, or None when dnspython must read it."""
    try:
        return _read(data)
    except (_Unsure, IndexError, struct.error):
        return None


def _read(data: bytes) -> Message:
    size = len(data)
    if size < 12:
        raise _Unsure
    _, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHHH", data, 0)
    if flags & 0x7800 or qdcount != 1:  # opcode QUERY, one question
        raise _Unsure
    _, pos = _name(data, 12, size, compressed=True)
    pos += 4  # qtype, qclass
    if pos > size:
        raise _Unsure
    sections: list[list[_Building]] = [[], [], []]
    opt_ttl = None
    for number, count in enumerate((ancount, nscount, arcount)):
        index: dict[tuple, _Building] = {}
        for _ in range(count):
            labels, pos = _name(data, pos, size, compressed=True)
            if pos + 10 > size:
                raise _Unsure
            rtype, rclass, ttl, rdlength = _RR_HEADER.unpack_from(data, pos)
            pos += 10
            end = pos + rdlength
            if end > size:
                raise _Unsure
            if rtype == OPT:
                if number != 2 or opt_ttl is not None or labels or rdlength:
                    raise _Unsure  # (EDNS options: dnspython checks each of them)
                opt_ttl, pos = ttl, end
                continue
            if rclass != 1 or rtype not in TYPE_NAMES:
                raise _Unsure
            rdata, canonical = _rdata(data, pos, end, rtype)
            pos = end
            if ttl > 0x7FFFFFFF:
                ttl = 0
            key = (tuple(label.lower() for label in labels), rtype)
            building = index.get(key)
            if building is None:
                building = index[key] = _Building(_owner(labels), rtype, ttl)
                sections[number].append(building)
            building.add(rdata, canonical, ttl)
    if pos != size:
        raise _Unsure  # trailing bytes: dnspython refuses them
    if opt_ttl is not None and (opt_ttl >> 20) & 0xFF0:
        raise _Unsure  # an extended RCODE
    answer, authority, additional = (tuple(b.rrset() for b in section) for section in sections)
    return Message(flags, flags & 0xF, answer, authority, additional)


class _Building:
    """An RRset as dnspython's Rdataset.add builds it."""

    def __init__(self, owner: str, rtype: int, ttl: int) -> None:
        self.owner, self.type, self.ttl = owner, rtype, ttl
        self.rdatas: list = []
        self.canonical: list = []

    def add(self, rdata, canonical, ttl: int) -> None:
        if self.rdatas and ttl < self.ttl:
            self.ttl = ttl
        elif not self.rdatas:
            self.ttl = ttl
        if self.type in _SINGLETONS and self.rdatas:
            self.rdatas.clear()
            self.canonical.clear()
        if canonical not in self.canonical:
            self.rdatas.append(rdata)
            self.canonical.append(canonical)

    def rrset(self) -> RRset:
        return RRset(self.owner, self.type, self.ttl, tuple(self.rdatas))


def _rdata(data: bytes, pos: int, end: int, rtype: int) -> tuple[object, object]:
    """The record's data as the checks read it, and its canonical form (what makes two records the same)."""
    if rtype == TXT or rtype == SPF:
        strings = []
        while pos < end:
            length = data[pos]
            if pos + 1 + length > end:
                raise _Unsure
            strings.append(data[pos + 1:pos + 1 + length])
            pos += 1 + length
        if not strings:
            raise _Unsure  # dnspython refuses a TXT record without strings
        value = tuple(strings)
        return value, value
    if rtype == A:
        if end - pos != 4:
            raise _Unsure
        return "%d.%d.%d.%d" % tuple(data[pos:end]), data[pos:end]
    if rtype == MX:
        if end - pos < 3:
            raise _Unsure
        preference = (data[pos] << 8) | data[pos + 1]
        labels, after = _name(data, pos + 2, end, compressed=True)
        _exact(after, end)
        return (preference, _owner(labels)), (preference, _lower(labels))
    if rtype == SOA:
        mname, pos = _name(data, pos, end, compressed=True)
        rname, pos = _name(data, pos, end, compressed=True)
        _exact(pos + 20, end)
        numbers = _SOA_TAIL.unpack_from(data, pos)
        return (_owner(mname), _owner(rname), *numbers), (_lower(mname), _lower(rname), *numbers)
    # NS, CNAME, PTR: a name, compressed or not; DNAME: never compressed, and compared as written
    labels, after = _name(data, pos, end, compressed=rtype != DNAME)
    _exact(after, end)
    return _owner(labels), (tuple(labels) if rtype == DNAME else _lower(labels))


def _exact(position: int, end: int) -> None:
    if position != end:
        raise _Unsure  # the data must fill the record exactly


def _name(data: bytes, pos: int, end: int, *, compressed: bool) -> tuple[list[bytes], int]:
    """The labels of the name at `pos` and the position after it, following compression pointers as dnspython
    allows them: strictly backwards, at most 16, never into the part of the name already read."""
    labels: list[bytes] = []
    start = biggest = pos
    after = -1
    hops = 0
    length = 1
    while True:
        if pos >= end:
            raise _Unsure
        count = data[pos]
        if count == 0:
            pos += 1
            break
        if count < 64:
            if pos + 1 + count > end:
                raise _Unsure
            labels.append(data[pos + 1:pos + 1 + count])
            length += count + 1
            pos += 1 + count
        elif count >= 192 and compressed:
            if pos + 2 > end:
                raise _Unsure
            target = ((count & 0x3F) << 8) | data[pos + 1]
            if after < 0:
                after = pos + 2
            if target >= biggest:
                raise _Unsure
            biggest = target
            hops += 1
            if hops > _MAX_POINTER_HOPS:
                raise _Unsure
            end = start  # the target must lie wholly before what was read of this name
            pos = start = target
        else:
            raise _Unsure
    if length > 255:
        raise _Unsure
    return labels, (pos if after < 0 else after)


def _owner(labels: list[bytes]) -> str:
    """A name's text as lookup._text makes it of dnspython's Name: escaped, lower case, no final dot."""
    return ".".join(label.decode("ascii") if _PLAIN_LABEL.fullmatch(label) else
                    "".join(_BYTE_TEXT[c] for c in label) for label in labels).lower()


def _lower(labels: list[bytes]) -> tuple[bytes, ...]:
    return tuple(label.lower() for label in labels)

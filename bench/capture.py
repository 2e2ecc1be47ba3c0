"""The queries a client sent, from a packet capture of the loopback interface.

tcpdump captures, with a kernel filter, only the packets the world's client filter selects (world.client_filter():
port 53, from no server). Each is parsed here: its time (the kernel's clock, the one time.time() reads, so it can be
compared with a process's spawn time), where it went (the resolver or an authoritative server) and the name it asked.
That gives, exactly and without touching the client: how many queries it sent, for which domain, when the first one
left, and how many sequential rounds they came in. tcpdump reports packets it dropped; a capture that dropped any is
flagged, never counted as exact.
"""

from __future__ import annotations

import re
import signal
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import deps
from bench.domains import domain_index
from bench.procs import Server

_LINKTYPE_ETHERNET = 1
_LINKTYPE_LINUX_SLL = 113
_LINKTYPE_LINUX_SLL2 = 276


@dataclass(frozen=True)
class Query:
    time: float  # seconds since the epoch (kernel capture time)
    destination: str  # "ip:port"
    transport: str  # "udp" or "tcp"
    name: str  # lower case, no trailing dot
    rtype: int


@dataclass
class Queries:
    """The client's queries of one capture."""

    queries: list[Query]
    dropped: int = 0  # packets tcpdump says the kernel dropped (0: the counts are exact)
    by_destination: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.by_destination = Counter(q.destination for q in self.queries)

    @property
    def total(self) -> int:
        return len(self.queries)

    @property
    def exact(self) -> bool:
        return self.dropped == 0

    def per_domain(self) -> Counter:
        """Queries for names at or under each benchmark domain, by its index; index 0 gathers the shared ones
        (the SPF include, the name server's address, `bench.`, the root)."""
        return Counter(domain_index(q.name) or 0 for q in self.queries)

    def first_time(self) -> float | None:
        return min((q.time for q in self.queries), default=None)

    def rounds(self, gap: float) -> int:
        """How many sequential rounds the queries came in: waves of sends separated by more than `gap` seconds.
        With every answer D late, a query that waits for an answer leaves at least D after the one it waited for;
        so with gap = D / 2 this counts the client's round trips one after another (the length of its longest
        chain of dependent queries)."""
        times = sorted(q.time for q in self.queries)
        return sum(1 for before, after in zip([None, *times], times) if before is None or after - before > gap)


class Capture:
    """tcpdump on `lo` with a filter, writing a pcap file; stop() returns the parsed queries.

    Start it before the client, stop it after the client exited."""

    def __init__(self, path: Path, capture_filter: str) -> None:
        self.path = path
        log = path.with_suffix(".log")
        # --immediate-mode and -U: each packet is handed over and written as it comes (buffered, the packets of
        # the last second would be lost when tcpdump is stopped); -B: a 64 MB kernel buffer (bulk runs send
        # thousands of queries a second); -s: enough of a packet for the question; -Z root: keep the right to
        # write our directory.
        self.server = Server("tcpdump", [deps.program("tcpdump"), "-i", "lo", "-n", "--immediate-mode", "-U",
                                         "-B", "65536", "-s", "512", "-Z", "root", "-w", str(path), capture_filter],
                             log)
        deadline = time.monotonic() + 10
        while "listening on" not in log.read_text(errors="replace"):
            if not self.server.alive() or time.monotonic() > deadline:
                self.server.stop()
                raise RuntimeError(f"tcpdump did not start:\n{self.server.log_tail()}")
            time.sleep(0.01)

    def stop(self) -> Queries:
        self.server.stop(signal.SIGINT)
        text = self.server.log.read_text(errors="replace")
        dropped = sum(int(n) for n in re.findall(r"(\d+) packets? dropped by kernel", text))
        return Queries(parse_pcap(self.path), dropped)


def parse_pcap(path: Path) -> list[Query]:
    """The DNS queries (QR = 0) in a pcap file of IPv4 UDP and TCP packets."""
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = struct.unpack_from("<I", data)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
        magic = struct.unpack_from(">I", data)[0]
    scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    offset = 24
    queries = []
    header = struct.Struct(endian + "IIII")
    while offset + 16 <= len(data):
        seconds, fraction, length, _ = header.unpack_from(data, offset)
        packet = data[offset + 16: offset + 16 + length]
        offset += 16 + length
        query = _parse_packet(packet, linktype, seconds + fraction * scale)
        if query is not None:
            queries.append(query)
    return queries


def _parse_packet(packet: bytes, linktype: int, when: float) -> Query | None:
    if linktype == _LINKTYPE_ETHERNET:
        ip = 14
    elif linktype == _LINKTYPE_LINUX_SLL:
        ip = 16
    elif linktype == _LINKTYPE_LINUX_SLL2:
        ip = 20
    else:
        return None
    if len(packet) < ip + 20 or packet[ip] >> 4 != 4:
        return None
    ihl = (packet[ip] & 0x0F) * 4
    protocol = packet[ip + 9]
    destination = ".".join(str(b) for b in packet[ip + 16: ip + 20])
    transport = ip + ihl
    if protocol == 17:  # UDP
        port = struct.unpack_from("!H", packet, transport + 2)[0]
        message = packet[transport + 8:]
        kind = "udp"
    elif protocol == 6:  # TCP: a segment that starts a DNS message (2-byte length, then the message)
        port = struct.unpack_from("!H", packet, transport + 2)[0]
        data_offset = (packet[transport + 12] >> 4) * 4
        payload = packet[transport + data_offset:]
        if len(payload) < 14:
            return None  # a SYN, an ACK, or the rest of a message
        message = payload[2:]
        kind = "tcp"
    else:
        return None
    if len(message) < 12 or message[2] & 0x80 or struct.unpack_from("!H", message, 4)[0] == 0:
        return None  # not a query, or no question
    name, end = _read_name(message, 12)
    if name is None or end + 2 > len(message):
        return None
    rtype = struct.unpack_from("!H", message, end)[0]
    return Query(when, f"{destination}:{port}", kind, name, rtype)


def _read_name(message: bytes, offset: int) -> tuple[str | None, int]:
    labels = []
    while offset < len(message):
        length = message[offset]
        if length == 0:
            return ".".join(labels).lower(), offset + 1
        if length & 0xC0:  # no compression in a question's first name
            return None, offset
        labels.append(message[offset + 1: offset + 1 + length].decode("ascii", errors="replace"))
        offset += 1 + length
    return None, offset

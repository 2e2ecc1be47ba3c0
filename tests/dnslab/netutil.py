"""Loopback plumbing for the DNS lab: extra 127.x addresses on ``lo`` and free-port picking.

BIND only listens on addresses that are configured on an interface (it scans the interfaces and
matches them against ``listen-on``), and a fresh Linux box only has ``127.0.0.1/8`` on ``lo``.
Binding any other 127.x address works for ordinary sockets (the whole /8 is a local route), but
``named`` ignores it. So the lab adds the ``/32`` loopback addresses its ``named`` instances use to
``lo`` through rtnetlink (root / CAP_NET_ADMIN needed; no ``ip`` binary needed) and removes them
again when it stops. They carry the label ``lo:dl<pid>`` so that addresses left behind by a
SIGKILLed process can be recognised and reaped by the next lab. Nothing but ``lo`` is ever
touched and only 127.B.C.x addresses with B > 0 are ever added or removed.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import struct
from collections.abc import Iterable

SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")  # where named, unbound and pdns_server live

_RTM_NEWADDR = 20
_RTM_DELADDR = 21
_RTM_GETADDR = 22
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_DUMP = 0x300
_NLM_F_REQUEST = 0x1
_NLM_F_ACK = 0x4
_NLM_F_EXCL = 0x200
_NLM_F_CREATE = 0x400
_IFA_ADDRESS = 1
_IFA_LOCAL = 2
_IFA_LABEL = 3
_RT_SCOPE_HOST = 254
_NETLINK_ROUTE = 0
_LABEL_PREFIX = "lo:dl"


def _check_loopback(addr: str) -> None:
    """Only 127.x addresses outside 127.0.0.0/24 (where 127.0.0.1 lives) are ever added or removed."""
    parts = addr.split(".")
    if len(parts) != 4 or parts[0] != "127" or parts[1] == "0":
        raise ValueError(f"refusing to touch address {addr!r}: the lab only manages 127.B.C.x with B > 0")


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * (-length % 4)


def _netlink_request(msg_type: int, flags: int, payload: bytes) -> list[tuple[int, bytes]]:
    """Send one rtnetlink request; return the (type, payload) of the replies. Raises OSError on NLMSG_ERROR."""
    seq = random.randrange(1, 2**31)
    header = struct.pack("=IHHII", 16 + len(payload), msg_type, flags | _NLM_F_REQUEST, seq, 0)
    replies: list[tuple[int, bytes]] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_ROUTE) as sock:
        sock.settimeout(5)
        sock.bind((0, 0))
        sock.sendto(header + payload, (0, 0))
        while True:
            data = sock.recv(1 << 20)
            offset = 0
            while offset + 16 <= len(data):
                length, kind, _flags, rseq, _pid = struct.unpack_from("=IHHII", data, offset)
                body = data[offset + 16 : offset + length]
                offset += max((length + 3) & ~3, 16)
                if rseq != seq:
                    continue
                if kind == _NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", body)
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    return replies  # an ACK
                if kind == _NLMSG_DONE:
                    return replies
                replies.append((kind, body))


def _addr_payload(addr: str, ifname: str, label: str | None = None) -> bytes:
    _check_loopback(addr)
    raw = socket.inet_aton(addr)
    payload = struct.pack("=BBBBI", socket.AF_INET, 32, 0, _RT_SCOPE_HOST, socket.if_nametoindex(ifname))
    payload += _attr(_IFA_LOCAL, raw) + _attr(_IFA_ADDRESS, raw)
    if label:
        payload += _attr(_IFA_LABEL, label.encode() + b"\0")
    return payload


def add_loopback_address(addr: str, label: str | None = None) -> None:
    """Add ``addr/32`` (scope host) to ``lo``, optionally labelled (``lo:...``, at most 15 chars).

    Raises ``OSError`` (EEXIST if already there, EPERM if not root).
    """
    try:
        _netlink_request(_RTM_NEWADDR, _NLM_F_ACK | _NLM_F_CREATE | _NLM_F_EXCL, _addr_payload(addr, "lo", label))
    except OSError as exc:
        raise OSError(exc.errno, f"{exc.strerror} (adding {addr}/32 to lo)") from None


def remove_loopback_address(addr: str) -> None:
    """Remove ``addr/32`` from ``lo``; a missing address is not an error."""
    try:
        _netlink_request(_RTM_DELADDR, _NLM_F_ACK, _addr_payload(addr, "lo"))
    except OSError as exc:
        if exc.errno not in (errno.EADDRNOTAVAIL, errno.ENODEV, errno.ENOENT):
            raise


def loopback_addresses() -> list[tuple[str, str]]:
    """(address, label) of every IPv4 address on ``lo``."""
    index = socket.if_nametoindex("lo")
    request = struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)
    found = []
    for _kind, body in _netlink_request(_RTM_GETADDR, _NLM_F_DUMP, request):
        _family, _plen, _flags, _scope, if_index = struct.unpack_from("=BBBBI", body)
        if if_index != index:
            continue
        addr, label, offset = None, "", 8
        while offset + 4 <= len(body):
            length, kind = struct.unpack_from("=HH", body, offset)
            if length < 4:
                break
            data = body[offset + 4 : offset + length]
            if kind == _IFA_LOCAL and len(data) == 4:
                addr = socket.inet_ntoa(data)
            elif kind == _IFA_LABEL:
                label = data.split(b"\0", 1)[0].decode(errors="replace")
            offset += (length + 3) & ~3
        if addr:
            found.append((addr, label))
    return found


def owner_label(pid: int | None = None) -> str:
    """The label the lab puts on its addresses: ``lo:dl<pid>`` (so stale ones can be recognised)."""
    return f"{_LABEL_PREFIX}{os.getpid() if pid is None else pid}"


def find_program(name: str) -> str | None:
    """The program on PATH, or in an sbin directory (not on every user's PATH); None when it is nowhere."""
    import shutil

    found = shutil.which(name)
    if found:
        return found
    for directory in SBIN_DIRS:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def process_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale_addresses() -> list[str]:
    """Remove lab addresses (label ``lo:dl<pid>``) whose owning process no longer exists.

    Only needed after a lab's process was SIGKILLed (normal exits remove their addresses).
    """
    removed = []
    for addr, label in loopback_addresses():
        if not label.startswith(_LABEL_PREFIX) or not label[len(_LABEL_PREFIX) :].isdigit():
            continue
        if process_alive(int(label[len(_LABEL_PREFIX) :])):
            continue
        remove_loopback_address(addr)
        removed.append(addr)
    return removed


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            low, high = (int(x) for x in fh.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def port_is_free(port: int, addrs: Iterable[str]) -> bool:
    """True if ``port`` can be bound for both UDP and TCP on every address in ``addrs``."""
    socks: list[socket.socket] = []
    try:
        for addr in addrs:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                sock = socket.socket(socket.AF_INET, kind)
                socks.append(sock)
                sock.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        for sock in socks:
            sock.close()


def pick_free_port(addrs: Iterable[str], *, exclude: Iterable[int] = (), rng: random.Random | None = None) -> int:
    """A random port in 10000-65000, outside the kernel's ephemeral range, free (UDP+TCP) on all ``addrs``.

    Staying out of the ephemeral range means no outgoing socket of another process (which binds
    0.0.0.0:<ephemeral>) can grab the port between this check and the servers binding it.
    """
    rng = rng or random.SystemRandom()
    addrs = list(addrs)
    excluded = set(exclude)
    low, high = _ephemeral_range()
    candidates = [p for p in range(10000, 65001) if not (low <= p <= high) and p not in excluded]
    for _ in range(200):
        port = rng.choice(candidates)
        if port_is_free(port, addrs):
            return port
    raise RuntimeError(f"no free UDP+TCP port found on {addrs}")

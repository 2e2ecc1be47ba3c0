"""The bench's own network namespace: a loopback interface and nothing else.

The bench moves itself into a new network namespace before it starts any server or thread. Everything it starts
afterwards (BIND, Unbound, dnsdist, tcpdump, every stackshift and checkdmarc process) inherits it. So:

- no packet can leave the machine, whatever a program tries: there is no route but loopback (a send to any other
  address fails with "Network is unreachable"), and the system's resolver (/etc/resolv.conf) is unreachable too;
- the servers can use port 53 on their own 127.53.0.x addresses, so Unbound follows real referrals, and nothing
  the bench does can clash with another process on the machine (a test lab, another bench);
- the loopback addresses the world adds vanish with the namespace, even after a SIGKILL.

It needs CAP_SYS_ADMIN (root), as the test lab needs root to add loopback addresses.
"""

from __future__ import annotations

import ctypes
import fcntl
import socket
import struct
import threading

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_entered = False


class NamespaceUnavailable(RuntimeError):
    """The bench cannot make its own network namespace (not root, or a sandbox that forbids it)."""


def enter() -> None:
    """Move this process into a new network namespace and bring its loopback interface up. Idempotent.

    Must run before any thread is started: unshare(2) moves only the calling thread's namespace."""
    global _entered
    if _entered:
        return
    if threading.active_count() > 1:
        raise NamespaceUnavailable("netns.enter() must run before the bench starts any thread")
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise NamespaceUnavailable(
            f"cannot create a network namespace (unshare: errno {errno}); the bench runs its DNS world in one so that "
            "nothing leaves loopback: run it as root (CAP_SYS_ADMIN)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | _IFF_UP, b""))
    _entered = True


def entered() -> bool:
    """Whether this process runs in the bench's own network namespace."""
    return _entered


def interfaces() -> list[str]:
    """The network interfaces this process sees (in the bench's namespace: only `lo`)."""
    with open("/proc/net/dev") as handle:
        return [line.split(":", 1)[0].strip() for line in handle.readlines()[2:]]

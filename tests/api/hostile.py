"""Raw HTTP answers a hostile (or broken) API server sends, for `Fault(stream=...)` of tests/api/server.py.

Each helper returns a callable that yields the bytes of one whole answer (status line, headers, body) in the
pieces the server writes them in; `Fault.pace` sets the pause between pieces.
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Callable, Iterable, Iterator

Stream = Callable[[], Iterable[bytes]]
MB = 1_000_000


def head(status: int = 200, headers: dict[str, str | bytes] | None = None, *, reason: str = "OK") -> bytes:
    """A status line and headers, as bytes (a header value given as bytes is written as it is)."""
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def answer(status: int = 200, payload: Any = None, headers: dict[str, str | bytes] | None = None) -> bytes:
    """A complete answer with a Content-Length; a payload that is not bytes is sent as JSON."""
    body = payload if isinstance(payload, bytes) else b"" if payload is None else json.dumps(payload).encode()
    return head(status, {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close",
                         **(headers or {})}) + body


def whole(data: bytes) -> Stream:
    """The answer in one piece."""
    return lambda: [data]


def byte_by_byte(data: bytes) -> Stream:
    """Every byte of the answer, headers included, on its own (with a pace: a server that trickles)."""
    return lambda: (data[i : i + 1] for i in range(len(data)))


def body_byte_by_byte(status: int, payload: Any) -> Stream:
    """The headers at once, then the body one byte at a time."""
    data = answer(status, payload)
    split = data.index(b"\r\n\r\n") + 4
    return lambda: [data[:split], *(data[i : i + 1] for i in range(split, len(data)))]


def endless_chunked(chunk: int = 64 * 1024, cap: int = 150 * MB) -> Stream:
    """A chunked body that goes on (up to `cap` bytes, so a client without a limit ends at last)."""

    def pieces() -> Iterator[bytes]:
        yield head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        data = b"[" + b" " * (chunk - 1)
        sent = 0
        while sent < cap:
            yield f"{len(data):x}\r\n".encode() + data + b"\r\n"
            sent += len(data)
            data = b" " * chunk
        yield b"0\r\n\r\n"

    return pieces


def big_body(size: int, *, declared: bool = True, piece: int = MB) -> Stream:
    """A body of `size` bytes, with its Content-Length or (declared=False) ended by closing the connection."""

    def pieces() -> Iterator[bytes]:
        headers = {"Content-Type": "application/json", "Connection": "close"}
        if declared:
            headers["Content-Length"] = str(size)
        yield head(200, headers)
        sent = 0
        while sent < size:
            n = min(piece, size - sent)
            yield b" " * n
            sent += n

    return pieces


def gzip_bomb(size: int) -> Stream:
    """A small gzip body that inflates to `size` bytes of spaces."""
    body = gzip.compress(b" " * size, compresslevel=9)
    return whole(head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip",
                            "Content-Length": str(len(body)), "Connection": "close"}) + body)


def nested(depth: int) -> bytes:
    """JSON arrays nested `depth` deep: json.loads raises RecursionError on it."""
    return b"[" * depth + b"]" * depth

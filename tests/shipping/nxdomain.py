"""A DNS server on 127.0.0.1 that answers every query at once with NXDOMAIN (UDP and TCP).

It lets the README's `verify` recipes run offline: every record is missing, so verify reports the
domain pending (exit 4) in well under a second instead of waiting on unreachable resolvers.
"""

from __future__ import annotations

import socketserver
import struct
import threading

import dns.message
import dns.rcode


def _answer(wire: bytes) -> bytes | None:
    try:
        query = dns.message.from_wire(wire)
    except Exception:
        return None
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = _answer(data)
        if reply:
            sock.sendto(reply, self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        reply = _answer(data)
        if reply:
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class NxdomainServer:
    """`with NxdomainServer() as server:` then point STACKSHIFT_NAMESERVERS at `server.address`."""

    def __enter__(self) -> NxdomainServer:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        for attempt in range(20):  # the kernel's free UDP port may be taken for TCP (another test's connection)
            self.udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), _Udp)
            port = self.udp.server_address[1]
            try:
                self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Tcp)
                break
            except OSError:
                self.udp.server_close()
                if attempt == 19:
                    raise
        self.address = f"127.0.0.1:{port}"
        self.port = port
        for server in (self.udp, self.tcp):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()

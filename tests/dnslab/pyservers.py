"""Tiny Python DNS servers for the lab, each on its own loopback address, UDP and TCP on one port.

* :class:`BlackholeServer` - binds UDP and listens on TCP, accepts connections, never answers
  anything (a server that is "up" at the socket level but silent: clients time out).
* :class:`ServfailServer` - answers every query with SERVFAIL (built with dnspython).
* :class:`DelayProxy` - forwards each query (UDP and TCP) to an upstream server after a delay, so
  every answer arrives ``delay_ms`` late. Usable on its own, e.g. from a benchmark::

      from tests.dnslab import DelayProxy
      with DelayProxy(upstream=("127.0.0.1", 5300), listen=("127.0.0.5", 5300), delay_ms=50) as proxy:
          ...  # query 127.0.0.5:5300

Each server runs its own asyncio event loop in a daemon thread; ``start()`` returns once the
sockets are bound (so bind errors are raised in the caller), ``stop()`` closes everything.
All of them only ever bind and talk to the addresses they are given (loopback in the lab).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from typing import Any

import dns.exception
import dns.message
import dns.rcode

__all__ = ["BlackholeServer", "DelayProxy", "ServfailServer"]



CLOSE = object()  # a TCP answer: close the connection without answering

class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: _AsyncDnsServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.server._on_udp(data, addr)


class _AsyncDnsServer:
    """Base: one UDP socket + one TCP listener on ``listen``, served by an event loop in a thread."""

    kind = "server"

    def __init__(self, listen: tuple[str, int]) -> None:
        self._listen = (listen[0], int(listen[1]))
        self.address: tuple[str, int] | None = None
        self.queries = 0  # number of queries received (UDP + TCP)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self):
        if self._thread is not None:
            return self
        ip, port = self._listen
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((ip, port))
            port = udp.getsockname()[1]
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((ip, port))
            tcp.listen(128)
        except OSError:
            udp.close()
            tcp.close()
            raise
        udp.setblocking(False)
        tcp.setblocking(False)
        self.address = (ip, port)
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._setup(udp, tcp))
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"dnslab-{self.kind}-{ip}:{port}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"{self.kind} on {ip}:{port} failed to start: {failure[:1]}")
        return self

    async def _setup(self, udp: socket.socket, tcp: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._udp_transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp)
        self._tcp_server = await asyncio.start_server(self._on_tcp_connection, sock=tcp)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = None
        self._thread = None
        if loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
            except Exception:
                pass
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)

    async def _shutdown(self) -> None:
        if self._udp_transport is not None:
            self._udp_transport.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address or self._listen}>"

    # -- helpers ------------------------------------------------------------------------------
    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_udp(self, data: bytes, addr: Any) -> None:
        self.queries += 1
        self._spawn(self._handle_udp(data, addr))

    async def _on_tcp_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    header = await reader.readexactly(2)
                    (length,) = struct.unpack("!H", header)
                    data = await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.queries += 1
                answer = await self._tcp_answer(data)
                if answer is CLOSE:
                    return
                if answer is not None:
                    writer.write(struct.pack("!H", len(answer)) + answer)
                    await writer.drain()
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _handle_udp(self, data: bytes, addr: Any) -> None:
        answer = await self._answer(data)
        if answer is not None and self._udp_transport is not None:
            self._udp_transport.sendto(answer, addr)

    async def _tcp_answer(self, data: bytes) -> Any:
        """The answer to a query that came over TCP: bytes, None (none, the connection stays open) or CLOSE."""
        return await self._answer(data)

    async def _answer(self, data: bytes) -> bytes | None:  # pragma: no cover - abstract
        raise NotImplementedError


class BlackholeServer(_AsyncDnsServer):
    """Bound on UDP and TCP, accepts TCP connections, reads queries, never answers."""

    kind = "blackhole"

    async def _answer(self, data: bytes) -> bytes | None:
        return None


class ServfailServer(_AsyncDnsServer):
    """Answers every parseable query with SERVFAIL (echoing the question, EDNS if the query had it)."""

    kind = "servfail"

    async def _answer(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire()


class DelayProxy(_AsyncDnsServer):
    """Forwards every query to ``upstream`` after ``delay_ms`` milliseconds and relays the answer.

    ``upstream`` and ``listen`` are ``(ip, port)``; ``listen`` port 0 picks a free port (see
    ``proxy.address`` after ``start()``). ``delay_ms`` may be changed while running. UDP queries
    go upstream over UDP, TCP queries over TCP. ``queries`` counts queries received.
    """

    kind = "delay-proxy"

    def __init__(self, upstream: tuple[str, int], listen: tuple[str, int], delay_ms: float = 100.0,
                 *, upstream_timeout: float = 5.0) -> None:
        super().__init__(listen)
        self.upstream = (upstream[0], int(upstream[1]))
        self.delay_ms = float(delay_ms)
        self.upstream_timeout = upstream_timeout

    async def _handle_udp(self, data: bytes, addr: Any) -> None:
        await asyncio.sleep(self.delay_ms / 1000.0)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()

        class _Upstream(asyncio.DatagramProtocol):
            def datagram_received(self, reply: bytes, _addr: Any) -> None:
                if not answer.done():
                    answer.set_result(reply)

            def error_received(self, exc: Exception) -> None:
                if not answer.done():
                    answer.set_exception(exc)

        transport, _ = await loop.create_datagram_endpoint(_Upstream, remote_addr=self.upstream)
        try:
            transport.sendto(data)
            reply = await asyncio.wait_for(answer, self.upstream_timeout)
        except (asyncio.TimeoutError, OSError):
            return
        finally:
            transport.close()
        if self._udp_transport is not None:
            self._udp_transport.sendto(reply, addr)

    async def _answer(self, data: bytes) -> bytes | None:
        # TCP path: one upstream TCP connection per query keeps this simple and stateless.
        await asyncio.sleep(self.delay_ms / 1000.0)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), self.upstream_timeout)
        except (asyncio.TimeoutError, OSError):
            return None
        try:
            writer.write(struct.pack("!H", len(data)) + data)
            await writer.drain()
            (length,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), self.upstream_timeout))
            return await asyncio.wait_for(reader.readexactly(length), self.upstream_timeout)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError):
            return None
        finally:
            writer.close()

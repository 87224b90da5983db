"""A lean HTTP/1.1 load generator for the benchmarks, on asyncio.

The benchmarks run the load generator on the same two cores as the service, so its CPU is
taken from the workers. httpx spends about as much CPU per request as the API itself does;
this client spends a small fraction of it (the bench prints its CPU per comment), like
`wrk` would, so that (c) measures the service rather than the client. It speaks only what
the benchmarks need: a JSON POST with a Content-Length body, and a response with a
Content-Length (uvicorn always sends one for these routes).

`Pool` holds keep-alive connections opened before the clock starts, as a news site's HTTP
client holds its pool to the service: a comment costs the API its request, not a TCP
handshake (about 0.4 ms of API CPU here). `send` opens a connection per request.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

# Less than uvicorn's keep-alive timeout (5 s): an older idle connection may be closing.
IDLE_SECONDS = 4.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def post_request(
    host: str, port: int, path: str, body: Any, headers: dict[str, str], *, keep_alive: bool = False
) -> bytes:
    """The bytes of one POST, built before the clock starts."""
    payload = json.dumps(body).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def send(host: str, port: int, request: bytes, *, timeout: float = 120) -> Answer:
    """Open a connection, send `request`, read the whole answer."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        return await _exchange(reader, writer, request, timeout=timeout)
    finally:
        writer.close()
        await writer.wait_closed()


class Pool:
    """Keep-alive connections; a request waits for a free one."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = (
            asyncio.Queue()
        )
        self._all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> Pool:
        opened = await asyncio.gather(
            *(asyncio.open_connection(self.host, self.port) for _ in range(self.size))
        )
        for reader, writer in opened:
            self._all.append(writer)
            self._free.put_nowait((reader, writer, time.monotonic()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._all:
            writer.close()
        await asyncio.gather(
            *(writer.wait_closed() for writer in self._all), return_exceptions=True
        )

    async def send(self, request: bytes, *, timeout: float = 120) -> Answer:
        reader, writer, used = await self._free.get()
        if reader.at_eof() or time.monotonic() - used > IDLE_SECONDS:
            # The server closes idle connections (uvicorn after 5 s): open a fresh one, as
            # any pooling client does, rather than send into one that may be closing.
            writer.close()
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._all.append(writer)
        try:
            return await _exchange(reader, writer, request, timeout=timeout)
        finally:
            self._free.put_nowait((reader, writer, time.monotonic()))


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, *, timeout: float
) -> Answer:
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
    return Answer(status, body)

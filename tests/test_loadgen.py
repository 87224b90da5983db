"""The benchmarks' load generator speaks enough HTTP/1.1 to be trusted with their figures."""

from __future__ import annotations

import asyncio
import json

from bench import loadgen
from tests.support import aio


async def _server(seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
            seen.append(body)
            answer = json.dumps({"echo": json.loads(body), "n": len(seen)}).encode()
            writer.write(
                b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                + answer
            )
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_a_pool_sends_every_request_over_its_keep_alive_connections() -> None:
    async def scenario() -> tuple[list[loadgen.Answer], list[bytes]]:
        seen: list[bytes] = []
        server = await _server(seen)
        port = server.sockets[0].getsockname()[1]
        requests = [
            loadgen.post_request("127.0.0.1", port, "/x", {"i": i}, {"X": "y"}, keep_alive=True)
            for i in range(30)
        ]
        async with loadgen.Pool("127.0.0.1", port, 4) as pool:
            answers = await asyncio.gather(*(pool.send(r) for r in requests))
        lone = await loadgen.send("127.0.0.1", port, requests[0].replace(b"keep-alive", b"close"))
        server.close()
        await server.wait_closed()
        return [*answers, lone], seen

    answers, seen = aio.run(scenario())
    assert [a.status for a in answers] == [202] * 31
    assert sorted(a.json()["echo"]["i"] for a in answers[:30]) == list(range(30))
    assert len(seen) == 31

"""An open-loop HTTP load generator (standard library only): requests are sent on a fixed schedule,
whatever the server does, and each latency is counted from the time the request was *scheduled*, not
from when it could be sent (no coordinated omission: a stalled server shows as the queue it builds).

Run by bench/api.py in a process of its own: `python bench/openloop.py SPEC.json` prints one JSON
object. The spec names the server, the rate (requests/s), the duration, a warm-up, the headers and
the clients: each client is a path polled in turn (client i of n sends every n / rate seconds: a
polling client that waits between requests). Before the schedule starts every client makes its
first request, a plain GET, a few at a time (not measured); every later one sends back the ETag it
has (If-None-Match), as a syncing client does. A warm-up (sent on schedule, not measured) follows.

The schedule is request k at start + k / rate, clients round-robin. Connections: one per request
unless the server keeps it alive (gunicorn's sync workers close every connection), at most
`max_in_flight` requests in flight; a request that finds none free waits, and that wait is in its
latency. A request gets `timeout` seconds; one that fails or times out is an error, as is any status
but 200 and 304.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


class Client:
    def __init__(self, path: str) -> None:
        self.path = path
        self.etag: str | None = None


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before a reply")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        await reader.read()  # delimited by the connection's end
        headers["connection"] = "close"
    return status, headers


class Generator:
    def __init__(self, spec: dict) -> None:
        self.host, self.port = spec["host"], spec["port"]
        self.rate = float(spec["rate"])
        self.duration = float(spec["duration"])
        self.warmup = float(spec.get("warmup", 0))
        self.timeout = float(spec.get("timeout", 10))
        self.headers = spec.get("headers", {})
        self.clients = [Client(path) for path in spec["paths"]]
        self.prime_concurrency = int(spec.get("prime_concurrency", 4))
        self.slots = asyncio.Semaphore(int(spec.get("max_in_flight", 1000)))
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.send_lag = 0.0  # the generator's own lateness: how far behind schedule a request left

    def _request(self, client: Client) -> bytes:
        lines = [f"GET {client.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if client.etag:
            lines.append(f"If-None-Match: {client.etag}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _exchange(self, client: Client) -> int:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(self._request(client))
            status, headers = await _read_reply(reader)
        except BaseException:
            writer.close()
            raise
        if "etag" in headers and status == 200:
            client.etag = headers["etag"]
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return status

    async def _one(self, client: Client, scheduled: float, recorded: bool) -> None:
        self.send_lag = max(self.send_lag, time.perf_counter() - scheduled)
        try:
            async with self.slots:
                status = await asyncio.wait_for(self._exchange(client), self.timeout)
            outcome = str(status)
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            status, outcome = None, type(exc).__name__
        if not recorded:
            return
        if status is None:
            self.errors[outcome] = self.errors.get(outcome, 0) + 1
            return
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
        if status not in (200, 304):
            self.errors[outcome] = self.errors.get(outcome, 0) + 1
        self.latencies.append(time.perf_counter() - scheduled)

    async def prime(self) -> None:
        """Each client's first GET (its ETag), a few at a time, before the schedule starts: the
        measured requests are those of clients that poll, as in the steady state."""
        gate = asyncio.Semaphore(self.prime_concurrency)

        async def first(client: Client) -> None:
            async with gate:
                await asyncio.wait_for(self._exchange(client), 60)

        await asyncio.gather(*(first(client) for client in self.clients))

    async def run(self) -> dict:
        await self.prime()
        tasks = []
        start = time.perf_counter() + 0.1
        total = int((self.warmup + self.duration) * self.rate)
        measured_from = int(self.warmup * self.rate)
        for k in range(total):
            scheduled = start + k / self.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client = self.clients[k % len(self.clients)]
            tasks.append(asyncio.ensure_future(self._one(client, scheduled, k >= measured_from)))
        await asyncio.gather(*tasks)
        for _reader, writer in self.idle:
            writer.close()
        return self.summary(total - measured_from)

    def summary(self, scheduled: int) -> dict:
        latencies = sorted(self.latencies)

        def percentile(share: float) -> float | None:
            if not latencies:
                return None
            return 1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))]

        return {
            "rate": self.rate,
            "duration": self.duration,
            "scheduled": scheduled,
            "answered": len(latencies),
            "p50": percentile(0.50),
            "p95": percentile(0.95),
            "p99": percentile(0.99),
            "max": 1000 * latencies[-1] if latencies else None,
            "statuses": self.statuses,
            "errors": self.errors,
            "error_count": sum(self.errors.values()),
            "max_send_lag_ms": 1000 * self.send_lag,
            "clients": len(self.clients),
        }


def main() -> None:
    with open(sys.argv[1]) as spec_file:
        spec = json.load(spec_file)
    print(json.dumps(asyncio.run(Generator(spec).run())))


if __name__ == "__main__":
    main()

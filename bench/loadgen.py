"""A small HTTP/1.1 load generator, run by ``bench/run.py`` as its own process.

Why not only wrk: the webhook benchmark must send each of 10,000 distinct, signed bodies
exactly once, in a given order, and check every answer (was it stored, or recognised as
a duplicate?). That is a count-based run with per-request bookkeeping, which this does in
a few hundred lines of asyncio. It is also the fallback for the duration-based runs when
wrk is not installed.

Requests come pre-built (raw bytes, length-prefixed in a file), so the generator only
writes bytes and parses status lines: per request it costs tens of microseconds of CPU,
small beside the server's milliseconds, and its own CPU time is reported with the result.

    python bench/loadgen.py --port 8600 --connections 32 --requests FILE --out OUT.json
    python bench/loadgen.py ... --duration 10 --warmup 3     (cycle FILE for 3 + 10 s)

Latency runs from the moment a request is handed to the socket (after connecting, if the
server closed the previous connection) to the last byte of its response, so it includes
the time the request waited in the server's accept queue, like a client would see it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_SECONDS = 30.0


def read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    requests, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from("!I", data, offset)
        offset += 4
        requests.append(data[offset : offset + size])
        offset += size
    return requests


def write_requests(path: Path, requests: list[bytes]) -> None:
    with path.open("wb") as out:
        for raw in requests:
            out.write(struct.pack("!I", len(raw)))
            out.write(raw)


def build_request(
    method: str, path: str, *, host: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: paylinks-bench"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Outcome:
    start: float
    end: float
    status: int  # 0 when the request failed below HTTP (connect/read/timeout)
    duplicate: int  # 1 / 0 from a {"duplicate": ...} answer, -1 when absent
    error: str = ""


@dataclass
class Run:
    host: str
    port: int
    requests: list[bytes]
    connections: int
    count_mode: bool
    half_close: bool = False
    deadline: float = 0.0
    next_index: int = 0
    outcomes: list[Outcome | None] = field(default_factory=list)
    cycled: list[Outcome] = field(default_factory=list)


class Connection:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.run.host, self.run.port)
        assert self.reader is not None
        self.writer.write(raw)
        await self.writer.drain()
        if self.run.half_close:
            # The server closes after every response (gunicorn's sync worker), and then
            # lingers until the client's FIN arrives; sending it now, after the request,
            # keeps this generator's event-loop delay out of the server's time.
            self.writer.write_eof()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = None, False, head.startswith(b"HTTP/1.0")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection":
                close = value == b"close"
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                body += chunk[:-2]
                if size == 0:
                    break
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, body


def _duplicate_flag(body: bytes) -> int:
    compact = body.replace(b" ", b"")
    if b'"duplicate":true' in compact:
        return 1
    if b'"duplicate":false' in compact:
        return 0
    return -1


async def _client(run: Run) -> None:
    conn = Connection(run)
    loop = asyncio.get_running_loop()
    total = len(run.requests)
    while True:
        if run.count_mode:
            if run.next_index >= total:
                break
            index = run.next_index
        else:
            if loop.time() >= run.deadline:
                break
            index = run.next_index % total
        run.next_index += 1
        start = time.perf_counter()
        try:
            status, body = await asyncio.wait_for(conn.send(run.requests[index]), TIMEOUT_SECONDS)
            outcome = Outcome(start, time.perf_counter(), status, _duplicate_flag(body))
        except TimeoutError:
            await conn.close()
            outcome = Outcome(start, time.perf_counter(), 0, -1, "timeout")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await conn.close()
            kind = "connect" if isinstance(exc, ConnectionRefusedError) else "read"
            outcome = Outcome(start, time.perf_counter(), 0, -1, kind)
        if run.count_mode:
            run.outcomes[index] = outcome
        else:
            run.cycled.append(outcome)
    await conn.close()


async def _main(run: Run, duration: float, warmup: float) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    if run.count_mode:
        run.outcomes = [None] * len(run.requests)
    else:
        run.deadline = loop.time() + warmup + duration
    await asyncio.gather(*(_client(run) for _ in range(run.connections)))
    return started, time.perf_counter()


def summarise(outcomes: list[Outcome], elapsed: float) -> dict:
    latencies = sorted((o.end - o.start) * 1000 for o in outcomes if o.status)
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.status:
            statuses[str(o.status)] = statuses.get(str(o.status), 0) + 1
        else:
            errors[o.error] = errors.get(o.error, 0) + 1
    ok = sum(n for code, n in statuses.items() if code.startswith("2"))
    return {
        "requests": len(outcomes),
        "elapsed_s": elapsed,
        "rps": len(outcomes) / elapsed if elapsed else 0.0,
        "ok_2xx": ok,
        "non_2xx": len(outcomes) - ok,
        "status": statuses,
        "socket_errors": errors,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "max": latencies[-1] if latencies else 0.0,
            "mean": sum(latencies) / len(latencies) if latencies else 0.0,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--duration", type=float, default=0.0, help="0: send each request once")
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--per-request", action="store_true", help="keep status per request")
    parser.add_argument(
        "--half-close",
        action="store_true",
        help="send FIN after each request (only for servers that close after each response)",
    )
    args = parser.parse_args()

    run = Run(
        host=args.host,
        port=args.port,
        requests=read_requests(args.requests),
        connections=args.connections,
        count_mode=args.duration <= 0,
        half_close=args.half_close,
    )
    started, finished = asyncio.run(_main(run, args.duration, args.warmup))
    if run.count_mode:
        outcomes = [o for o in run.outcomes if o is not None]
        result = summarise(outcomes, finished - started)
    else:
        begin = started + args.warmup
        end = begin + args.duration
        outcomes = [o for o in run.cycled if begin <= o.end <= end]
        result = summarise(outcomes, args.duration)
        result["warmup_requests"] = sum(1 for o in run.cycled if o.end < begin)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(
        engine="python-asyncio",
        connections=args.connections,
        loadgen_cpu_s=usage.ru_utime + usage.ru_stime,
    )
    if run.count_mode and args.per_request:
        result["per_request"] = {
            "status": [o.status if o else 0 for o in run.outcomes],
            "duplicate": [o.duplicate if o else -1 for o in run.outcomes],
        }
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU per request inside one server process, without HTTP: ``bench/run.py`` runs it.

Requests per second on a shared 2-core machine move with whatever else runs on it; the
CPU a worker spends on one request moves much less. This loads a WSGI application the
way a gunicorn worker does (its module, so Paylinks' URLconf loading and ``gc.freeze()``
happen as in ``project/wsgi.py``), sends it ``--requests`` requests per round through
the WSGI interface -- same path, same headers, a new client address each time, as the
load generator sends them -- and prints the least CPU time per request over the
rounds: the cost with the least interference from other processes. Database round
trips count as the client side of them (sending, waiting is free, reading); the
PostgreSQL server's own CPU does not.

    python bench/cpu.py --app project.wsgi --path /api/v1/public/links/<slug>
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def client_address(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True, help="WSGI module, e.g. project.wsgi")
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--clients", type=int, default=4096)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()

    application = importlib.import_module(args.app).application
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": args.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8600",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8600",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for header in args.header:
        name, _, value = header.partition(":")
        base["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
    statuses: list[str] = []
    sent = 0

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def one() -> None:
        nonlocal sent
        sent += 1
        environ = dict(base, **{"wsgi.input": io.BytesIO(b"")})
        if args.clients:
            environ["HTTP_X_FORWARDED_FOR"] = client_address(sent % args.clients + 1)
        result = application(environ, start_response)
        try:
            b"".join(result)
        finally:
            result.close()

    for _ in range(args.warmup):
        one()
    rounds = []
    for _ in range(args.rounds):
        started = time.process_time()
        for _ in range(args.requests):
            one()
        rounds.append((time.process_time() - started) / args.requests * 1e6)
    failed = [s for s in statuses if not s.startswith("2")]
    print(
        json.dumps(
            {
                "cpu_us": min(rounds),
                "median_us": statistics.median(rounds),
                "requests": sent,
                "non_2xx": len(failed),
                "statuses": sorted(set(statuses)),
            }
        )
    )


if __name__ == "__main__":
    main()

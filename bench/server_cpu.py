"""CPU time per request in the portal's worker and in the database server, under gunicorn.

    .venv/bin/python bench/server_cpu.py [--database-url URL] [--paths "/healthz,/orders"]

Uses the data ``bench/run.py --seed small`` built (``bench/data``). Starts gunicorn with one
worker, signs in the demo customer, and for each path runs wrk with one connection for
``--duration`` seconds. It reports the worker's CPU milliseconds per request and, on
PostgreSQL, those of the server's backends for the benchmark database: on the two cores of
the benchmark machine both are the cost of a page, and the split shows what the database
server adds to it. A path ending in ``!`` is requested without the sign-in cookie.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import run as harness

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _ticks(pid: str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def database_ticks(database: str) -> int:
    """CPU ticks of the PostgreSQL backends connected to ``database`` (0 on SQLite)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if command.startswith(b"postgres:") and f" {database} ".encode() in command:
                total += _ticks(pid)
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=f"sqlite:///{harness.DATA / 'bench-small.db'}")
    parser.add_argument("--paths", default="/healthz!,/healthz,/orders,/feedback")
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    database = args.database_url.rsplit("/", 1)[1]
    env = harness.environment(args.database_url, harness.DATA / "instance")
    port = harness.free_port()
    server = harness.start_server(env, port, 1)
    base = f"http://127.0.0.1:{port}"
    print("| path | req/s at 1 conn. | worker ms CPU a request | database ms CPU a request |")
    print("|---|---:|---:|---:|")
    try:
        harness.wait_until_booted(server.pid, 1)
        cookie = harness.sign_in(base, "anna@example.com")
        for path in args.paths.split(","):
            url, sent = base + path.rstrip("!"), None if path.endswith("!") else cookie
            harness.run_wrk(url, sent, 1, 1)  # warm the worker's caches
            _count, worker_before = harness._workers_cpu_ticks(server.pid)
            db_before = database_ticks(database)
            result = harness.run_wrk(url, sent, args.duration, 1)
            _count, worker_after = harness._workers_cpu_ticks(server.pid)
            db_after = database_ticks(database)
            requests = result["requests"]
            print(
                f"| {path} | {result['rps']:.0f} "
                f"| {(worker_after - worker_before) * TICK_MS / requests:.2f} "
                f"| {(db_after - db_before) * TICK_MS / requests:.2f} |",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Where a page's database time goes: each SQL statement it runs, with its time per request.

    .venv/bin/python bench/statement_times.py [--database-url URL] [--path /staff/]
        [--user manager@example.com] [--requests 20]

Uses the data and secrets ``bench/run.py`` built (``bench/data``; the small data's SQLite file
unless ``--database-url`` names another database). Signs in ``--user`` with Flask's test
client, warms the page, then requests it ``--requests`` times and prints each statement the
page ran with how often, its median and its slowest time, slowest total first. On
PostgreSQL the time is the round trip: what the server spends plus the worker's wait.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import profile_signed_in as harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=f"sqlite:///{harness.DATA / 'bench-small.db'}")
    parser.add_argument("--path", default="/staff/")
    parser.add_argument("--user", default="manager@example.com")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    harness._environment(args.database_url)
    sys.path.insert(0, str(harness.ROOT))

    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app("production", {"MIGRATIONS": False})
    with app.app_context():
        engine = db.engine
    times: dict[str, list[float]] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, *_args: Any) -> None:
        conn.info["statement_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _ended(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = time.perf_counter() - conn.info["statement_started"]
        times.setdefault(statement, []).append(elapsed)

    client = harness.signed_in_client(app, args.user)
    for _ in range(5):
        client.get(args.path)
    times.clear()
    for _ in range(args.requests):
        response = client.get(args.path)
        assert response.status_code == 200, response.status_code
    print(f"{args.path} as {args.user}, {args.requests} requests, {args.database_url}")
    print("| statement | runs a request | median ms | slowest ms | total ms a request |")
    print("|---|---:|---:|---:|---:|")
    for statement, spent in sorted(times.items(), key=lambda item: -sum(item[1])):
        spent.sort()
        text = " ".join(statement.split())[:160].replace("|", "\\|")
        print(
            f"| `{text}…` | {len(spent) / args.requests:g} | {spent[len(spent) // 2] * 1000:.2f} "
            f"| {spent[-1] * 1000:.2f} | {sum(spent) / args.requests * 1000:.2f} |"
        )


if __name__ == "__main__":
    main()

"""Time the staff dashboard and a customer 360 in-process, with their query counts.

    export FLASK_APP=wsgi.py PORTAL_INSTANCE_DIR=$(mktemp -d)
    .venv/bin/flask db upgrade && .venv/bin/flask portal seed-demo
    .venv/bin/flask portal seed-scale --small
    .venv/bin/python bench/staff_pages.py [--runs 50] [--profile dashboard]

The first request of each page in a fresh process is reported as "cold" (nothing cached in
the process: templates compiled, the database pages not yet in the cache of this
connection), the others as "warm" (p50 and p95). Run from the repository root with the same
PORTAL_INSTANCE_DIR (or DATABASE_URL) as the data build.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profile_signed_in import signed_in_client
from sqlalchemy import event, select

DEMO_PASSWORD = "portal-demo-2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--profile", choices=("dashboard", "customer"), default=None)
    parser.add_argument("--user", default="manager@example.com")
    args = parser.parse_args()

    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db

    app = create_app("development", {"DEBUG": False, "RATELIMIT_ENABLED": False})
    client = signed_in_client(app, args.user, DEMO_PASSWORD)
    with app.app_context():
        anna = db.session.scalar(select(User.id).where(User.email == "anna@example.com"))
        engine = db.engine
    pages = {"dashboard": "/staff/", "customer": f"/staff/customers/{anna}"}
    queries = [0]

    def count(*_args: object) -> None:
        queries[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    if args.profile:
        from pyinstrument import Profiler

        client.get(pages[args.profile])
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(10):
            client.get(pages[args.profile])
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return
    print(f"{'page':<12}{'queries':>8}{'cold ms':>10}{'p50 ms':>10}{'p95 ms':>10}{'req/s':>8}")
    for name, path in pages.items():
        queries[0] = 0
        started = time.perf_counter()
        response = client.get(path)
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        per_view = queries[0]
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(int(len(times) * 0.95) - 1, 0)]
        rate = 1000 / statistics.mean(times)
        print(
            f"{name:<12}{per_view:>8}{cold:>10.1f}{statistics.median(times):>10.1f}"
            f"{p95:>10.1f}{rate:>8.1f}"
        )


if __name__ == "__main__":
    main()

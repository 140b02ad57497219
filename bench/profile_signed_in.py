"""CPU time per request of the signed-in pages, in-process, under the production config.

    .venv/bin/python bench/profile_signed_in.py [--requests 2000] [--profile orders]

Uses the data and secrets ``bench/run.py --seed small`` built (``bench/data``), signs in the
demo customer and the demo manager with Flask's test client, and reports for each page the
CPU milliseconds per request (``time.process_time``) and the SQL queries per request. With
``--profile NAME`` the page NAME is also run under cProfile, printed by own time and by calls.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PASSWORD = "portal-demo-2026"

PAGES = {
    "orders": ("/orders", "anna@example.com"),
    "feedback": ("/feedback", "anna@example.com"),
    "home": ("/", "anna@example.com"),
    "profile": ("/account", "anna@example.com"),
    "dashboard": ("/staff/", "manager@example.com"),
    "customer360": ("/staff/customers/{anna_id}", "manager@example.com"),
    "healthz": ("/healthz", None),
    "healthz-signed-in": ("/healthz", "anna@example.com"),
}


def _environment(database_url: str) -> None:
    os.environ.update(json.loads((DATA / "secrets.json").read_text()))
    os.environ.update(
        {
            "PORTAL_CONFIG": "production",
            "PORTAL_INSTANCE_DIR": str(DATA / "instance"),
            "DATABASE_URL": database_url,
            "FORCE_HTTPS": "0",
            "SESSION_COOKIE_SECURE": "0",
            "PREFERRED_URL_SCHEME": "http",
            "MAIL_BACKEND": "null",
            "LOGIN_RATE_LIMIT": "10000 per minute",
        }
    )


def signed_in_client(app: Any, email: str, password: str = PASSWORD) -> Any:
    """Flask's test client for ``app``, signed in as ``email`` through the sign-in form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302, response.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=f"sqlite:///{DATA / 'bench-small.db'}")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--profile", default="", help="page to run under cProfile")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--callers", default="", help="with --profile: who calls this function")
    parser.add_argument("--callees", default="", help="with --profile: what this function calls")
    parser.add_argument("--tree", default="", help="page to run under pyinstrument (call tree)")
    parser.add_argument("--save", default="", help="with --tree: also write the tree to this file")
    args = parser.parse_args()
    _environment(args.database_url)
    sys.path.insert(0, str(ROOT))

    from sqlalchemy import event, select

    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db

    app = create_app("production", {"MIGRATIONS": False})
    with app.app_context():
        anna_id = db.session.scalar(select(User.id).where(User.email == "anna@example.com"))
        engine = db.engine
    queries = [0]

    def _count(*_args: object) -> None:
        queries[0] += 1

    event.listen(engine, "before_cursor_execute", _count)

    clients: dict[str | None, object] = {}

    def client_for(user: str | None):
        if user not in clients:
            clients[user] = signed_in_client(app, user) if user else app.test_client()
        return clients[user]

    names = [n for n in args.only.split(",") if n] or list(PAGES)
    for name in names:
        path, user = PAGES[name]
        path = path.format(anna_id=anna_id)
        client = client_for(user)
        for _ in range(20):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        queries[0] = 0
        client.get(path)
        counted = queries[0]
        started = time.process_time()
        for _ in range(args.requests):
            client.get(path)
        cpu = (time.process_time() - started) / args.requests * 1000
        print(f"{name:<12} {cpu:6.2f} ms CPU/request  {counted:3d} queries  {path}", flush=True)
        if name == args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                client.get(path)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(args.lines)
            stats.sort_stats("ncalls").print_stats(args.lines)
            stats.sort_stats("cumulative").print_stats(args.lines)
            if args.callers:
                stats.print_callers(args.callers)
            if args.callees:
                stats.print_callees(args.callees)
        if name == args.tree:
            from pyinstrument import Profiler

            tree = Profiler(interval=0.0002)
            tree.start()
            for _ in range(args.requests):
                client.get(path)
            tree.stop()
            text = tree.output_text(unicode=False, show_all=False)
            print(text)
            if args.save:
                load = os.getloadavg()[0]
                Path(args.save).write_text(
                    f"{args.requests} requests of {path} in-process ({args.database_url.split(':')[0]}),"
                    f" production config, pyinstrument: {cpu:.2f} ms CPU a request without the"
                    f" profiler; load average {load:.1f} on {os.cpu_count()} cores.\n"
                    f"Command: .venv/bin/python bench/profile_signed_in.py"
                    f" --database-url {args.database_url} --requests {args.requests}"
                    f" --only {name} --tree {name} --save {args.save}\n\n{text}"
                )


if __name__ == "__main__":
    main()

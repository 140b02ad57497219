"""CPU per request of public pages, in-process, under the production configuration.

    .venv/bin/python bench/profile_pages.py [--seed small] [--requests 2000] [--profile NAME]

Wall-clock figures on a shared machine move with whatever else runs; the CPU time a request
costs the process (``time.process_time``) does not, and it is what bounds a worker's rate.
Each page is requested through the WSGI stack (static files, Flask, extensions, view)
with Flask's test client, against the database ``bench/run.py`` builds, twice over:

- as a first visit (no cookie: what wrk sends, so every request starts a session), and
- as a returning visitor (the session cookie of an earlier request sent back).

``--profile NAME`` prints a cProfile of that page (first visit unless the name ends in
``returning``), sorted by own time, to see where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", default="small")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", default="", help="page name to profile")
    parser.add_argument("--lines", type=int, default=35)
    args = parser.parse_args()

    bench.DATA.mkdir(parents=True, exist_ok=True)
    instance = bench.DATA / "instance"
    instance.mkdir(exist_ok=True)
    database_url = args.database_url or f"sqlite:///{bench.DATA / ('bench-' + args.seed + '.db')}"
    env = bench.environment(database_url, instance)
    bench.prepare(env, args.seed)
    ids = bench.lookup_ids(env)
    os.environ.update(env)

    from portal import create_app

    app = create_app("production", {"MIGRATIONS": False})
    pages = {
        "healthz": "/healthz",
        "home": "/",
        "topic-first": ids["topic_path"],
        "topic-last": f"{ids['topic_path']}?page={ids['topic_pages']}",
        "category": f"/community/c/{ids['category_slug']}",
    }

    def first_visit(path: str) -> None:
        client = app.test_client(use_cookies=False)
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()

    returning_client = app.test_client()

    def returning(path: str) -> None:
        response = returning_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()

    kinds = {"first visit": first_visit, "returning": returning}
    if args.profile:
        name, _, kind = args.profile.partition(":")
        call = kinds["returning" if kind == "returning" else "first visit"]
        path = pages[name]
        for _ in range(50):
            call(path)
        profiler = cProfile.Profile(time.process_time)
        started = time.process_time()
        profiler.enable()
        for _ in range(args.requests):
            call(path)
        profiler.disable()
        spent = time.process_time() - started
        per_request = spent / args.requests * 1000
        print(f"{name} ({kind or 'first visit'}): {per_request:.3f} ms CPU per request, profiled")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.lines)
        stats.sort_stats("cumulative").print_stats(args.lines)
        return

    # Rounds interleave the pages, and each page keeps its least round: on a shared machine
    # other processes only ever add to a round (cache misses, frequency changes), and
    # interleaving exposes every page to the same conditions.
    best: dict[tuple[str, str], float] = {}
    for path in pages.values():
        for call in kinds.values():
            for _ in range(50):
                call(path)
    per_round = max(1, args.requests // 5)
    for _ in range(5):
        for name, path in pages.items():
            for kind, call in kinds.items():
                started = time.process_time()
                for _ in range(per_round):
                    call(path)
                spent = (time.process_time() - started) / per_round * 1000
                best[(name, kind)] = min(best.get((name, kind), spent), spent)
    ceiling = best[("healthz", "first visit")]
    print(f"{'page':<14} {'first visit ms':>15} {'returning ms':>13} {'x healthz':>10}")
    for name in pages:
        first, again = best[(name, "first visit")], best[(name, "returning")]
        print(f"{name:<14} {first:>15.3f} {again:>13.3f} {first / ceiling:>10.2f}")


if __name__ == "__main__":
    main()

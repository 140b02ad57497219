"""Check the pages that must not slow down with the scale data (`flask portal seed-scale`).

Times community search (Chinese included) and the first and last page of the big topic
through the test client, in process, and counts each request's queries. Run against the
instance the data was seeded into:

    FLASK_APP=wsgi.py PORTAL_INSTANCE_DIR=... [DATABASE_URL=...] .venv/bin/python bench/scale_check.py

Queries given as arguments replace the built-in list (``--no-topic`` skips the topic pages).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from portal import create_app
from portal.extensions import db

SEARCHES = (
    "物流信息",  # Chinese, four characters
    "退款",  # Chinese, two characters: shorter than a trigram
    "快递",  # two characters, in titles and bodies
    "一",  # one character
    "快递员",
    "pakomāts",
    "курьер",
    "الشحنة",
    "courier",  # a common English word
    "part",  # a rare word: 20 posts of the big topic, the oldest ones
    "refund arrived",
    "parcel locker code",
    "Wool scarf",
    "zzzz-nothing-matches",
)
RUNS = 7  # the p95 column is the second slowest of the seven


SQL_TIME: list[float] = []
CPU_TIME: list[float] = []
#: PostgreSQL: the server processes of this client's connections (same machine).
BACKENDS: set[int] = set()


def _server_cpu_ms() -> float:
    """CPU time the server processes have used so far (clock ticks of 10 ms)."""
    total = 0
    for pid in BACKENDS:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def _timed(client: Any, url: str, statements: list[str]) -> tuple[float, int]:
    statements.clear()
    SQL_TIME.clear()
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    CPU_TIME.append((time.process_time() - cpu) * 1000)
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(statements)


def _cpu() -> str:
    return f"{statistics.median(CPU_TIME):.1f} | {sorted(CPU_TIME)[-2]:.1f}"


def _sql_ms() -> float:
    return sum(SQL_TIME) * 1000


def main() -> None:
    from portal.community.scale import big_topic_id
    from portal.community.services import POSTS_PER_PAGE

    arguments = sys.argv[1:]
    with_topic = "--no-topic" not in arguments
    searches = [argument for argument in arguments if argument != "--no-topic"] or SEARCHES
    app = create_app()
    statements: list[str] = []
    with app.app_context():
        dialect = db.engine.dialect.name
        clock: list[float] = []

        def before(*args: Any) -> None:
            statements.append(args[2])
            clock.append(time.perf_counter())

        def after(*_args: Any) -> None:
            SQL_TIME.append(time.perf_counter() - clock.pop())

        if dialect == "postgresql":

            def remember(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    BACKENDS.add(cursor.fetchone()[0])

            event.listen(db.engine, "connect", remember)
            db.engine.dispose()
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        topic_id = big_topic_id()
        from portal.community.models import Post, Topic

        topic = db.session.get(Topic, topic_id) if topic_id else None
        posts = db.session.query(Post).count()
    client = app.test_client()
    print(f"## {dialect}: {posts:,} posts\n")
    # CPU: this process's CPU time per request (with SQLite, the database's work too), which
    # a busy machine does not inflate the way it does the wall clock.
    # Server CPU: PostgreSQL's processes for this client, mean per request (10 ms ticks).
    print(
        "| request | p50 ms | p95 ms | max ms | SQL p50 ms | CPU p50 ms | CPU p95 ms "
        "| server CPU ms | queries |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    if topic is not None and with_topic:
        last = (topic.last_position - 2) // POSTS_PER_PAGE + 1
        for label, page in (("first", 1), ("last", last)):
            url = f"/community/t/{topic.id}-{topic.slug}" + (f"?page={page}" if page > 1 else "")
            times, sql, counts = [], [], set()
            CPU_TIME.clear()
            for _ in range(RUNS):
                elapsed, count = _timed(client, url, statements)
                times.append(elapsed)
                sql.append(_sql_ms())
                counts.add(count)
            print(
                f"| topic {topic.id} ({topic.last_position:,} posts), {label} page {page} | "
                f"{statistics.median(times):.1f} | {sorted(times)[-2]:.1f} | {max(times):.1f} "
                f"| {statistics.median(sql):.1f} | {_cpu()} | - "
                f"| {'/'.join(map(str, sorted(counts)))} |"
            )
    everything: list[float] = []
    cpu_everything: list[float] = []
    for query in searches:
        times, sql, counts = [], [], set()
        CPU_TIME.clear()
        server = _server_cpu_ms()
        for _ in range(RUNS):
            elapsed, count = _timed(client, f"/community/search?q={query}", statements)
            times.append(elapsed)
            sql.append(_sql_ms())
            counts.add(count)
        everything.extend(times)
        server = (_server_cpu_ms() - server) / RUNS
        print(
            f"| search `{query}` | {statistics.median(times):.1f} | {sorted(times)[-2]:.1f} "
            f"| {max(times):.1f} | {statistics.median(sql):.1f} | {_cpu()} "
            f"| {server:.0f} | {'/'.join(map(str, sorted(counts)))} |"
        )
        cpu_everything.extend(CPU_TIME)
    everything.sort()
    cpu_everything.sort()
    p95 = everything[int(len(everything) * 0.95) - 1]
    cpu_p95 = cpu_everything[int(len(cpu_everything) * 0.95) - 1]
    print(f"\nAll searches: p50 {statistics.median(everything):.1f} ms, p95 {p95:.1f} ms.")
    print(
        f"All searches, CPU: p50 {statistics.median(cpu_everything):.1f} ms, p95 {cpu_p95:.1f} ms."
    )


if __name__ == "__main__":
    main()

"""Messages per second through the outbox and the worker to a local SMTP server.

    .venv/bin/python bench/mail_throughput.py --messages 1000 --workers 1 2 4

Each run: a fresh database (SQLite in a temporary directory, or --database-url), N
messages queued and committed in one transaction, handed to a real huey consumer (SQLite
queue, or Redis with --redis-url) with W worker threads, which claims and sends each to an
aiosmtpd server in this process. The clock runs from the hand-off until the last message
is marked sent; the SMTP server's count is checked (every message exactly once).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Sink:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(messages: int, workers: int, database_url: str | None, redis_url: str | None) -> dict:
    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from portal import create_app
    from portal.extensions import db
    from portal.jobs import outbox
    from portal.jobs.models import OutboxMessage
    from portal.jobs.queue import get_queue, make_consumer

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    tmp = Path(tempfile.mkdtemp(prefix="mailbench-"))
    url = database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "INSTANCE_DIR": str(tmp),
            "JOBS_IMMEDIATE": False,
            "MAIL_DEBUG": False,
            "REDIS_URL": redis_url or "",
        },
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        queue = get_queue()
        queue.huey.flush()
        for i in range(messages):
            outbox.queue_rendered(
                to=f"reader{i}@example.com",
                subject=f"Benchmark {i}",
                text="A short message.\n" * 20,
                html="<p>A short message.</p>" * 20,
            )
        db.session.commit()
        consumer = make_consumer(queue, workers=workers, periodic=False)
        consumer._set_signal_handlers = lambda: None
        consumer.start()
        started = time.perf_counter()
        outbox.deliver_committed()
        while True:
            sent = db.session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent")
            )
            db.session.commit()
            if sent == messages:
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        consumer.stop(graceful=True)
        db.session.remove()
        db.engine.dispose()
    controller.stop()
    assert len(sink.ids) == messages and len(set(sink.ids)) == messages, "not exactly once"
    return {
        "messages": messages,
        "workers": workers,
        "seconds": elapsed,
        "rate": messages / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="mailbench-inst-"))
    import logging

    logging.disable(logging.WARNING)
    database = (args.database_url or "sqlite").split(":", 1)[0]
    queue = "redis" if args.redis_url else "sqlite"
    print("| database | queue | workers | messages | seconds | messages/s |")
    print("|---|---|---:|---:|---:|---:|")
    for workers in args.workers:
        result = run(args.messages, workers, args.database_url, args.redis_url)
        print(
            f"| {database} | {queue} | {workers} | {result['messages']} | "
            f"{result['seconds']:.2f} | {result['rate']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

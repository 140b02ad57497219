"""The job queue: huey, bound to the Flask app; every task runs in an app context.

The storage is chosen from the configuration, once, on first use:

* ``JOBS_IMMEDIATE`` (tests of other features): tasks run at once in the calling thread;
* ``REDIS_URL`` set: Redis, shared by every app process and worker;
* otherwise an SQLite file, ``instance/huey.db``, next to the portal's own database.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from portal.core.db import unit_label, write_intent
from portal.extensions import db

log = logging.getLogger(__name__)

_EXTENSION_KEY = "portal_jobs"
_lock = threading.Lock()


def queue_file(app: Flask) -> Path | None:
    """The SQLite file of the embedded queue, or None when the queue lives elsewhere."""
    if app.config.get("JOBS_IMMEDIATE") or app.config.get("REDIS_URL"):
        return None
    return Path(app.config.get("JOBS_SQLITE_PATH") or Path(app.config["INSTANCE_DIR"]) / "huey.db")


def build_huey(app: Flask) -> Huey:
    name = "portal"
    if app.config.get("JOBS_IMMEDIATE"):
        return MemoryHuey(name, immediate=True, results=False)
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"], results=False)
    path = queue_file(app)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False)


class JobQueue:
    """The huey instance and the portal's tasks registered on it."""

    def __init__(self, app: Flask, huey: Huey) -> None:
        from portal.jobs import bulk, outbox, sweep

        self.app = app
        self.huey = huey
        self.deliver = huey.task(name="outbox.deliver")(self.in_app(outbox.deliver))
        self.campaign_batch = huey.task(name="bulk.batch")(self.in_app(bulk.run_batch))
        self.sweep = huey.task(name="outbox.sweep")(self.in_app(sweep.sweep))
        self._periodic_done = False

    def in_app(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``func`` as one unit of work: app context, commit, then hand off its mail."""
        app = self.app

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
                return _unit_of_work(func, args, kwargs)
            with app.app_context():
                try:
                    return _unit_of_work(func, args, kwargs)
                finally:
                    db.session.remove()

        return run

    def register_periodic_tasks(self) -> list[str]:
        """Turn the schedule's registry into huey periodic tasks (once, at worker start)."""
        from portal.jobs.schedule import PERIODIC_TASKS, run_periodic

        names: list[str] = []
        if self._periodic_done:
            return names
        self._periodic_done = True
        self.huey.periodic_task(crontab(), name="outbox.sweep.periodic")(
            self.in_app(_scheduled("outbox.sweep", SWEEP_CRON, _sweep_now))
        )
        names.append("outbox.sweep")
        for task in PERIODIC_TASKS.values():
            minute, hour, day, month, day_of_week = task.cron.split()
            self.huey.periodic_task(
                crontab(minute, hour, day, month, day_of_week), name=f"periodic.{task.name}"
            )(self.in_app(_scheduled(task.name, task.cron, run_periodic)))
            names.append(task.name)
        return names


SWEEP_CRON = "* * * * *"


def _scheduled(name: str, cron: str, run: Callable[[str], Any]) -> Callable[[], Any]:
    """The periodic task as huey runs it: once per occurrence, however many workers run.

    Every worker process runs huey's scheduler, so with two workers (two machines, or a
    worker beside each server) each occurrence is enqueued twice; the first run claims it.
    """

    def run_scheduled() -> Any:
        from portal.jobs.schedule import claim_occurrence

        if not claim_occurrence(name, cron):
            log.info("%s: this occurrence already ran in another worker", name)
            return None
        return run(name)

    run_scheduled.__qualname__ = run_scheduled.__name__ = name
    return run_scheduled


def _sweep_now(_name: str) -> Any:
    from portal.jobs.sweep import sweep

    return sweep()


def _unit_of_work(func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    from portal.jobs.outbox import deliver_committed

    token = write_intent.set(True)
    label = unit_label.set(getattr(func, "__qualname__", "job"))
    try:
        result = func(*args, **kwargs)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        unit_label.reset(label)
        write_intent.reset(token)
    deliver_committed()
    return result


def get_queue(app: Flask | None = None) -> JobQueue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get(_EXTENSION_KEY)
    if queue is None:
        with _lock:
            queue = app.extensions.get(_EXTENSION_KEY)
            if queue is None:
                queue = JobQueue(app, build_huey(app))
                app.extensions[_EXTENSION_KEY] = queue
    return queue


def set_queue(app: Flask, queue: JobQueue | None) -> None:
    """Use ``queue`` for ``app`` (tests run a real consumer on a queue of their own)."""
    if queue is None:
        app.extensions.pop(_EXTENSION_KEY, None)
    else:
        app.extensions[_EXTENSION_KEY] = queue


def make_consumer(queue: JobQueue, *, workers: int = 2, periodic: bool = True) -> Any:
    if periodic:
        queue.register_periodic_tasks()
    return queue.huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        initial_delay=0.05,
        max_delay=1.0,
        check_worker_health=True,
    )

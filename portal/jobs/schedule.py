"""The schedule: features register periodic tasks here; the worker runs them.

A task is a plain function that takes no arguments, runs inside an app context, and is
idempotent (running it twice does the work once); the runner commits after it returns.
``cron`` uses the five crontab fields: minute hour day-of-month month day-of-week (UTC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    cron: str
    func: Callable[[], Any]


PERIODIC_TASKS: dict[str, PeriodicTask] = {}


def register_periodic(name: str, cron: str, func: Callable[[], Any]) -> None:
    """Register ``func`` to run on ``cron`` (e.g. ``"* * * * *"`` every minute)."""
    if len(cron.split()) != 5:
        raise ValueError(f"cron needs five fields: {cron!r}")
    PERIODIC_TASKS[name] = PeriodicTask(name, cron, func)


def run_periodic(name: str) -> Any:
    """Run one registered task now and commit its work (used by the worker and the CLI)."""
    from portal.extensions import db

    task = PERIODIC_TASKS[name]
    try:
        result = task.func()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result

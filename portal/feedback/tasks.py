"""Periodic tasks: SLA breaches every minute, auto-close of resolved items."""

from __future__ import annotations

from portal.jobs.schedule import register_periodic


def mark_breaches() -> int:
    from portal.feedback.services import mark_breaches as run

    return run()


def auto_close() -> int:
    from portal.feedback.services import auto_close as run

    return run()


def register_tasks() -> None:
    register_periodic("feedback.mark_breaches", "* * * * *", mark_breaches)
    register_periodic("feedback.auto_close", "*/15 * * * *", auto_close)

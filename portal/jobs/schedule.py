"""The schedule: features register periodic tasks here; the worker runs them.

A task is a plain function that takes no arguments, runs inside an app context, and is
idempotent (running it twice does the work once); the runner commits after it returns.
``cron`` uses the five crontab fields: minute hour day-of-month month day-of-week (UTC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

#: Claims of periodic occurrences ("schedule:<task>") are kept this long, then pruned.
OCCURRENCE_CLAIMS_KEPT = timedelta(days=2)
_CLAIM_PREFIX = "schedule:"


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


def once(task: str, occasion_key: str) -> bool:
    """Claim the work of ``task`` for one occasion; False when it was already done.

    Call it in the same transaction as the work::

        for order in delivered_orders:
            if once("orders.thank_after_delivery", f"order:{order.id}"):
                queue_mail(...)

    The claim is a row with a unique (task, occasion_key): if the work rolls back, so does
    the claim; if two runs race, the database lets one insert win and the other gets
    False (it waits for the first to commit). Running a task twice does the work once.
    """
    from sqlalchemy.exc import IntegrityError

    from portal.extensions import db
    from portal.jobs.models import JobRun

    try:
        with db.session.begin_nested():
            db.session.add(JobRun(task=task[:100], occasion_key=occasion_key[:200]))
    except IntegrityError:
        return False
    return True


def last_occurrence(cron: str, now: datetime) -> datetime:
    """The latest minute at or before ``now`` (aware UTC) that ``cron`` matches."""
    from huey import crontab

    matches = crontab(*cron.split())
    minute = now.astimezone(UTC).replace(second=0, microsecond=0, tzinfo=None)
    for _ in range(60 * 24 * 366):
        if matches(minute):
            break
        minute -= timedelta(minutes=1)
    return minute.replace(tzinfo=UTC)


def claim_occurrence(name: str, cron: str, now: datetime | None = None) -> bool:
    """Claim the current occurrence of periodic task ``name``; False when a run already has.

    The claim is a :func:`once` row in the run's own transaction: committed with the work,
    gone if the work rolls back (then another worker's copy may do it).
    """
    from portal.core.db import utcnow

    occurrence = last_occurrence(cron, now or utcnow())
    return once(_CLAIM_PREFIX + name, occurrence.strftime("%Y-%m-%dT%H:%M"))


def prune_occurrence_claims(now: datetime | None = None) -> int:
    """Delete the claims of occurrences older than OCCURRENCE_CLAIMS_KEPT."""
    from sqlalchemy import delete

    from portal.core.db import utcnow
    from portal.extensions import db
    from portal.jobs.models import JobRun

    cutoff = ((now or utcnow()) - OCCURRENCE_CLAIMS_KEPT).strftime("%Y-%m-%dT%H:%M")
    # A range on the (task, occasion_key) index: "schedule;" is the prefix's successor.
    result: Any = db.session.execute(
        delete(JobRun)
        .where(
            JobRun.task >= _CLAIM_PREFIX,
            JobRun.task < _CLAIM_PREFIX[:-1] + ";",
            JobRun.occasion_key < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Hook:
    name: str
    cron: str
    owner: str  # the feature package expected to register it
    what: str


#: The periodic tasks the portal's features provide, with their usual schedule. A feature
#: registers its function under the same name (its cron may differ); until it does, the name
#: is registered as a no-op so the schedule is complete and visible (`flask portal run-task`).
STANDARD_HOOKS: tuple[Hook, ...] = (
    Hook("customer_value.recompute", "30 2 * * *", "orders", "golden and lapsed, nightly"),
    Hook("orders.thank_after_delivery", "*/15 * * * *", "orders", "thank-you after delivery"),
    Hook("surveys.after_delivery", "0 * * * *", "surveys", "delivery survey invitations"),
    Hook("surveys.reminders", "0 * * * *", "surveys", "one reminder to non-responders"),
    Hook("feedback.sla_check", "* * * * *", "feedback", "SLA breaches and escalation"),
    Hook("feedback.auto_close", "15 * * * *", "feedback", "close resolved items after 7 days"),
    Hook("greetings.birthdays", "5 * * * *", "staff", "birthday greetings at local morning"),
    Hook("greetings.anniversaries", "10 * * * *", "staff", "first-order anniversaries"),
)


def _placeholder(name: str) -> Callable[[], Any]:
    def noop() -> str:
        return f"{name}: not provided by any feature yet"

    noop.__name__ = f"placeholder_{name.replace('.', '_')}"
    noop.placeholder = True  # type: ignore[attr-defined]
    return noop


def register_placeholder_hooks() -> None:
    """Register the standard hooks no feature has registered (called before features init)."""
    for hook in STANDARD_HOOKS:
        if hook.name not in PERIODIC_TASKS:
            register_periodic(hook.name, hook.cron, _placeholder(hook.name))


def is_placeholder(name: str) -> bool:
    task = PERIODIC_TASKS.get(name)
    return bool(task and getattr(task.func, "placeholder", False))

"""The SLA clock and the customer's windows. Pure functions of their arguments and ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

#: Hours to first response and to resolution per priority (per department, editable).
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "low": (72, 5 * 24),
    "normal": (24, 3 * 24),
    "high": (8, 24),
    "urgent": (4, 8),
}
DUE_SOON = timedelta(hours=2)
REOPEN_WINDOW = timedelta(days=14)
AUTO_CLOSE_AFTER = timedelta(days=7)

SLA_STATES = ("on_time", "due_soon", "breached")


def due_times(
    opened_at: datetime, first_response_hours: int, resolution_hours: int
) -> tuple[datetime, datetime]:
    return (
        opened_at + timedelta(hours=first_response_hours),
        opened_at + timedelta(hours=resolution_hours),
    )


def pause_length(paused_since: datetime | None, now: datetime) -> timedelta:
    if paused_since is None or now <= paused_since:
        return timedelta(0)
    return now - paused_since


def resumed_due(due: datetime, paused_since: datetime | None, now: datetime) -> datetime:
    """A due time moves later by the time the item waited on the customer."""
    return due + pause_length(paused_since, now)


def current_due(
    *,
    status: str,
    first_response_at: datetime | None,
    first_response_due_at: datetime,
    resolution_due_at: datetime,
    paused_since: datetime | None,
) -> datetime | None:
    """The due time the clock runs against now: none while paused or once finished."""
    if status in ("resolved", "closed") or paused_since is not None:
        return None
    if first_response_at is None:
        return first_response_due_at
    return resolution_due_at


def sla_state(next_due_at: datetime | None, now: datetime) -> str | None:
    """on_time, due_soon, breached; None when the clock does not run."""
    if next_due_at is None:
        return None
    if now > next_due_at:
        return "breached"
    if next_due_at - now <= DUE_SOON:
        return "due_soon"
    return "on_time"


def promised_answer_at(item: Any, now: datetime) -> datetime | None:
    """What we promise the customer: the first answer, then the resolution."""
    if item.status in ("resolved", "closed"):
        return None
    if item.first_response_at is None:
        return resumed_due(item.first_response_due_at, item.paused_since, now)
    return resumed_due(item.resolution_due_at, item.paused_since, now)


def promise_broken(item: Any, now: datetime) -> bool:
    if item.status in ("resolved", "closed") or item.paused_since is not None:
        return False
    if item.first_response_at is None:
        return now > item.first_response_due_at
    return now > item.resolution_due_at


def can_escalate(item: Any, now: datetime) -> bool:
    """Once, and only when the promise is broken."""
    return item.escalated_at is None and promise_broken(item, now)


def can_reopen(status: str, resolved_at: datetime | None, now: datetime) -> bool:
    """Within 14 days of resolution (also after the item closed itself)."""
    if status not in ("resolved", "closed") or resolved_at is None:
        return False
    return now <= resolved_at + REOPEN_WINDOW


def should_auto_close(status: str, resolved_at: datetime | None, now: datetime) -> bool:
    return (
        status == "resolved" and resolved_at is not None and now >= resolved_at + AUTO_CLOSE_AFTER
    )


def can_rate(status: str, rating: int | None) -> bool:
    return status in ("resolved", "closed") and rating is None


def first_response_breached(item: Any, now: datetime) -> bool:
    return (
        item.first_response_at is None
        and item.paused_since is None
        and item.status in ("new", "assigned", "in_progress")
        and now > item.first_response_due_at
    )


def resolution_breached(item: Any, now: datetime) -> bool:
    return (
        item.status not in ("resolved", "closed", "waiting_on_customer")
        and item.paused_since is None
        and now > item.resolution_due_at
    )

"""Feedback rules: opening, routing, the SLA clock, replies, status flow, resolution, rating.

Pure rules live in ``routing`` and ``sla`` and are re-exported here; the functions below
apply them to rows. They ``flush()`` and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import CustomerValue, Department, User
from portal.core.db import utcnow
from portal.core.urls import external_url
from portal.extensions import db
from portal.feedback import attachments as files
from portal.feedback.models import (
    KINDS,
    OPEN_STATUSES,
    PRIORITIES,
    FeedbackAttachment,
    FeedbackCounter,
    FeedbackEvent,
    FeedbackItem,
    FeedbackMessage,
    RootCause,
    RoutingRule,
    SlaTarget,
)
from portal.feedback.routing import Decision, Sample, initial_priority, route, segments_of
from portal.feedback.sla import (
    AUTO_CLOSE_AFTER,
    DEFAULT_TARGETS,
    can_escalate,
    can_rate,
    can_reopen,
    current_due,
    due_times,
    first_response_breached,
    pause_length,
    resolution_breached,
    should_auto_close,
)
from portal.jobs.notifications import notify
from portal.jobs.outbox import queue_mail

__all__ = [
    "ON_RESOLVED",
    "can_escalate",
    "can_rate",
    "can_reopen",
    "initial_priority",
    "open_item",
    "route",
    "should_auto_close",
]

#: Session flag: write history without mailing anyone (demo data describes the past).
QUIET = "feedback_quiet"

#: Called with the item after it is resolved (e.g. to send the handling survey).
ON_RESOLVED: list[Callable[[FeedbackItem], Any]] = []

#: Status flow for staff; the customer's own moves (reply, reopen) are separate functions.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("assigned", "in_progress", "waiting_on_customer"),
    "assigned": ("in_progress", "waiting_on_customer"),
    "in_progress": ("waiting_on_customer",),
    "waiting_on_customer": ("in_progress",),
    "resolved": ("closed", "in_progress"),
    "closed": (),
}


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated when shown."""
    return message


class FeedbackError(ValueError):
    """A rule refused the change; the message is for the user."""


# --- references and targets ----------------------------------------------------------------


def next_reference(now: datetime) -> str:
    """FB-YYYY-NNNNNN from a per-year counter row, incremented atomically."""
    year = now.year
    for _attempt in range(5):
        value = db.session.execute(
            update(FeedbackCounter)
            .where(FeedbackCounter.year == year)
            .values(last_value=FeedbackCounter.last_value + 1)
            .returning(FeedbackCounter.last_value)
            .execution_options(synchronize_session=False)
        ).scalar()
        if value is not None:
            return f"FB-{year}-{value:06d}"
        try:
            with db.session.begin_nested():
                db.session.add(FeedbackCounter(year=year, last_value=0))
        except IntegrityError:
            pass  # another request created this year's row first; take a number from it
    raise RuntimeError("could not allocate a feedback reference")


def targets_for(department_id: int, priority: str) -> tuple[int, int]:
    target = db.session.scalar(
        select(SlaTarget).where(
            SlaTarget.department_id == department_id, SlaTarget.priority == priority
        )
    )
    if target is None:
        return DEFAULT_TARGETS[priority]
    return target.first_response_hours, target.resolution_hours


def department_by_slug(slug: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.slug == slug))
    if department is None:
        department = db.session.scalar(select(Department).where(Department.slug == "customer-care"))
    assert department is not None
    return department


def customer_segments(user: User) -> frozenset[str]:
    return segments_of(db.session.get(CustomerValue, user.id))


def ordered_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )


def decide(
    user: User, kind: str, subject: str, message: str, order: Any, language: str
) -> Decision:
    sample = Sample(
        kind=kind,
        subject=subject,
        message=message,
        order_status=order.status if order is not None else None,
        segments=customer_segments(user),
        language=language,
    )
    return route(ordered_rules(), sample)


# --- opening ---------------------------------------------------------------------------------


def _event(
    item: FeedbackItem,
    action: str,
    actor: User | None,
    *,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    item.events.append(
        FeedbackEvent(
            actor_id=actor.id if actor else None,
            action=action,
            from_value=from_value,
            to_value=to_value,
            reason=reason,
            created_at=now or utcnow(),
        )
    )


def _refresh_due(item: FeedbackItem) -> None:
    item.next_due_at = current_due(
        status=item.status,
        first_response_at=item.first_response_at,
        first_response_due_at=item.first_response_due_at,
        resolution_due_at=item.resolution_due_at,
        paused_since=item.paused_since,
    )


def open_item(
    user: User,
    kind: str,
    subject: str,
    message: str,
    *,
    order: Any = None,
    source: str = "portal",
    source_ref: str | None = None,
    uploads: Sequence[files.CheckedUpload] = (),
    language: str | None = None,
) -> FeedbackItem:
    """Open an item for ``user``, routed by the rules. Idempotent per (source, source_ref)."""
    if kind not in KINDS:
        raise FeedbackError(f"unknown kind {kind!r}")
    if order is not None and order.user_id != user.id:
        raise FeedbackError("order of another customer")
    if source_ref is not None:
        existing = db.session.scalar(
            select(FeedbackItem).where(
                FeedbackItem.source == source, FeedbackItem.source_ref == source_ref
            )
        )
        if existing is not None:
            return existing
    now = utcnow()
    language = language or user.locale or "en"
    decision = decide(user, kind, subject, message, order, language)
    department = department_by_slug(decision.department_slug)
    first_hours, resolution_hours = targets_for(department.id, decision.priority)
    first_due, resolution_due = due_times(now, first_hours, resolution_hours)
    item = FeedbackItem(
        reference=next_reference(now),
        user_id=user.id,
        kind=kind,
        subject=subject.strip(),
        message=message.strip(),
        language=language,
        order_id=order.id if order is not None else None,
        source=source,
        source_ref=source_ref,
        department_id=department.id,
        priority=decision.priority,
        status="new",
        routing_rule_id=decision.rule_id,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        created_at=now,
    )
    _refresh_due(item)
    _event(item, "created", user, to_value="new", now=now)
    _event(
        item,
        "routed",
        None,
        to_value=department.slug,
        reason=(f"rule: {decision.rule_name}" if decision.rule_id else "default")
        + f"; priority {decision.priority}",
        now=now,
    )
    for upload in uploads:
        item.attachments.append(
            FeedbackAttachment(
                stored_name=files.write_file(upload.data),
                filename=upload.filename,
                content_type=upload.content_type,
                size=len(upload.data),
            )
        )
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        # The same submission arrived twice at once: keep the first.
        existing = db.session.scalar(
            select(FeedbackItem).where(
                FeedbackItem.source == source, FeedbackItem.source_ref == source_ref
            )
        )
        if existing is None:
            raise
        return existing
    return item


# --- the clock and the status flow -------------------------------------------------------------


def set_status(item: FeedbackItem, status: str, actor: User | None, now: datetime) -> None:
    """Change status, pausing the clock while waiting on the customer and resuming after."""
    if status == item.status:
        return
    if item.paused_since is not None and status != "waiting_on_customer":
        paused = pause_length(item.paused_since, now)
        item.first_response_due_at += paused
        item.resolution_due_at += paused
        item.paused_seconds += int(paused.total_seconds())
        item.paused_since = None
    if status == "waiting_on_customer":
        item.paused_since = now
    if status == "resolved":
        item.resolved_at = now
    if status == "closed":
        item.closed_at = now
    if item.status in ("resolved", "closed") and status in OPEN_STATUSES:
        # Back to work: a fresh resolution target from now (the first answer was given).
        _first, resolution_hours = targets_for(item.department_id, item.priority)
        item.resolution_due_at = due_times(now, 0, resolution_hours)[1]
        item.resolved_at = None
        item.closed_at = None
        item.resolution_breached_at = None
    _event(item, "status", actor, from_value=item.status, to_value=status, now=now)
    item.status = status
    _refresh_due(item)


def change_status(item: FeedbackItem, status: str, actor: User) -> None:
    if status not in TRANSITIONS.get(item.status, ()):
        raise FeedbackError("transition")
    set_status(item, status, actor, utcnow())
    db.session.flush()


def assign(item: FeedbackItem, assignee: User | None, actor: User) -> None:
    if (assignee.id if assignee else None) == item.assignee_id:
        return
    now = utcnow()
    _event(
        item,
        "assigned",
        actor,
        from_value=item.assignee.display_name if item.assignee else None,
        to_value=assignee.display_name if assignee else None,
        now=now,
    )
    item.assignee = assignee
    if assignee is not None and item.status == "new":
        set_status(item, "assigned", actor, now)
    db.session.flush()


def bulk_assign(items: Iterable[FeedbackItem], assignee: User | None, actor: User) -> int:
    count = 0
    for item in items:
        if item.is_open:
            assign(item, assignee, actor)
            count += 1
    return count


def change_priority(item: FeedbackItem, priority: str, actor: User, reason: str = "") -> None:
    if priority not in PRIORITIES or priority == item.priority:
        return
    _retarget(item, item.department_id, priority)
    _event(item, "priority", actor, from_value=item.priority, to_value=priority, reason=reason)
    item.priority = priority
    db.session.flush()


def _retarget(item: FeedbackItem, department_id: int, priority: str) -> None:
    """New targets count from when the item was opened, plus the time it waited."""
    first_hours, resolution_hours = targets_for(department_id, priority)
    first_due, resolution_due = due_times(item.created_at, first_hours, resolution_hours)
    waited = timedelta(seconds=item.paused_seconds)
    item.first_response_due_at = first_due + waited
    item.resolution_due_at = resolution_due + waited
    _refresh_due(item)


def reroute(item: FeedbackItem, department: Department, actor: User, reason: str) -> None:
    """Staff move an item to another department; kept with who and why."""
    if department.id == item.department_id:
        return
    if not reason.strip():
        raise FeedbackError("reason")
    _event(
        item,
        "rerouted",
        actor,
        from_value=item.department.slug,
        to_value=department.slug,
        reason=reason.strip(),
    )
    _retarget(item, department.id, item.priority)
    item.department = department
    item.assignee = None
    db.session.flush()


# --- the thread ---------------------------------------------------------------------------


def _add_message(item: FeedbackItem, message: FeedbackMessage, submission: str | None) -> bool:
    """Insert a message once per form submission; False when it was already posted."""
    if submission:
        seen = db.session.scalar(
            select(FeedbackMessage.id).where(FeedbackMessage.submission == submission)
        )
        if seen is not None:
            return False
    message.item_id = item.id
    message.submission = submission or None
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return False  # the same submission won a race a moment ago
    if "messages" in item.__dict__ and message not in item.messages:
        item.messages.append(message)
    return True


def staff_reply(
    item: FeedbackItem,
    author: User,
    body: str,
    *,
    internal: bool = False,
    wait: bool = False,
    submission: str | None = None,
) -> FeedbackMessage | None:
    """A public reply reaches the customer by mail and notification; a note stays inside."""
    now = utcnow()
    message = FeedbackMessage(
        author_id=author.id, is_staff=True, internal=internal, body=body.strip(), created_at=now
    )
    if not _add_message(item, message, submission):
        return None
    if not internal:
        if item.assignee_id is None:
            assign(item, author, author)  # whoever answers an unassigned item takes it
        if item.first_response_at is None:
            item.first_response_at = now
        if wait:
            set_status(item, "waiting_on_customer", author, now)
        elif item.status in ("new", "assigned"):
            set_status(item, "in_progress", author, now)
        _refresh_due(item)
        _tell_customer(
            item,
            "feedback_reply",
            _l("New reply to your request %(reference)s", reference=item.reference),
            N_("New reply to your request %(reference)s."),
            body=message.body,
        )
    db.session.flush()
    return message


def customer_reply(
    item: FeedbackItem, author: User, body: str, *, submission: str | None = None
) -> FeedbackMessage | None:
    """The customer answers; a paused clock resumes."""
    if item.status == "closed":
        raise FeedbackError("closed")
    now = utcnow()
    message = FeedbackMessage(author_id=author.id, body=body.strip(), created_at=now)
    if not _add_message(item, message, submission):
        return None
    if item.status == "waiting_on_customer":
        set_status(item, "in_progress", author, now)
    db.session.flush()
    return message


def _tell_customer(
    item: FeedbackItem, template: str, subject: Any, notice: str, **context: Any
) -> None:
    if db.session.info.get(QUIET):
        return
    customer = item.user
    url = external_url("feedback.detail", reference=item.reference)
    queue_mail(
        to=customer.email,
        template=template,
        subject=subject,
        context={"item": item, "customer": customer, "url": url, **context},
        locale=customer.locale,
        user_id=customer.id,
    )
    notify(
        customer.id,
        kind=template,
        message=notice,
        data={"reference": item.reference},
        url=url_for("feedback.detail", reference=item.reference) if has_request_context() else url,
    )


def resolve(
    item: FeedbackItem,
    actor: User,
    *,
    root_cause: RootCause,
    what_went_wrong: str,
    how_resolved: str,
    prevention: str,
) -> None:
    """Resolving needs all three answers; the customer is asked to rate the handling."""
    if not item.is_open:
        raise FeedbackError("not_open")
    if not (what_went_wrong.strip() and how_resolved.strip() and prevention.strip()):
        raise FeedbackError("resolution_fields")
    now = utcnow()
    item.root_cause = root_cause
    item.what_went_wrong = what_went_wrong.strip()
    item.how_resolved = how_resolved.strip()
    item.prevention = prevention.strip()
    if item.first_response_at is None:
        item.first_response_at = now
    set_status(item, "resolved", actor, now)
    _tell_customer(
        item,
        "feedback_resolved",
        _l("Your request %(reference)s is resolved", reference=item.reference),
        N_("Your request %(reference)s is resolved. How did we do?"),
    )
    db.session.flush()
    for hook in ON_RESOLVED:
        hook(item)


def escalate(item: FeedbackItem, user: User) -> None:
    now = utcnow()
    if not can_escalate(item, now):
        raise FeedbackError("escalate")
    item.escalated_at = now
    _event(item, "escalated", user, now=now)
    change_priority(item, "urgent", user, "escalated by the customer")
    _mail_manager(
        item, "feedback_escalated", _l("Escalated: %(reference)s", reference=item.reference)
    )
    db.session.flush()


def reopen(item: FeedbackItem, user: User, reason: str) -> None:
    now = utcnow()
    if not can_reopen(item.status, item.resolved_at, now):
        raise FeedbackError("reopen")
    _event(item, "reopened", user, from_value=item.status, to_value="in_progress", reason=reason)
    set_status(item, "in_progress", user, now)
    if reason.strip():
        item.messages.append(
            FeedbackMessage(author_id=user.id, body=reason.strip(), created_at=now)
        )
    db.session.flush()


def rate(item: FeedbackItem, user: User, rating: int, comment: str = "") -> bool:
    """Record the customer's rating once; False when it was already rated."""
    if not 1 <= rating <= 5 or item.status not in ("resolved", "closed"):
        raise FeedbackError("rate")
    result: Any = db.session.execute(
        update(FeedbackItem)
        .where(FeedbackItem.id == item.id, FeedbackItem.rating.is_(None))
        .values(rating=rating, rating_comment=comment.strip() or None, rated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    db.session.refresh(item)
    _event(item, "rated", user, to_value=str(rating))
    db.session.flush()
    return True


# --- jobs ---------------------------------------------------------------------------------------


def _mail_manager(item: FeedbackItem, template: str, subject: Any) -> None:
    address = item.department.manager_email
    if not address or db.session.info.get(QUIET):
        return
    queue_mail(
        to=address,
        template=template,
        subject=subject,
        context={
            "item": item,
            "url": external_url("feedback_staff.item", reference=item.reference),
        },
    )


def mark_breaches(now: datetime | None = None) -> int:
    """Mark items whose promise broke; mail the department's manager once per breach."""
    now = now or utcnow()
    found = 0
    # Only overdue items with a breach not yet recorded: already-marked items are skipped.
    candidates = db.session.scalars(
        select(FeedbackItem)
        .where(FeedbackItem.next_due_at.is_not(None), FeedbackItem.next_due_at < now)
        .where(
            (
                FeedbackItem.first_response_at.is_(None)
                & FeedbackItem.first_response_breached_at.is_(None)
            )
            | (
                FeedbackItem.resolution_breached_at.is_(None)
                & (FeedbackItem.resolution_due_at < now)
            )
        )
        .options(joinedload(FeedbackItem.department))
    ).all()
    for item in candidates:
        for column, broken in (
            (FeedbackItem.first_response_breached_at, first_response_breached(item, now)),
            (FeedbackItem.resolution_breached_at, resolution_breached(item, now)),
        ):
            if not broken:
                continue
            # Claimed with one UPDATE so two workers never send the same mail.
            result: Any = db.session.execute(
                update(FeedbackItem)
                .where(FeedbackItem.id == item.id, column.is_(None))
                .values({column.key: now})
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                set_committed_value(item, column.key, now)
                found += 1
                _event(item, "breached", None, to_value=column.key.removesuffix("_breached_at"))
                _mail_manager(
                    item,
                    "feedback_breach",
                    _l("SLA breached: %(reference)s", reference=item.reference),
                )
    db.session.flush()
    return found


def auto_close(now: datetime | None = None) -> int:
    """Close items resolved seven days ago or more (idempotent)."""
    now = now or utcnow()
    items = db.session.scalars(
        select(FeedbackItem).where(
            FeedbackItem.status == "resolved",
            FeedbackItem.resolved_at <= now - AUTO_CLOSE_AFTER,
        )
    ).all()
    closed = 0
    for item in items:
        if should_auto_close(item.status, item.resolved_at, now):
            set_status(item, "closed", None, now)
            closed += 1
    db.session.flush()
    return closed

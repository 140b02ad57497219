"""Loading items: ownership in the loader, the staff queue, summaries, suggestions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, current_app
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerValue, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.feedback.classifier import NaiveBayes
from portal.feedback.models import (
    OPEN_STATUSES,
    FeedbackAttachment,
    FeedbackEvent,
    FeedbackItem,
    FeedbackMessage,
)
from portal.feedback.routing import segments_of
from portal.feedback.sla import DUE_SOON
from portal.orders.models import Order

PAGE_SIZE = 25


def sees_all_departments(user: User) -> bool:
    return bool(user.role_names & {"manager", "admin"})


def visible_to_staff(query: Select, user: User) -> Select:
    if sees_all_departments(user):
        return query
    department_ids = [department.id for department in user.departments]
    return query.where(FeedbackItem.department_id.in_(department_ids))


def _detail_options() -> list[Any]:
    return [
        joinedload(FeedbackItem.department),
        joinedload(FeedbackItem.order),
        selectinload(FeedbackItem.messages).joinedload(FeedbackMessage.author),
        selectinload(FeedbackItem.events).joinedload(FeedbackEvent.actor),
        selectinload(FeedbackItem.attachments),
    ]


def own_item_or_404(user: User, reference: str) -> FeedbackItem:
    item = db.session.scalar(
        select(FeedbackItem)
        .where(FeedbackItem.reference == reference, FeedbackItem.user_id == user.id)
        .options(*_detail_options())
    )
    if item is None:
        abort(404)
    return item


def staff_item_or_404(user: User, reference: str) -> FeedbackItem:
    query = select(FeedbackItem).where(FeedbackItem.reference == reference)
    item = db.session.scalar(
        visible_to_staff(query, user).options(
            *_detail_options(), joinedload(FeedbackItem.user), joinedload(FeedbackItem.assignee)
        )
    )
    if item is None:
        abort(404)
    return item


def attachment_or_404(item: FeedbackItem, attachment_id: int) -> FeedbackAttachment:
    attachment = db.session.scalar(
        select(FeedbackAttachment).where(
            FeedbackAttachment.id == attachment_id, FeedbackAttachment.item_id == item.id
        )
    )
    if attachment is None:
        abort(404)
    return attachment


#: The customer's list: six plain columns per item (no entities; nothing on it changes), the
#: order's number by an outer join (an item whose order is gone shows none). Built once.
_ITEM = FeedbackItem.__table__.c
_ORDER = Order.__table__.c
_CUSTOMER_ITEMS = (
    select(
        _ITEM.reference,
        _ITEM.subject,
        _ITEM.kind,
        _ITEM.status,
        _ITEM.created_at,
        _ORDER.number.label("order_number"),
    )
    .select_from(FeedbackItem.__table__.outerjoin(Order.__table__, _ORDER.id == _ITEM.order_id))
    .where(_ITEM.user_id == bindparam("user_id"))
    .order_by(_ITEM.created_at.desc(), _ITEM.id.desc())
)


def customer_items(user: User) -> list[Any]:
    """The customer's own items, newest first: rows of reference, subject, kind, status,
    created_at and order_number."""
    return list(db.session.execute(_CUSTOMER_ITEMS, {"user_id": user.id}).all())


def open_items_of(user: User, limit: int = 5) -> list[FeedbackItem]:
    return list(
        db.session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.user_id == user.id, FeedbackItem.status.in_(OPEN_STATUSES))
            .order_by(FeedbackItem.created_at.desc(), FeedbackItem.id.desc())
            .limit(limit)
        )
    )


@dataclass
class QueueFilters:
    department: int | None = None
    status: str | None = None
    priority: str | None = None
    assignee: int | None = None
    sla: str | None = None
    kind: str | None = None
    mine: bool = False
    sort: str = "due"


def staff_queue(user: User, filters: QueueFilters, page: int, now: datetime | None = None) -> Any:
    now = now or utcnow()
    query = visible_to_staff(select(FeedbackItem), user)
    if filters.department:
        query = query.where(FeedbackItem.department_id == filters.department)
    if filters.status == "open" or not filters.status:
        query = query.where(FeedbackItem.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        query = query.where(FeedbackItem.status == filters.status)
    if filters.priority:
        query = query.where(FeedbackItem.priority == filters.priority)
    if filters.kind:
        query = query.where(FeedbackItem.kind == filters.kind)
    if filters.mine:
        query = query.where(FeedbackItem.assignee_id == user.id)
    elif filters.assignee == 0:
        query = query.where(FeedbackItem.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(FeedbackItem.assignee_id == filters.assignee)
    if filters.sla == "breached":
        query = query.where(FeedbackItem.next_due_at < now)
    elif filters.sla == "due_soon":
        query = query.where(
            FeedbackItem.next_due_at >= now, FeedbackItem.next_due_at <= now + DUE_SOON
        )
    elif filters.sla == "on_time":
        query = query.where(FeedbackItem.next_due_at > now + DUE_SOON)
    if filters.sort == "newest":
        query = query.order_by(FeedbackItem.created_at.desc(), FeedbackItem.id.desc())
    else:
        # Items whose clock does not run (paused, finished) come last.
        query = query.order_by(
            FeedbackItem.next_due_at.is_(None), FeedbackItem.next_due_at, FeedbackItem.id
        )
    query = query.options(
        joinedload(FeedbackItem.department),
        joinedload(FeedbackItem.assignee),
        joinedload(FeedbackItem.user),
    )
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)


def items_by_ids(user: User, ids: list[int]) -> list[FeedbackItem]:
    query = select(FeedbackItem).where(FeedbackItem.id.in_(ids))
    return list(
        db.session.scalars(visible_to_staff(query, user).options(joinedload(FeedbackItem.assignee)))
    )


def department_staff(department_id: int | None = None) -> list[User]:
    """Agents and managers who can take items (of one department, when given)."""
    from portal.accounts.models import Department, Role

    query = (
        select(User)
        .join(User.roles)
        .where(Role.name.in_(("agent", "manager", "admin")), User.active.is_(True))
        .order_by(User.name)
        .distinct()
    )
    if department_id is not None:
        query = query.where(
            User.departments.any(Department.id == department_id)
            | User.roles.any(Role.name.in_(("manager", "admin")))
        )
    return list(db.session.scalars(query))


@dataclass
class CustomerSummary:
    value: CustomerValue | None
    segments: frozenset[str]
    open_items: list[FeedbackItem]


def customer_summary(customer: User, exclude_id: int | None = None) -> CustomerSummary:
    value = db.session.get(CustomerValue, customer.id)
    open_items = list(
        db.session.scalars(
            select(FeedbackItem)
            .where(
                FeedbackItem.user_id == customer.id,
                FeedbackItem.status.in_(OPEN_STATUSES),
                FeedbackItem.id != (exclude_id or 0),
            )
            .order_by(FeedbackItem.created_at.desc())
        )
    )
    return CustomerSummary(value, segments_of(value), open_items)


# --- the department suggestion --------------------------------------------------------------

_MODEL_CACHE: dict[str, Any] = {}


def training_samples(limit: int = 20_000) -> list[tuple[str, str]]:
    """Recent past items with the department they ended in (after any re-route), oldest first."""
    from portal.accounts.models import Department

    # Only departments a person has confirmed: the item was handled or re-routed. Items
    # nobody has looked at yet only repeat what the rules said.
    rerouted = (
        select(FeedbackEvent.id)
        .where(FeedbackEvent.item_id == FeedbackItem.id, FeedbackEvent.action == "rerouted")
        .exists()
    )
    rows = list(
        db.session.execute(
            select(FeedbackItem.subject, FeedbackItem.message, Department.slug)
            .join(Department, FeedbackItem.department_id == Department.id)
            .where((FeedbackItem.status != "new") | rerouted)
            .order_by(FeedbackItem.id.desc())
            .limit(limit)
        )
    )
    rows.reverse()
    return [(f"{subject}\n{message}", slug) for subject, message, slug in rows]


def department_model() -> NaiveBayes:
    """Trained on past items; rebuilt when anything happened to any item (a new event)."""
    key = repr(
        db.session.execute(
            select(
                func.count(FeedbackEvent.id),
                func.max(FeedbackEvent.id),
                func.max(FeedbackEvent.created_at),
            ).select_from(FeedbackEvent)
        ).one()
    )
    # Retraining reads many rows: at most once per FEEDBACK_MODEL_MAX_AGE seconds per process.
    max_age = current_app.config.get("FEEDBACK_MODEL_MAX_AGE", 0 if current_app.testing else 300)
    now = time.monotonic()
    stale = _MODEL_CACHE.get("key") != key and now - _MODEL_CACHE.get("at", -1e9) >= max_age
    if "model" not in _MODEL_CACHE or stale:
        _MODEL_CACHE["model"] = NaiveBayes().fit(training_samples())
        _MODEL_CACHE["key"] = key
        _MODEL_CACHE["at"] = now
    return _MODEL_CACHE["model"]


def suggest_department(item: FeedbackItem) -> tuple[str, float] | None:
    return department_model().predict(f"{item.subject}\n{item.message}")


# --- figures for the staff dashboard ---------------------------------------------------------


def open_counts() -> dict[tuple[str, str], int]:
    """Open items per (department slug, priority)."""
    from portal.accounts.models import Department

    rows = db.session.execute(
        select(Department.slug, FeedbackItem.priority, func.count(FeedbackItem.id))
        .join(Department, FeedbackItem.department_id == Department.id)
        .where(FeedbackItem.status.in_(OPEN_STATUSES))
        .group_by(Department.slug, FeedbackItem.priority)
    ).all()
    return {(slug, priority): count for slug, priority, count in rows}


def breached_open_items(limit: int = 20) -> list[FeedbackItem]:
    """Open items whose promise is broken now, most overdue first."""
    return list(
        db.session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.next_due_at < utcnow())
            .options(joinedload(FeedbackItem.department), joinedload(FeedbackItem.user))
            .order_by(FeedbackItem.next_due_at)
            .limit(limit)
        )
    )

"""Feedback items, their thread and history, routing rules, SLA targets and root causes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.core.db import TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db
from portal.orders.models import Order

KINDS = ("complaint", "question", "suggestion", "compliment")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "assigned", "in_progress", "waiting_on_customer", "resolved", "closed")
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_on_customer")
SEGMENTS = ("golden", "lapsed", "new")


class FeedbackCounter(db.Model):  # type: ignore[name-defined,misc]
    """One row per year; the next reference number is taken with one atomic UPDATE."""

    __tablename__ = "feedback_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class FeedbackItem(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "feedback_item"
    __table_args__ = (
        Index("ix_feedback_item_department_id_status", "department_id", "status"),
        Index("ix_feedback_item_user_id_created_at", "user_id", "created_at"),
        UniqueConstraint("source", "source_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10), default="en")
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("order.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(20), default="portal")
    source_ref: Mapped[str | None] = mapped_column(String(80))

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    priority: Mapped[str] = mapped_column(String(8), default="normal", index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    routing_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rule.id", ondelete="SET NULL")
    )

    # The SLA clock. Due times move later by the time spent waiting on the customer.
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The due time that applies now (first response, then resolution); empty while paused
    # or finished, so the queue can sort and filter on one column.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[int] = mapped_column(default=0)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Resolution: what went wrong, how it was resolved, how to prevent it again.
    root_cause_id: Mapped[int | None] = mapped_column(ForeignKey("root_cause.id"))
    what_went_wrong: Mapped[str | None] = mapped_column(Text)
    how_resolved: Mapped[str | None] = mapped_column(Text)
    prevention: Mapped[str | None] = mapped_column(Text)

    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    department: Mapped[Department] = relationship()
    order: Mapped[Order | None] = relationship()
    root_cause: Mapped[RootCause | None] = relationship()
    routing_rule: Mapped[RoutingRule | None] = relationship()
    messages: Mapped[list[FeedbackMessage]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        order_by="(FeedbackMessage.created_at, FeedbackMessage.id)",
    )
    events: Mapped[list[FeedbackEvent]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        order_by="(FeedbackEvent.created_at, FeedbackEvent.id)",
    )
    attachments: Mapped[list[FeedbackAttachment]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="FeedbackAttachment.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class FeedbackMessage(db.Model):  # type: ignore[name-defined,misc]
    """A public reply (customer or staff) or an internal note (staff only)."""

    __tablename__ = "feedback_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    is_staff: Mapped[bool] = mapped_column(default=False)
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    # The form's one-time token: a double submit cannot post the same message twice.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[FeedbackItem] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()


class FeedbackEvent(db.Model):  # type: ignore[name-defined,misc]
    """History: status changes, routing decisions, re-routes, assignment, escalation."""

    __tablename__ = "feedback_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20), index=True)
    from_value: Mapped[str | None] = mapped_column(String(80))
    to_value: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[FeedbackItem] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class FeedbackAttachment(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "feedback_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[FeedbackItem] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class RoutingRule(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """An ordered rule: every non-empty condition must hold; the first matching rule wins."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(default=0, index=True)
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(default=True)
    kinds: Mapped[list] = mapped_column(db.JSON, default=list)
    keywords: Mapped[list] = mapped_column(db.JSON, default=list)
    order_statuses: Mapped[list] = mapped_column(db.JSON, default=list)
    segments: Mapped[list] = mapped_column(db.JSON, default=list)
    languages: Mapped[list] = mapped_column(db.JSON, default=list)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(8), default="normal")

    department: Mapped[Department] = relationship()

    @property
    def department_slug(self) -> str:
        return self.department.slug


class SlaTarget(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("department_id", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(8))
    first_response_hours: Mapped[int] = mapped_column()
    resolution_hours: Mapped[int] = mapped_column()

    department: Mapped[Department] = relationship()


class RootCause(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "root_cause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

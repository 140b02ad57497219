"""The audit log of staff actions: written in the same transaction as the action, never edited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_created_at", "created_at"),
        Index("ix_audit_entry_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor = relationship("User", foreign_keys=[actor_id])


def record(
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    detail: dict[str, Any] | None = None,
    actor_id: int | None = None,
) -> AuditEntry:
    """Log ``action`` by the current user (or ``actor_id``) on an object."""
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or {},
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def record_view(
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log that staff viewed personal data, without making the page a writing request.

    The entry is written after the page was rendered successfully, in a short transaction of
    its own, so reading a customer's page never holds the database's write lock while it
    renders (on SQLite, that made busy staff pages queue behind each other).
    """
    from flask import g

    entries = g.setdefault("audit_views", [])
    entries.append(
        AuditEntry(
            actor_id=current_user.id if current_user.is_authenticated else None,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=detail or {},
            ip_address=request.remote_addr,
            created_at=utcnow(),
        )
    )


def write_recorded_views(status_code: int) -> None:
    """Called once the response is ready: write the views recorded by ``record_view``."""
    from flask import g
    from sqlalchemy.orm import Session

    from portal.core.db import write_intent

    entries = g.pop("audit_views", None)
    if not entries or status_code >= 400:
        return
    token = write_intent.set(True)
    try:
        with Session(bind=db.engine) as session, session.begin():
            session.add_all(entries)
    finally:
        write_intent.reset(token)

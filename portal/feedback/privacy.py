"""GDPR: a customer's feedback in their data export, and erased with their account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.extensions import db
from portal.feedback import attachments as files
from portal.feedback.models import FeedbackItem, FeedbackMessage


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_feedback(user: User) -> list[dict[str, Any]]:
    items = db.session.scalars(
        select(FeedbackItem)
        .where(FeedbackItem.user_id == user.id)
        .options(selectinload(FeedbackItem.messages), selectinload(FeedbackItem.attachments))
        .order_by(FeedbackItem.id)
    )
    return [
        {
            "reference": item.reference,
            "kind": item.kind,
            "subject": item.subject,
            "message": item.message,
            "status": item.status,
            "created_at": _iso(item.created_at),
            "resolved_at": _iso(item.resolved_at),
            "rating": item.rating,
            "rating_comment": item.rating_comment,
            "replies": [
                {
                    "from": "staff" if message.is_staff else "you",
                    "at": _iso(message.created_at),
                    "body": message.body,
                }
                for message in item.messages
                if not message.internal
            ],
            "attachments": [a.filename for a in item.attachments],
        }
        for item in items
    ]


def erase_feedback(user: User) -> None:
    """Delete the customer's items with their files; unlink what they wrote elsewhere."""
    items = db.session.scalars(
        select(FeedbackItem)
        .where(FeedbackItem.user_id == user.id)
        .options(selectinload(FeedbackItem.attachments))
    ).all()
    for item in items:
        for attachment in item.attachments:
            files.remove_file(attachment.stored_name)
        db.session.delete(item)
    db.session.execute(
        update(FeedbackMessage)
        .where(FeedbackMessage.author_id == user.id)
        .values(author_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()

"""Export and erasure of what the jobs package holds about a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from portal.accounts.models import User
from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS
from portal.extensions import db
from portal.jobs.models import MailCampaignRecipient, MailUnsubscribe, Notification, OutboxMessage


def export_mail(user: User) -> dict[str, Any]:
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(OutboxMessage.id)
    )
    unsubscribes = db.session.scalars(
        select(MailUnsubscribe).where(MailUnsubscribe.user_id == user.id)
    )
    return {
        "messages": [
            {
                "subject": m.subject,
                "to": m.to_address,
                "status": m.status,
                "queued_at": m.created_at.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in messages
        ],
        "unsubscribed": [{"kind": u.kind, "at": u.created_at.isoformat()} for u in unsubscribes],
    }


def export_notifications(user: User) -> list[dict[str, Any]]:
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    return [
        {"kind": n.kind, "message": n.message, "data": n.data, "at": n.created_at.isoformat()}
        for n in items
    ]


def erase(user: User) -> None:
    """Mail bodies and addresses are personal data: drop them (unsent mail is not sent).

    The unsubscribe records stay (the person said no; deletion must not undo that).
    """
    db.session.execute(
        delete(MailCampaignRecipient).where(MailCampaignRecipient.user_id == user.id)
    )
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == user.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.flush()


DATA_EXPORTERS["mail"] = export_mail
DATA_EXPORTERS["notifications"] = export_notifications
DATA_ERASERS["mail_and_notifications"] = erase

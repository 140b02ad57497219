"""Queue mail in the current transaction; deliver it after commit, at most once.

Features call :func:`queue_mail` (render a template) or :func:`queue_rendered` (already
rendered text) and never talk to SMTP themselves.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from portal.core.db import utcnow
from portal.core.mail import build_message, transmit
from portal.extensions import db
from portal.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
_SESSION_KEY = "outbox_new_ids"
_COMMITTED_KEY = "outbox_committed_ids"


def _message_id() -> str:
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN", "portal.local")
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_rendered(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str = "custom",
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
) -> OutboxMessage:
    message = OutboxMessage(
        message_id=_message_id(),
        to_address=to,
        subject=str(subject)[:255],
        body_text=text,
        body_html=html,
        template=template,
        user_id=user_id,
        headers=headers or {},
        bulk=bulk,
        status="pending",
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return message


def queue_mail(
    *,
    to: str,
    template: str,
    subject: str,
    context: dict[str, Any] | None = None,
    locale: str | None = None,
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
    bulk: bool = False,
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` and ``.html`` in the recipient's language and queue it."""
    context = dict(context or {})
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
        rendered_subject = str(subject)
    return queue_rendered(
        to=to,
        subject=rendered_subject,
        text=text,
        html=html,
        template=template,
        user_id=user_id,
        headers=headers,
        bulk=bulk,
    )


def deliver(message_id: int) -> bool:
    """Claim one message and send it. Returns True when this call sent it."""
    now = utcnow()
    result: Any = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )
    claimed = result.rowcount
    db.session.commit()
    if not claimed:
        return False
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    try:
        transmit(
            build_message(
                to=message.to_address,
                subject=message.subject,
                text=message.body_text,
                html=message.body_html,
                message_id=message.message_id,
                headers=message.headers,
            )
        )
    except Exception as exc:
        log.warning("Sending outbox message %s failed: %s", message.id, exc)
        message.last_error = str(exc)[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
        else:
            message.status = "pending"
            message.next_attempt_at = utcnow() + timedelta(seconds=30 * 2**message.attempts)
        db.session.commit()
        return False
    message.status = "sent"
    message.sent_at = utcnow()
    db.session.commit()
    return True


def deliver_due(limit: int = 100) -> int:
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return sum(1 for message_id in ids if deliver(message_id))


def take_committed_ids() -> list[int]:
    return db.session.info.pop(_COMMITTED_KEY, [])


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    new_ids = session.info.pop(_SESSION_KEY, None)
    if new_ids:
        session.info.setdefault(_COMMITTED_KEY, []).extend(new_ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def deliver_committed() -> None:
    """Hand what the finished unit of work queued to the sender (inline in dev and tests)."""
    ids = take_committed_ids()
    if not ids:
        return
    if current_app.config.get("MAIL_DELIVER_INLINE"):
        for message_id in ids:
            deliver(message_id)

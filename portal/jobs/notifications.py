"""In-portal notifications: written in the same transaction as the event that causes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update

from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs.models import Notification


def notify(
    user_id: int,
    *,
    kind: str,
    message: str,
    url: str | None = None,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Record a notification for ``user_id``. ``message`` is a msgid formatted with ``data``."""
    notification = Notification(
        user_id=user_id, kind=kind, message=message, url=url, data=data or {}
    )
    db.session.add(notification)
    db.session.flush()
    _forget_unread()
    return notification


def _forget_unread() -> None:
    from portal.accounts.security import forget_figure_of_loaded_user

    forget_figure_of_loaded_user(UNREAD_FIGURE)


def _unread_of(user_id: Any) -> Any:
    """The count of unread notifications of ``user_id`` (a value, a parameter or a column)."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


#: The navigation shows this count on every signed-in page: built and keyed once.
_UNREAD_COUNT = _unread_of(bindparam("user_id"))

#: The name of the count among the figures read with the signed-in user.
UNREAD_FIGURE = "unread_notifications"


def unread_of_user_figure() -> Any:
    """The count as a figure the user loader reads with the signed-in user (USER_FIGURES)."""
    from portal.accounts.models import User

    return _unread_of(User.id).scalar_subquery()


def unread_count(user_id: int) -> int:
    from portal.accounts.security import figure_of_loaded_user

    loaded = figure_of_loaded_user(UNREAD_FIGURE, user_id)
    if loaded is not None:
        return int(loaded)
    return db.session.scalar(_UNREAD_COUNT, {"user_id": user_id}) or 0


def recent(user_id: int, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user_id: int) -> int:
    result: Any = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    _forget_unread()
    return int(result.rowcount or 0)


def notify_and_mail(
    user: Any,
    *,
    kind: str,
    message: str,
    template: str,
    subject: Any,
    url: str | None = None,
    data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    unsubscribe_kind: str | None = None,
) -> Notification:
    """One event, two channels: the notification at /notifications and the mail, both
    written in the current transaction (so both exist, or neither)."""
    from portal.jobs.outbox import queue_mail

    notification = notify(user.id, kind=kind, message=message, url=url, data=data)
    if user.deleted_at is None:
        queue_mail(
            to=user.email,
            template=template,
            subject=subject,
            context={"user": user, "url": url, **(data or {}), **(context or {})},
            locale=user.locale,
            user_id=user.id,
            unsubscribe_kind=unsubscribe_kind,
        )
    return notification

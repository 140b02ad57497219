"""Follow-up automation: thank-you after delivery, birthday and first-order anniversary greetings.

Each is a periodic task that is safe to run any number of times: a greeting is recorded as a
Touchpoint with an ``occasion`` key that is unique per customer and kind, and the mail is
queued in the same transaction, so an occasion is greeted at most once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import CustomerValue, Role, Touchpoint, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs.outbox import queue_mail
from portal.orders.models import Order

#: Greetings go out from this local hour on (the customer's morning).
GREETING_LOCAL_HOUR = 9
THANK_YOU_WITHIN = timedelta(days=14)


def local_now(user: User, now: datetime) -> datetime:
    try:
        return now.astimezone(ZoneInfo(user.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(ZoneInfo("UTC"))


def may_receive_greetings(user: User) -> bool:
    """Greetings are not service mail: only for active customers who accepted our mail and
    did not unsubscribe from greetings."""
    from portal.jobs.unsubscribe import is_unsubscribed

    return bool(
        user.active
        and user.deleted_at is None
        and user.newsletter_consent
        and not is_unsubscribed(user, "greetings")
    )


def is_birthday_due(user: User, now: datetime) -> bool:
    if not (user.birthday_day and user.birthday_month):
        return False
    local = local_now(user, now)
    day, month = user.birthday_day, user.birthday_month
    if (month, day) == (2, 29) and not _is_leap(local.year):
        day = 28  # greet leap-day birthdays on 28 February in other years
    return (local.month, local.day) == (month, day) and local.hour >= GREETING_LOCAL_HOUR


def anniversary_years(first_order_at: datetime | None, user: User, now: datetime) -> int | None:
    """Whole years since the first order when today is its anniversary (local morning)."""
    if first_order_at is None:
        return None
    local = local_now(user, now)
    first = local_now(user, first_order_at)
    years = local.year - first.year
    if years < 1 or (local.month, local.day) != (first.month, first.day):
        return None
    return years if local.hour >= GREETING_LOCAL_HOUR else None


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _record(user: User, kind: str, occasion: str, *, coupon: str | None = None) -> bool:
    """Claim an occasion; False when it was already greeted."""
    try:
        with db.session.begin_nested():
            db.session.add(
                Touchpoint(
                    user_id=user.id,
                    kind=kind,
                    occasion=occasion,
                    automated=True,
                    coupon_code=coupon,
                )
            )
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _customers() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.name == "customer", User.active.is_(True), User.deleted_at.is_(None))
        )
    )


def _greet(
    user: User,
    kind: str,
    occasion: str,
    *,
    subject: Any,
    context: dict[str, Any],
    coupon: str | None = None,
) -> bool:
    """Claim the occasion and queue the greeting in the customer's language, once."""
    if not _record(user, kind, occasion, coupon=coupon):
        return False
    if _queue_edited(user, kind, context, unsubscribe=True):
        return True
    with force_locale(user.locale or "en"):
        rendered = str(subject)
    queue_mail(
        to=user.email,
        template=f"greetings/{kind}",
        subject=rendered,
        locale=user.locale,
        user_id=user.id,
        context={"user": user, **context},
        unsubscribe_kind="greetings",
    )
    return True


def _queue_edited(user: User, kind: str, context: dict[str, Any], *, unsubscribe: bool) -> bool:
    """Queue the manager's edited template of ``kind`` in the customer's language, if any."""
    from portal.jobs.outbox import queue_rendered
    from portal.jobs.unsubscribe import unsubscribe_headers, unsubscribe_url
    from portal.staff import mailtemplates

    values = {"name": user.display_name, **context}
    if "order" in context:
        values["order_number"] = context["order"].number
    rendered = mailtemplates.render_followup(kind, user.locale, values)
    if rendered is None:
        return False
    url = unsubscribe_url(user.id, "greetings") if unsubscribe else None
    with force_locale(user.locale or "en"):
        text = mailtemplates.wrap_text(rendered, url)
        html = mailtemplates.wrap_html(rendered, url)
    queue_rendered(
        to=user.email,
        subject=rendered.subject,
        text=text,
        html=html,
        template=f"greetings/{kind}",
        user_id=user.id,
        headers=unsubscribe_headers(url) if url else None,
        bulk=unsubscribe,
    )
    return True


def send_birthday_greetings(now: datetime | None = None) -> int:
    now = now or utcnow()
    sent = 0
    prefix = current_app.config.get("BIRTHDAY_COUPON_PREFIX", "BDAY")
    for user in _customers():
        if not (may_receive_greetings(user) and is_birthday_due(user, now)):
            continue
        coupon = f"{prefix}-{secrets.token_hex(3).upper()}" if prefix else None
        subject = _l("Happy birthday, %(name)s!", name=user.display_name)
        sent += _greet(
            user,
            "birthday",
            f"birthday:{local_now(user, now).year}",
            subject=subject,
            context={"coupon": coupon},
            coupon=coupon,
        )
    return sent


def send_anniversary_greetings(now: datetime | None = None) -> int:
    now = now or utcnow()
    sent = 0
    values = {v.user_id: v for v in db.session.scalars(select(CustomerValue))}
    for user in _customers():
        value = values.get(user.id)
        years = anniversary_years(value.first_order_at if value else None, user, now)
        if not years or not may_receive_greetings(user):
            continue
        subject = _l("%(years)s years with us - thank you!", years=years)
        sent += _greet(
            user,
            "anniversary",
            f"anniversary:{local_now(user, now).year}",
            subject=subject,
            context={"years": years},
        )
    return sent


def send_delivery_thanks(now: datetime | None = None) -> int:
    """Thank customers for recently delivered orders (service mail: no consent needed)."""
    now = now or utcnow()
    sent = 0
    orders = db.session.execute(
        select(Order, User)
        .join(User, User.id == Order.user_id)
        .where(
            Order.status == "delivered",
            Order.delivered_at >= now - THANK_YOU_WITHIN,
            User.active.is_(True),
            User.deleted_at.is_(None),
        )
    ).all()
    for order, user in orders:
        if not _record(user, "thank_you", f"order:{order.number}"):
            continue
        context = {"order": order, "orders_url": _external("/orders")}
        if _queue_edited(user, "thank_you", context, unsubscribe=False):
            sent += 1
            continue
        with force_locale(user.locale or "en"):
            subject = str(_l("Thank you for your order %(number)s", number=order.number))
        queue_mail(
            to=user.email,
            template="greetings/thank_you",
            subject=subject,
            locale=user.locale,
            user_id=user.id,
            context={"user": user, **context},
        )
        sent += 1
    return sent


def _external(path: str) -> str:
    try:
        return url_for("core.home", _external=True).rstrip("/") + path
    except RuntimeError:
        return path


def register_tasks() -> None:
    from portal.jobs.schedule import register_periodic

    register_periodic("greetings.birthdays", "5 * * * *", send_birthday_greetings)
    register_periodic("greetings.anniversaries", "10 * * * *", send_anniversary_greetings)
    register_periodic("orders.thank_after_delivery", "*/15 * * * *", send_delivery_thanks)

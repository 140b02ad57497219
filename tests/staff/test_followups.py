"""Follow-up automation rules and their idempotency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.accounts.models import CustomerValue, Touchpoint, User
from portal.extensions import db
from portal.orders.models import Order
from portal.staff import followups


def _user(**fields):
    defaults = {
        "email": "x@example.com",
        "timezone": "UTC",
        "active": True,
        "newsletter_consent": True,
    }
    defaults.update(fields)
    return User(**defaults)


@pytest.mark.parametrize(
    ("now", "tz", "due"),
    [
        (datetime(2026, 3, 14, 9, 0, tzinfo=UTC), "UTC", True),
        (datetime(2026, 3, 14, 8, 59, tzinfo=UTC), "UTC", False),  # before the local morning
        (datetime(2026, 3, 14, 7, 0, tzinfo=UTC), "Europe/Riga", True),  # 09:00 in Riga
        (
            datetime(2026, 3, 13, 23, 30, tzinfo=UTC),
            "Asia/Tokyo",
            True,
        ),  # already 14 March, 08:30? no: 08:30
        (datetime(2026, 3, 15, 9, 0, tzinfo=UTC), "UTC", False),
    ],
)
def test_birthday_is_due_on_the_local_morning(now, tz, due):
    user = _user(birthday_day=14, birthday_month=3, timezone=tz)
    expected = due if tz != "Asia/Tokyo" else False  # 08:30 local is still too early
    assert followups.is_birthday_due(user, now) is expected


def test_leap_day_birthdays_are_greeted_on_28_february():
    user = _user(birthday_day=29, birthday_month=2)
    assert followups.is_birthday_due(user, datetime(2027, 2, 28, 10, tzinfo=UTC))
    assert followups.is_birthday_due(user, datetime(2028, 2, 29, 10, tzinfo=UTC))
    assert not followups.is_birthday_due(user, datetime(2028, 2, 28, 10, tzinfo=UTC))


def test_anniversary_needs_a_whole_year():
    user = _user()
    first = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert followups.anniversary_years(first, user, datetime(2026, 6, 1, 10, tzinfo=UTC)) == 1
    assert followups.anniversary_years(first, user, datetime(2025, 6, 1, 13, tzinfo=UTC)) is None
    assert followups.anniversary_years(first, user, datetime(2026, 6, 2, 10, tzinfo=UTC)) is None
    assert followups.anniversary_years(None, user, datetime(2026, 6, 1, 10, tzinfo=UTC)) is None


def test_birthday_greeting_is_sent_once_and_only_with_consent(app, make_user, mailbox):
    now = datetime(2026, 3, 14, 10, tzinfo=UTC)
    make_user("bday1@example.com", birthday_day=14, birthday_month=3, newsletter_consent=True)
    make_user("bday2@example.com", birthday_day=14, birthday_month=3, newsletter_consent=False)
    with app.test_request_context():
        assert followups.send_birthday_greetings(now) == 1
        assert followups.send_birthday_greetings(now) == 0
        db.session.commit()
        from portal.jobs.outbox import deliver_due

        deliver_due()
        touchpoints = db.session.scalars(
            select(Touchpoint).where(Touchpoint.kind == "birthday")
        ).all()
        assert len(touchpoints) == 1 and touchpoints[0].coupon_code
    assert len(mailbox.to("bday1@example.com")) == 1
    assert mailbox.to("bday2@example.com") == []


def test_anniversary_and_thank_you_once(app, make_user, mailbox):
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    user_id = make_user("loyal@example.com", newsletter_consent=True)
    with app.test_request_context():
        db.session.add(
            CustomerValue(user_id=user_id, first_order_at=datetime(2024, 6, 1, 8, tzinfo=UTC))
        )
        db.session.add(
            Order(
                number="T-1",
                user_id=user_id,
                status="delivered",
                delivered_at=datetime(2026, 5, 30, tzinfo=UTC),
            )
        )
        db.session.add(
            Order(
                number="T-0",
                user_id=user_id,
                status="delivered",
                delivered_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # too long ago
        db.session.flush()
        assert followups.send_anniversary_greetings(now) == 1
        assert followups.send_anniversary_greetings(now) == 0
        assert followups.send_delivery_thanks(now) == 1
        assert followups.send_delivery_thanks(now) == 0
        db.session.commit()
        from portal.jobs.outbox import deliver_due

        deliver_due()
    subjects = sorted(str(m["Subject"]) for m in mailbox.to("loyal@example.com"))
    assert subjects == ["2 years with us - thank you!", "Thank you for your order T-1"]

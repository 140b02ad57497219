"""Staff insight: the dashboard, the customer 360, exports and follow-up automation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.core import audit  # noqa: F401 - register the table
    from portal.core.demo import DEMO_LOADERS
    from portal.staff import followups, insight, mailtemplates, rollups  # noqa: F401
    from portal.staff.views import bp

    app.register_blueprint(bp)
    followups.register_tasks()
    rollups.register_tasks()
    insight.register()
    for loader in (demo_newcomers, build_demo_rollups):
        if loader not in DEMO_LOADERS:
            DEMO_LOADERS.append(loader)


#: Customers who joined in the last weeks, three of them brought by existing customers, so
#: the dashboard's "new customers" and "referrals" blocks have something to show for the
#: default period: (e-mail, name, locale, source, days ago, referred by).
NEWCOMERS = (
    ("marta@example.com", "Marta Kalniņa", "lv", "friend", 4, "anna@example.com"),
    ("tomasz@example.com", "Tomasz Wiśniewski", "pl", "friend", 9, "anna@example.com"),
    ("sofia@example.com", "Sofia Rossi", "en", "friend", 16, "ben@example.com"),
    ("ivan@example.com", "Иван Петров", "ru", "search", 12, None),
    ("emma@example.com", "Emma Jones", "en", "social", 22, None),
)
#: How the quieter demo shoppers heard about us, in turn.
SHOPPER_SOURCES = ("search", "social", "friend", "search", "advert", "press", "shop", "other")


def demo_newcomers(users: dict) -> None:
    """Recent sign-ups and referrals; the demo shoppers get an acquisition source."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.accounts.services import create_user
    from portal.core.db import utcnow
    from portal.core.demo import DEMO_PASSWORD
    from portal.extensions import db

    now = utcnow()
    by_email = {
        u.email: u
        for u in db.session.scalars(
            select(User).where(User.email.in_([n[5] for n in NEWCOMERS if n[5]]))
        )
    }
    for email, name, locale, source, days, referrer in NEWCOMERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        user = create_user(
            email, DEMO_PASSWORD, roles=("customer",), name=name, locale=locale,
            acquisition_source=source,
        )  # fmt: skip
        user.joined_at = now - timedelta(days=days, hours=3)
        user.referred_by = by_email.get(referrer) if referrer else None
    shoppers = db.session.scalars(
        select(User)
        .where(User.email.like("shopper%@example.com"), User.acquisition_source.is_(None))
        .order_by(User.email)
    )
    for index, shopper in enumerate(shoppers):
        shopper.acquisition_source = SHOPPER_SOURCES[index % len(SHOPPER_SOURCES)]
    db.session.flush()
    _demo_touchpoints(users, now)
    from portal.orders.recompute import recompute_customer_values

    recompute_customer_values(now)


def _demo_touchpoints(users: dict, now: datetime) -> None:
    """How the demo customers were thanked: automated greetings and what staff did."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.accounts.models import Touchpoint
    from portal.extensions import db
    from portal.orders.models import Order

    def person(email: str) -> Any:
        return users.get(email)

    manager, agent = person("manager@example.com"), person("agent@example.com")
    anna, olga, ben = (
        person("anna@example.com"),
        person("olga@example.com"),
        person("ben@example.com"),
    )
    if not (anna and olga and ben):
        return
    rows: list[Touchpoint] = []
    # The thank-you after each delivered order of the last months, as the job sends it.
    for user in (anna, ben):
        for order in db.session.scalars(
            select(Order).where(
                Order.user_id == user.id,
                Order.status == "delivered",
                Order.delivered_at >= now - timedelta(days=120),
            )
        ):
            rows.append(
                Touchpoint(
                    user_id=user.id, kind="thank_you", occasion=f"order:{order.number}",
                    automated=True, created_at=(order.delivered_at or now) + timedelta(hours=2),
                )
            )  # fmt: skip
    rows += [
        Touchpoint(
            user_id=anna.id, kind="birthday", occasion=f"birthday:{now.year}", automated=True,
            coupon_code="BDAY-5A7C21", created_at=now - timedelta(days=255),
        ),
        Touchpoint(
            user_id=anna.id, kind="call", created_by_id=manager.id if manager else None,
            note="Thanked her for bringing two friends this month; she likes the new teas.",
            created_at=now - timedelta(days=3),
        ),
        Touchpoint(
            user_id=anna.id, kind="gift", created_by_id=manager.id if manager else None,
            note="Sent a tea sampler for her tenth order.", created_at=now - timedelta(days=8),
        ),
        Touchpoint(
            user_id=ben.id, kind="anniversary", occasion=f"anniversary:{now.year}",
            automated=True, created_at=now - timedelta(days=40),
        ),
        Touchpoint(
            user_id=olga.id, kind="call", created_by_id=agent.id if agent else None,
            note="Asked why she stopped ordering: the jacket refund took too long.",
            created_at=now - timedelta(days=20),
        ),
        Touchpoint(
            user_id=olga.id, kind="coupon", created_by_id=agent.id if agent else None,
            coupon_code="COMEBACK-15", note="15 % off to welcome her back.",
            created_at=now - timedelta(days=20),
        ),
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.flush()


def build_demo_rollups(_users: object) -> None:
    """After every feature's demo data: fill the dashboard's rollups for it."""
    from portal.staff.rollups import rebuild_all

    rebuild_all()

"""Demo data for `make run`: believable accounts for every role. Idempotent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import Department, User
from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 - printed by `make run`, development only

DEMO_ACCOUNTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], dict[str, Any]], ...] = (
    # email, name, roles, departments, profile
    ("admin@example.com", "Ada Admin", ("admin", "manager"), (), {}),
    ("manager@example.com", "Maris Manager", ("manager",), ("customer-care",), {}),
    ("agent@example.com", "Agnese Agent", ("agent",), ("customer-care", "delivery"), {}),
    ("billing@example.com", "Bruno Billing", ("agent",), ("billing",), {}),
    ("moderator@example.com", "Mona Moderator", ("moderator",), (), {}),
    (
        "anna@example.com",
        "Anna Ozola",
        ("customer",),
        (),
        {
            "preferred_name": "Anna",
            "locale": "lv",
            "timezone": "Europe/Riga",
            "city": "Riga",
            "country": "LV",
            "birthday_day": 14,
            "birthday_month": 3,
            "acquisition_source": "search",
            "why_chose_us": "Fast delivery and friendly help.",
            "newsletter_consent": True,
        },
    ),
    (
        "piotr@example.com",
        "Piotr Nowak",
        ("customer",),
        (),
        {
            "locale": "pl",
            "timezone": "Europe/Warsaw",
            "city": "Kraków",
            "country": "PL",
            "acquisition_source": "friend",
        },
    ),
    (
        "olga@example.com",
        "Ольга Смирнова",
        ("customer",),
        (),
        {"locale": "ru", "timezone": "Europe/Riga", "acquisition_source": "social"},
    ),
    (
        "li@example.com",
        "李娜",
        ("customer",),
        (),
        {"locale": "zh_Hans", "timezone": "Asia/Shanghai", "acquisition_source": "advert"},
    ),
    (
        "layla@example.com",
        "ليلى حسن",
        ("customer",),
        (),
        {"locale": "ar", "timezone": "Asia/Dubai", "acquisition_source": "press"},
    ),
    (
        "ben@example.com",
        "Ben Carter",
        ("customer",),
        (),
        {
            "timezone": "Europe/London",
            "acquisition_source": "other",
            "acquisition_other": "A podcast",
        },
    ),
)

#: Feature packages add their demo loaders here; each runs once after the accounts exist.
DEMO_LOADERS: list = []


class DemoSeed(db.Model):  # type: ignore[name-defined,misc]
    """Which demo loaders have run on this database, so each runs exactly once."""

    __tablename__ = "demo_seed"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def load_demo_data() -> bool:
    """Create the demo accounts, then run each feature loader that has not run yet.

    Returns False when there was nothing left to load. A feature added later gets its demo
    data on the next `make run` without duplicating anyone else's.
    """
    from portal.accounts.services import ensure_reference_data

    ensure_reference_data()
    done = set(db.session.scalars(select(DemoSeed.name)))
    loaded = False
    if "accounts" not in done:
        if db.session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0][0])) is None:
            _load_accounts()
        db.session.add(DemoSeed(name="accounts"))
        loaded = True
    users = {
        u.email: u
        for u in db.session.scalars(
            select(User).where(User.email.in_([a[0] for a in DEMO_ACCOUNTS]))
        )
    }
    for loader in DEMO_LOADERS:
        name = f"{loader.__module__}.{loader.__qualname__}"
        if name in done:
            continue
        loader(users)
        db.session.add(DemoSeed(name=name))
        db.session.flush()
        loaded = True
    return loaded


def _load_accounts() -> None:
    from portal.accounts.services import create_user, set_newsletter_consent

    users: dict[str, User] = {}
    for email, name, roles, departments, profile in DEMO_ACCOUNTS:
        consent = bool(profile.pop("newsletter_consent", False)) if profile else False
        user = create_user(email, DEMO_PASSWORD, roles=roles, name=name, **profile)
        set_newsletter_consent(user, consent)
        for slug in departments:
            department = db.session.scalar(select(Department).where(Department.slug == slug))
            if department is not None:
                user.departments.append(department)
        users[email] = user
    # Piotr came through Anna's referral link; so did Ben.
    users["piotr@example.com"].referred_by = users["anna@example.com"]
    users["ben@example.com"].referred_by = users["anna@example.com"]
    # Administrators must use two-factor sign-in; the demo admin has it set up already and
    # `flask portal demo-totp admin@example.com` prints the current code.
    from portal.extensions import security

    admin = users["admin@example.com"]
    admin.tf_primary_method = "authenticator"
    admin.tf_totp_secret = security._totp_factory.generate_totp_secret()
    care = db.session.scalar(select(Department).where(Department.slug == "customer-care"))
    if care is not None:
        care.manager_email = "manager@example.com"
    db.session.flush()

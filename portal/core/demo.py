"""Demo data for `make run`: believable accounts for every role. Idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.accounts.models import Department, User
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


def load_demo_data() -> bool:
    """Create the demo accounts and hand over to feature loaders. False when already loaded."""
    from portal.accounts.services import create_user, ensure_reference_data, set_newsletter_consent

    ensure_reference_data()
    if db.session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0][0])) is not None:
        return False
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
    for loader in DEMO_LOADERS:
        loader(users)
    return True

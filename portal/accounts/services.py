"""Account rules: registration extras, referrals, profile, consent, export and erasure."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from flask_security import hash_password
from sqlalchemy import func, select

from portal.accounts.models import (
    ACQUISITION_SOURCES,
    DEFAULT_DEPARTMENTS,
    ROLE_NAMES,
    Department,
    Role,
    User,
)
from portal.core.db import utcnow
from portal.extensions import db

REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PROFILE_FIELDS = (
    "name",
    "preferred_name",
    "phone",
    "address_line",
    "postal_code",
    "city",
    "country",
    "locale",
    "timezone",
    "birthday_day",
    "birthday_month",
    "why_chose_us",
)


def new_referral_code() -> str:
    while True:
        code = "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))
        if db.session.scalar(select(User.id).where(User.referral_code == code)) is None:
            return code


def find_referrer(code: str | None) -> User | None:
    if not code:
        return None
    return db.session.scalar(
        select(User).where(User.referral_code == code.strip().upper(), User.deleted_at.is_(None))
    )


def get_role(name: str) -> Role:
    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name, description=name.capitalize())
        db.session.add(role)
        db.session.flush()
    return role


def ensure_reference_data() -> None:
    """Roles and default departments exist (idempotent)."""
    for name in ROLE_NAMES:
        get_role(name)
    for slug, name in DEFAULT_DEPARTMENTS:
        if db.session.scalar(select(Department.id).where(Department.slug == slug)) is None:
            db.session.add(Department(slug=slug, name=name))
    db.session.flush()


def complete_registration(user: User, *, referrer_code: str | None, locale: str | None) -> None:
    """Runs when Flask-Security has created the user from the registration form."""
    user.roles.append(get_role("customer"))
    user.referral_code = new_referral_code()
    user.locale = locale
    if user.acquisition_source not in ACQUISITION_SOURCES:
        user.acquisition_source = None
    if user.acquisition_source != "other":
        user.acquisition_other = None
    referrer = find_referrer(referrer_code)
    if referrer is not None and referrer.id != user.id:
        user.referred_by = referrer
        if not user.acquisition_source:
            user.acquisition_source = "friend"
    set_newsletter_consent(user, bool(user.newsletter_consent))
    db.session.flush()


def set_newsletter_consent(user: User, consent: bool, *, when: datetime | None = None) -> bool:
    """Record consent with its timestamp; returns True when it changed."""
    changed = bool(user.newsletter_consent) != consent or (
        consent and user.newsletter_consent_at is None
    )
    user.newsletter_consent = consent
    if changed or user.newsletter_consent_at is None:
        user.newsletter_consent_at = when or utcnow()
    return changed


def update_profile(user: User, data: dict[str, Any]) -> None:
    for field in PROFILE_FIELDS:
        if field in data:
            value = data[field]
            if isinstance(value, str):
                value = value.strip() or None
            if field == "name":
                value = value or ""
            if field == "timezone":
                value = value or "UTC"
            setattr(user, field, value)
    if "newsletter_consent" in data:
        set_newsletter_consent(user, bool(data["newsletter_consent"]))
    db.session.flush()


def referred_customers(user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.referred_by_id == user.id).order_by(User.joined_at.desc())
        )
    )


def count_referred(user: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.referred_by_id == user.id)) or 0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


#: Every feature that stores personal data registers an exporter and an eraser here,
#: so that export and deletion cover all of it.
DATA_EXPORTERS: dict[str, Any] = {}
DATA_ERASERS: dict[str, Any] = {}


def export_personal_data(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": {
            "email": user.email,
            "joined_at": _iso(user.joined_at),
            "confirmed_at": _iso(user.confirmed_at) if user.confirmed_at else None,
            "roles": sorted(user.role_names),
            "last_login_at": str(user.last_login_at) if user.last_login_at else None,
            "login_count": user.login_count,
        },
        "profile": {field: getattr(user, field) for field in PROFILE_FIELDS},
        "consent": {
            "newsletter": user.newsletter_consent,
            "newsletter_changed_at": _iso(user.newsletter_consent_at),
        },
        "acquisition": {
            "source": user.acquisition_source,
            "other": user.acquisition_other,
            "referral_code": user.referral_code,
            "referred_by": user.referred_by.display_name if user.referred_by else None,
            "friends_brought": [friend.display_name for friend in referred_customers(user)],
        },
    }
    for name, exporter in sorted(DATA_EXPORTERS.items()):
        data[name] = exporter(user)
    return data


def delete_account(user: User) -> None:
    """Erase personal data and keep a tombstone row so history stays consistent."""
    for _name, eraser in sorted(DATA_ERASERS.items()):
        eraser(user)
    tombstone = uuid.uuid4().hex
    user.email = f"deleted-{tombstone}@deleted.invalid"
    user.password = hash_password(secrets.token_urlsafe(32))
    user.active = False
    user.fs_uniquifier = uuid.uuid4().hex
    for field in PROFILE_FIELDS:
        setattr(user, field, None)
    user.name = ""
    user.timezone = "UTC"
    user.why_chose_us = None
    user.acquisition_other = None
    user.referral_code = None
    user.tf_totp_secret = None
    user.tf_primary_method = None
    user.mf_recovery_codes = None
    user.last_login_ip = None
    user.current_login_ip = None
    set_newsletter_consent(user, False)
    user.deleted_at = utcnow()
    db.session.flush()


def create_user(
    email: str,
    password: str,
    *,
    roles: tuple[str, ...] = ("customer",),
    name: str = "",
    confirmed: bool = True,
    **profile: Any,
) -> User:

    from portal.extensions import security

    user: User = security.datastore.create_user(  # type: ignore[assignment]
        email=email.lower(),
        password=hash_password(password),
        name=name,
        active=True,
        **profile,
    )
    for role in roles:
        user.roles.append(get_role(role))
    user.referral_code = new_referral_code()
    if confirmed:
        user.confirmed_at = utcnow().replace(tzinfo=None)
    db.session.flush()
    return user

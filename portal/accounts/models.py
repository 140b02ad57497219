"""Users, roles, departments and the customer profile."""

from __future__ import annotations

from datetime import datetime

from flask_security.datastore import AsaList
from flask_security.models import sqla as fsqla
from sqlalchemy import Column, ForeignKey, Integer, SmallInteger, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import Money, UTCDateTime, utcnow
from portal.extensions import db

fsqla.FsModels.set_db_info(base_model=db.Model)  # type: ignore[arg-type]

# Flask-Security's list column (a role's permissions, a user's recovery codes, a security key's
# transports) joins and splits on commas and keeps no state, but does not declare itself safe
# to cache: SQLAlchemy then compiles every Core statement that names such a column afresh.
AsaList.cache_ok = True

ROLE_NAMES = ("customer", "agent", "moderator", "manager", "admin")
STAFF_ROLES = frozenset({"agent", "moderator", "manager", "admin"})

ACQUISITION_SOURCES = (
    "search",
    "social",
    "friend",
    "advert",
    "press",
    "shop",
    "other",
)

DEFAULT_DEPARTMENTS = (
    ("customer-care", "Customer care"),
    ("delivery", "Delivery"),
    ("billing", "Billing"),
    ("product", "Product"),
    ("technical-support", "Technical support"),
)

department_members = Table(
    "department_member",
    db.metadata,
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model, fsqla.FsRoleMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "role"


class User(db.Model, fsqla.FsUserMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "user"

    # Profile
    name: Mapped[str] = mapped_column(String(120), default="")
    preferred_name: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    birthday_day: Mapped[int | None] = mapped_column(SmallInteger)
    birthday_month: Mapped[int | None] = mapped_column(SmallInteger)
    why_chose_us: Mapped[str | None] = mapped_column(Text)

    # Consent: service mail is always sent; the newsletter only with consent.
    newsletter_consent: Mapped[bool] = mapped_column(default=False)
    newsletter_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Acquisition and referrals
    acquisition_source: Mapped[str | None] = mapped_column(String(20))
    acquisition_other: Mapped[str | None] = mapped_column(String(120))
    referral_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    referred_by: Mapped[User | None] = relationship(
        remote_side="User.id", foreign_keys=[referred_by_id]
    )

    # Account deletion leaves a tombstone: the row stays, personal data is erased.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    departments: Mapped[list[Department]] = relationship(
        secondary=department_members, back_populates="members"
    )

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.name or self.email.split("@")[0]

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    @property
    def is_staff(self) -> bool:
        return bool(self.role_names & STAFF_ROLES)

    def has_any_role(self, *names: str) -> bool:
        return bool(self.role_names & set(names))


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):  # type: ignore[name-defined,misc]
    __tablename__ = "webauthn"


class Department(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    manager_email: Mapped[str | None] = mapped_column(String(255))

    members: Mapped[list[User]] = relationship(
        secondary=department_members, back_populates="departments"
    )


RELATIONSHIP_STAGES = ("exploration", "awareness", "expansion", "commitment", "dissolution")


class CustomerValue(db.Model):  # type: ignore[name-defined,misc]
    """What a customer is worth, stored for fast listing; recomputed by the value job."""

    __tablename__ = "customer_value"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    spend_12m_minor: Mapped[int] = mapped_column(Money, default=0, index=True)
    spend_by_month: Mapped[dict] = mapped_column(db.JSON, default=dict)  # {"2026-03": minor units}
    order_count: Mapped[int] = mapped_column(default=0)
    average_order_minor: Mapped[int] = mapped_column(Money, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_golden: Mapped[bool] = mapped_column(default=False, index=True)
    is_lapsed: Mapped[bool] = mapped_column(default=False, index=True)
    stage: Mapped[str] = mapped_column(String(12), default="exploration", index=True)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(backref=db.backref("value", uselist=False, lazy="select"))


TOUCHPOINT_KINDS = (
    "thank_you",
    "birthday",
    "anniversary",
    "gift",
    "coupon",
    "call",
    "email",
    "meeting",
    "note",
)
#: Kinds staff log by hand on the customer 360 page.
MANUAL_TOUCHPOINT_KINDS = ("call", "email", "gift", "meeting", "note", "coupon")


class Touchpoint(db.Model):  # type: ignore[name-defined,misc]
    """How we thanked (or otherwise touched) a customer: by staff or by automation.

    Automated touchpoints carry an ``occasion`` key (e.g. ``birthday:2026``) that is unique
    per customer and kind, so a greeting is sent at most once per occasion.
    """

    __tablename__ = "touchpoint"
    __table_args__ = (
        db.UniqueConstraint("user_id", "kind", "occasion"),
        db.Index("ix_touchpoint_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occasion: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    automated: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

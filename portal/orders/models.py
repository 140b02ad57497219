"""Orders as the shop reports them: money in minor units plus an ISO 4217 currency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core.db import Money, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

ORDER_STATUSES = (
    "placed",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "refunded",
)


class Order(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "order"
    __table_args__ = (
        Index("ix_order_user_id_placed_at", "user_id", "placed_at"),
        # The customer's list filtered by status, newest first.
        Index("ix_order_user_id_status_placed_at", "user_id", "status", "placed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="placed", index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    subtotal_minor: Mapped[int] = mapped_column(Money, default=0)
    shipping_minor: Mapped[int] = mapped_column(Money, default=0)
    tax_minor: Mapped[int] = mapped_column(Money, default=0)
    total_minor: Mapped[int] = mapped_column(Money, default=0)
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="(OrderEvent.occurred_at, OrderEvent.id)",
    )


class OrderItem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "order_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_minor: Mapped[int] = mapped_column(Money, default=0)

    order: Mapped[Order] = relationship(back_populates="items")


class OrderEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "order_event"
    __table_args__ = (UniqueConstraint("order_id", "status", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="events")

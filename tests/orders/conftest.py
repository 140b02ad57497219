"""Fixtures for orders: an order factory and a query counter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from portal.core.db import utcnow
from portal.extensions import db


@pytest.fixture
def make_order(app: Any) -> Any:
    """Create an order with a full history up to ``status`` (through the services)."""
    from portal.orders.models import Order, OrderItem
    from portal.orders.services import enter_status

    counter = iter(range(1, 100_000))

    def _make(
        user_id: int,
        *,
        number: str | None = None,
        status: str = "placed",
        path: tuple[str, ...] | None = None,
        placed_at: datetime | None = None,
        total_minor: int = 1000,
        currency: str = "EUR",
        items: int = 1,
    ) -> str:
        with app.app_context():
            placed = placed_at or utcnow() - timedelta(days=1)
            order = Order(
                number=number or f"T-{next(counter):06d}",
                user_id=user_id,
                status="placed",
                currency=currency,
                subtotal_minor=total_minor,
                total_minor=total_minor,
                placed_at=placed,
                items=[
                    OrderItem(
                        sku=f"SKU-{i}",
                        name=f"Thing {i}",
                        quantity=1,
                        unit_price_minor=total_minor // items,
                    )
                    for i in range(items)
                ],
                events=[],
            )
            db.session.add(order)
            db.session.flush()
            steps = path or _path_to(status)
            for index, step in enumerate(steps):
                enter_status(order, step, placed + timedelta(minutes=index), None)
            db.session.commit()
            return order.number

    return _make


def _path_to(status: str) -> tuple[str, ...]:
    forward = ("placed", "paid", "processing", "shipped", "delivered")
    if status in forward:
        return forward[: forward.index(status) + 1]
    return {
        "cancelled": ("placed", "cancelled"),
        "returned": (*forward, "returned"),
        "refunded": (*forward, "returned", "refunded"),
    }[status]


@pytest.fixture
def user_id_of(app: Any) -> Any:
    def _find(email: str) -> int:
        from sqlalchemy import select

        from portal.accounts.models import User

        with app.app_context():
            return db.session.scalar(select(User.id).where(User.email == email))

    return _find

"""Status rules: forward only, except to returned and refunded; every change is an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.models import Order
from portal.orders.services import StatusChangeRefused, change_status, status_change_error

ALLOWED = {
    ("placed", "paid"),
    ("placed", "processing"),
    ("placed", "shipped"),
    ("placed", "delivered"),
    ("placed", "cancelled"),
    ("paid", "processing"),
    ("paid", "shipped"),
    ("paid", "delivered"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("processing", "shipped"),
    ("processing", "delivered"),
    ("processing", "cancelled"),
    ("processing", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "returned"),
    ("shipped", "refunded"),
    ("delivered", "returned"),
    ("delivered", "refunded"),
    ("cancelled", "refunded"),
    ("returned", "refunded"),
}
STATUSES = (
    "placed",
    "paid",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "refunded",
)


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_every_transition(app, current, new):
    was_paid = current != "placed"
    with app.test_request_context():
        error = status_change_error(current, new, was_paid=was_paid)
    if current == new or (current, new) in ALLOWED:
        assert error is None, (current, new, str(error))
    else:
        assert error is not None, (current, new)


def test_refund_needs_a_payment(app):
    with app.test_request_context():
        assert status_change_error("cancelled", "refunded", was_paid=False) is not None
        assert status_change_error("cancelled", "refunded", was_paid=True) is None
        assert "never paid" in str(status_change_error("placed", "refunded", was_paid=False))


def test_unknown_status_is_refused(app):
    with app.test_request_context():
        assert "not an order status" in str(status_change_error("placed", "lost", was_paid=False))


def test_going_back_says_why(app):
    with app.test_request_context():
        message = str(status_change_error("delivered", "shipped", was_paid=True))
    assert message == "An order cannot go back from “Delivered” to “Shipped”."


def test_change_records_event_and_timestamps(app, make_user):
    user_id = make_user()
    with app.test_request_context():
        placed = utcnow() - timedelta(days=3)
        order = Order(number="ST-1", user_id=user_id, placed_at=placed, events=[], items=[])
        db.session.add(order)
        db.session.flush()
        shipped_at = placed + timedelta(days=1)
        event = change_status(order, "shipped", at=shipped_at, note="Left the warehouse")
        assert event is not None and event.note == "Left the warehouse"
        assert order.status == "shipped"
        assert order.shipped_at == shipped_at
        assert order.paid_at == shipped_at  # shipped goods were paid for
        assert order.delivered_at is None
        # The same status again is no change and no event.
        assert change_status(order, "shipped") is None
        assert len(order.events) == 1
        change_status(order, "delivered", at=shipped_at + timedelta(days=1))
        assert order.delivered_at == shipped_at + timedelta(days=1)
        assert order.shipped_at == shipped_at  # kept
        with pytest.raises(StatusChangeRefused) as refused:
            change_status(order, "paid")
        assert refused.value.field == "status"
        assert order.status == "delivered" and len(order.events) == 2
        change_status(order, "returned")
        change_status(order, "refunded")
        with pytest.raises(StatusChangeRefused, match="refunded"):
            change_status(order, "returned")
        assert [e.status for e in order.events] == ["shipped", "delivered", "returned", "refunded"]
        db.session.rollback()

"""Fixtures for feedback tests: customers, staff, orders, items, query counting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from portal.accounts.models import CustomerValue, Department, User
from portal.extensions import db
from portal.feedback import services
from portal.feedback.models import FeedbackItem
from portal.orders.models import Order
from tests.conftest import login


@pytest.fixture
def user_by_email(app: Any) -> Any:
    def _get(email: str) -> User:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user

    return _get


@pytest.fixture
def make_order(app: Any) -> Any:
    counter = iter(range(1, 10_000))

    def _make(user_id: int, status: str = "delivered", number: str | None = None) -> str:
        with app.app_context():
            order = Order(
                number=number or f"T-{next(counter):05d}",
                user_id=user_id,
                status=status,
                total_minor=2500,
            )
            db.session.add(order)
            db.session.commit()
            return order.number

    return _make


@pytest.fixture
def set_value(app: Any) -> Any:
    def _set(user_id: int, **values: Any) -> None:
        with app.app_context():
            row = db.session.get(CustomerValue, user_id) or CustomerValue(user_id=user_id)
            for key, value in values.items():
                setattr(row, key, value)
            db.session.add(row)
            db.session.commit()

    return _set


@pytest.fixture
def open_for(app: Any, user_by_email: Any) -> Any:
    """Open an item for a customer directly through the service; returns its reference."""

    def _open(
        email: str,
        kind: str = "complaint",
        subject: str = "Help",
        message: str = "Something",
        **kw: Any,
    ) -> str:
        with app.app_context():
            order_number = kw.pop("order_number", None)
            order = (
                db.session.scalar(select(Order).where(Order.number == order_number))
                if order_number
                else None
            )
            item = services.open_item(
                user_by_email(email), kind, subject, message, order=order, **kw
            )
            db.session.commit()
            return item.reference

    return _open


@pytest.fixture
def item_by_ref(app: Any) -> Any:
    def _get(reference: str) -> FeedbackItem:
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        assert item is not None
        return item

    return _get


@pytest.fixture
def department_id(app: Any) -> Any:
    def _get(slug: str) -> int:
        with app.app_context():
            return db.session.scalar(select(Department.id).where(Department.slug == slug))

    return _get


@contextmanager
def count_queries(app: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _before)


@pytest.fixture
def as_user(client: Any) -> Any:
    def _as(email: str) -> Any:
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        response = login(client, email)
        assert response.status_code == 302
        return client

    return _as


from tests.community.conftest import board  # noqa: E402,F401 - the community fixture, for the topic-to-complaint tests

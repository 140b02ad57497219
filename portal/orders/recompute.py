"""Store every customer's value: one SQL aggregate per customer and month, the rules of
:mod:`portal.orders.value` applied in memory, and the table rewritten in bulk.

Also the small read side other features use: :func:`customer_segments`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, delete, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from portal.accounts.models import CustomerValue, Role, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders import value as rules
from portal.orders.bulk import bulk_insert
from portal.orders.models import Order

NEW_CUSTOMER_DAYS = 90
_CHUNK = 5000


def _month_of(column: Any) -> ColumnElement[str]:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _monthly_rows(now: datetime, currency: str) -> dict[int, list[rules.MonthFigures]]:
    month = _month_of(Order.placed_at).label("month")
    is_order = Order.status.not_in(rules.NOT_AN_ORDER_STATUSES)
    is_spend = Order.status.in_(rules.SPENDING_STATUSES) & (Order.currency == currency)
    in_window = Order.placed_at >= rules.window_start(now)
    query = select(
        Order.user_id,
        month,
        func.sum(case((is_order, 1), else_=0)).label("orders"),
        func.sum(case((is_spend, Order.total_minor), else_=0)).label("spend"),
        func.sum(case((is_spend, 1), else_=0)).label("paid"),
        func.sum(case((is_spend & in_window, Order.total_minor), else_=0)).label("spend_12m"),
        func.min(case((is_order, Order.placed_at), else_=None)).label("first"),
        func.max(case((is_order, Order.placed_at), else_=None)).label("last"),
    ).group_by(Order.user_id, month)
    by_user: dict[int, list[rules.MonthFigures]] = defaultdict(list)
    for row in db.session.execute(query):
        by_user[row.user_id].append(
            rules.MonthFigures(
                month=row.month,
                orders=int(row.orders or 0),
                spend_minor=int(row.spend or 0),
                paid_orders=int(row.paid or 0),
                spend_12m_minor=int(row.spend_12m or 0),
                first_order_at=row.first,
                last_order_at=row.last,
            )
        )
    return by_user


def _customers() -> dict[int, bool]:
    """Every customer (by role, or by having orders) -> whether the account is closed."""
    roles_users: Any = db.metadata.tables["roles_users"]
    has_role = (
        select(literal(1))
        .select_from(roles_users.join(Role, Role.id == roles_users.c.role_id))
        .where(roles_users.c.user_id == User.id, Role.name == "customer")
        .exists()
    )
    has_orders = select(literal(1)).where(Order.user_id == User.id).exists()
    rows = db.session.execute(
        select(User.id, User.deleted_at.is_not(None)).where(or_(has_role, has_orders))
    )
    return {user_id: bool(closed) for user_id, closed in rows}


def recompute_customer_values(now: datetime | None = None) -> int:
    """Recompute and store every customer's value; returns how many customers."""
    now = now or utcnow()
    config = current_app.config
    currency = config.get("VALUE_CURRENCY", "EUR")
    percentile = int(config.get("GOLDEN_PERCENTILE", 10))
    lapsed_days = int(config.get("LAPSED_DAYS", 180))

    monthly = _monthly_rows(now, currency)
    customers = _customers()
    for user_id in monthly:
        customers.setdefault(user_id, False)
    figures = {user_id: rules.summarise(monthly.get(user_id, ())) for user_id in customers}
    threshold = rules.golden_threshold((f.spend_12m_minor for f in figures.values()), percentile)
    rows: list[dict[str, Any]] = []
    for user_id, closed in customers.items():
        f = figures[user_id]
        golden = rules.is_golden(f.spend_12m_minor, threshold) and not closed
        lapsed = rules.is_lapsed(f.order_count, f.last_order_at, now, lapsed_days)
        rows.append(
            {
                "user_id": user_id,
                "currency": currency,
                "spend_12m_minor": f.spend_12m_minor,
                "spend_by_month": f.spend_by_month,
                "order_count": f.order_count,
                "average_order_minor": f.average_order_minor,
                "first_order_at": f.first_order_at,
                "last_order_at": f.last_order_at,
                "is_golden": golden,
                "is_lapsed": lapsed,
                "stage": rules.relationship_stage(
                    order_count=f.order_count,
                    quarters=f.quarters,
                    golden=golden,
                    lapsed=lapsed,
                    closed=closed,
                ),
                "lapsed_at": rules.lapsed_since(f.last_order_at, lapsed_days) if lapsed else None,
                "computed_at": now,
            }
        )
    # Rewritten as a whole in this transaction: readers see the old figures until commit.
    db.session.execute(delete(CustomerValue))
    table: Any = CustomerValue.__table__
    for start in range(0, len(rows), _CHUNK):
        bulk_insert(table, rows[start : start + _CHUNK])
    db.session.expire_all()
    return len(rows)


def nightly_recompute() -> int:
    return recompute_customer_values()


def customer_segments(user_id: int, *, now: datetime | None = None) -> set[str]:
    """The segments a customer is in: "golden", "lapsed", "new" (joined in the last 90 days).

    Reads the stored figures; a customer not yet computed is only ever "new".
    """
    now = now or utcnow()
    row = db.session.execute(
        select(User.joined_at, CustomerValue.is_golden, CustomerValue.is_lapsed)
        .outerjoin(CustomerValue, CustomerValue.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        return set()
    segments = set()
    if row.is_golden:
        segments.add("golden")
    if row.is_lapsed:
        segments.add("lapsed")
    if row.joined_at is not None and row.joined_at >= now - timedelta(days=NEW_CUSTOMER_DAYS):
        segments.add("new")
    return segments

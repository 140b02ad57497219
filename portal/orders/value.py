"""What a customer is worth: every rule of customer value, as pure functions.

The recompute job (:mod:`portal.orders.recompute`) aggregates orders per customer and month
in SQL and hands the rows to these functions, so the rules live here and nowhere else.

- Spend counts paid orders (paid, processing, shipped, delivered) in the value currency;
  placed-but-unpaid, cancelled, returned and refunded orders count nothing.
- An order is any order that was not cancelled (returned and refunded ones were orders).
- The 12-month window is the 365 days up to now; spend per month is by calendar month (UTC)
  of the day the order was placed.
- Average order value is lifetime spend divided by the number of paid orders.
- Golden: the top ``GOLDEN_PERCENTILE`` % of customers by 12-month spend; customers tied with
  the last place are golden too; nobody with no 12-month spend is golden.
- Lapsed: at least 2 orders and none in the last ``LAPSED_DAYS`` days.
- Stage: dissolution (lapsed or account closed) before commitment (golden, or orders in 3+
  distinct calendar quarters) before expansion (2+ orders), awareness (1), exploration (0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SPENDING_STATUSES = ("paid", "processing", "shipped", "delivered")
NOT_AN_ORDER_STATUSES = ("cancelled",)
WINDOW_DAYS = 365
COMMITMENT_QUARTERS = 3
LAPSED_MIN_ORDERS = 2


def counts_as_order(status: str) -> bool:
    return status not in NOT_AN_ORDER_STATUSES


def counts_as_spend(status: str) -> bool:
    return status in SPENDING_STATUSES


def window_start(now: datetime) -> datetime:
    """The first instant of the 12-month window ending at ``now``."""
    return now - timedelta(days=WINDOW_DAYS)


def month_key(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def quarter_of(month: str) -> str:
    """ "2026-05" -> "2026-Q2"."""
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


@dataclass(frozen=True)
class MonthFigures:
    """One customer's orders placed in one calendar month (as the SQL aggregate gives them)."""

    month: str
    orders: int = 0
    spend_minor: int = 0
    paid_orders: int = 0
    spend_12m_minor: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None


@dataclass(frozen=True)
class CustomerFigures:
    spend_12m_minor: int = 0
    spend_by_month: dict[str, int] = field(default_factory=dict)
    order_count: int = 0
    average_order_minor: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    quarters: int = 0


def summarise(months: Iterable[MonthFigures]) -> CustomerFigures:
    """Fold one customer's monthly figures into their value figures."""
    spend_12m = spend = paid = orders = 0
    by_month: dict[str, int] = {}
    quarters: set[str] = set()
    first: datetime | None = None
    last: datetime | None = None
    for row in months:
        spend_12m += row.spend_12m_minor
        spend += row.spend_minor
        paid += row.paid_orders
        orders += row.orders
        if row.spend_minor:
            by_month[row.month] = by_month.get(row.month, 0) + row.spend_minor
        if row.orders:
            quarters.add(quarter_of(row.month))
        if row.first_order_at is not None and (first is None or row.first_order_at < first):
            first = row.first_order_at
        if row.last_order_at is not None and (last is None or row.last_order_at > last):
            last = row.last_order_at
    return CustomerFigures(
        spend_12m_minor=spend_12m,
        spend_by_month=dict(sorted(by_month.items())),
        order_count=orders,
        average_order_minor=average_order(spend, paid),
        first_order_at=first,
        last_order_at=last,
        quarters=len(quarters),
    )


def average_order(spend_minor: int, paid_orders: int) -> int:
    """Average order value in minor units, rounded half up; 0 without paid orders."""
    if paid_orders <= 0:
        return 0
    return (2 * spend_minor + paid_orders) // (2 * paid_orders)


def month_figures(
    orders: Iterable[tuple[str, int, datetime]],
    now: datetime,
    *,
    currency: str = "EUR",
    order_currency: str | None = None,
) -> list[MonthFigures]:
    """The monthly figures of raw orders ``(status, total_minor, placed_at)``.

    The same aggregation the recompute job does in SQL, for one customer in memory.
    """
    start = window_start(now)
    in_currency = order_currency is None or order_currency == currency
    buckets: dict[str, dict] = {}
    for status, total, placed_at in orders:
        bucket = buckets.setdefault(
            month_key(placed_at),
            {"orders": 0, "spend": 0, "paid": 0, "spend_12m": 0, "first": None, "last": None},
        )
        if counts_as_order(status):
            bucket["orders"] += 1
            bucket["first"] = min(filter(None, (bucket["first"], placed_at)))
            bucket["last"] = max(filter(None, (bucket["last"], placed_at)))
        if counts_as_spend(status) and in_currency:
            bucket["spend"] += total
            bucket["paid"] += 1
            if start <= placed_at <= now:
                bucket["spend_12m"] += total
    return [
        MonthFigures(
            month=month,
            orders=b["orders"],
            spend_minor=b["spend"],
            paid_orders=b["paid"],
            spend_12m_minor=b["spend_12m"],
            first_order_at=b["first"],
            last_order_at=b["last"],
        )
        for month, b in sorted(buckets.items())
    ]


def golden_threshold(spends: Iterable[int], percentile: int) -> int | None:
    """The least 12-month spend that makes a customer golden, or None when nobody is.

    ``spends`` holds every customer's 12-month spend (zero included): the top
    ``percentile`` % of them (rounded up to a whole customer) are golden.
    """
    ordered = sorted(spends, reverse=True)
    if not ordered or percentile <= 0:
        return None
    places = min(len(ordered), math.ceil(len(ordered) * min(percentile, 100) / 100))
    threshold = ordered[places - 1]
    if threshold <= 0:
        positive = [spend for spend in ordered[:places] if spend > 0]
        return positive[-1] if positive else None
    return threshold


def is_golden(spend_12m_minor: int, threshold: int | None) -> bool:
    return threshold is not None and spend_12m_minor > 0 and spend_12m_minor >= threshold


def is_lapsed(
    order_count: int, last_order_at: datetime | None, now: datetime, lapsed_days: int
) -> bool:
    """2+ orders and none in the last ``lapsed_days`` days (an order exactly that old counts
    as within them)."""
    if order_count < LAPSED_MIN_ORDERS or last_order_at is None:
        return False
    return last_order_at < now - timedelta(days=lapsed_days)


def lapsed_since(last_order_at: datetime | None, lapsed_days: int) -> datetime | None:
    """When the customer became lapsed: ``lapsed_days`` after their last order."""
    if last_order_at is None:
        return None
    return last_order_at + timedelta(days=lapsed_days)


def relationship_stage(
    *, order_count: int, quarters: int, golden: bool, lapsed: bool, closed: bool
) -> str:
    if lapsed or closed:
        return "dissolution"
    if golden or quarters >= COMMITMENT_QUARTERS:
        return "commitment"
    if order_count >= 2:
        return "expansion"
    if order_count == 1:
        return "awareness"
    return "exploration"


def spend_per_month(spend_by_month: dict[str, int], now: datetime, months: int = 12) -> list:
    """The last ``months`` calendar months up to ``now`` as (month, spend), oldest first,
    zero for months without spend (for charts and the customer 360)."""
    year, month = now.year, now.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return [(key, int(spend_by_month.get(key, 0))) for key in reversed(keys)]

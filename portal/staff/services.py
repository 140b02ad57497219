"""Staff insight read models: dashboard figures, customer search, the customer 360."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerValue, Role, Touchpoint, User
from portal.core import audit
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.models import Order
from portal.staff.forms import TOUCHPOINT_LABELS

PERIOD_CHOICES = (7, 30, 90)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    #: Which of PERIOD_CHOICES this is (days back from now); None for a range of dates.
    preset: int | None = None

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def previous(self) -> Period:
        length = self.end - self.start
        return Period(self.start - length, self.start)


def parse_period(
    days: str | None, start: str | None, end: str | None, *, now: datetime | None = None
) -> Period:
    """7, 30 or 90 days back from now, or a custom range of dates (inclusive)."""
    now = now or utcnow()
    if start and end:
        try:
            first = date.fromisoformat(start)
            last = date.fromisoformat(end)
        except ValueError:
            first = last = None  # type: ignore[assignment]
        if first and last and first <= last and (last - first).days <= 3660:
            tz = now.tzinfo
            return Period(
                datetime(first.year, first.month, first.day, tzinfo=tz),
                datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1),
            )
    length = int(days) if days and days.isdigit() and int(days) in PERIOD_CHOICES else 30
    return Period(now - timedelta(days=length), now, preset=length)


# --- Customers on the dashboard -------------------------------------------------------------


def _customers_query() -> Any:
    return (
        select(User.id).join(User.roles).where(Role.name == "customer", User.deleted_at.is_(None))
    )


@dataclass
class CustomerFigures:
    customers: int
    golden: int
    golden_revenue_share: float  # 0..1
    revenue_12m_minor: int
    lapsed: int
    stages: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    referral_leaders: list[tuple[User, int]]
    new_customers: int
    currency: str = "EUR"


def customer_snapshot_rows() -> list[tuple[str, int, int]]:
    """The customer figures of the present, for the snapshot the job refreshes: how many
    customers, golden ones and their 12-month revenue, lapsed ones, customers per stage."""
    customer_ids = _customers_query().subquery()
    customers = db.session.scalar(select(func.count()).select_from(customer_ids)) or 0
    golden, golden_revenue, revenue, lapsed = db.session.execute(
        select(
            func.count().filter(CustomerValue.is_golden),
            func.coalesce(
                func.sum(CustomerValue.spend_12m_minor).filter(CustomerValue.is_golden), 0
            ),
            func.coalesce(func.sum(CustomerValue.spend_12m_minor), 0),
            func.count().filter(CustomerValue.is_lapsed),
        )
    ).one()
    rows = [
        ("customers.all", customers, 0),
        ("customers.golden", golden or 0, int(golden_revenue or 0)),
        ("customers.revenue_12m", 0, int(revenue or 0)),
        ("customers.lapsed", lapsed or 0, 0),
    ]
    rows += [
        (f"customers.stage:{stage}", count, 0)
        for stage, count in db.session.execute(
            select(CustomerValue.stage, func.count()).group_by(CustomerValue.stage)
        )
        if stage
    ]
    return rows


def _joined_customers(start: date, end: date) -> Any:
    from portal.staff.insight import _day_bounds

    low, high = _day_bounds(start, end)
    return (
        (User.joined_at >= low)
        & (User.joined_at < high)
        & User.id.in_(select(_customers_query().subquery().c.id))
    )


def joined_by_source(start: date, end: date) -> list[Any]:
    """Rollup rows: new customers per day by how they heard about us."""
    day = func.date(User.joined_at)
    rows = db.session.execute(
        select(day, User.acquisition_source, func.count(User.id))
        .where(_joined_customers(start, end))
        .group_by(day, User.acquisition_source)
    )
    return [(_as_day(when), None, source or "unknown", count, 0) for when, source, count in rows]


def joined_by_referrer(start: date, end: date) -> list[Any]:
    """Rollup rows: new customers per day by the customer who brought them (key: their id)."""
    day = func.date(User.joined_at)
    rows = db.session.execute(
        select(day, User.referred_by_id, func.count(User.id))
        .where(_joined_customers(start, end), User.referred_by_id.is_not(None))
        .group_by(day, User.referred_by_id)
    )
    return [(_as_day(when), None, str(referrer), count, 0) for when, referrer, count in rows]


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def customer_figures(period: Period) -> CustomerFigures:
    """Read from the snapshot and the daily rollups only: the cost does not grow with the
    number of customers. Before the first refresh the snapshot is computed on the spot."""
    from portal.staff import rollups

    snap = rollups.snapshot() or {
        key: (count, total) for key, count, total in customer_snapshot_rows()
    }
    golden, golden_revenue = snap.get("customers.golden", (0, 0))
    revenue = snap.get("customers.revenue_12m", (0, 0))[1]
    stages = sorted(
        (
            (key.partition(":")[2], count)
            for key, (count, _total) in snap.items()
            if key.startswith("customers.stage:")
        ),
        key=lambda row: (-row[1], row[0]),
    )
    joined = rollups.totals_by_key("customers.joined", period.start, period.end)
    sources = sorted(
        ((source, count) for source, (count, _t) in joined.items() if count),
        key=lambda row: (-row[1], row[0]),
    )
    referred = sorted(
        (
            (int(key), count)
            for key, (count, _t) in rollups.totals_by_key(
                "customers.referred", period.start, period.end
            ).items()
            if key.isdigit() and count
        ),
        key=lambda row: (-row[1], row[0]),
    )[:10]
    leaders_by_id = (
        {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.id.in_([row[0] for row in referred]))
            )
        }
        if referred
        else {}
    )
    return CustomerFigures(
        customers=snap.get("customers.all", (0, 0))[0],
        golden=golden,
        golden_revenue_share=(golden_revenue / revenue) if revenue else 0.0,
        revenue_12m_minor=revenue,
        lapsed=snap.get("customers.lapsed", (0, 0))[0],
        stages=stages,
        sources=sources,
        referral_leaders=[
            (leaders_by_id[uid], count) for uid, count in referred if uid in leaders_by_id
        ],
        new_customers=sum(count for _source, count in sources),
    )


#: Dashboard blocks from other features: (order, template, context builder(period, departments)).
DASHBOARD_BLOCKS: list[tuple[int, str, Callable[[Period, list[int] | None], dict[str, Any]]]] = []


def register_dashboard_block(
    template: str, builder: Callable[[Period, list[int] | None], dict[str, Any]], *, order: int = 50
) -> None:
    if any(block[1] == template for block in DASHBOARD_BLOCKS):
        return
    DASHBOARD_BLOCKS.append((order, template, builder))
    DASHBOARD_BLOCKS.sort(key=lambda block: block[0])


# --- Customer search and 360 ----------------------------------------------------------------


#: Extra ways to find a customer: a function(query) -> list of user ids (e.g. by reference).
SEARCH_PROVIDERS: list[Callable[[str], list[int]]] = []


def search_customers(query: str, *, page: int = 1, per_page: int = 25) -> tuple[list[User], int]:
    query = (query or "").strip()[:120]
    statement = (
        select(User).join(User.roles).where(Role.name == "customer", User.deleted_at.is_(None))
    )
    if query:
        pattern = f"%{query.lower()}%"
        ids: list[int] = list(
            db.session.scalars(select(Order.user_id).where(Order.number == query))
        )
        for provider in SEARCH_PROVIDERS:
            ids.extend(provider(query))
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern),
                func.lower(User.preferred_name).like(pattern),
                func.lower(User.email).like(pattern),
                User.id.in_(ids),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    users = list(
        db.session.scalars(
            statement.options(selectinload(User.value))  # type: ignore[attr-defined]
            .order_by(User.joined_at.desc(), User.id.desc())
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return users, total


def get_customer_or_404(user_id: int) -> User:
    from flask import abort

    user = db.session.scalar(
        select(User)
        .join(User.roles)
        .options(joinedload(User.value))  # type: ignore[attr-defined]
        .where(User.id == user_id, Role.name == "customer")
    )
    if user is None:
        abort(404)
    return user


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    url: str | None = None
    detail: str | None = None


#: Features add what they know about a customer: function(user) -> list[TimelineEntry].
TIMELINE_PROVIDERS: list[Callable[[User], list[TimelineEntry]]] = []
#: Sections shown on the 360 page: (order, template, context builder(user)).
CUSTOMER_SECTIONS: list[tuple[int, str, Callable[[User], dict[str, Any]]]] = []


def register_customer_section(
    template: str, builder: Callable[[User], dict[str, Any]], *, order: int = 50
) -> None:
    if any(section[1] == template for section in CUSTOMER_SECTIONS):
        return
    CUSTOMER_SECTIONS.append((order, template, builder))
    CUSTOMER_SECTIONS.sort(key=lambda section: section[0])


@dataclass
class Customer360:
    user: User
    value: CustomerValue | None
    orders: list[Order]
    touchpoints: list[Touchpoint]
    referred: list[User]
    timeline: list[TimelineEntry] = field(default_factory=list)
    sections: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def customer_360(user: User) -> Customer360:
    """Everything about one customer; the view of personal data is written to the audit log."""
    audit.record_view("customer.view", object_type="user", object_id=user.id)
    value = user.value  # type: ignore[attr-defined]
    orders = list(
        db.session.scalars(
            select(Order).where(Order.user_id == user.id).order_by(Order.placed_at.desc()).limit(50)
        )
    )
    touchpoints = list(
        db.session.scalars(
            select(Touchpoint)
            .options(selectinload(Touchpoint.created_by))
            .where(Touchpoint.user_id == user.id)
            .order_by(Touchpoint.created_at.desc())
            .limit(100)
        )
    )
    referred = list(
        db.session.scalars(
            select(User).where(User.referred_by_id == user.id).order_by(User.joined_at.desc())
        )
    )
    timeline = [TimelineEntry(user.joined_at, "joined", gettext("Joined the portal"))]
    timeline += [
        TimelineEntry(
            o.placed_at, "order", gettext("Order %(number)s", number=o.number), detail=o.status
        )
        for o in orders
    ]
    timeline += [
        TimelineEntry(
            t.created_at,
            f"touchpoint:{t.kind}",
            str(TOUCHPOINT_LABELS.get(t.kind, t.kind)),
            detail=t.note or t.coupon_code,
        )
        for t in touchpoints
    ]
    timeline += [
        TimelineEntry(
            friend.joined_at, "referral", gettext("Brought %(name)s", name=friend.display_name)
        )
        for friend in referred
    ]
    for provider in TIMELINE_PROVIDERS:
        timeline += provider(user)
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    sections = [(template, builder(user)) for _order, template, builder in CUSTOMER_SECTIONS]
    return Customer360(
        user=user,
        value=value,
        orders=orders,
        touchpoints=touchpoints,
        referred=referred,
        timeline=timeline,
        sections=sections,
    )


def log_touchpoint(
    user: User, *, kind: str, note: str | None, coupon_code: str | None, staff_id: int | None
) -> Touchpoint:
    touchpoint = Touchpoint(
        user_id=user.id,
        kind=kind,
        note=note or None,
        coupon_code=(coupon_code or "").strip().upper() or None,
        created_by_id=staff_id,
        automated=False,
    )
    db.session.add(touchpoint)
    audit.record(
        "customer.touchpoint",
        object_type="user",
        object_id=user.id,
        detail={"kind": kind},
        actor_id=staff_id,
    )
    db.session.flush()
    return touchpoint


def spend_by_month(
    value: CustomerValue | None, *, months: int = 12, today: date | None = None
) -> list[tuple[str, int]]:
    """The last ``months`` calendar months, oldest first, with spend in minor units."""
    today = today or utcnow().date()
    data = (value.spend_by_month if value else None) or {}
    result = []
    year, month = today.year, today.month
    for _ in range(months):
        key = f"{year:04d}-{month:02d}"
        result.append((key, int(data.get(key, 0))))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(result))


def search_audit(
    query: str, *, action: str | None, page: int, per_page: int = 50
) -> tuple[list[Any], int]:
    from portal.core.audit import AuditEntry

    statement = select(AuditEntry)
    query = (query or "").strip()[:120]
    if action:
        statement = statement.where(AuditEntry.action == action)
    if query:
        pattern = f"%{query.lower()}%"
        actor_ids = select(User.id).where(func.lower(User.email).like(pattern))
        statement = statement.where(
            or_(
                func.lower(AuditEntry.action).like(pattern),
                AuditEntry.object_id == query,
                AuditEntry.actor_id.in_(actor_ids),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    entries = list(
        db.session.scalars(
            statement.options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return entries, total


def audit_actions() -> list[str]:
    from portal.core.audit import AuditEntry

    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )

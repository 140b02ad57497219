"""Order rules: how a status may change, and how the shop's data becomes orders.

The shop is the source of truth; the API and the CSV import both hand an :class:`OrderData`
to :func:`upsert_order`, which creates or updates the order by its number so that the same
data sent twice changes nothing the second time.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.models import ORDER_STATUSES, Order, OrderEvent, OrderItem

#: The normal life of an order, in order. Cancelled, returned and refunded leave it.
FORWARD_STATUSES = ("placed", "paid", "processing", "shipped", "delivered")
#: Orders the customer is still waiting for (shown on the home page).
IN_FLIGHT_STATUSES = ("placed", "paid", "processing", "shipped")
#: An order may be cancelled until it leaves the warehouse.
CANCELLABLE_FROM = ("placed", "paid", "processing")
#: Goods can only come back once they have been sent.
RETURNABLE_FROM = ("shipped", "delivered")

STATUS_LABELS = {
    "placed": _l("Placed"),
    "paid": _l("Paid"),
    "processing": _l("Processing"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
    "returned": _l("Returned"),
    "refunded": _l("Refunded"),
}

#: The timestamp column set when an order reaches a status.
_STATUS_TIMESTAMPS = {"paid": "paid_at", "shipped": "shipped_at", "delivered": "delivered_at"}


class OrderError(ValueError):
    """Refused input; ``field`` names the part of the data at fault."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class StatusChangeRefused(OrderError):
    pass


def status_change_error(current: str, new: str, *, was_paid: bool) -> Any | None:
    """Why an order in ``current`` cannot move to ``new``, or None when it may.

    Forward only (placed → paid → processing → shipped → delivered, steps may be skipped);
    cancelled until shipped; returned once shipped; refunded once paid (also after a
    cancellation or a return); refunded is final.
    """
    if new not in ORDER_STATUSES:
        return _l("“%(status)s” is not an order status.", status=new)
    if current == new:
        return None
    names = {"current": STATUS_LABELS[current], "new": STATUS_LABELS[new]}
    if current == "refunded":
        return _l("The order has been refunded; its status can no longer change.")
    if new == "refunded":
        if not was_paid:
            return _l("An order that was never paid cannot be refunded.")
        return None
    if current in ("cancelled", "returned"):
        return _l(
            "An order with status “%(current)s” can only be refunded, not set to “%(new)s”.",
            **names,
        )
    if new == "cancelled":
        if current not in CANCELLABLE_FROM:
            return _l("An order with status “%(current)s” can no longer be cancelled.", **names)
        return None
    if new == "returned":
        if current not in RETURNABLE_FROM:
            return _l("An order that has not been shipped cannot be returned.")
        return None
    if FORWARD_STATUSES.index(new) < FORWARD_STATUSES.index(current):
        return _l("An order cannot go back from “%(current)s” to “%(new)s”.", **names)
    return None


def change_status(
    order: Order, new: str, *, at: datetime | None = None, note: str | None = None
) -> OrderEvent | None:
    """Move ``order`` to ``new`` and record the event; None when it already was there.

    Raises :class:`StatusChangeRefused` for an impossible change.
    """
    error = status_change_error(order.status, new, was_paid=order.paid_at is not None)
    if error is not None:
        raise StatusChangeRefused(error, field="status")
    if order.status == new:
        return None
    event = enter_status(order, new, at or utcnow(), note)
    _notify_customer(order, new)
    return event


def N_(message: str) -> str:
    """Mark a msgid for extraction; it is translated when shown, in the reader's language."""
    return message


#: What the customer is told on /notifications when their order moves on.
STATUS_NOTIFICATIONS = {
    "shipped": N_("Your order %(number)s is on its way."),
    "delivered": N_("Your order %(number)s has been delivered."),
    "cancelled": N_("Your order %(number)s has been cancelled."),
    "refunded": N_("Your order %(number)s has been refunded."),
}


def _notify_customer(order: Order, status: str) -> None:
    message = STATUS_NOTIFICATIONS.get(status)
    if message is None:
        return
    from portal.jobs.notifications import notify

    notify(
        order.user_id,
        kind=f"order_{status}",
        message=message,
        data={"number": order.number},
        url=f"/orders/{quote(order.number, safe='')}",
    )


def enter_status(order: Order, new: str, when: datetime, note: str | None) -> OrderEvent:
    """Record that ``order`` reached ``new`` at ``when``, without checking the rules (for a
    history the shop already decided); :func:`change_status` is the checked way."""
    order.status = new
    if new in FORWARD_STATUSES[1:] or new in ("returned", "refunded"):
        # Goods that moved on were paid for, even when the shop did not report the payment.
        order.paid_at = order.paid_at or when
    if new in ("delivered", "returned"):
        order.shipped_at = order.shipped_at or when
    column = _STATUS_TIMESTAMPS.get(new)
    if column and getattr(order, column) is None:
        setattr(order, column, when)
    event = OrderEvent(status=new, occurred_at=when, note=note)
    order.events.append(event)
    db.session.flush()
    return event


# --- Upserting the shop's data ---------------------------------------------------------------


@dataclass
class ItemData:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


@dataclass
class OrderData:
    number: str
    email: str
    status: str = "placed"
    currency: str = "EUR"
    placed_at: datetime | None = None
    status_at: datetime | None = None
    customer_name: str = ""
    customer_locale: str | None = None
    subtotal_minor: int | None = None
    shipping_minor: int = 0
    tax_minor: int = 0
    total_minor: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    note: str | None = None
    items: list[ItemData] = field(default_factory=list)


@dataclass
class UpsertResult:
    order: Order
    created: bool
    changed: bool
    customer_created: bool


def find_or_invite_customer(
    email: str, *, name: str = "", locale: str | None = None
) -> tuple[User, bool]:
    """The customer with this e-mail; when there is none, an unconfirmed account without a
    password, which the customer is invited by mail to claim. Returns (user, created)."""
    from portal.accounts.services import get_role, new_referral_code
    from portal.extensions import security

    address = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == address))
    if user is not None:
        return user, False
    customer = get_role("customer")
    try:
        with db.session.begin_nested():
            user = cast(
                User,
                security.datastore.create_user(
                    email=address, password=None, name=name.strip(), active=True, locale=locale
                ),
            )
            user.roles.append(customer)
            user.referral_code = new_referral_code()
            db.session.flush()
    except IntegrityError:
        # Created at the same moment by another request: use that account.
        user = db.session.scalar(select(User).where(User.email == address))
        assert user is not None
        return user, False
    _queue_claim_invitation(user)
    return user, True


def confirm_claimed_account(user: User) -> None:
    """An invited customer who set a password through the mailed link has proved that the
    address is theirs: the account is confirmed (runs on Flask-Security's password reset)."""
    if user.confirmed_at is None:
        user.confirmed_at = utcnow().replace(tzinfo=None)


def _queue_claim_invitation(user: User) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _
    from flask_security.recoverable import generate_reset_link

    from portal.jobs.outbox import queue_mail

    link, _token = generate_reset_link(user)
    locale = user.locale or "en"
    with force_locale(locale):
        subject = _("Your orders are waiting in the customer portal")
    queue_mail(
        to=user.email,
        template="orders_claim_account",
        subject=subject,
        context={"user": user, "link": link},
        locale=locale,
        user_id=user.id,
    )


def _totals(data: OrderData) -> tuple[int, int]:
    subtotal = data.subtotal_minor
    if subtotal is None:
        subtotal = sum(item.quantity * item.unit_price_minor for item in data.items)
    total = data.total_minor
    if total is None:
        total = subtotal + data.shipping_minor + data.tax_minor
    return subtotal, total


#: Order.number's column length.
NUMBER_LENGTH = 40
#: The largest amount an order may carry, in minor units (10 billion in a two-decimal
#: currency): a customer's sums over millions of such orders still fit a 64-bit column.
MAX_AMOUNT_MINOR = 10**12


def validate_order_data(data: OrderData) -> None:
    """Rules the shop's data must meet beyond its shape; raises :class:`OrderError`."""
    if not data.number.strip():
        raise OrderError(_l("An order number is required."), field="number")
    if len(data.number.strip()) > NUMBER_LENGTH:
        raise OrderError(
            _l("An order number has at most %(count)d characters.", count=NUMBER_LENGTH),
            field="number",
        )
    texts = {
        "number": data.number,
        "email": data.email,
        "customer_name": data.customer_name,
        "carrier": data.carrier,
        "tracking_number": data.tracking_number,
        "note": data.note,
    }
    for index, item in enumerate(data.items):
        texts[f"items.{index}"] = item.sku + item.name
    for name, value in texts.items():
        if value and "\x00" in value:
            # PostgreSQL cannot store it; nothing a shop sends on purpose contains it.
            raise OrderError(_l("Text cannot contain NUL characters."), field=name)
    if data.status not in ORDER_STATUSES:
        raise OrderError(
            _l("“%(status)s” is not an order status.", status=data.status), field="status"
        )
    if len(data.currency) != 3 or not data.currency.isalpha() or not data.currency.isupper():
        raise OrderError(_l("Use a three-letter ISO 4217 currency code."), field="currency")
    for index, item in enumerate(data.items):
        if item.quantity < 1:
            raise OrderError(_l("The quantity must be at least 1."), field=f"items.{index}")
        if item.unit_price_minor < 0:
            raise OrderError(_l("A price cannot be negative."), field=f"items.{index}")
    subtotal, total = _totals(data)
    if min(subtotal, total, data.shipping_minor, data.tax_minor) < 0:
        raise OrderError(_l("Amounts cannot be negative."), field="total_minor")
    amounts = {
        "subtotal_minor": subtotal,
        "shipping_minor": data.shipping_minor,
        "tax_minor": data.tax_minor,
        "total_minor": total,
    }
    amounts.update({f"items.{i}": item.unit_price_minor for i, item in enumerate(data.items)})
    for name, amount in amounts.items():
        if amount > MAX_AMOUNT_MINOR:
            raise OrderError(_l("This amount is too large."), field=name)


def upsert_order(data: OrderData) -> UpsertResult:
    """Create or update the order ``data.number``; sending the same data again is a no-op."""
    validate_order_data(data)
    number = data.number.strip()
    user, customer_created = find_or_invite_customer(
        data.email, name=data.customer_name, locale=data.customer_locale
    )
    subtotal, total = _totals(data)
    order = _load_for_update(number)
    created = False
    if order is None:
        try:
            with db.session.begin_nested():
                order = Order(
                    number=number,
                    user_id=user.id,
                    status=data.status,
                    currency=data.currency,
                    placed_at=data.placed_at or utcnow(),
                    events=[],
                    items=[],
                )
                db.session.add(order)
                db.session.flush()
            created = True
        except IntegrityError:
            # The same order arrived twice at once: the other request created it.
            order = _load_for_update(number)
            assert order is not None
    values = {
        "user_id": user.id,
        "currency": data.currency,
        "subtotal_minor": subtotal,
        "shipping_minor": data.shipping_minor,
        "tax_minor": data.tax_minor,
        "total_minor": total,
        "carrier": data.carrier or None,
        "tracking_number": data.tracking_number or None,
    }
    if data.placed_at is not None:
        values["placed_at"] = data.placed_at
    changed = created
    for name, value in values.items():
        if getattr(order, name) != value:
            setattr(order, name, value)
            changed = True
    wanted = [(i.sku, i.name, i.quantity, i.unit_price_minor) for i in data.items]
    have = [(i.sku, i.name, i.quantity, i.unit_price_minor) for i in order.items]
    if data.items and wanted != have:
        order.items.clear()
        for sku, name, quantity, price in wanted:
            order.items.append(
                OrderItem(sku=sku, name=name, quantity=quantity, unit_price_minor=price)
            )
        changed = True
    db.session.flush()
    if created:
        # A new order starts where the shop says it is: one event, whatever the status.
        enter_status(order, data.status, data.status_at or order.placed_at, data.note)
    elif data.status != order.status:
        change_status(order, data.status, at=data.status_at, note=data.note)
        changed = True
    return UpsertResult(order, created, changed, customer_created)


def _load_for_update(number: str) -> Order | None:
    """The order, locked until the end of the transaction (PostgreSQL), so that concurrent
    updates of one order happen one after the other."""
    return db.session.scalar(
        select(Order)
        .where(Order.number == number)
        .options(selectinload(Order.items), selectinload(Order.events))
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )


def lock_order(order: Order) -> Order:
    """Re-read ``order`` under a row lock before changing it."""
    locked = _load_for_update(order.number)
    assert locked is not None
    return locked


def add_status_event(
    order: Order, status: str, *, at: datetime | None = None, note: str | None = None
) -> OrderEvent | None:
    """A status change reported by the shop; the same event reported twice is recorded once."""
    order = lock_order(order)
    if at is not None:
        existing = db.session.scalar(
            select(OrderEvent).where(
                OrderEvent.order_id == order.id,
                OrderEvent.status == status,
                OrderEvent.occurred_at == at,
            )
        )
        if existing is not None:
            return None
    return change_status(order, status, at=at, note=note)


# --- Reading ---------------------------------------------------------------------------------

PAGE_SIZE = 20


def encode_cursor(order: Order | OrderRow) -> str:
    raw = f"{order.placed_at.isoformat()}|{order.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, ident = raw.split("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass
class OrderRow:
    """One line of the customer's list: the order's own columns, the names of its first two
    items (in the order the order's ``items`` keeps them) and how many items it has."""

    id: int
    number: str
    placed_at: datetime
    status: str
    total_minor: int
    currency: str
    first_item: str | None
    second_item: str | None
    item_count: int

    @property
    def item_names(self) -> list[str]:
        return [name for name in (self.first_item, self.second_item) if name is not None]


@dataclass
class OrderPage:
    orders: list[OrderRow]
    next_cursor: str | None


#: The list's query per page size, built once: the customer, status and position are bound
#: per request (a prepared statement keeps SQLAlchemy from building and keying it again).
#: Plain columns, not ``Order`` entities: the list shows six of them and changes nothing; the
#: items it names come with each order (two look-ups and a count, each by the order's index)
#: instead of a second statement that loads every item.
_CUSTOMER_ORDERS: dict[tuple[int, bool, bool], Any] = {}

_ORDER = Order.__table__.c
_ITEM = OrderItem.__table__.c


def _item_name(position: int) -> Any:
    return (
        select(_ITEM.name)
        .where(_ITEM.order_id == _ORDER.id)
        .order_by(_ITEM.id)
        .limit(1)
        .offset(position)
        .scalar_subquery()
    )


def _customer_orders_query(size: int, by_status: bool, after: bool) -> Any:
    key = (size, by_status, after)
    query = _CUSTOMER_ORDERS.get(key)
    if query is None:
        query = (
            select(
                _ORDER.id,
                _ORDER.number,
                _ORDER.placed_at,
                _ORDER.status,
                _ORDER.total_minor,
                _ORDER.currency,
                _item_name(0),
                _item_name(1),
                select(func.count()).where(_ITEM.order_id == _ORDER.id).scalar_subquery(),
            )
            .where(_ORDER.user_id == bindparam("user_id"))
            .order_by(_ORDER.placed_at.desc(), _ORDER.id.desc())
            .limit(size + 1)
        )
        if by_status:
            query = query.where(_ORDER.status == bindparam("status"))
        if after:
            placed_at = bindparam("placed_at", type_=_ORDER.placed_at.type)
            query = query.where(
                or_(
                    _ORDER.placed_at < placed_at,
                    and_(_ORDER.placed_at == placed_at, _ORDER.id < bindparam("ident")),
                )
            )
        query = _CUSTOMER_ORDERS[key] = query
    return query


def customer_orders(
    user_id: int, *, status: str | None = None, after: str | None = None, size: int = PAGE_SIZE
) -> OrderPage:
    """One page of a customer's orders, newest first (keyset pagination on placed_at, id)."""
    params: dict[str, Any] = {"user_id": user_id}
    by_status = status in ORDER_STATUSES
    if by_status:
        params["status"] = status
    position = decode_cursor(after)
    if position is not None:
        params["placed_at"], params["ident"] = position
    query = _customer_orders_query(size, by_status, position is not None)
    rows = db.session.execute(query, params).all()
    has_more = len(rows) > size
    orders = [OrderRow(*row) for row in rows[:size]]
    return OrderPage(orders, encode_cursor(orders[-1]) if has_more and orders else None)


def get_customer_order(user_id: int, number: str) -> Order | None:
    """The order ``number`` when it belongs to ``user_id`` (else None: the caller 404s)."""
    return db.session.scalar(
        select(Order)
        .where(Order.number == number, Order.user_id == user_id)
        .options(selectinload(Order.items), selectinload(Order.events))
    )


def get_order_by_number(number: str) -> Order | None:
    return db.session.scalar(
        select(Order)
        .where(Order.number == number)
        .options(selectinload(Order.items), selectinload(Order.events))
    )


def orders_in_flight(user_id: int, limit: int = 5) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.user_id == user_id, Order.status.in_(IN_FLIGHT_STATUSES))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


def export_orders(user: User) -> list[dict[str, Any]]:
    """The customer's orders for their data export."""
    orders = db.session.scalars(
        select(Order)
        .where(Order.user_id == user.id)
        .options(selectinload(Order.items), selectinload(Order.events))
        .order_by(Order.placed_at)
    )
    return [
        {
            "number": order.number,
            "status": order.status,
            "currency": order.currency,
            "total_minor": order.total_minor,
            "placed_at": order.placed_at.isoformat(),
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "items": [
                {
                    "sku": i.sku,
                    "name": i.name,
                    "quantity": i.quantity,
                    "unit_price_minor": i.unit_price_minor,
                }
                for i in order.items
            ],
            "events": [
                {"status": e.status, "at": e.occurred_at.isoformat(), "note": e.note}
                for e in order.events
            ],
        }
        for order in orders
    ]


def erase_order_personal_data(user: User) -> None:
    """On account deletion: orders stay for the books (amounts, items, dates), but what could
    identify or locate the person goes: tracking numbers and the notes on status events."""
    from sqlalchemy import update

    order_ids = select(Order.id).where(Order.user_id == user.id).scalar_subquery()
    db.session.execute(update(Order).where(Order.user_id == user.id).values(tracking_number=None))
    db.session.execute(
        update(OrderEvent).where(OrderEvent.order_id.in_(order_ids)).values(note=None)
    )
    db.session.flush()

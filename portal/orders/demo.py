"""Demo order histories: every demo customer has believable orders, every status appears,
some customers are golden and one is lapsed. Anna is golden and has a parcel that was just
delivered (the one to report as damaged)."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.models import Order, OrderItem
from portal.orders.services import enter_status

CATALOGUE = {
    "MUG-01": ("Ceramic mug, blue", 1450),
    "DIN-12": ("Ceramic dinner set, 12 pieces", 18900),
    "SCF-03": ("Wool scarf", 3900),
    "LMP-07": ("Desk lamp", 5490),
    "TEA-20": ("Tea sampler, 20 kinds", 2490),
    "JKT-02": ("Rain jacket", 12900),
    "BAG-05": ("Backpack", 8900),
    "NTB-03": ("Notebook set", 1290),
    "HPH-09": ("Headphones", 14900),
    "BTL-01": ("Water bottle", 1990),
    "KNF-08": ("Chef's knife", 7900),
    "GAM-04": ("Board game", 3490),
}
CARRIERS = ("DPD", "Omniva", "DHL", "InPost")
FULL = ("placed", "paid", "processing", "shipped", "delivered")


def _order(
    user: User,
    number: str,
    days_ago: float,
    path: tuple[str, ...],
    items: list[tuple[str, int]],
    *,
    now: datetime,
    currency: str = "EUR",
    notes: dict[str, str] | None = None,
) -> Order:
    placed = now - timedelta(days=days_ago)
    lines = [
        OrderItem(sku=sku, name=CATALOGUE[sku][0], quantity=qty, unit_price_minor=CATALOGUE[sku][1])
        for sku, qty in items
    ]
    subtotal = sum(line.quantity * line.unit_price_minor for line in lines)
    shipping = 0 if subtotal >= 5000 else 490
    order = Order(
        number=number,
        user_id=user.id,
        status="placed",
        currency=currency,
        subtotal_minor=subtotal,
        shipping_minor=shipping,
        tax_minor=round(subtotal * 21 / 121),
        total_minor=subtotal + shipping,
        placed_at=placed,
        items=lines,
        events=[],
    )
    db.session.add(order)
    db.session.flush()
    # Each step a few hours to a day after the previous one, never in the future.
    step = min(timedelta(days=days_ago) / (len(path) + 1), timedelta(hours=20))
    when = placed
    for index, status in enumerate(path):
        if index:
            when = min(now, when + step)
        if status == "shipped":
            order.carrier = CARRIERS[len(number) % len(CARRIERS)]
            order.tracking_number = f"{order.carrier[:2].upper()}{zlib.crc32(number.encode()):010d}"
        enter_status(order, status, when, (notes or {}).get(status))
    return order


def load_demo_orders(users: dict[str, User]) -> None:
    from portal.accounts.services import create_user
    from portal.core.demo import DEMO_PASSWORD
    from portal.orders.recompute import recompute_customer_values

    now = utcnow()
    anna = users["anna@example.com"]
    # Anna: a loyal customer for two years, the biggest spender this year (golden).
    history: list[tuple[float, tuple[str, ...], list[tuple[str, int]]]] = [
        (700, FULL, [("MUG-01", 4), ("TEA-20", 1)]),
        (560, FULL, [("SCF-03", 2)]),
        (420, FULL, [("LMP-07", 1), ("NTB-03", 2)]),
        (300, FULL, [("JKT-02", 1)]),
        (210, FULL + ("returned", "refunded"), [("HPH-09", 1)]),
        (150, FULL, [("HPH-09", 1), ("BTL-01", 2)]),
        (90, FULL, [("BAG-05", 1), ("KNF-08", 1)]),
        (40, FULL, [("JKT-02", 1), ("SCF-03", 1)]),
        (12, ("placed", "paid", "processing", "shipped"), [("GAM-04", 2), ("TEA-20", 2)]),
    ]
    for index, (days, path, items) in enumerate(history):
        _order(anna, f"SO-1040{index + 1:02d}", days, path, items, now=now)
    _order(
        anna,
        "SO-104211",
        5,
        FULL,
        [("DIN-12", 1), ("MUG-01", 2)],
        now=now,
        notes={"delivered": "Left with a neighbour at number 12."},
    )

    piotr = users["piotr@example.com"]
    _order(piotr, "SO-104101", 200, FULL, [("BAG-05", 1)], now=now)
    _order(piotr, "SO-104102", 60, FULL, [("KNF-08", 1), ("NTB-03", 1)], now=now, currency="PLN")
    _order(
        piotr, "SO-104103", 3, ("placed", "paid", "processing", "shipped"), [("LMP-07", 1)], now=now
    )

    olga = users["olga@example.com"]  # lapsed: three orders, none in the last 180 days
    _order(olga, "SO-103001", 620, FULL, [("SCF-03", 1)], now=now)
    _order(
        olga,
        "SO-103002",
        400,
        ("placed", "paid", "cancelled", "refunded"),
        [("JKT-02", 1)],
        now=now,
    )
    _order(olga, "SO-103003", 260, FULL, [("TEA-20", 3)], now=now)

    li = users["li@example.com"]  # one order, being packed
    _order(li, "SO-104301", 1, ("placed", "paid", "processing"), [("HPH-09", 1)], now=now)

    layla = users["layla@example.com"]
    _order(layla, "SO-104401", 30, ("placed", "cancelled"), [("MUG-01", 2)], now=now,
           notes={"cancelled": "Cancelled at the customer's request."})  # fmt: skip
    _order(layla, "SO-104402", 0.2, ("placed",), [("BTL-01", 1), ("NTB-03", 1)], now=now)

    ben = users["ben@example.com"]  # small orders in many quarters: committed
    _order(ben, "SO-104501", 330, FULL, [("NTB-03", 1)], now=now)
    _order(ben, "SO-104502", 240, FULL, [("TEA-20", 1)], now=now)
    _order(ben, "SO-104503", 120, FULL + ("returned",), [("BTL-01", 1)], now=now)
    _order(ben, "SO-104504", 20, ("placed", "paid"), [("MUG-01", 1)], now=now)

    # A crowd of quieter customers, so that "the top 10 %" means something.
    rng = random.Random(5)
    skus = sorted(CATALOGUE)
    number = 200000
    for index in range(1, 25):
        shopper = create_user(
            f"shopper{index:02d}@example.com",
            DEMO_PASSWORD,
            roles=("customer",),
            name=f"Shopper {index:02d}",
            locale=rng.choice(("en", "lv", "pl", "ru")),
        )
        big = index in (3, 11)  # two more golden customers beside Anna
        for _ in range(rng.randint(0, 5) + (6 if big else 0)):
            number += 1
            basket: list[tuple[str, int]] = [(rng.choice(skus), rng.randint(1, 2))]
            if big:
                basket.append(("DIN-12", 1))
            days = rng.uniform(2, 330) if big else rng.uniform(1, 720)
            steps = FULL if days > 10 else FULL[: rng.randint(1, 4)]
            _order(shopper, f"SO-{number}", days, steps, basket, now=now)
    db.session.flush()
    # Customers joined shortly before their first order, not on the day the demo was loaded.
    firsts = db.session.execute(
        select(Order.user_id, func.min(Order.placed_at)).group_by(Order.user_id)
    ).all()
    for user_id, first_order_at in firsts:
        user = db.session.get(User, user_id)
        if user is not None and first_order_at is not None:
            user.joined_at = min(user.joined_at, first_order_at - timedelta(days=3))
    db.session.flush()
    recompute_customer_values(now)

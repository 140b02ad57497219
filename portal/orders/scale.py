"""Generate a large, realistic data set in bulk, for benchmarks (`flask portal seed-scale`).

Customers join over four years and some stop buying; a few buy a lot (spend follows a
Pareto curve); an order's status follows its age. Rows are built in memory a chunk at a time
and written with executemany, with explicit ids so no row has to be read back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import func, select, text

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.bulk import bulk_insert
from portal.orders.models import Order, OrderEvent, OrderItem

CHUNK = 10_000
FIRST_NAMES = (
    "Anna", "Jānis", "Piotr", "Olga", "Li", "Layla", "Ben", "Marta", "Ivan", "Sofia", "Omar",
    "Ewa", "Mei", "Kārlis", "Hana", "Tom", "Zofia", "Yusuf", "Līga", "Chen",
)  # fmt: skip
LAST_NAMES = (
    "Ozola", "Nowak", "Smirnova", "Wang", "Hassan", "Carter", "Bērziņš", "Kowalska", "Petrov",
    "Zhang", "Ali", "Jones", "Kalniņa", "Wiśniewski", "Ivanova", "Liu", "Haddad", "Brown",
)  # fmt: skip
LOCALES = ("lv", "pl", "ru", "zh_Hans", "ar", "en", "en", "lv")
CARRIERS = ("DPD", "Omniva", "DHL", "Latvijas Pasts", "InPost", "UPS")
PRODUCTS = (
    "Wool scarf", "Ceramic mug", "Linen tablecloth", "Desk lamp", "Rain jacket", "Tea sampler",
    "Backpack", "Notebook set", "Headphones", "Water bottle", "Kitchen knife", "Board game",
)  # fmt: skip


def _table(model: Any) -> Any:
    return model.__table__


def _next_id(model: Any) -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _reset_sequences() -> None:
    """After explicit ids, PostgreSQL's sequences must continue after the highest one."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("user", "order", "order_item", "order_event"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608 - fixed names
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )
        )


def _catalogue(rng: random.Random) -> list[tuple[str, str, int]]:
    items = []
    for index in range(240):
        name = f"{PRODUCTS[index % len(PRODUCTS)]} {index // len(PRODUCTS) + 1}"
        price = int(rng.lognormvariate(7.6, 0.8))  # median about 20 in major units
        items.append((f"SKU-{index + 1:05d}", name, max(199, min(price, 89_900))))
    return items


def _status_path(age_days: float, rng: random.Random) -> list[str]:
    roll = rng.random()
    if age_days < 1:
        return ["placed"] if roll < 0.5 else ["placed", "paid"]
    if age_days < 3:
        return [["placed", "paid", "processing"], ["placed", "paid"], ["placed", "cancelled"]][
            0 if roll < 0.7 else 1 if roll < 0.95 else 2
        ]
    if age_days < 7:
        if roll < 0.03:
            return ["placed", "paid", "cancelled", "refunded"]
        return ["placed", "paid", "processing", "shipped"]
    if roll < 0.04:
        return ["placed", "cancelled"]
    if roll < 0.06:
        return ["placed", "paid", "processing", "cancelled", "refunded"]
    if roll < 0.085:
        return ["placed", "paid", "processing", "shipped", "delivered", "returned", "refunded"]
    if roll < 0.095:
        return ["placed", "paid", "processing", "shipped", "delivered", "returned"]
    return ["placed", "paid", "processing", "shipped", "delivered"]


def generate(
    *, customers: int, orders: int, seed: int = 2026, echo: Callable[[str], Any] = print
) -> dict[str, Any]:
    """Insert ``customers`` customers and ``orders`` orders; commits as it goes."""
    from flask_security import hash_password

    from portal.accounts.services import ensure_reference_data, get_role
    from portal.core.demo import DEMO_PASSWORD

    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    ensure_reference_data()
    customer_role = get_role("customer").id
    # One password for every generated customer, so load tests can sign in as any of them.
    password = hash_password(DEMO_PASSWORD)
    db.session.commit()

    started = time.perf_counter()
    first_user = _next_id(User)
    counts = {"users": 0, "orders": 0, "items": 0, "events": 0}
    # Each customer's active period [start, end] and how much they buy.
    starts: list[datetime] = []
    spans: list[float] = []
    weights: list[float] = []
    with click.progressbar(length=customers + orders, label="Generating") as bar:
        for chunk_start in range(0, customers, CHUNK):
            users, roles = [], []
            for index in range(chunk_start, min(customers, chunk_start + CHUNK)):
                user_id = first_user + index
                joined = now - timedelta(days=rng.uniform(0, 4 * 365))
                churned = rng.random() < 0.3
                end = joined + (now - joined) * rng.random() if churned else now
                starts.append(joined)
                spans.append((end - joined).total_seconds())
                weights.append(rng.paretovariate(1.3))
                first = FIRST_NAMES[index % len(FIRST_NAMES)]
                last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
                users.append(
                    {
                        "id": user_id,
                        "email": f"customer{user_id}@scale.example",
                        "password": password,
                        "active": True,
                        "fs_uniquifier": f"{rng.getrandbits(128):032x}",
                        "confirmed_at": joined.replace(tzinfo=None),
                        "name": f"{first} {last}",
                        "locale": LOCALES[index % len(LOCALES)],
                        "timezone": "Europe/Riga",
                        "newsletter_consent": rng.random() < 0.4,
                        "acquisition_source": rng.choice(("search", "social", "friend", "advert")),
                        "joined_at": joined,
                        "referral_code": f"S{user_id:09d}",
                    }
                )
                roles.append({"user_id": user_id, "role_id": customer_role})
            bulk_insert(_table(User), users)
            bulk_insert(db.metadata.tables["roles_users"], roles)
            counts["users"] += len(users)
            bar.update(len(users))
        db.session.commit()

        catalogue = _catalogue(rng)
        cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)
        next_order, next_item, next_event = (
            _next_id(Order),
            _next_id(OrderItem),
            _next_id(OrderEvent),
        )
        for chunk_start in range(0, orders, CHUNK):
            size = min(CHUNK, orders - chunk_start)
            owners = (
                rng.choices(range(customers), cum_weights=cumulative, k=size) if customers else []
            )
            order_rows, item_rows, event_rows = [], [], []
            for owner in owners:
                order_id = next_order
                next_order += 1
                placed = starts[owner] + timedelta(seconds=spans[owner] * rng.random())
                path = _status_path((now - placed).total_seconds() / 86400, rng)
                subtotal = 0
                for _ in range(1 + int(rng.expovariate(1.2))):
                    sku, name, price = catalogue[int(rng.random() ** 2 * len(catalogue))]
                    quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                    item_rows.append(
                        {
                            "id": next_item,
                            "order_id": order_id,
                            "sku": sku,
                            "name": name,
                            "quantity": quantity,
                            "unit_price_minor": price,
                        }
                    )
                    next_item += 1
                    subtotal += price * quantity
                shipping = 0 if subtotal >= 5000 else 499
                times = {"placed": placed}
                moment = placed
                for status in path:
                    if status != "placed":
                        moment = min(now, moment + timedelta(hours=rng.uniform(0.2, 60)))
                        times.setdefault(status, moment)
                    event_rows.append(
                        {
                            "id": next_event,
                            "order_id": order_id,
                            "status": status,
                            "occurred_at": times[status],
                        }
                    )
                    next_event += 1
                shipped = "shipped" in times
                order_rows.append(
                    {
                        "id": order_id,
                        "number": f"SC-{order_id:08d}",
                        "user_id": first_user + owner,
                        "status": path[-1],
                        "currency": "EUR",
                        "subtotal_minor": subtotal,
                        "shipping_minor": shipping,
                        "tax_minor": round(subtotal * 21 / 121),
                        "total_minor": subtotal + shipping,
                        "carrier": CARRIERS[order_id % len(CARRIERS)] if shipped else None,
                        "tracking_number": f"TR{order_id:010d}LV" if shipped else None,
                        "placed_at": placed,
                        "paid_at": times.get("paid"),
                        "shipped_at": times.get("shipped"),
                        "delivered_at": times.get("delivered"),
                        "created_at": placed,
                        "updated_at": moment,
                    }
                )
            bulk_insert(_table(Order), order_rows)
            bulk_insert(_table(OrderItem), item_rows)
            bulk_insert(_table(OrderEvent), event_rows)
            db.session.commit()
            counts["orders"] += len(order_rows)
            counts["items"] += len(item_rows)
            counts["events"] += len(event_rows)
            bar.update(size)
    _reset_sequences()
    db.session.commit()
    seconds = time.perf_counter() - started
    rows = counts["users"] * 2 + counts["orders"] + counts["items"] + counts["events"]
    return {"rows": rows, "seconds": seconds, **counts}

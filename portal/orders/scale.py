"""Generate a large, realistic data set in bulk, for benchmarks (`flask portal seed-scale`).

Customers join over four years and some stop buying; a few buy a lot (spend follows a
Pareto curve); an order's status follows its age. Rows are built in memory a chunk at a time
and written with executemany, with explicit ids so no row has to be read back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.bulk import bulk_insert, next_id, reset_sequences
from portal.orders.models import Order, OrderEvent, OrderItem

CHUNK = 10_000
#: Every generated account's e-mail domain: how a second run sees the data is there.
SCALE_DOMAIN = "scale.example"
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


@dataclass
class Population:
    """The generated customers, as the other generators need them (ids are contiguous)."""

    first_user: int
    count: int
    #: Each customer's active period (start, length in seconds) and how much they buy.
    starts: list[datetime] = field(default_factory=list)
    spans: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    #: Agents created for the data set, by department id.
    agents: dict[int, list[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def user_id(self, index: int) -> int:
        return self.first_user + index

    def locale(self, user_id: int) -> str:
        return LOCALES[(user_id - self.first_user) % len(LOCALES)]

    @property
    def all_agents(self) -> list[int]:
        return [agent for agents in self.agents.values() for agent in agents]


def already_seeded() -> int:
    """How many generated customers the database already has (seed-scale runs once)."""
    return int(
        db.session.scalar(select(func.count(User.id)).where(User.email.like(f"%@{SCALE_DOMAIN}")))
        or 0
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


Progress = Callable[[int], Any]
AGENTS_PER_DEPARTMENT = 4


def generate_customers(*, customers: int, rng: random.Random, progress: Progress) -> Population:
    """Insert ``customers`` customers (and a few agents per department); commits."""
    from flask_security import hash_password

    from portal.accounts.models import Department, department_members
    from portal.accounts.services import ensure_reference_data, get_role
    from portal.core.demo import DEMO_PASSWORD

    now = utcnow().replace(microsecond=0)
    ensure_reference_data()
    customer_role = get_role("customer").id
    agent_role = get_role("agent").id
    departments = list(db.session.scalars(select(Department.id).order_by(Department.id)))
    # One password for every generated account, so load tests can sign in as any of them.
    password = hash_password(DEMO_PASSWORD)
    db.session.commit()

    population = Population(first_user=next_id(User), count=customers)
    for chunk_start in range(0, customers, CHUNK):
        users, roles = [], []
        for index in range(chunk_start, min(customers, chunk_start + CHUNK)):
            user_id = population.user_id(index)
            joined = now - timedelta(days=rng.uniform(0, 4 * 365))
            churned = rng.random() < 0.3
            end = joined + (now - joined) * rng.random() if churned else now
            population.starts.append(joined)
            population.spans.append((end - joined).total_seconds())
            population.weights.append(rng.paretovariate(1.3))
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
            users.append(
                _user_row(
                    user_id,
                    f"customer{user_id}@{SCALE_DOMAIN}",
                    f"{first} {last}",
                    population.locale(user_id),
                    joined,
                    password,
                    rng,
                )
            )
            roles.append({"user_id": user_id, "role_id": customer_role})
        bulk_insert(_table(User), users)
        bulk_insert(db.metadata.tables["roles_users"], roles)
        progress(len(users))
    # The agents who answer feedback and post official answers, after the customers so the
    # customers' ids stay one contiguous range.
    agent_id = population.first_user + customers
    users, roles, members = [], [], []
    for department in departments:
        for _ in range(AGENTS_PER_DEPARTMENT):
            joined = now - timedelta(days=rng.uniform(365, 5 * 365))
            name = f"{FIRST_NAMES[agent_id % len(FIRST_NAMES)]} (staff)"
            users.append(
                _user_row(
                    agent_id, f"agent{agent_id}@{SCALE_DOMAIN}", name, "en", joined, password, rng
                )
            )
            roles.append({"user_id": agent_id, "role_id": agent_role})
            members.append({"department_id": department, "user_id": agent_id})
            population.agents.setdefault(department, []).append(agent_id)
            population.names[agent_id] = name
            agent_id += 1
    bulk_insert(_table(User), users)
    bulk_insert(db.metadata.tables["roles_users"], roles)
    bulk_insert(department_members, members)
    reset_sequences("user")
    db.session.commit()
    return population


def _user_row(
    user_id: int,
    email: str,
    name: str,
    locale: str,
    joined: datetime,
    password: str,
    rng: random.Random,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "password": password,
        "active": True,
        "fs_uniquifier": f"{rng.getrandbits(128):032x}",
        "confirmed_at": joined.replace(tzinfo=None),
        "name": name,
        "locale": locale,
        "timezone": "Europe/Riga",
        "newsletter_consent": rng.random() < 0.4,
        "acquisition_source": rng.choice(("search", "social", "friend", "advert")),
        "joined_at": joined,
        "referral_code": f"S{user_id:09d}",
    }


def generate_orders(
    *, population: Population, orders: int, rng: random.Random, progress: Progress
) -> dict[str, int]:
    """Insert ``orders`` orders of the population's customers, big spenders more; commits."""
    now = utcnow().replace(microsecond=0)
    customers = population.count
    counts = {"orders": 0, "items": 0, "events": 0}
    catalogue = _catalogue(rng)
    cumulative: list[float] = []
    total = 0.0
    for weight in population.weights:
        total += weight
        cumulative.append(total)
    next_order, next_item, next_event = next_id(Order), next_id(OrderItem), next_id(OrderEvent)
    for chunk_start in range(0, orders if customers else 0, CHUNK):
        size = min(CHUNK, orders - chunk_start)
        owners = rng.choices(range(customers), cum_weights=cumulative, k=size)
        order_rows, item_rows, event_rows = [], [], []
        for owner in owners:
            order_id = next_order
            next_order += 1
            placed = population.starts[owner] + timedelta(
                seconds=population.spans[owner] * rng.random()
            )
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
                    "user_id": population.user_id(owner),
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
        progress(size)
    reset_sequences("order", "order_item", "order_event")
    db.session.commit()
    return counts

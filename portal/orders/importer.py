"""A shop export in CSV: one row per order item, the order's columns repeated on each row.

Columns: order_number, customer_email, customer_name, status, currency, placed_at,
status_at, shipping_minor, tax_minor, total_minor, carrier, tracking_number, sku, item_name,
quantity, unit_price_minor. Amounts are integer minor units; times ISO 8601 (UTC unless an
offset is given). Optional: customer_name, status_at, shipping_minor, tax_minor, total_minor,
carrier, tracking_number, and the item columns for an order without items.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from email_validator import EmailNotValidError, validate_email

from portal.orders.models import ORDER_STATUSES
from portal.orders.services import ItemData, OrderData, OrderError, upsert_order

REQUIRED_COLUMNS = ("order_number", "customer_email", "status", "currency", "placed_at")
ORDER_COLUMNS = (
    "customer_email",
    "customer_name",
    "status",
    "currency",
    "placed_at",
    "status_at",
    "shipping_minor",
    "tax_minor",
    "total_minor",
    "carrier",
    "tracking_number",
)


@dataclass
class Rejection:
    line: int
    order_number: str
    reason: str


@dataclass
class ParsedFile:
    orders: list[OrderData]
    lines: dict[str, int]  # order number -> first line, for the report
    rejections: list[Rejection]


class RowError(ValueError):
    pass


def _time(value: str, column: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"{column}: not an ISO 8601 date and time: {value!r}")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _int(value: str, column: str, *, default: int | None = None, minimum: int = 0) -> int:
    if not value.strip():
        if default is None:
            raise RowError(f"{column}: required")
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise RowError(f"{column}: not a whole number of minor units: {value!r}")
    if number < minimum:
        raise RowError(f"{column}: must be at least {minimum}")
    return number


def _order_from_row(row: dict[str, str]) -> OrderData:
    number = row["order_number"].strip()
    if not number or len(number) > 40:
        raise RowError("order_number: required, at most 40 characters")
    try:
        email = validate_email(row["customer_email"].strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise RowError(f"customer_email: {error}")
    status = row["status"].strip().lower()
    if status not in ORDER_STATUSES:
        raise RowError(f"status: unknown status {row['status']!r}")
    currency = row["currency"].strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise RowError(f"currency: not an ISO 4217 code: {row['currency']!r}")
    total = row.get("total_minor") or ""
    return OrderData(
        number=number,
        email=email.normalized.lower(),
        customer_name=(row.get("customer_name") or "").strip()[:120],
        status=status,
        currency=currency,
        placed_at=_time(row["placed_at"], "placed_at"),
        status_at=_time(row["status_at"], "status_at")
        if (row.get("status_at") or "").strip()
        else None,
        shipping_minor=_int(row.get("shipping_minor") or "", "shipping_minor", default=0),
        tax_minor=_int(row.get("tax_minor") or "", "tax_minor", default=0),
        total_minor=_int(total, "total_minor") if total.strip() else None,
        carrier=(row.get("carrier") or "").strip()[:60] or None,
        tracking_number=(row.get("tracking_number") or "").strip()[:80] or None,
    )


def _item_from_row(row: dict[str, str]) -> ItemData | None:
    sku = (row.get("sku") or "").strip()
    name = (row.get("item_name") or "").strip()
    if not sku and not name:
        return None
    if not sku or not name:
        raise RowError("sku and item_name: give both or neither")
    return ItemData(
        sku=sku[:60],
        name=name[:200],
        quantity=_int(row.get("quantity") or "", "quantity", minimum=1),
        unit_price_minor=_int(row.get("unit_price_minor") or "", "unit_price_minor"),
    )


def parse(stream: IO[str]) -> ParsedFile:
    """Read and check the whole file; nothing is written."""
    reader = csv.DictReader(stream)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return ParsedFile([], {}, [Rejection(1, "", f"missing columns: {', '.join(missing)}")])
    orders: dict[str, OrderData] = {}
    first_rows: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    rejections: list[Rejection] = []
    for row in reader:
        line = reader.line_num
        number = (row.get("order_number") or "").strip()
        try:
            order = _order_from_row(row)
            item = _item_from_row(row)
        except RowError as error:
            rejections.append(Rejection(line, number, str(error)))
            continue
        if number in orders:
            first = first_rows[number]
            differing = [
                c
                for c in ORDER_COLUMNS
                if (first.get(c) or "").strip() != (row.get(c) or "").strip()
            ]
            if differing:
                rejections.append(
                    Rejection(
                        line, number, f"differs from line {lines[number]} in {', '.join(differing)}"
                    )
                )
                continue
        else:
            orders[number] = order
            first_rows[number] = row
            lines[number] = line
        if item is not None:
            orders[number].items.append(item)
    return ParsedFile(list(orders.values()), lines, rejections)


def apply(
    parsed: ParsedFile, *, progress: Callable[[Iterable[OrderData]], Iterable[OrderData]] = iter
) -> tuple[dict[str, int], list[Rejection]]:
    """Upsert every order of a checked file. The caller commits only when nothing was
    rejected, so a file with a bad row imports nothing."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "customers_invited": 0}
    rejections: list[Rejection] = []
    for data in progress(parsed.orders):
        try:
            result = upsert_order(data)
        except OrderError as error:
            rejections.append(
                Rejection(parsed.lines.get(data.number, 0), data.number, f"{error.field}: {error}")
            )
            continue
        if result.created:
            counts["created"] += 1
        elif result.changed:
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        counts["customers_invited"] += int(result.customer_created)
    return counts, rejections

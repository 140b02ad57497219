"""What the accounts and jobs tables hold about a person, for export and erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from portal.accounts.models import CustomerValue, Touchpoint, User
from portal.extensions import db


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def export_touchpoints(user: User) -> list[dict[str, Any]]:
    return [
        {"kind": t.kind, "at": _iso(t.created_at), "note": t.note, "coupon_code": t.coupon_code}
        for t in db.session.scalars(select(Touchpoint).where(Touchpoint.user_id == user.id))
    ]


def export_value(user: User) -> dict[str, Any] | None:
    value = db.session.get(CustomerValue, user.id)
    if value is None:
        return None
    return {
        "spend_12m_minor": value.spend_12m_minor,
        "currency": value.currency,
        "order_count": value.order_count,
        "stage": value.stage,
        "golden": value.is_golden,
        "lapsed": value.is_lapsed,
    }


def erase_personal_rows(user: User) -> None:
    db.session.execute(delete(Touchpoint).where(Touchpoint.user_id == user.id))


def register() -> None:
    from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS

    DATA_EXPORTERS.update(
        {
            "touchpoints": export_touchpoints,
            "value": export_value,
        }
    )
    DATA_ERASERS["accounts"] = erase_personal_rows

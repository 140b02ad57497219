"""Money in the viewer's locale: integer minor units plus an ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision
from flask_babel import format_currency


def money(minor: int | None, currency: str) -> str:
    """Format ``minor`` units of ``currency`` for the current locale (e.g. "12,50 €")."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(int(minor or 0)).scaleb(-digits), currency)

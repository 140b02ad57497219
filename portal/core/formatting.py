"""Locale-aware formatting of money and dates, each result kept per process.

A list page formats a price and a date on every row, and Babel works each one out afresh:
the number pattern, the currency's symbol and digits, the calendar, the time-zone conversion.
The result is a pure function of the value, the language, the viewer's time zone and the
format, so it is kept (bounded, least recently used) under exactly those keys; any other
language or time zone gets its own entry.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency as babel_format_currency
from babel.numbers import get_currency_precision
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale, get_timezone

_SIZE = 8192


@lru_cache(maxsize=_SIZE)
def _money(minor: int, currency: str, locale: Any) -> str:
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return babel_format_currency(amount, currency, locale=locale)


def money(minor: int | None, currency: str) -> str:
    """``minor`` units of ``currency`` in the current language (e.g. "12,50 €")."""
    return _money(int(minor or 0), currency, get_locale())


@lru_cache(maxsize=_SIZE)
def _dated(kind: str, value: Any, format: str | None, locale: Any, zone: Any) -> str:
    # The arguments after ``value`` are the key: Flask-Babel reads the same language and
    # time zone from the request when it formats.
    formatter = format_date if kind == "date" else format_datetime
    return formatter(value, format)


def dateformat(value: date | datetime | None, format: str | None = None) -> str:
    """The ``dateformat`` template filter (Flask-Babel's, kept per value and viewer)."""
    if value is None:
        return format_date(value, format)
    return _dated("date", value, format, get_locale(), get_timezone())


def datetimeformat(value: datetime | None, format: str | None = None) -> str:
    """The ``datetimeformat`` template filter (Flask-Babel's, kept per value and viewer)."""
    if value is None:
        return format_datetime(value, format)
    return _dated("datetime", value, format, get_locale(), get_timezone())


class ViewerFormats:
    """``money``, ``dateformat`` and ``datetimeformat`` for the rows of one list page.

    The filters read the viewer's language and time zone from the request on every call; a
    list's rows all share them, so they are read once here and the same kept results serve.
    Only for the rendering of one request (a changed language is a new request).
    """

    __slots__ = ("locale", "zone")

    def __init__(self) -> None:
        self.locale = get_locale()
        self.zone = get_timezone()

    def money(self, minor: int | None, currency: str) -> str:
        return _money(int(minor or 0), currency, self.locale)

    def date(self, value: date | datetime, format: str | None = None) -> str:
        return _dated("date", value, format, self.locale, self.zone)

    def datetime(self, value: datetime, format: str | None = None) -> str:
        return _dated("datetime", value, format, self.locale, self.zone)


def install_filters(app: Flask) -> None:
    """Replace Flask-Babel's ``dateformat``/``datetimeformat`` filters (after init_app)."""
    app.jinja_env.filters.update(dateformat=dateformat, datetimeformat=datetimeformat)

"""Orders: orders, items, status events, import, and the customer's order pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.orders import models  # noqa: F401 - register the tables

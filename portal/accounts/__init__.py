"""Accounts: users, roles, departments, profiles, consent, referrals, customer value."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.accounts import (
        models,  # noqa: F401 - register the tables
        privacy,
    )
    from portal.accounts.views import bp

    app.register_blueprint(bp)
    privacy.register()

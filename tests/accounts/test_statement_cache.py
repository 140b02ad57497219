"""Statements naming Flask-Security's list columns are compiled once, then taken from the cache."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.accounts.models import Role, User, WebAuthn
from portal.extensions import db


@pytest.mark.parametrize(
    "column", [User.mf_recovery_codes, Role.permissions, WebAuthn.transports], ids=str
)
def test_a_statement_naming_a_list_column_has_a_cache_key(app: Flask, column: Any) -> None:
    # Without a key, SQLAlchemy compiles the statement again on every execution.
    statement = select(column).where(User.id == 1)
    assert statement._generate_cache_key() is not None


def test_a_list_column_statement_is_compiled_once(app: Flask) -> None:
    statement = select(User.id, User.mf_recovery_codes, Role.permissions).outerjoin(User.roles)
    with app.app_context():
        connection = db.session.connection()
        first = connection.execute(statement)
        first.all()
        second = connection.execute(statement)
        second.all()
        # What SQLAlchemy logs with each statement: "cached since …" or "generated in …".
        assert second.context._get_cache_stats().startswith("cached since")

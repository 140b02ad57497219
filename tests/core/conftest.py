"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine


@pytest.fixture
def server_engine(app: Flask) -> Iterator[Engine]:
    """An engine of its own (one connection) on the test database, when that is PostgreSQL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (PORTAL_TEST_DATABASE_URL)")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()

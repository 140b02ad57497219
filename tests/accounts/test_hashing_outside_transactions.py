"""Password hashing runs with no transaction open: a sign-in never holds SQLite's write lock
while argon2 works (found by bench/faults.py: concurrent sign-ins failed "database is locked")."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal.core.db import release_idle_transaction
from portal.extensions import db, security

pytestmark = pytest.mark.live_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def file_app(sqlite_file_app: Callable[..., Flask]) -> Flask:
    from flask_migrate import upgrade

    app = sqlite_file_app(MAIL_BACKEND="null", RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        from portal.accounts.services import create_user, ensure_reference_data

        ensure_reference_data()
        create_user("lock@example.com", PASSWORD, name="Lock")
        db.session.commit()
    return app


def _writer_can_start(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("email", ["lock@example.com", "nobody@example.com"])
def test_sign_in_hashes_without_holding_the_write_lock(
    file_app: Flask, tmp_path: Path, email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(file_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    seen: list[bool] = []
    with file_app.app_context():
        # The passlib context itself, under whatever the portal wraps it in.
        inner = getattr(security.pwd_context, "_context", security.pwd_context)
    verify, hash_ = inner.verify, inner.hash

    def spy_verify(*args: Any, **kwargs: Any) -> Any:
        seen.append(_writer_can_start(path))
        return verify(*args, **kwargs)

    def spy_hash(*args: Any, **kwargs: Any) -> Any:
        seen.append(_writer_can_start(path))
        return hash_(*args, **kwargs)

    monkeypatch.setattr(inner, "verify", spy_verify)
    monkeypatch.setattr(inner, "hash", spy_hash)
    client = file_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code in (200, 302)
    assert seen, "the password was never hashed or verified"
    assert all(seen), "another writer could not start while the password was hashed"
    if email == "lock@example.com":
        assert response.status_code == 302


def test_a_transaction_that_wrote_is_kept(file_app: Flask) -> None:
    from portal.accounts.models import User

    with file_app.app_context():
        user = db.session.query(User).filter_by(email="lock@example.com").one()
        assert release_idle_transaction(db.session()) is True
        assert user.name == "Lock"  # still loaded: no query, no new transaction
        assert not db.session().in_transaction()
        user.name = "Changed"
        db.session.flush()
        assert release_idle_transaction(db.session()) is False
        assert db.session().in_transaction()
        db.session.rollback()
        assert db.session.get(User, user.id).name == "Lock"


@pytest.mark.parametrize("email", ["lock@example.com", "nobody@example.com"])
def test_reset_request_hashes_token_data_without_holding_the_write_lock(
    file_app: Flask, tmp_path: Path, email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset link carries a hash (sha256_crypt, ~200 ms of CPU) of the password hash; the
    reset request made it inside its write transaction and, under load, held SQLite's write
    lock for a second at a time (found by bench/faults.py). The mail is still queued."""
    from sqlalchemy import func, select

    from portal.jobs.models import OutboxMessage

    path = Path(file_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    seen: list[bool] = []
    with file_app.app_context():
        contexts = [
            getattr(context, "_context", context)
            for context in (security.hashing_context, security.pwd_context)
        ]
    for inner in contexts:
        for name in ("hash", "verify"):
            original = getattr(inner, name)

            def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                seen.append(_writer_can_start(path))
                return _original(*args, **kwargs)

            monkeypatch.setattr(inner, name, spy)
    client = file_app.test_client()
    page = client.get("/reset").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    response = client.post("/reset", data={"email": email, "csrf_token": token.group(1)})
    assert response.status_code == 200
    assert seen, "nothing was hashed"
    assert all(seen), "another writer could not start while the reset request hashed"
    with file_app.app_context():
        queued = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.to_address == email)
        )
        db.session.commit()
    assert queued == (1 if email == "lock@example.com" else 0)

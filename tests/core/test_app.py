"""Skeleton: health, errors, headers, cookies, configuration, SQLite set-up, languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from portal import create_app
from portal.core.db import write_intent
from portal.core.urls import safe_next
from portal.extensions import db
from tests.conftest import csrf_from


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok"}


def test_unknown_page_is_a_404_in_the_portal_look(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "We could not find that page" in body
    assert "Skip to main content" in body


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_scripts_or_styles_on_pages(client):
    for path in ("/", "/login", "/register", "/reset"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and "style=" not in body and "<style" not in body, path


def test_session_cookie_flags_in_production(monkeypatch):
    app = create_app(
        "production",
        {
            "SECRET_KEY": "a-very-long-and-random-secret-value",
            "SECURITY_PASSWORD_SALT": "a-salt-value",
            "SECURITY_TOTP_SECRETS": {"1": "a-totp-secret"},
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "FORCE_HTTPS": False,
        },
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    client = app.test_client()
    with app.test_request_context():
        pass
    response = client.get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("secret", [None, "", "dev-secret-key-change-me", "short"])
def test_production_refuses_default_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", {"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_sqlite_is_set_up_as_a_real_database(app):
    # A read on a second connection while the test transaction holds the write lock.
    token = write_intent.set(False)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        # A fresh connection from the real engine, outside the test transaction.
        engine = db.engines[None]
        raw = engine.engine if hasattr(engine, "engine") else engine
        with raw.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    write_intent.reset(token)


def test_models_and_migrations_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portal.core.db import include_name

    token = write_intent.set(False)
    with app.app_context():
        engine = db.engines[None]
        raw = engine.engine if hasattr(engine, "engine") else engine
        with raw.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": include_name}
            )
            diff = compare_metadata(context, db.metadata)
    write_intent.reset(token)
    assert diff == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("lv-LV,lv;q=0.9", 'lang="lv"'),
        ("zh-CN,zh;q=0.9", 'lang="zh-Hans"'),
        ("ar", 'dir="rtl"'),
        ("de-DE", 'lang="en"'),
    ],
)
def test_language_from_the_browser(client, header, expected):
    body = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert expected in body


def test_arabic_pages_use_the_rtl_stylesheet(client):
    body = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r"/bootstrap\.rtl\.min\.[0-9a-f]{12}\.css", body)


def test_language_switcher_works_for_visitors(client):
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post(
        "/language", data={"locale": "ru", "next": "/login", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert 'lang="ru"' in client.get("/").get_data(as_text=True)


def test_language_switcher_refuses_foreign_next(client):
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post(
        "/language", data={"locale": "pl", "next": "https://evil.example/", "csrf_token": token}
    )
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/orders", "/orders"),
        ("/a?b=c", "/a?b=c"),
        ("//evil.example", None),
        ("https://evil.example", None),
        ("/\\evil", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_an_unreachable_database_answers_503_with_retry_after(app, client, monkeypatch):
    """While PostgreSQL restarts, pages say "try again" (503) rather than "broken" (500)."""
    from sqlalchemy.exc import OperationalError

    def down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setitem(app.view_functions, "core.home", down)
    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "try again" in response.get_data(as_text=True)


def test_a_commit_that_fails_for_the_database_answers_503(app, client, monkeypatch):
    """The request's commit runs after the view: a database gone by then is still a 503."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from portal.extensions import db

    def commit_fails():
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    def reads() -> str:  # a view whose write is left to the request's commit
        db.session.execute(text("UPDATE role SET description = description WHERE id < 0"))
        return "written"

    # As in production: Flask hands an exception raised after the view to the 500 handler.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "core.home", reads)
    with app.app_context():
        monkeypatch.setattr(db.session, "commit", commit_fails)
        response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_the_503_page_is_served_even_when_its_layout_needs_the_database(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from portal.core import errors

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT user", {}, Exception("connection refused"))

    monkeypatch.setitem(app.view_functions, "core.home", down)
    monkeypatch.setattr(errors, "render_template", down)
    response = client.get("/")
    assert response.status_code == 503
    assert "try again" in response.get_data(as_text=True)

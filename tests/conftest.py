"""Test fixtures: one app per session, a rolled-back transaction per test, a real SMTP server.

The suite runs on a SQLite file (WAL, like production) by default, and on PostgreSQL when
PORTAL_TEST_DATABASE_URL is set (`make test` does that when TEST_DATABASE_URL is given).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import event, text

from portal import create_app
from portal.core import pagecache
from portal.extensions import db, limiter

DEFAULT_PASSWORD = "correct-horse-battery-7"

# Property tests and the API fuzzing keep nothing in the work tree: no example database (each
# run starts afresh, reproducible from the seed it prints), caches in the temporary directory.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"portal-hypothesis-{os.getuid()}"))
hypothesis_settings.register_profile("portal", database=None, deadline=None, print_blob=True)
hypothesis_settings.load_profile("portal")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (``<name>_gw0``...):
    the suite drops and rebuilds the schema, which workers must not do to each other."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not worker or not url or not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["PORTAL_TEST_DATABASE_URL"] = base.set(database=name).render_as_string(
        hide_password=False
    )


# --- SMTP ---------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # When set, the server refuses every message (to test retries).
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
        self.refuse = False

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[str(m['To']) for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    def link_in(self, message: EmailMessage, pattern: str = r"https?://[^\s\"'<>]+") -> str:
        match = re.search(pattern, self.text_of(message))
        assert match, "no link in the mail"
        return match.group(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Iterator[Mailbox]:
    box, _port = smtp_server
    box.clear()
    yield box
    box.clear()


# --- Application and database ---------------------------------------------------------------


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_database(app: Flask) -> None:
    """Start from an empty database and build the schema with the migrations."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def app(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Mailbox, int]
) -> Iterator[Flask]:
    _box, port = smtp_server
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
            "MAIL_PORT": port,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_FILE_DIR": str(instance / "mail"),
            "INSTANCE_DIR": str(instance),
        },
    )
    _reset_database(application)
    with application.app_context():
        from portal.accounts.services import ensure_reference_data

        ensure_reference_data()
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test inside a transaction that is rolled back at the end.

    The app's sessions bind to one connection that holds an outer transaction; their
    commits only release SAVEPOINTs, so every test starts from the same data.
    """
    if "app" not in request.fixturenames or request.node.get_closest_marker("live_db"):
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
        original_session = db.session
        db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
    # The limiter is one object shared by every app a test builds; another app's settings
    # (e.g. a live server with limits off) must not leak into the next test.
    limiter.enabled = app.config.get("RATELIMIT_ENABLED", True)
    limiter.reset()
    # Pages kept for visitors describe data that the previous test rolled back.
    with app.app_context():
        pagecache.clear()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            db.session = original_session
            outer.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture
def sqlite_file_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``sqlite_file_app(**config)``: an app of its own on a SQLite file (WAL, real locks),
    for rules about SQLite's transactions that the shared test database cannot show."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'own{len(made)}.db'}",
                "INSTANCE_DIR": str(tmp_path),
                **config,
            },
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def count_queries(app: Any) -> Any:
    """``with count_queries() as queries:`` records the SQL statements run inside."""

    @contextmanager
    def _count() -> Iterator[list[str]]:
        statements: list[str] = []

        def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        with app.app_context():
            bind = db.engines[None]
        event.listen(bind, "before_cursor_execute", _record)
        try:
            yield statements
        finally:
            event.remove(bind, "before_cursor_execute", _record)

    return _count


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- Factories ------------------------------------------------------------------------------


@pytest.fixture
def make_user(app: Flask) -> Any:
    from portal.accounts.services import create_user

    counter = iter(range(1, 10_000))

    def _make(
        email: str | None = None,
        *,
        roles: tuple[str, ...] = ("customer",),
        password: str = DEFAULT_PASSWORD,
        departments: tuple[str, ...] = (),
        **profile: Any,
    ) -> int:
        with app.app_context():
            from sqlalchemy import select

            from portal.accounts.models import Department

            address = email or f"user{next(counter)}@example.com"
            user = create_user(
                address, password, roles=roles, name=profile.pop("name", "Test User"), **profile
            )
            for slug in departments:
                user.departments.append(
                    db.session.scalar(select(Department).where(Department.slug == slug))
                )
            db.session.commit()
            return user.id

    return _make


def login(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def logged_in(client: FlaskClient, make_user: Any) -> Any:
    def _as(email: str | None = None, **kwargs: Any) -> FlaskClient:
        address = email or f"member{os.urandom(3).hex()}@example.com"
        make_user(address, **kwargs)
        response = login(client, address)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return client

    return _as

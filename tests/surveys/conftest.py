"""Survey fixtures: surveys built through the services, invitations with known tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import event, select

from portal.accounts.models import User
from portal.extensions import db
from portal.surveys import sending, services
from portal.surveys.models import CHOICE_TYPES, Survey


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "live_db: runs a live server on a database of its own, outside the test transaction",
    )


@pytest.fixture
def build_survey(app: Any) -> Any:
    def _build(
        types: tuple[str, ...] = ("nps", "single", "text"),
        *,
        status: str = "active",
        trigger: str | None = None,
        title: str = "Customer survey",
        required: tuple[str, ...] = ("nps",),
    ) -> int:
        with app.app_context():
            survey = services.create_survey(
                title=title, intro="Tell us what you think.", thank_you="Thanks a lot!"
            )
            for kind in types:
                services.add_question(
                    survey,
                    type=kind,
                    text=f"The {kind} question",
                    required=kind in required,
                    choices=["Red", "Green", "Blue"] if kind in CHOICE_TYPES else None,
                )
            survey.status = status
            survey.trigger = trigger
            db.session.commit()
            return survey.id

    return _build


@pytest.fixture
def issue(app: Any) -> Any:
    """Invite a user to a survey and return the link's token (normally only in the mail)."""

    def _issue(survey_id: int, user_id: int, occasion: str = "send", **kwargs: Any) -> str:
        token = secrets.token_urlsafe(32)
        with app.app_context():
            survey = db.session.get(Survey, survey_id)
            user = db.session.get(User, user_id)
            with mock.patch.object(sending, "new_token", return_value=token):
                invitation = sending.invite(survey, user, occasion, **kwargs)
            assert invitation is not None
            db.session.commit()
        return token

    return _issue


def user_id(email: str) -> int:
    found = db.session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []
    engine = db.engine

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(statement)

    target = engine if not hasattr(engine, "engine") else engine.engine
    event.listen(target, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", _count)


@contextmanager
def count_queries_in(app: Any) -> Iterator[list[str]]:
    """Count the statements the app runs while the block runs (no app context held open)."""
    with app.app_context():
        counter = count_queries()
        statements = counter.__enter__()
    try:
        yield statements
    finally:
        with app.app_context():
            counter.__exit__(None, None, None)


def answer_fields(html: str) -> dict[str, str]:
    """The hidden fields of a survey page's answer form (its language; its CSRF token on the
    signed-in path), which a browser posts with the answers."""
    form = re.search(r"<form[^>]*data-survey-autosave.*?</form>", html, re.S)
    assert form, "no answer form on the page"
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(0)):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            assert name and value, tag
            fields[name.group(1)] = value.group(1)
    return fields

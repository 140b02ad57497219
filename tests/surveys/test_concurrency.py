"""The same link posted 20 times at once, against a live server and a real database."""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from tests.surveys.conftest import answer_fields

pytestmark = pytest.mark.live_db

PARALLEL = 20


@pytest.fixture
def live_app(tmp_path: Any) -> Iterator[Flask]:
    """An app on a database of its own, built by the migrations; committed for real."""
    from flask_migrate import upgrade

    overrides: dict[str, Any] = {
        "MAIL_BACKEND": "null",
        "INSTANCE_DIR": str(tmp_path),
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "RATELIMIT_ENABLED": False,
    }
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    schema = None
    if url:
        schema = f"surveys_live_{secrets.token_hex(4)}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        overrides["SQLALCHEMY_DATABASE_URI"] = url
        overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": f"-csearch_path={schema}"},
        }
    else:
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app("testing", overrides)
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _tab(base: str, path: str, form: dict[str, str], barrier: threading.Barrier) -> int:
    """One browser tab: open the page, wait for the others, then send the answers."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )
    with opener.open(base + path, timeout=30) as page:
        html = page.read().decode()
    body = urllib.parse.urlencode({**answer_fields(html), "submit": "1", **form}).encode()
    barrier.wait(timeout=30)
    try:
        with opener.open(base + path, data=body, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_one_link_posted_twenty_times_at_once_records_one_response(live_app, live_server):
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.surveys import sending, services
    from portal.surveys.models import Answer, Invitation, Response

    token = secrets.token_urlsafe(32)
    with live_app.app_context():
        ensure_reference_data()
        user = create_user("race@example.com", "correct-horse-battery-7", name="Racer")
        survey = services.create_survey(title="Race")
        question = services.add_question(survey, type="nps", text="Score?", required=True)
        survey.status = "active"
        with mock.patch.object(sending, "new_token", return_value=token):
            assert sending.invite(survey, user, "send") is not None
        db.session.commit()
        question_id = question.id

    barrier = threading.Barrier(PARALLEL)
    codes: list[int] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            codes.append(
                _tab(live_server, f"/s/{token}", {f"q{question_id}": str(n % 11)}, barrier)
            )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert sorted(codes) == [302] + [410] * (PARALLEL - 1), codes
    with live_app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
        assert db.session.scalar(select(func.count(Answer.id))) == 1
        invitation = db.session.scalar(select(Invitation))
        assert invitation.responded_at is not None
        db.session.remove()


def test_links_raced_by_several_workers_get_one_response_each(live_app):
    """The claim under the service: workers (threads with sessions and connections of their
    own, like processes on one database file) answer the same links at the same moment, half
    of them claiming by the token straight away, half after reading the link."""
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.core.db import write_intent
    from portal.surveys import answering, sending, services
    from portal.surveys.models import Answer, Invitation, Response

    links = 12
    workers = 4
    tokens = [secrets.token_urlsafe(32) for _ in range(links)]
    with live_app.app_context():
        ensure_reference_data()
        survey = services.create_survey(title="Many at once")
        question = services.add_question(survey, type="nps", text="Score?", required=True)
        survey.status = "active"
        for n, token in enumerate(tokens):
            user = create_user(f"many{n}@example.com", "correct-horse-battery-7", name="Many")
            with mock.patch.object(sending, "new_token", return_value=token):
                assert sending.invite(survey, user, "send") is not None
        db.session.commit()
        question_id = question.id

    barrier = threading.Barrier(workers)
    outcomes: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with live_app.app_context():
                barrier.wait(timeout=30)
                for token in tokens:
                    write_intent.set(False)
                    if worker % 2:  # the link's POST: the claim is the first statement
                        try:
                            answering.submit_by_token(
                                token, MultiDict({f"q{question_id}": str(worker)}), locale="en"
                            )
                            outcomes.append((worker, "answered"))
                        except answering.AlreadyAnswered:
                            outcomes.append((worker, "refused"))
                        continue
                    # Read first, then claim (the signed-in path, a POST from an older page).
                    link = answering.link_for_token(token)
                    assert link is not None
                    if link.state() != "open":
                        db.session.rollback()
                        outcomes.append((worker, "refused"))
                        continue
                    spec = answering.survey_spec(link.survey_id, link.survey_version)
                    try:
                        answering.submit_answers(link, spec, {question_id: worker}, locale="en")
                        outcomes.append((worker, "answered"))
                    except answering.AlreadyAnswered:
                        outcomes.append((worker, "refused"))
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(outcomes) == links * workers
    assert sum(1 for _, what in outcomes if what == "answered") == links
    with live_app.app_context():
        per_invitation = db.session.execute(
            select(Response.invitation_id, func.count()).group_by(Response.invitation_id)
        ).all()
        assert len(per_invitation) == links and {count for _, count in per_invitation} == {1}
        assert db.session.scalar(select(func.count(Answer.id))) == links
        assert (
            db.session.scalar(
                select(func.count(Invitation.id)).where(Invitation.responded_at.is_not(None))
            )
            == links
        )
        db.session.remove()

"""XSS: payloads stored in every text field a user fills, rendered where customers and staff see
them; CSV exports neutralise spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests.security.conftest import World, token_in
from tests.security.test_inputs import SEARCHES

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "'';!--\"<XSS>=&{()}",
    "<iframe srcdoc='<script>alert(1)</script>'>",
]

INJECTED = [
    re.compile(r"<script(?![^>]*\bsrc=)", re.I),  # only files (the CSP allows the portal's)
    re.compile(r"<[a-z]+[^>]*\son(error|load)\s*=", re.I),
    re.compile(r"href\s*=\s*[\"']?\s*javascript:", re.I),
    re.compile(r"<iframe", re.I),
    re.compile(r"<xss>", re.I),
]


def assert_escaped(html: str) -> None:
    # Escaped text inside an attribute value cannot break out of its quotes: leave it out.
    html = re.sub(r'"[^"<>]*"', '""', html)
    for pattern in INJECTED:
        match = pattern.search(html)
        assert match is None, html[max(0, match.start() - 200) : match.end() + 200]


def _store(world: World, payload: str) -> None:
    """Put the payload in every stored text field of the world's objects."""
    from portal.accounts.models import User
    from portal.community.models import Post, Topic
    from portal.feedback.models import FeedbackAttachment, FeedbackItem
    from portal.jobs.notifications import notify

    with world.app.app_context():
        owner = db.session.get(User, world.users["owner"])
        owner.name = payload[:120]
        owner.why_chose_us = payload
        item = db.session.scalar(
            select(FeedbackItem).where(FeedbackItem.reference == world.feedback_ref)
        )
        item.subject = payload[:200]
        item.message = payload
        attachment = db.session.get(FeedbackAttachment, world.attachment_id)
        attachment.filename = payload[:80] + ".png"
        for topic_id, post_id in (
            (world.public_topic_id, world.public_post_id),
            (world.staff_topic_id, world.staff_post_id),
        ):
            db.session.get(Topic, topic_id).title = payload[:150]
            post = db.session.get(Post, post_id)
            post.body = payload
            post.author_id = owner.id
        notify(
            owner.id,
            kind="reply",
            message="%(name)s replied in %(title)s",
            data={"name": payload, "title": payload},
            url="/community",
        )
        db.session.commit()
    # The survey answer goes through the answering form like a customer's would.
    client = world.app.test_client()
    page = client.get(f"/s/{world.survey_token}")
    response = client.post(
        f"/s/{world.survey_token}",
        data={
            f"q{world.question_id}": payload,
            "csrf_token": token_in(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.status_code


def _pages(world: World) -> list[tuple[str, str]]:
    return [
        ("owner", "/account"),
        ("owner", "/feedback"),
        ("owner", f"/feedback/{world.feedback_ref}"),
        ("owner", f"/community/t/{world.public_topic_id}-public-question"),
        ("owner", "/community/c/general"),
        ("owner", f"/community/u/{world.users['owner']}"),
        ("owner", "/community/search?q=alert"),
        ("owner", "/notifications"),
        ("agent_delivery", "/staff/feedback"),
        ("agent_delivery", f"/staff/feedback/{world.feedback_ref}"),
        ("agent_delivery", f"/staff/customers/{world.users['owner']}"),
        ("agent_delivery", "/staff/customers?q=person"),
        ("moderator", f"/community/t/{world.staff_topic_id}-staff-notes"),
        ("moderator", "/staff/moderation"),
        ("manager", f"/staff/surveys/{world.survey_id}/results"),
        ("manager", "/staff/"),
        ("admin", f"/staff/outbox/{world.message_id}"),
        ("admin", "/staff/outbox/"),
        ("admin", "/staff/audit"),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_stored_payloads_are_escaped_everywhere(world: World, payload: str) -> None:
    _store(world, payload)
    for role, url in _pages(world):
        response = world.client(role).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_escaped(response.get_data(as_text=True))


def test_the_payload_is_shown_as_text(world: World) -> None:
    """The control: the page does show the stored text, escaped."""
    _store(world, PAYLOADS[0])
    html = world.client("owner").get(f"/feedback/{world.feedback_ref}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", '=HYPERLINK("http://x")', "\t=1", "\r=1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_exports_neutralise_formulas(world: World, formula: str, make_user: Any) -> None:
    """A customer's name and a survey answer starting with a formula character are exported as
    text (prefixed with an apostrophe), in every CSV a manager can download."""
    _store(world, formula)
    from portal.accounts.models import User

    with world.app.app_context():
        db.session.get(User, world.users["owner"]).referred_by_id = None
        referred = db.session.get(User, world.users["customer_b"])
        referred.referred_by_id = world.users["owner"]
        db.session.commit()
    client = world.client("manager")
    for url in (
        f"/staff/surveys/{world.survey_id}/results.csv",
        "/staff/export/referrals.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        for row in csv.reader(io.StringIO(response.get_data(as_text=True))):
            for cell in row:
                assert not cell or cell[0] not in "=+-@\t\r", (url, row)


def test_audit_csv_neutralises_formulas_in_addresses(world: World, make_user: Any) -> None:
    """An e-mail address may start with a formula character (``=cmd@example.com`` is valid)."""
    from portal.accounts.models import User

    make_user("=1+1@example.com", roles=("agent",))
    with world.app.app_context():
        agent = db.session.scalar(select(User).where(User.email == "=1+1@example.com"))
        world.uniquifiers["formula_agent"] = agent.fs_uniquifier
    assert (
        world.client("formula_agent").get(f"/staff/customers/{world.users['owner']}").status_code
        == 200
    )
    response = world.client("admin").get("/staff/audit", query_string={"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert any("'=1+1@example.com" in row for row in rows), rows[:5]
    for row in rows:
        assert all(not cell or cell[0] not in "=+-@" for cell in row), row


@pytest.mark.parametrize("payload", PAYLOADS[:3] + [PAYLOADS[5]])
@pytest.mark.parametrize("search", SEARCHES, ids=lambda search: search[1])
def test_reflected_payloads_in_query_parameters(world: World, search: Any, payload: str) -> None:
    role, path, names = search
    client = world.client(role)
    for name in (*names, "next"):
        response = client.get(path, query_string={name: payload})
        if response.status_code == 200:
            assert_escaped(response.get_data(as_text=True))

"""Account enumeration, rate limits, mass assignment, link tokens and upload tricks."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests.conftest import DEFAULT_PASSWORD
from tests.security.conftest import PNG, World, row_count, token_in

UNKNOWN = "nobody-here@example.com"


def _visible(html: str) -> str:
    """The page as a person reads it: tokens and the e-mail typed in left out."""
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    return html.replace(UNKNOWN, "EMAIL").replace("owner@example.com", "EMAIL")


def _post_form(client: Any, path: str, data: dict[str, str]) -> Any:
    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": token_in(page.get_data(as_text=True))})


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"password": "wrong-password-123"}),
        ("/reset", {}),
        ("/register", {"password": DEFAULT_PASSWORD, "password_confirm": DEFAULT_PASSWORD}),
        ("/confirm", {}),
    ],
    ids=["login", "reset", "register", "confirm"],
)
def test_no_account_enumeration(world: World, path: str, data: dict[str, str]) -> None:
    answers = []
    for address in ("owner@example.com", UNKNOWN):
        response = _post_form(world.app.test_client(), path, {**data, "email": address})
        answers.append((response.status_code, response.headers.get("Location")))
        answers.append(_visible(response.get_data(as_text=True)))  # type: ignore[arg-type]
    assert answers[0] == answers[2]
    assert answers[1] == answers[3]


@pytest.mark.parametrize(
    ("path", "data", "allowed"),
    [
        ("/login", {"email": "owner@example.com", "password": "wrong-password-1"}, 6),
        ("/reset", {"email": UNKNOWN}, 10),
        ("/register", {"email": UNKNOWN, "password": "short"}, 10),
    ],
    ids=["login", "reset", "register"],
)
def test_account_forms_are_rate_limited(
    world: World, path: str, data: dict[str, str], allowed: int
) -> None:
    client = world.app.test_client()
    token = token_in(client.get(path).get_data(as_text=True))
    codes = [
        client.post(path, data={**data, "csrf_token": token}).status_code for _ in range(allowed)
    ]
    assert 429 not in codes
    assert client.post(path, data={**data, "csrf_token": token}).status_code == 429


def test_community_posting_is_rate_limited(world: World) -> None:
    client = world.client("moderator")
    url = f"/community/t/{world.public_topic_id}/reply"
    token = token_in(client.get(url).get_data(as_text=True))
    codes = [
        client.post(url, data={"body": f"Reply number {n}", "csrf_token": token}).status_code
        for n in range(21)
    ]
    assert codes[-1] == 429 and 429 not in codes[:20], codes


def test_feedback_posting_is_rate_limited(world: World) -> None:
    client = world.client("customer_b")
    token = token_in(client.get("/feedback/new").get_data(as_text=True))
    data = {"kind": "question", "subject": "Hello", "message": "A question", "csrf_token": token}
    codes = [client.post("/feedback/new", data=data).status_code for _ in range(11)]
    assert codes[-1] == 429 and 429 not in codes[:10], codes


# --- mass assignment ----------------------------------------------------------------------


EXTRA_FIELDS = {
    "role": "admin",
    "roles": "admin",
    "id": "999",
    "user_id": "2",
    "customer_id": "2",
    "email": "taken-over@example.com",
    "active": "0",
    "fs_uniquifier": "x",
    "status": "delivered",
    "is_golden": "1",
}


def test_profile_ignores_extra_fields(world: World) -> None:
    from portal.accounts.models import User

    client = world.client("owner")
    data = {"name": "New Name", "timezone": "UTC", "country": "LV", **EXTRA_FIELDS}
    response = _post_form(client, "/account", data)
    assert response.status_code == 302
    with world.app.app_context():
        user = db.session.get(User, world.users["owner"])
        assert user.name == "New Name"
        assert user.role_names == {"customer"}
        assert user.email == "owner@example.com" and user.active
        assert user.fs_uniquifier == world.uniquifiers["owner"]


def test_feedback_form_ignores_extra_fields(world: World) -> None:
    from portal.feedback.models import FeedbackItem

    client = world.client("customer_b")
    data = {"kind": "question", "subject": "Mine", "message": "Text", **EXTRA_FIELDS}
    data["status"] = "resolved"
    assert _post_form(client, "/feedback/new", data).status_code == 302
    with world.app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.subject == "Mine"))
        assert item.user_id == world.users["customer_b"]
        assert item.status != "resolved"


@pytest.mark.parametrize("extra", ["user_id", "customer_id", "id", "number", "created_at"])
def test_api_put_ignores_or_refuses_extra_fields(world: World, extra: str) -> None:
    from portal.api.keys import create_key
    from portal.orders.models import Order

    with world.app.app_context():
        _key, secret = create_key("writer", ["orders:write"], created_by_id=None)
        db.session.commit()
    body = {
        "customer": {"email": world.emails["owner"], extra: world.users["customer_b"]},
        "currency": "EUR",
        "status": "placed",
        "items": [{"sku": "A", "name": "Thing", "quantity": 1, "unit_price_minor": 100}],
        extra: world.users["customer_b"],
    }
    response = world.app.test_client().put(
        "/api/v1/orders/SEC-API-1", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code in (200, 201, 422), response.get_data(as_text=True)
    with world.app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == "SEC-API-1"))
        assert order is None or order.user_id == world.users["owner"]


# --- link tokens ----------------------------------------------------------------------------


def _tampered(token: str) -> list[str]:
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    return [flipped, token + "x", token[:-5], "x" * len(token), "", "../" + token]


def test_survey_link_tampered_and_replayed(world: World) -> None:
    client = world.app.test_client()
    for bad in _tampered(world.survey_token):
        if bad:
            assert client.get(f"/s/{bad}").status_code in (404, 410), bad
    page = client.get(f"/s/{world.survey_token}")
    data = {f"q{world.question_id}": "First", "csrf_token": token_in(page.get_data(as_text=True))}
    assert client.post(f"/s/{world.survey_token}", data=data).status_code == 302
    before = row_count(world.app)
    again = client.post(f"/s/{world.survey_token}", data={**data, f"q{world.question_id}": "2nd"})
    assert again.status_code != 500
    assert row_count(world.app) == before


@pytest.mark.parametrize("kind", ["mail", "survey"])
def test_unsubscribe_links_tampered(world: World, kind: str) -> None:
    from portal.accounts.models import User
    from portal.jobs import unsubscribe
    from portal.jobs.models import UNSUBSCRIBE_KINDS
    from portal.surveys import sending

    with world.app.app_context():
        user = db.session.get(User, world.users["owner"])
        if kind == "mail":
            token = unsubscribe.make_token(user.id, sorted(UNSUBSCRIBE_KINDS)[0])
            prefix = "/unsubscribe/"
        else:
            token = sending.unsubscribe_token(user)
            prefix = "/surveys/unsubscribe/"
    client = world.app.test_client()
    assert client.get(prefix + token).status_code == 200
    for bad in _tampered(token):
        if bad:
            assert client.get(prefix + bad).status_code == 404, bad
            before = row_count(world.app)
            client.post(prefix + bad, data={"List-Unsubscribe": "One-Click"})
            assert row_count(world.app) == before


def _mailed_link(mailbox: Any, address: str, word: str) -> str:
    link = mailbox.link_in(mailbox.last_to(address), rf"https?://[^\s\"'<>]*/{word}/[^\s\"'<>]+")
    return "/" + link.split("/", 3)[3]


def test_reset_link_tampered_replayed_and_expired(world: World, mailbox: Any) -> None:
    client = world.app.test_client()
    _post_form(client, "/reset", {"email": world.emails["owner"]})
    path = _mailed_link(mailbox, world.emails["owner"], "reset")
    for bad in _tampered(path.rsplit("/", 1)[1]):
        response = client.get(f"/reset/{bad}")
        assert response.status_code in (302, 404), bad
    new = {"password": "another-horse-battery-9", "password_confirm": "another-horse-battery-9"}
    assert _post_form(client, path, new).status_code == 302
    replay = world.app.test_client().get(path)
    assert replay.status_code == 302 and "/reset/" not in replay.headers["Location"]
    # Every signed token is older than a negative lifetime: the link has expired.
    world.app.config["SECURITY_RESET_PASSWORD_WITHIN"] = timedelta(seconds=-1)
    try:
        _post_form(world.app.test_client(), "/reset", {"email": world.emails["owner"]})
        expired = _mailed_link(mailbox, world.emails["owner"], "reset")
        response = world.app.test_client().get(expired)
        assert response.status_code == 302 and "/reset/" not in response.headers["Location"]
    finally:
        world.app.config["SECURITY_RESET_PASSWORD_WITHIN"] = timedelta(days=1)


def test_confirm_link_tampered_and_replayed(world: World, mailbox: Any) -> None:
    from portal.accounts.models import User

    client = world.app.test_client()
    address = "new-person@example.com"
    data = {"email": address, "password": DEFAULT_PASSWORD, "password_confirm": DEFAULT_PASSWORD}
    _post_form(client, "/register", data)
    path = _mailed_link(mailbox, address, "confirm")
    for bad in _tampered(path.rsplit("/", 1)[1]):
        client.get(f"/confirm/{bad}")
    with world.app.app_context():
        user = db.session.scalar(select(User).where(User.email == address))
        assert user is not None and user.confirmed_at is None
    assert client.get(path).status_code == 302
    with world.app.app_context():
        confirmed = db.session.scalar(select(User.confirmed_at).where(User.email == address))
    assert confirmed is not None
    assert client.get(path).status_code in (200, 302)  # replay: nothing more happens
    with world.app.app_context():
        again = db.session.scalar(select(User.confirmed_at).where(User.email == address))
    assert again == confirmed


# --- uploads --------------------------------------------------------------------------------

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
POLYGLOT = b"GIF89a/*\x00\x00*/=1;<script>alert(1)</script>" + b"\x00" * 64
HTML = b"<html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize(
    ("data", "name", "accepted"),
    [
        (SVG, "image.svg", False),
        (SVG, "image.png", False),
        (HTML, "page.html", False),
        (HTML, "page.png", False),
        (b"MZ\x90\x00" + b"\x00" * 100, "tool.exe", False),
        (b"", "empty.png", False),
        (PNG, "../../../etc/passwd.png", True),
        (PNG, "..\\..\\windows\\win.ini", True),
        (PNG, "<img src=x onerror=alert(1)>.png", True),
        (POLYGLOT, "poly.gif.html", True),
    ],
    ids=[
        "svg",
        "svg-as-png",
        "html",
        "html-as-png",
        "exe",
        "empty",
        "path",
        "winpath",
        "xss-name",
        "polyglot",
    ],
)
def test_upload_tricks(world: World, data: bytes, name: str, accepted: bool) -> None:
    from portal.feedback.models import FeedbackAttachment

    client = world.client("customer_b")
    token = token_in(client.get("/feedback/new").get_data(as_text=True))
    form = {
        "kind": "question",
        "subject": "Upload",
        "message": "See the file",
        "csrf_token": token,
        "attachments": (io.BytesIO(data), name),
    }
    response = client.post("/feedback/new", data=form, content_type="multipart/form-data")
    with world.app.app_context():
        stored = db.session.scalars(
            select(FeedbackAttachment).where(FeedbackAttachment.id != world.attachment_id)
        ).all()
        files = [(a.id, a.filename, a.content_type) for a in stored]
    if not accepted:
        assert response.status_code in (400, 413, 422), response.status_code
        assert files == []
        return
    assert response.status_code == 302
    assert len(files) == 1
    _id, filename, content_type = files[0]
    assert "/" not in filename and "\\" not in filename and ".." not in filename
    assert "<" not in filename and content_type in ("image/png", "image/gif")
    detail = client.get(response.headers["Location"])
    link = re.search(r'href="(/feedback/[^"]+/attachments/\d+)"', detail.get_data(as_text=True))
    assert link
    served = client.get(link.group(1))
    assert served.headers["Content-Type"].startswith(content_type)
    assert served.headers.get("X-Content-Type-Options") == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_oversized_upload_refused(world: World) -> None:
    world.app.config["FEEDBACK_ATTACHMENT_MAX_BYTES"] = 1024
    try:
        client = world.client("customer_b")
        token = token_in(client.get("/feedback/new").get_data(as_text=True))
        form = {
            "kind": "question",
            "subject": "Big",
            "message": "Big file",
            "csrf_token": token,
            "attachments": (io.BytesIO(PNG + b"\x00" * 4096), "big.png"),
        }
        response = client.post("/feedback/new", data=form, content_type="multipart/form-data")
        assert response.status_code in (413, 422)
    finally:
        world.app.config["FEEDBACK_ATTACHMENT_MAX_BYTES"] = 5 * 1024 * 1024


def test_request_larger_than_the_limit_refused(world: World) -> None:
    client = world.client("customer_b")
    limit = world.app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/feedback/new",
        data=b"x" * (limit + 1),
        content_type="application/octet-stream",
    )
    assert response.status_code in (400, 413)

"""Attack-suite fixtures: one object of each kind owned by customer A / department Delivery.

Users get a password hash computed once per session (argon2 takes a fifth of a second), and
clients are signed in by writing the session cookie, so the suite stays fast; the tests that
exercise the sign-in form itself use the real form.
"""

from __future__ import annotations

import functools
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, union_all
from werkzeug.routing import Rule

from portal.extensions import db
from tests.conftest import DEFAULT_PASSWORD

#: A minimal valid PNG (1x1), accepted by the attachment checks.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)

#: Who requests: the roles of the access matrix.
ROLES = ("visitor", "owner", "customer_b", "agent_delivery", "agent_billing", "moderator")
ROLES += ("manager", "admin")

_HASH: dict[str, str] = {}


def rules_of(app: Flask, method: str) -> list[Rule]:
    """The portal's rules answering ``method`` (static files left out), in a stable order."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if method in (rule.methods or ()) and not rule.endpoint.endswith("static")
        ),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


@functools.cache
def route_map_app() -> Flask:
    """An app to read the route map from at collection time (same factory as the tests)."""
    from portal import create_app

    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def collected_rules(method: str) -> list[Rule]:
    return rules_of(route_map_app(), method)


@pytest.fixture(autouse=True)
def _fast_hashing(app: Flask) -> Iterator[None]:
    """Hash the shared test password once; every factory user reuses that hash."""
    from flask_security import hash_password

    if "hash" not in _HASH:
        with app.app_context():
            _HASH["hash"] = hash_password(DEFAULT_PASSWORD)
    with mock.patch("portal.accounts.services.hash_password", return_value=_HASH["hash"]):
        yield


@dataclass
class World:
    app: Flask
    users: dict[str, int] = field(default_factory=dict)
    uniquifiers: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    order_number: str = ""
    feedback_ref: str = ""
    attachment_id: int = 0
    survey_id: int = 0
    question_id: int = 0
    invitation_id: int = 0
    survey_token: str = ""
    staff_category_slug: str = "staff-room"
    staff_topic_id: int = 0
    staff_post_id: int = 0
    public_topic_id: int = 0
    public_post_id: int = 0
    api_key_id: int = 0
    api_secret: str = ""
    rule_id: int = 0
    message_id: int = 0

    def client(self, role: str) -> FlaskClient:
        """A new client signed in as ``role`` ("visitor" stays anonymous)."""
        client = self.app.test_client()
        if role != "visitor":
            with client.session_transaction() as session:
                session["_user_id"] = self.uniquifiers[role]
                session["_fresh"] = True
        return client

    def values_for(self, rule: Rule) -> dict[str, Any]:
        """URL values that point at the world's objects for ``rule``'s arguments."""
        by_name: dict[str, Any] = {
            "number": self.order_number,
            "reference": self.feedback_ref,
            "attachment_id": self.attachment_id,
            "survey_id": self.survey_id,
            "question_id": self.question_id,
            "invitation_id": self.invitation_id,
            "token": self.survey_token,
            "slug": self.staff_category_slug,
            "topic_id": self.staff_topic_id,
            "post_id": self.staff_post_id,
            "user_id": self.users["owner"],
            "key_id": self.api_key_id,
            "rule_id": self.rule_id,
            "message_id": self.message_id,
            "suspension_id": 1,
            "cause_id": 1,
            "block": "referrals",
            "locale": "lv",
            "kind": "birthday",
            "action": "assign",
            "code": "NOPE",
        }
        values = {name: by_name[name] for name in rule.arguments}
        if rule.endpoint == "community.topic" and "slug" in values:
            values["slug"] = "staff-notes"
        return values

    def url(self, rule: Rule) -> str:
        with self.app.test_request_context():
            from flask import url_for

            return url_for(rule.endpoint, **self.values_for(rule))


def _user(make_user: Any, world: World, role: str, roles: tuple[str, ...], **kw: Any) -> None:
    email = f"{role.replace('_', '-')}@example.com"
    world.users[role] = make_user(email, roles=roles, name=f"{role} person", **kw)
    world.emails[role] = email


@pytest.fixture
def world(app: Flask, make_user: Any) -> World:
    from portal.accounts.models import Department, User
    from portal.api.keys import create_key
    from portal.community import services as community
    from portal.community.models import Category, Topic
    from portal.core.db import utcnow
    from portal.extensions import security
    from portal.feedback import services as feedback
    from portal.feedback.attachments import CheckedUpload
    from portal.feedback.models import FeedbackAttachment, RoutingRule
    from portal.jobs.models import OutboxMessage
    from portal.orders.models import Order
    from portal.surveys import sending
    from portal.surveys import services as surveys

    found = World(app)
    _user(make_user, found, "owner", ("customer",))
    _user(make_user, found, "customer_b", ("customer",))
    _user(make_user, found, "agent_delivery", ("agent",), departments=("delivery",))
    _user(make_user, found, "agent_billing", ("agent",), departments=("billing",))
    _user(make_user, found, "moderator", ("moderator",))
    _user(make_user, found, "manager", ("manager",))
    _user(make_user, found, "admin", ("admin",))
    with app.app_context():
        for role, user_id in found.users.items():
            found.uniquifiers[role] = db.session.get(User, user_id).fs_uniquifier
        owner = db.session.get(User, found.users["owner"])
        admin = db.session.get(User, found.users["admin"])
        admin.tf_primary_method = "authenticator"
        admin.tf_totp_secret = security._totp_factory.generate_totp_secret()
        moderator = db.session.get(User, found.users["moderator"])

        order = Order(number="SEC-00001", user_id=owner.id, status="delivered", total_minor=2500)
        db.session.add(order)
        db.session.flush()
        found.order_number = order.number

        item = feedback.open_item(
            owner,
            "complaint",
            "Parcel late",
            "It never came.",
            order=order,
            uploads=[CheckedUpload("photo.png", "image/png", PNG)],
        )
        delivery = db.session.scalar(select(Department).where(Department.slug == "delivery"))
        item.department_id = delivery.id
        db.session.flush()
        found.feedback_ref = item.reference
        found.attachment_id = db.session.scalar(
            select(FeedbackAttachment.id).where(FeedbackAttachment.item_id == item.id)
        )
        rule = RoutingRule(name="Late parcels", keywords=["late"], department_id=delivery.id)
        db.session.add(rule)
        db.session.flush()
        found.rule_id = rule.id

        survey = surveys.create_survey(title="Survey", intro="Intro", thank_you="Thanks")
        question = surveys.add_question(survey, type="text", text="Why?", required=False)
        survey.status = "active"
        db.session.flush()
        found.survey_id = survey.id
        found.question_id = question.id
        found.survey_token = secrets.token_urlsafe(32)
        with mock.patch.object(sending, "new_token", return_value=found.survey_token):
            invitation = sending.invite(survey, owner, "send")
        assert invitation is not None
        found.invitation_id = invitation.id

        general = Category(slug="general", name="General", description="All", position=0)
        staff_room = Category(
            slug="staff-room", name="Staff room", description="Team", position=1, staff_only=True
        )
        db.session.add_all([general, staff_room])
        db.session.flush()
        for category, author, attr in (
            (staff_room, moderator, "staff"),
            (general, owner, "public"),
        ):
            topic = Topic(
                category=category,
                author_id=author.id,
                title="Staff notes" if attr == "staff" else "Public question",
                slug="staff-notes" if attr == "staff" else "public-question",
                state="new",
                last_position=0,
                reply_count=0,
                vote_count=0,
                revision=1,
                created_at=utcnow(),
                last_post_at=utcnow(),
            )
            db.session.add(topic)
            post = community._new_post(author, topic, "Internal note body", utcnow())
            db.session.flush()
            community.set_post_state(post, "visible")
            setattr(found, f"{attr}_topic_id", topic.id)
            setattr(found, f"{attr}_post_id", post.id)

        key, found.api_secret = create_key("security key", ["orders:read"], created_by_id=None)
        db.session.flush()
        found.api_key_id = key.id
        found.message_id = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        db.session.commit()
    assert found.message_id
    return found


def row_count(app: Flask) -> int:
    """Rows in every table of the schema: a write anywhere changes it."""
    with app.app_context():
        tables = list(db.metadata.sorted_tables)
        counts = union_all(*(select(func.count()).select_from(table) for table in tables))
        return sum(db.session.execute(counts).scalars())


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)

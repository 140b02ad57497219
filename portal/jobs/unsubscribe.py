"""Unsubscribe links: a signed token per recipient and kind, usable without signing in."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.core.urls import external_url
from portal.extensions import db
from portal.jobs.models import UNSUBSCRIBE_KINDS, MailUnsubscribe

_SALT = "portal-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_token(user_id: int, kind: str) -> str:
    if kind not in UNSUBSCRIBE_KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    return str(_serializer().dumps([user_id, kind]))


def read_token(token: str) -> tuple[int, str] | None:
    """The (user id, kind) a token stands for, or None when it is forged or garbled."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or value[1] not in UNSUBSCRIBE_KINDS
    ):
        return None
    return value[0], value[1]


def unsubscribe_url(user_id: int, kind: str) -> str:
    return external_url("jobs.unsubscribe", token=make_token(user_id, kind))


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 (one-click) headers."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def is_unsubscribed(user: User, kind: str) -> bool:
    if kind == "newsletter":
        # The consent is what counts: giving it again in the profile subscribes again.
        return not user.newsletter_consent
    return bool(unsubscribed_ids([user.id], kind))


def unsubscribed_ids(user_ids: Iterable[int], kind: str) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update(
            db.session.scalars(
                select(MailUnsubscribe.user_id).where(
                    MailUnsubscribe.kind == kind,
                    MailUnsubscribe.user_id.in_(ids[start : start + 500]),
                )
            )
        )
    return found


def unsubscribe(user: User, kind: str) -> bool:
    """Record that ``user`` wants no more ``kind`` mail. True when it changed anything.

    The newsletter one also withdraws the newsletter consent (with its time); giving the
    consent again in the profile subscribes again.
    """
    from portal.accounts.services import set_newsletter_consent

    changed = False
    if kind == "newsletter":
        changed = set_newsletter_consent(user, False)
        # Keep the latest time only: the row records when they last said no.
        existing = db.session.scalar(
            select(MailUnsubscribe).where(
                MailUnsubscribe.user_id == user.id, MailUnsubscribe.kind == kind
            )
        )
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(MailUnsubscribe(user_id=user.id, kind=kind))
    except IntegrityError:
        return changed
    return True

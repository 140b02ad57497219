"""Rendering: base layout in the recipient's language, headers, personal data hooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import delete_account, export_personal_data
from portal.extensions import db
from portal.jobs import outbox
from portal.jobs.models import OutboxMessage


def test_mail_is_rendered_in_the_recipients_language_with_the_base_layout(app, make_user, mailbox):
    user_id = make_user("arabic@example.com", locale="ar")
    with app.app_context():
        outbox.queue_mail(
            to="arabic@example.com",
            template="bulk_message",
            subject="Hello",
            context={"body": "First paragraph.\n\nSecond <b>paragraph</b>."},
            locale="ar",
            user_id=user_id,
            unsubscribe_kind="greetings",
        )
        db.session.commit()
        outbox.deliver_committed()
    message = mailbox.last_to("arabic@example.com")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    assert "Second &lt;b&gt;paragraph&lt;/b&gt;." in html  # escaped
    assert "/unsubscribe/" in html and "/unsubscribe/" in mailbox.text_of(message)
    assert message["Message-ID"].endswith("@portal.local>")


def test_transactional_mail_has_no_unsubscribe_link(app, make_user, mailbox):
    user_id = make_user("service@example.com")
    with app.app_context():
        outbox.queue_mail(
            to="service@example.com",
            template="bulk_message",
            subject="Your order",
            context={"body": "Shipped."},
            user_id=user_id,
        )
        db.session.commit()
        outbox.deliver_committed()
    message = mailbox.last_to("service@example.com")
    assert message["List-Unsubscribe"] is None
    assert "/unsubscribe/" not in mailbox.text_of(message)


def test_bulk_mail_needs_a_recipient_account(app):
    with app.app_context(), pytest.raises(ValueError):
        outbox.queue_mail(to="x@example.com", template="bulk_message", subject="x", bulk=True)


def test_registration_mail_goes_through_the_outbox(app, client, mailbox):
    from tests.conftest import csrf_from

    page = client.get("/register")
    client.post(
        "/register",
        data={
            "email": "newcomer@example.com",
            "password": "a-long-enough-secret-9",
            "password_confirm": "a-long-enough-secret-9",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    mailbox.last_to("newcomer@example.com")
    with app.app_context():
        row = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.to_address == "newcomer@example.com")
        )
        assert row is not None and row.status == "sent" and row.sent_at is not None


def test_export_and_erasure_cover_mail_and_notifications(app, make_user, mailbox):
    from portal.jobs.notifications import notify

    user_id = make_user("private@example.com")
    with app.app_context():
        outbox.queue_rendered(
            to="private@example.com", subject="Private", text="x", user_id=user_id
        )
        notify(user_id, kind="test", message="Something happened.")
        db.session.commit()
        outbox.deliver_committed()
        user = db.session.get(User, user_id)
        data = export_personal_data(user)
        assert data["mail"]["messages"][0]["subject"] == "Private"
        assert data["notifications"][0]["message"] == "Something happened."
        delete_account(user)
        db.session.commit()
        assert (
            db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == user_id)) is None
        )


def test_one_event_gives_a_notification_and_a_mail(app, client, logged_in, mailbox):
    from portal.jobs.notifications import notify_and_mail

    logged_in("both@example.com")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "both@example.com"))
        notify_and_mail(
            user,
            kind="test",
            message="Your request %(ref)s has a new reply.",
            data={"ref": "FB-1"},
            template="bulk_message",
            subject="New reply",
            context={"body": "There is a new reply to FB-1."},
        )
        db.session.rollback()  # a rolled-back event leaves neither
        notify_and_mail(
            user,
            kind="test",
            message="Your request %(ref)s has a new reply.",
            data={"ref": "FB-2"},
            template="bulk_message",
            subject="New reply",
            context={"body": "There is a new reply to FB-2."},
        )
        db.session.commit()
        outbox.deliver_committed()
    assert len(mailbox.to("both@example.com")) == 1
    assert "FB-2" in mailbox.text_of(mailbox.last_to("both@example.com"))
    page = client.get("/notifications").get_data(as_text=True)
    assert "FB-2" in page and "FB-1" not in page

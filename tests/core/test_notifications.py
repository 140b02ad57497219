"""In-portal notifications and the unread count in the header."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.security import figure_of_loaded_user
from portal.extensions import db
from portal.jobs.notifications import UNREAD_FIGURE, mark_all_read, notify, unread_count
from tests.conftest import csrf_from


def _badge(page: str) -> int:
    found = re.search(r'(\d+)<span class="visually-hidden"> unread', page)
    return int(found.group(1)) if found else 0


def test_notifications_show_count_and_can_be_marked_read(app, logged_in):
    client = logged_in("notified@example.com")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "notified@example.com"))
        notify(
            user.id,
            kind="test",
            message="Your request %(ref)s has a new reply.",
            data={"ref": "FB-2026-000001"},
            url="/feedback/FB-2026-000001",
        )
        db.session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert "Your request FB-2026-000001 has a new reply." in page
    assert '1<span class="visually-hidden"> unread' in page
    client.post("/notifications", data={"csrf_token": csrf_from(page)})
    assert 'visually-hidden"> unread' not in client.get("/notifications").get_data(as_text=True)


def test_notifications_need_login(client):
    assert client.get("/notifications").status_code == 302


def test_the_count_is_read_with_the_user_and_follows_changes(app, logged_in, count_queries):
    client = logged_in("counted-unread@example.com")
    with app.app_context():
        user_id = db.session.scalar(
            select(User.id).where(User.email == "counted-unread@example.com")
        )
        for ref in ("A", "B"):
            notify(user_id, kind="test", message="Reply to %(ref)s.", data={"ref": ref})
        db.session.commit()
    client.get("/account")
    with count_queries() as statements:
        page = client.get("/account").get_data(as_text=True)
    assert _badge(page) == 2
    assert not [s for s in statements if "FROM notification" in s and "roles_users" not in s]
    with app.app_context():
        notify(user_id, kind="test", message="Reply to %(ref)s.", data={"ref": "C"})
        db.session.commit()
    assert _badge(client.get("/account").get_data(as_text=True)) == 3


def test_a_change_within_the_request_is_counted_again(app, logged_in):
    client = logged_in("changed-unread@example.com")
    with app.app_context():
        user_id = db.session.scalar(
            select(User.id).where(User.email == "changed-unread@example.com")
        )
        notify(user_id, kind="test", message="Reply to %(ref)s.", data={"ref": "A"})
        db.session.commit()
    # The loader reads the figure with the user, then the request changes it.
    with client:
        client.get("/healthz")
        assert figure_of_loaded_user(UNREAD_FIGURE, user_id) == 1
        assert unread_count(user_id) == 1
        notify(user_id, kind="test", message="Reply to %(ref)s.", data={"ref": "B"})
        assert unread_count(user_id) == 2
        mark_all_read(user_id)
        assert unread_count(user_id) == 0
        db.session.rollback()


def test_another_users_count_is_not_the_loaded_one(app, logged_in, make_user):
    other_id = make_user("someone-else@example.com")
    client = logged_in("loaded-unread@example.com")
    with app.app_context():
        notify(other_id, kind="test", message="Reply to %(ref)s.", data={"ref": "X"})
        db.session.commit()
    with client:
        client.get("/healthz")
        assert figure_of_loaded_user(UNREAD_FIGURE, other_id) is None
        assert unread_count(other_id) == 1

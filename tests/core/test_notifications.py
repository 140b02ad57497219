"""In-portal notifications and the unread count in the header."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.jobs.notifications import notify
from tests.conftest import csrf_from


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

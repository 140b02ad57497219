"""/staff/outbox and /staff/mailings: guards, filters, counts, detail, re-send, query budget."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import bulk, outbox
from portal.jobs.models import OutboxMessage
from tests.conftest import csrf_from


def _messages(app, n, status="sent", to="someone@example.com"):
    with app.app_context():
        for i in range(n):
            message = outbox.queue_rendered(
                to=to, subject=f"Subject {status} {i}", text="Body", template="test"
            )
            message.status = status
            message.attempts = 6 if status == "failed" else 1
        db.session.info.pop("outbox_new_ids", None)
        db.session.commit()


def test_outbox_is_for_admins_only(app, client, logged_in):
    assert client.get("/staff/outbox/").status_code == 302  # visitors sign in first
    logged_in("manager@example.com", roles=("manager",))
    assert client.get("/staff/outbox/").status_code == 403
    assert client.get("/staff/mailings/").status_code == 200


def test_list_filters_by_status_with_counts_and_pages(app, admin_client):
    _messages(app, 3, "sent")
    _messages(app, 2, "failed")
    page = admin_client.get("/staff/outbox/?status=failed").get_data(as_text=True)
    assert "Subject failed 1" in page and "Subject sent 0" not in page
    assert 'Failed <span class="badge text-bg-light">2</span>' in page
    assert 'Sent <span class="badge text-bg-light">3</span>' in page
    assert admin_client.get("/staff/outbox/?status=bogus").status_code == 404
    _messages(app, 55, "pending")
    first = admin_client.get("/staff/outbox/").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = admin_client.get("/staff/outbox/?page=2").get_data(as_text=True)
    assert "Subject sent 0" in second


def test_list_query_count_does_not_grow_with_rows(app, admin_client, count_queries):
    _messages(app, 3)
    _, few = count_queries(lambda: admin_client.get("/staff/outbox/"))
    _messages(app, 40)
    response, many = count_queries(lambda: admin_client.get("/staff/outbox/"))
    assert response.status_code == 200
    assert few == many <= 12, (few, many)


def test_failed_message_can_be_sent_again(app, admin_client, mailbox):
    _messages(app, 1, "failed", to="again@example.com")
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    detail = admin_client.get(f"/staff/outbox/{message_id}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "Send again" in html
    # Without the form token nothing happens.
    assert admin_client.post(f"/staff/outbox/{message_id}/resend").status_code == 400
    assert mailbox.to("again@example.com") == []
    response = admin_client.post(
        f"/staff/outbox/{message_id}/resend", data={"csrf_token": csrf_from(html)}
    )
    assert response.status_code == 302
    assert len(mailbox.to("again@example.com")) == 1
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "sent" and message.attempts == 1
    # A second click on a sent message changes nothing.
    admin_client.post(f"/staff/outbox/{message_id}/resend", data={"csrf_token": csrf_from(html)})
    assert len(mailbox.to("again@example.com")) == 1


def test_unknown_message_is_404(admin_client):
    assert admin_client.get("/staff/outbox/999999").status_code == 404


def test_mailings_show_progress_within_a_query_budget(
    app, make_user, logged_in, client, count_queries
):
    ids = [make_user(f"p{i}@example.com", newsletter_consent=True) for i in range(3)]
    app.config.update(MAIL_RATE_PER_MINUTE=6, MAIL_BATCH_SECONDS=10)
    with app.app_context():
        for n in range(2):
            bulk.start_bulk("newsletter", ids, "bulk_message", f"Issue {n}", name=f"Issue {n}")
        db.session.commit()
        outbox.deliver_committed()
    app.config.update(MAIL_RATE_PER_MINUTE=600)
    logged_in("boss@example.com", roles=("manager",))
    response, queries = count_queries(lambda: client.get("/staff/mailings/"))
    html = response.get_data(as_text=True)
    assert "Issue 0" in html and "Issue 1" in html
    assert 'value="1"' in html and 'max="3"' in html  # one of three sent so far
    assert queries <= 10

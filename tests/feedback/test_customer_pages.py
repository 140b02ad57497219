"""The customer's pages: new, list, detail, reply, escalate, reopen, rate; ownership."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.feedback import services, settings
from portal.feedback.models import FeedbackItem
from tests.conftest import csrf_from, login
from tests.feedback.conftest import count_queries

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _new_form(client, query=""):
    html = client.get(f"/feedback/new{query}").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    return html, {"csrf_token": csrf_from(html), "submission": submission}


def _post_new(client, **fields):
    _html, hidden = _new_form(client)
    data = {"kind": "complaint", "subject": "Subject", "message": "Message", **hidden, **fields}
    return client.post("/feedback/new", data=data, content_type="multipart/form-data")


def _agent(app, email, slug="customer-care"):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_new_preselects_only_own_orders(app, logged_in, make_user, make_order, user_by_email):
    client = logged_in("own@example.com")
    stranger = make_user("stranger@example.com")
    with app.app_context():
        uid = user_by_email("own@example.com").id
    mine = make_order(uid)
    theirs = make_order(stranger)
    html, _ = _new_form(client, f"?order={mine}")
    assert re.search(rf'<option selected value="{mine}">|<option value="{mine}" selected', html)
    html, hidden = _new_form(client, f"?order={theirs}")
    assert f'value="{theirs}"' not in html
    # Posting someone else's order number is refused beside the field, input kept.
    response = client.post(
        "/feedback/new",
        data={
            "kind": "complaint",
            "subject": "Kept subject",
            "message": "m",
            "order": theirs,
            **hidden,
        },
    )
    assert response.status_code == 422
    assert "Kept subject" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FeedbackItem.id)) is None


def test_double_submit_creates_one_item(app, logged_in):
    client = logged_in("double@example.com")
    _html, hidden = _new_form(client)
    data = {"kind": "question", "subject": "Once", "message": "Only once", **hidden}
    first = client.post("/feedback/new", data=data)
    second = client.post("/feedback/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert len(db.session.scalars(select(FeedbackItem)).all()) == 1


def test_missing_fields_are_reported_and_input_is_kept(logged_in):
    client = logged_in("bad@example.com")
    response = _post_new(client, subject="", message="Typed text stays")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Typed text stays" in html
    assert 'id="subject-error"' in html


def test_list_detail_and_promise_in_the_viewers_time_zone(app, logged_in, open_for):
    client = logged_in("riga@example.com", timezone="Europe/Riga")
    with freeze_time(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        reference = open_for("riga@example.com", kind="question", subject="Opening hours")
    listing = client.get("/feedback").get_data(as_text=True)
    assert reference in listing and "Opening hours" in listing
    detail = client.get(f"/feedback/{reference}").get_data(as_text=True)
    # Due 24 h later at 09:00 UTC, which is 11:00 in Riga.
    assert "We will answer by" in detail
    assert "11:00" in detail


def test_list_query_count_does_not_grow_with_items(
    app, logged_in, open_for, make_order, user_by_email
):
    client = logged_in("many@example.com")
    with app.app_context():
        uid = user_by_email("many@example.com").id
    open_for("many@example.com", order_number=make_order(uid))
    client.get("/feedback")
    with count_queries(app) as few:
        client.get("/feedback")
    for _ in range(6):
        open_for("many@example.com", order_number=make_order(uid))
    with count_queries(app) as many:
        assert client.get("/feedback").status_code == 200
    assert len(many) == len(few)
    # The user, the items with their orders' numbers, the unread notifications (and the
    # test's savepoint and its release).
    assert len(many) <= 5, many


def test_another_customer_gets_404_on_item_and_attachment(app, client, make_user, user_by_email):
    make_user("alice@example.com")
    make_user("bob@example.com")
    login(client, "alice@example.com")
    response = _post_new(client, attachments=[(__import__("io").BytesIO(PNG), "photo.png")])
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem))
        reference, attachment_id = item.reference, item.attachments[0].id
    assert client.get(f"/feedback/{reference}/attachments/{attachment_id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "bob@example.com")
    assert client.get(f"/feedback/{reference}").status_code == 404
    assert client.get(f"/feedback/{reference}/attachments/{attachment_id}").status_code == 404
    assert client.get("/feedback/FB-2026-999999").status_code == 404
    page = client.get("/feedback/new").get_data(as_text=True)
    token = csrf_from(page)
    assert (
        client.post(
            f"/feedback/{reference}/reply", data={"csrf_token": token, "body": "x"}
        ).status_code
        == 404
    )
    assert reference not in client.get("/feedback").get_data(as_text=True)


def test_internal_notes_never_reach_the_customer(
    app, logged_in, make_user, open_for, user_by_email
):
    client = logged_in("notes@example.com")
    make_user("noter@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("notes@example.com")
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        agent = user_by_email("noter@example.com")
        services.staff_reply(item, agent, "Customer seems upset, offer a voucher", internal=True)
        services.staff_reply(item, agent, "We are on it.")
        db.session.commit()
    html = client.get(f"/feedback/{reference}").get_data(as_text=True)
    assert "We are on it." in html
    assert "offer a voucher" not in html
    export = client.post(
        "/account/data/export",
        data={"csrf_token": csrf_from(client.get("/account/data").get_data(as_text=True))},
    ).get_data(as_text=True)
    assert reference in export and "offer a voucher" not in export


def test_customer_reply_resumes_the_paused_clock(
    app, logged_in, make_user, open_for, user_by_email
):
    client = logged_in("resume@example.com")
    make_user("asker-agent@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("resume@example.com")
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        services.staff_reply(item, user_by_email("asker-agent@example.com"), "A photo?", wait=True)
        db.session.commit()
    page = client.get(f"/feedback/{reference}").get_data(as_text=True)
    assert "clock is paused" in page
    response = client.post(
        f"/feedback/{reference}/reply", data={"csrf_token": csrf_from(page), "body": "Here it is"}
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        assert item.status == "in_progress" and item.paused_since is None
        assert item.next_due_at is not None


def test_escalate_once_when_the_promise_is_broken(app, logged_in, open_for, mailbox):
    client = logged_in("escalate@example.com")
    with app.app_context():
        settings.departments()[0]
        from portal.accounts.models import Department

        care = db.session.scalar(select(Department).where(Department.slug == "customer-care"))
        care.manager_email = "care-boss@example.com"
        db.session.commit()
    opened = datetime.now(UTC) - timedelta(hours=25)
    with freeze_time(opened):
        reference = open_for("escalate@example.com", kind="question")
    page = client.get(f"/feedback/{reference}").get_data(as_text=True)
    assert "escalate" in page.lower()
    token = csrf_from(page)
    assert (
        client.post(f"/feedback/{reference}/escalate", data={"csrf_token": token}).status_code
        == 302
    )
    assert (
        client.post(f"/feedback/{reference}/escalate", data={"csrf_token": token}).status_code
        == 409
    )
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        assert item.escalated_at is not None and item.priority == "urgent"
    assert reference in str(mailbox.last_to("care-boss@example.com")["Subject"])


def test_no_escalation_before_the_promise_is_broken(logged_in, open_for):
    client = logged_in("early@example.com")
    reference = open_for("early@example.com")
    page = client.get(f"/feedback/{reference}").get_data(as_text=True)
    assert (
        client.post(
            f"/feedback/{reference}/escalate", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 409
    )


def test_resolution_mail_asks_for_a_rating_and_the_page_records_it_once(
    app, logged_in, make_user, open_for, user_by_email, mailbox
):
    client = logged_in("rating@example.com")
    make_user("resolver@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("rating@example.com")
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        services.resolve(
            item,
            user_by_email("resolver@example.com"),
            root_cause=settings.root_causes()[0],
            what_went_wrong="w",
            how_resolved="We sent a new one.",
            prevention="p",
        )
        db.session.commit()
        from portal.jobs.outbox import deliver_committed

        deliver_committed()
    # The resolution mail asks for a rating (the handling survey invitation follows it).
    resolution = next(m for m in mailbox.to("rating@example.com") if "#rate" in mailbox.text_of(m))
    link = mailbox.link_in(resolution, r"https?://\S+#rate")
    assert link.endswith(f"/feedback/{reference}#rate")
    page = client.get(f"/feedback/{reference}").get_data(as_text=True)
    assert "We sent a new one." in page
    token = csrf_from(page)
    bad = client.post(f"/feedback/{reference}/rate", data={"csrf_token": token, "rating": "9"})
    assert bad.status_code == 422
    ok = client.post(
        f"/feedback/{reference}/rate", data={"csrf_token": token, "rating": "4", "comment": "Good"}
    )
    assert ok.status_code == 302
    assert "You rated our handling 4 of 5" in client.get(f"/feedback/{reference}").get_data(
        as_text=True
    )
    # Reopen within the window.
    reopen = client.post(
        f"/feedback/{reference}/reopen", data={"csrf_token": token, "reason": "Broken again"}
    )
    assert reopen.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))
        assert item.status == "in_progress" and item.rating == 4


def test_feedback_creation_is_rate_limited_per_user(app, logged_in):
    previous = app.config.get("FEEDBACK_RATE_LIMIT")
    app.config["FEEDBACK_RATE_LIMIT"] = "2 per hour"
    try:
        client = logged_in("flood@example.com")
        assert _post_new(client).status_code == 302
        assert _post_new(client).status_code == 302
        assert _post_new(client).status_code == 429
    finally:
        app.config["FEEDBACK_RATE_LIMIT"] = previous


def test_pages_need_login(client):
    assert client.get("/feedback").status_code == 302
    assert client.get("/feedback/new").status_code == 302


def test_deleting_the_account_erases_items_and_files(app, logged_in):
    from pathlib import Path

    client = logged_in("erase@example.com")
    response = _post_new(client, attachments=[(__import__("io").BytesIO(PNG), "photo.png")])
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem))
        stored = Path(app.config["INSTANCE_DIR"]) / "attachments" / item.attachments[0].stored_name
        assert stored.exists()
        from portal.accounts.services import delete_account

        delete_account(db.session.scalar(select(User).where(User.email == "erase@example.com")))
        db.session.commit()
        assert db.session.scalar(select(FeedbackItem.id)) is None
    assert not stored.exists()


def test_home_page_lists_open_requests(logged_in, open_for):
    client = logged_in("home@example.com")
    assert "Nothing open" in client.get("/").get_data(as_text=True)
    reference = open_for("home@example.com", subject="Lost parcel")
    home = client.get("/").get_data(as_text=True)
    assert reference in home and "Lost parcel" in home


def test_double_submitted_reply_is_posted_once(app, logged_in, open_for):
    client = logged_in("twice@example.com")
    reference = open_for("twice@example.com")
    page = client.get(f"/feedback/{reference}").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_from(page), "body": "Only once, please", "submission": submission}
    assert client.post(f"/feedback/{reference}/reply", data=data).status_code == 302
    assert client.post(f"/feedback/{reference}/reply", data=data).status_code == 302
    assert (
        client.get(f"/feedback/{reference}").get_data(as_text=True).count("Only once, please") == 1
    )


def test_list_rows_show_each_items_own_cells_escaped(
    app, logged_in, make_user, open_for, make_order, user_by_email, item_by_ref
):
    """The list's cells are worked out in the view: each row keeps its own item's link,
    subject (escaped), kind and status labels, badge and order number, or a dash when the
    item names no order or its order is gone; nothing of another customer's items."""
    from portal.orders.models import Order

    client = logged_in("rows@example.com")
    with app.app_context():
        uid = user_by_email("rows@example.com").id
    number = make_order(uid, number="ORD-<1>")
    gone = make_order(uid, number="GONE-1")
    with freeze_time(datetime(2026, 3, 1, 9, 0, tzinfo=UTC)):
        plain = open_for("rows@example.com", kind="question", subject="Tom & <Jerry>")
    with freeze_time(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        linked = open_for("rows@example.com", kind="compliment", order_number=number)
    with freeze_time(datetime(2026, 3, 3, 9, 0, tzinfo=UTC)):
        orphan = open_for("rows@example.com", kind="suggestion", order_number=gone)
    make_user("someone-else@example.com")
    theirs = open_for("someone-else@example.com", subject="Not yours")
    with app.app_context():
        item = item_by_ref(linked)
        services.set_status(item, "waiting_on_customer", None, item.created_at)
        db.session.delete(db.session.scalar(select(Order).where(Order.number == gone)))
        db.session.commit()
    body = client.get("/feedback").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td><a href=(.*?)</tr>", body, re.S)
    assert len(rows) == 3, rows
    newest, middle, oldest = rows
    assert f'"/feedback/{orphan}">{orphan}</a>' in newest
    assert "<td>Suggestion</td>\n    <td>—</td>" in newest
    assert f'"/feedback/{linked}">{linked}</a>' in middle
    assert "<td>Compliment</td>\n    <td>ORD-&lt;1&gt;</td>" in middle
    assert 'text-bg-warning">Waiting on you</span>' in middle
    assert f'"/feedback/{plain}">{plain}</a>' in oldest
    assert "<td>Tom &amp; &lt;Jerry&gt;</td>" in oldest and "<Jerry>" not in body
    assert "<td>Question</td>\n    <td>—</td>" in oldest
    assert 'text-bg-primary">New</span>' in oldest
    assert '<time datetime="2026-03-01T09:00:00+00:00">' in oldest
    assert theirs not in body and "Not yours" not in body

"""Staff pages: the queue, one item, access by department, manager settings."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import select

from portal.accounts.models import Department
from portal.extensions import db
from portal.feedback import services, settings
from portal.feedback.models import FeedbackEvent, FeedbackItem, RoutingRule, SlaTarget
from portal.jobs.models import Notification
from tests.conftest import csrf_from, login
from tests.feedback.conftest import count_queries

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _dept(slug):
    return db.session.scalar(select(Department).where(Department.slug == slug))


def _delivery_rule(app):
    with app.app_context():
        settings.create_rule(
            {
                "name": "Parcels",
                "keywords": "parcel",
                "department_id": _dept("delivery").id,
                "priority": "high",
            }
        )
        db.session.commit()


def _item(app, reference):
    return db.session.scalar(select(FeedbackItem).where(FeedbackItem.reference == reference))


def test_agents_see_only_their_departments(app, client, make_user, open_for):
    make_user("cust1@example.com")
    make_user("billing-agent@example.com", roles=("agent",), departments=("billing",))
    make_user("delivery-agent@example.com", roles=("agent",), departments=("delivery",))
    make_user("boss@example.com", roles=("manager",))
    _delivery_rule(app)
    reference = open_for("cust1@example.com", subject="Parcel lost")
    with app.app_context():
        item = _item(app, reference)
        from portal.feedback.models import FeedbackAttachment

        item.attachments.append(
            FeedbackAttachment(
                stored_name="0" * 32, filename="x.png", content_type="image/png", size=1
            )
        )
        db.session.commit()
        attachment_id = item.attachments[0].id
    login(client, "billing-agent@example.com")
    assert client.get(f"/staff/feedback/{reference}").status_code == 404
    assert client.get(f"/staff/feedback/{reference}/attachments/{attachment_id}").status_code == 404
    token = csrf_from(client.get("/staff/feedback").get_data(as_text=True))
    response = client.post(
        f"/staff/feedback/{reference}/reply", data={"csrf_token": token, "reply-body": "hi"}
    )
    assert response.status_code == 404
    assert reference not in client.get("/staff/feedback").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    login(client, "delivery-agent@example.com")
    assert client.get(f"/staff/feedback/{reference}").status_code == 200
    assert reference in client.get("/staff/feedback").get_data(as_text=True)
    client.post(
        "/logout",
        data={"csrf_token": csrf_from(client.get("/staff/feedback").get_data(as_text=True))},
    )
    login(client, "boss@example.com")
    assert client.get(f"/staff/feedback/{reference}").status_code == 200


def test_customers_cannot_enter_staff_pages_and_agents_cannot_manage(logged_in, client, make_user):
    logged_in("plain@example.com")
    assert client.get("/staff/feedback").status_code == 403
    assert client.get("/staff/routing").status_code == 403
    make_user("agent-only@example.com", roles=("agent",), departments=("billing",))
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "agent-only@example.com")
    assert client.get("/staff/feedback").status_code == 200
    assert client.get("/staff/routing").status_code == 403
    assert client.get("/staff/departments").status_code == 403


def test_queue_query_count_does_not_grow_and_filters_work(app, logged_in, make_user, open_for):
    client = logged_in("queue-boss@example.com", roles=("manager",))
    for n in range(2):
        make_user(f"q{n}@example.com")
    now = datetime.now(UTC)
    with freeze_time(now - timedelta(hours=30)):
        late = open_for("q0@example.com", kind="question", subject="Old question")
    fresh = open_for("q1@example.com", kind="suggestion", subject="New idea")
    client.get("/staff/feedback")
    with count_queries(app) as few:
        page = client.get("/staff/feedback").get_data(as_text=True)
    assert late in page and fresh in page
    # The late item comes first (sorted by due time).
    assert page.index(late) < page.index(fresh)
    for n in range(8):
        open_for(f"q{n % 2}@example.com", subject=f"More {n}")
    with count_queries(app) as many:
        assert client.get("/staff/feedback").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 12
    breached = client.get("/staff/feedback?sla=breached").get_data(as_text=True)
    assert late in breached and fresh not in breached
    on_time = client.get("/staff/feedback?sla=on_time").get_data(as_text=True)
    assert fresh in on_time and late not in on_time
    kinds = client.get("/staff/feedback?kind=suggestion").get_data(as_text=True)
    assert fresh in kinds and late not in kinds
    assert late not in client.get("/staff/feedback?mine=1").get_data(as_text=True)


def test_queue_is_paginated(app, logged_in, make_user, open_for):
    client = logged_in("pager@example.com", roles=("manager",))
    make_user("pc@example.com")
    for n in range(27):
        open_for("pc@example.com", subject=f"Item {n}")
    first = client.get("/staff/feedback").get_data(as_text=True)
    assert "1 / 2" in first
    assert "page=2" in first
    second = client.get("/staff/feedback?page=2").get_data(as_text=True)
    assert len(re.findall(r'name="items" value="\d+"', second)) == 2


def test_bulk_assign(app, logged_in, make_user, open_for):
    client = logged_in("bulk-boss@example.com", roles=("manager",))
    make_user("bc@example.com")
    helper = make_user("helper@example.com", roles=("agent",), departments=("customer-care",))
    refs = [open_for("bc@example.com", subject=f"B{n}") for n in range(3)]
    page = client.get("/staff/feedback").get_data(as_text=True)
    with app.app_context():
        ids = [str(_item(app, ref).id) for ref in refs[:2]]
    response = client.post(
        "/staff/feedback/bulk-assign",
        data={"csrf_token": csrf_from(page), "assignee": str(helper), "items": ids},
    )
    assert response.status_code == 302
    with app.app_context():
        items = [_item(app, ref) for ref in refs]
        assert [i.assignee_id for i in items] == [helper, helper, None]
        assert [i.status for i in items] == ["assigned", "assigned", "new"]
    mine = client.get("/staff/feedback?assignee=" + str(helper)).get_data(as_text=True)
    foreign = client.post(
        "/staff/feedback/bulk-assign",
        data={"csrf_token": csrf_from(page), "assignee": "", "back": "https://evil.example/"},
    )
    assert "evil" not in foreign.headers["Location"]
    assert refs[0] in mine and refs[2] not in mine


def test_staff_reply_reaches_the_customer_by_mail_and_notification(
    app, client, make_user, open_for, mailbox
):
    make_user("replied@example.com")
    make_user("care-agent@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("replied@example.com", kind="question", subject="Sizes")
    login(client, "care-agent@example.com")
    page = client.get(f"/staff/feedback/{reference}").get_data(as_text=True)
    assert "Sizes" in page
    token = csrf_from(page)
    note = client.post(
        f"/staff/feedback/{reference}/reply",
        data={"csrf_token": token, "reply-body": "VIP, be kind", "reply-internal": "y"},
    )
    assert note.status_code == 302
    assert not mailbox.to("replied@example.com")
    answer = client.post(
        f"/staff/feedback/{reference}/reply",
        data={"csrf_token": token, "reply-body": "We have size 44 again."},
    )
    assert answer.status_code == 302
    text = mailbox.text_of(mailbox.last_to("replied@example.com"))
    assert "We have size 44 again." in text and "VIP" not in text
    with app.app_context():
        item = _item(app, reference)
        assert item.status == "in_progress" and item.first_response_at is not None
        assert item.assignee.email == "care-agent@example.com"
        notice = db.session.scalar(select(Notification).where(Notification.user_id == item.user_id))
        assert notice.url == f"/feedback/{reference}"


def test_resolving_needs_three_answers_and_nothing_is_half_written(
    app, client, make_user, open_for
):
    make_user("res@example.com")
    make_user("res-agent@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("res@example.com")
    login(client, "res-agent@example.com")
    page = client.get(f"/staff/feedback/{reference}").get_data(as_text=True)
    token = csrf_from(page)
    with app.app_context():
        cause_id = settings.root_causes()[0].id
    incomplete = client.post(
        f"/staff/feedback/{reference}/resolve",
        data={
            "csrf_token": token,
            "resolve-root_cause": str(cause_id),
            "resolve-what_went_wrong": "Box crushed",
            "resolve-how_resolved": "",
            "resolve-prevention": "",
        },
    )
    assert incomplete.status_code == 422
    assert "Box crushed" in incomplete.get_data(as_text=True)
    with app.app_context():
        item = _item(app, reference)
        assert item.status == "new" and item.what_went_wrong is None
    done = client.post(
        f"/staff/feedback/{reference}/resolve",
        data={
            "csrf_token": token,
            "resolve-root_cause": str(cause_id),
            "resolve-what_went_wrong": "Box crushed",
            "resolve-how_resolved": "New mug sent",
            "resolve-prevention": "Double boxing",
        },
    )
    assert done.status_code == 302
    with app.app_context():
        item = _item(app, reference)
        assert item.status == "resolved" and item.root_cause_id == cause_id


def test_status_flow_only_offers_allowed_moves(app, client, make_user, open_for):
    make_user("flow@example.com")
    make_user("flow-agent@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("flow@example.com")
    login(client, "flow-agent@example.com")
    token = csrf_from(client.get(f"/staff/feedback/{reference}").get_data(as_text=True))
    bad = client.post(
        f"/staff/feedback/{reference}/status", data={"csrf_token": token, "status-status": "closed"}
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/staff/feedback/{reference}/status",
        data={"csrf_token": token, "status-status": "in_progress"},
    )
    assert ok.status_code == 302
    with app.app_context():
        assert _item(app, reference).status == "in_progress"


def test_reroute_with_reason_and_the_suggestion_shows(app, client, make_user, open_for):
    make_user("rr@example.com")
    make_user("rr-agent@example.com", roles=("agent",), departments=("customer-care",))
    for n in range(3):
        open_for("rr@example.com", subject=f"Invoice wrong {n}", message="refund my invoice")
    with app.app_context():
        billing = _dept("billing")
        for item in db.session.scalars(select(FeedbackItem)).all():
            services.reroute(item, billing, item.user, "Invoice questions belong to Billing")
        db.session.commit()
        billing_id = billing.id
    sizes = open_for("rr@example.com", subject="Sizes", message="Do you have size 44?")
    with app.app_context():
        services.set_status(_item(app, sizes), "in_progress", None, datetime.now(UTC))
        db.session.commit()
    reference = open_for("rr@example.com", subject="Invoice wrong again", message="refund please")
    login(client, "rr-agent@example.com")
    page = client.get(f"/staff/feedback/{reference}").get_data(as_text=True)
    assert "Suggested department: Billing (confidence" in page
    token = csrf_from(page)
    missing = client.post(
        f"/staff/feedback/{reference}/reroute",
        data={"csrf_token": token, "reroute-department": str(billing_id), "reroute-reason": ""},
    )
    assert missing.status_code == 422
    moved = client.post(
        f"/staff/feedback/{reference}/reroute",
        data={
            "csrf_token": token,
            "reroute-department": str(billing_id),
            "reroute-reason": "Invoice",
        },
    )
    # The agent is not in Billing, so they go back to the queue.
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/staff/feedback")
    with app.app_context():
        item = _item(app, reference)
        assert item.department_id == billing_id
        event = db.session.scalar(
            select(FeedbackEvent).where(
                FeedbackEvent.item_id == item.id, FeedbackEvent.action == "rerouted"
            )
        )
        assert event.reason == "Invoice" and event.actor.email == "rr-agent@example.com"
    assert client.get(f"/staff/feedback/{reference}").status_code == 404


def test_staff_see_attachments(app, client, make_user):
    make_user("att@example.com")
    make_user("att-agent@example.com", roles=("agent",), departments=("customer-care",))
    login(client, "att@example.com")
    html = client.get("/feedback/new").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            "submission": submission,
            "kind": "question",
            "subject": "Look",
            "message": "Photo",
            "attachments": [(io.BytesIO(PNG), "a.png")],
        },
        content_type="multipart/form-data",
    )
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem))
        reference, attachment_id = item.reference, item.attachments[0].id
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "att-agent@example.com")
    response = client.get(f"/staff/feedback/{reference}/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == PNG


def test_manager_manages_rules_and_tests_a_sample(app, logged_in):
    client = logged_in("rules-boss@example.com", roles=("manager",))
    page = client.get("/staff/routing/new").get_data(as_text=True)
    with app.app_context():
        delivery, billing = _dept("delivery").id, _dept("billing").id
    token = csrf_from(page)
    for name, keywords, department in (
        ("Parcels", "parcel, damaged", delivery),
        ("Money", "refund", billing),
    ):
        response = client.post(
            "/staff/routing/new",
            data={
                "csrf_token": token,
                "name": name,
                "keywords": keywords,
                "department_id": str(department),
                "priority": "high",
                "enabled": "y",
            },
        )
        assert response.status_code == 302
    bad = client.post("/staff/routing/new", data={"csrf_token": token, "name": "", "priority": "x"})
    assert bad.status_code == 422
    with app.app_context():
        parcels, money = settings.rules()
        parcels_id, money_id = parcels.id, money.id
        assert parcels.keywords == ["parcel", "damaged"]
    result = client.get(
        "/staff/routing?kind=complaint&message=refund+for+the+damaged+parcel&language=en"
    ).get_data(as_text=True)
    assert "This sample hits rule “Parcels”" in result
    assert (
        client.post(f"/staff/routing/{money_id}/up", data={"csrf_token": token}).status_code == 302
    )
    result = client.get(
        "/staff/routing?kind=complaint&message=refund+for+the+damaged+parcel&language=en"
    ).get_data(as_text=True)
    assert "This sample hits rule “Money”" in result
    single = client.get(
        f"/staff/routing?rule={parcels_id}&kind=question&message=hello&language=en"
    ).get_data(as_text=True)
    assert "Rule “Parcels” does not match this sample." in single
    client.post(f"/staff/routing/{money_id}/toggle", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(RoutingRule, money_id).enabled is False
    edit = client.post(
        f"/staff/routing/{parcels_id}",
        data={
            "csrf_token": token,
            "name": "Parcels and couriers",
            "keywords": "courier",
            "department_id": str(delivery),
            "priority": "urgent",
            "enabled": "y",
        },
    )
    assert edit.status_code == 302
    client.post(f"/staff/routing/{money_id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert [r.name for r in settings.rules()] == ["Parcels and couriers"]


def test_manager_edits_department_targets(app, logged_in, make_user, open_for):
    client = logged_in("targets-boss@example.com", roles=("manager",))
    page = client.get("/staff/departments").get_data(as_text=True)
    with app.app_context():
        care = _dept("customer-care").id
    data = {
        "csrf_token": csrf_from(page),
        f"d{care}-manager_email": "care@example.com",
        f"d{care}-submit": "Save",
    }
    for priority, (first, resolution) in {
        "low": (48, 96),
        "normal": (12, 48),
        "high": (6, 24),
        "urgent": (2, 8),
    }.items():
        data[f"d{care}-{priority}_first"] = str(first)
        data[f"d{care}-{priority}_resolution"] = str(resolution)
    assert client.post("/staff/departments", data=data).status_code == 302
    with app.app_context():
        target = db.session.scalar(
            select(SlaTarget).where(SlaTarget.department_id == care, SlaTarget.priority == "normal")
        )
        assert (target.first_response_hours, target.resolution_hours) == (12, 48)
        assert _dept("customer-care").manager_email == "care@example.com"
    make_user("target-cust@example.com")
    now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    with freeze_time(now):
        reference = open_for("target-cust@example.com", kind="question")
    with app.app_context():
        assert _item(app, reference).first_response_due_at == now + timedelta(hours=12)
    data[f"d{care}-normal_first"] = "0"
    assert client.post("/staff/departments", data=data).status_code == 422


def test_assignee_must_work_for_the_department_and_staff_can_reopen(
    app, client, make_user, open_for
):
    make_user("as@example.com")
    make_user("care-lead@example.com", roles=("agent",), departments=("customer-care",))
    outsider = make_user("billing-only@example.com", roles=("agent",), departments=("billing",))
    colleague = make_user("care-two@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("as@example.com")
    login(client, "care-lead@example.com")
    token = csrf_from(client.get(f"/staff/feedback/{reference}").get_data(as_text=True))
    refused = client.post(
        f"/staff/feedback/{reference}/assign",
        data={"csrf_token": token, "assign-assignee": str(outsider)},
    )
    assert refused.status_code == 422
    ok = client.post(
        f"/staff/feedback/{reference}/assign",
        data={"csrf_token": token, "assign-assignee": str(colleague)},
    )
    assert ok.status_code == 302
    with app.app_context():
        item = _item(app, reference)
        assert item.assignee_id == colleague and item.status == "assigned"
        services.resolve(
            item,
            item.assignee,
            root_cause=settings.root_causes()[0],
            what_went_wrong="w",
            how_resolved="h",
            prevention="p",
        )
        db.session.commit()
    back = client.post(
        f"/staff/feedback/{reference}/status",
        data={"csrf_token": token, "status-status": "in_progress"},
    )
    assert back.status_code == 302
    with app.app_context():
        item = _item(app, reference)
        assert item.status == "in_progress" and item.resolved_at is None
        assert item.next_due_at == item.resolution_due_at


def test_double_submitted_staff_reply_mails_once(app, client, make_user, open_for, mailbox):
    make_user("once@example.com")
    make_user("once-agent@example.com", roles=("agent",), departments=("customer-care",))
    reference = open_for("once@example.com")
    login(client, "once-agent@example.com")
    page = client.get(f"/staff/feedback/{reference}").get_data(as_text=True)
    submission = re.search(r'name="reply-submission" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_from(page), "reply-body": "Done", "reply-submission": submission}
    for _ in range(2):
        assert client.post(f"/staff/feedback/{reference}/reply", data=data).status_code == 302
    assert len(mailbox.to("once@example.com")) == 1

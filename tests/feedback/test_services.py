"""Feedback services against the database, with the clock frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from portal.accounts.models import Department
from portal.extensions import db
from portal.feedback import services, settings
from portal.feedback.models import FeedbackCounter, FeedbackEvent, RootCause
from portal.jobs.models import Notification
from portal.jobs.outbox import deliver_committed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _department(slug):
    return db.session.scalar(select(Department).where(Department.slug == slug))


def _rule(**data):
    defaults = {"name": "Parcels", "kinds": [], "keywords": "", "priority": "normal"}
    defaults.update(data)
    defaults["department_id"] = _department(defaults.pop("department", "delivery")).id
    return settings.create_rule(defaults)


def _commit_and_send():
    db.session.commit()
    deliver_committed()


def _resolve(item, actor):
    services.resolve(
        item,
        actor,
        root_cause=settings.root_causes()[0],
        what_went_wrong="Box crushed",
        how_resolved="Sent a new mug",
        prevention="Better packaging",
    )


def test_references_count_per_year_and_are_not_the_primary_key(app, make_user, user_by_email):
    make_user("ref@example.com")
    with app.app_context():
        user = user_by_email("ref@example.com")
        with freeze_time(T0):
            first = services.open_item(user, "question", "One", "?")
            second = services.open_item(user, "question", "Two", "?")
        with freeze_time(datetime(2027, 1, 1, tzinfo=UTC)):
            third = services.open_item(user, "question", "Three", "?")
        number = int(first.reference.rsplit("-", 1)[1])
        assert first.reference == f"FB-2026-{number:06d}"
        assert second.reference == f"FB-2026-{number + 1:06d}"
        assert third.reference == "FB-2027-000001"
        assert db.session.get(FeedbackCounter, 2027).last_value == 1


def test_golden_customer_damaged_parcel_goes_to_delivery_one_priority_higher(
    app, make_user, user_by_email, set_value
):
    uid = make_user("gold@example.com")
    set_value(uid, is_golden=True, order_count=5, stage="commitment")
    with app.app_context():
        _rule(keywords="damaged, parcel", priority="normal")
        with freeze_time(T0):
            item = services.open_item(
                user_by_email("gold@example.com"),
                "complaint",
                "Parcel damaged",
                "The box is broken",
            )
        assert item.department.slug == "delivery"
        assert item.priority == "high"
        # High in Delivery: 8 hours to the first answer, a day to resolve.
        assert item.first_response_due_at == T0 + 8 * H
        assert item.resolution_due_at == T0 + 24 * H
        routed = [e for e in item.events if e.action == "routed"]
        assert routed[0].to_value == "delivery" and "Parcels" in routed[0].reason


def test_rule_on_linked_order_status(app, make_user, user_by_email, make_order):
    uid = make_user("ret@example.com")
    number = make_order(uid, status="returned")
    with app.app_context():
        _rule(name="Returns", order_statuses=["returned"], department="billing", priority="high")
        from portal.orders.models import Order

        order = db.session.scalar(select(Order).where(Order.number == number))
        item = services.open_item(
            user_by_email("ret@example.com"), "complaint", "x", "y", order=order
        )
        assert (item.department.slug, item.priority) == ("billing", "high")
        plain = services.open_item(user_by_email("ret@example.com"), "complaint", "x", "y")
        assert plain.department.slug == "customer-care"


def test_open_item_refuses_another_customers_order(app, make_user, user_by_email, make_order):
    other = make_user("other-owner@example.com")
    make_user("asker@example.com")
    number = make_order(other)
    with app.app_context():
        from portal.orders.models import Order

        order = db.session.scalar(select(Order).where(Order.number == number))
        with pytest.raises(services.FeedbackError):
            services.open_item(
                user_by_email("asker@example.com"), "complaint", "x", "y", order=order
            )


def test_open_item_is_idempotent_per_source_reference(app, make_user, user_by_email):
    make_user("survey@example.com")
    with app.app_context():
        user = user_by_email("survey@example.com")
        first = services.open_item(
            user, "complaint", "Detractor", "NPS 2", source="survey", source_ref="r-1"
        )
        again = services.open_item(
            user, "complaint", "Detractor", "NPS 2", source="survey", source_ref="r-1"
        )
        assert first.id == again.id


def test_the_clock_pauses_while_waiting_on_the_customer(app, make_user, user_by_email):
    make_user("wait@example.com")
    agent_id = make_user("wait-agent@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        customer = user_by_email("wait@example.com")
        agent = db.session.get(type(customer), agent_id)
        with freeze_time(T0):
            item = services.open_item(customer, "question", "Where", "?")  # normal: 24 h / 72 h
        with freeze_time(T0 + H):
            services.staff_reply(item, agent, "Which order?", wait=True)
        assert item.status == "waiting_on_customer"
        assert item.next_due_at is None
        with freeze_time(T0 + 5 * H):
            services.customer_reply(item, customer, "Order 42")
        assert item.status == "in_progress"
        assert item.paused_seconds == 4 * 3600
        assert item.first_response_at == T0 + H
        assert item.resolution_due_at == T0 + 72 * H + 4 * H
        assert item.next_due_at == item.resolution_due_at
        # A second pause adds up.
        with freeze_time(T0 + 10 * H):
            services.change_status(item, "waiting_on_customer", agent)
        with freeze_time(T0 + 12 * H):
            services.customer_reply(item, customer, "Still here")
        assert item.resolution_due_at == T0 + 78 * H


def test_breach_marks_once_and_mails_the_manager_once(
    app, make_user, user_by_email, mailbox, item_by_ref, open_for
):
    make_user("late@example.com")
    with app.app_context():
        _department("billing").manager_email = "billing-boss@example.com"
        _rule(name="Money", keywords="refund", department="billing")
        db.session.commit()
    with freeze_time(T0):
        reference = open_for("late@example.com", subject="Refund missing")
    with app.app_context():
        with freeze_time(T0 + 24 * H):
            assert services.mark_breaches() == 0
        with freeze_time(T0 + 24 * H + timedelta(minutes=1)):
            assert services.mark_breaches() == 1
            _commit_and_send()
            assert services.mark_breaches() == 0
            _commit_and_send()
        item = item_by_ref(reference)
        assert item.first_response_breached_at == T0 + 24 * H + timedelta(minutes=1)
    mails = mailbox.to("billing-boss@example.com")
    assert len(mails) == 1
    assert reference in str(mails[0]["Subject"])
    assert f"/staff/feedback/{reference}" in mailbox.text_of(mails[0])


def test_auto_close_is_idempotent_and_waits_seven_days(app, make_user, user_by_email):
    make_user("close@example.com")
    agent_id = make_user("closer@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        customer = user_by_email("close@example.com")
        agent = db.session.get(type(customer), agent_id)
        with freeze_time(T0):
            item = services.open_item(customer, "question", "Q", "?")
            _resolve(item, agent)
        with freeze_time(T0 + timedelta(days=7) - timedelta(seconds=1)):
            assert services.auto_close() == 0
        with freeze_time(T0 + timedelta(days=7)):
            assert services.auto_close() == 1
            assert services.auto_close() == 0
        assert item.status == "closed"
        assert item.closed_at == T0 + timedelta(days=7)


def test_reopen_within_fourteen_days_only(app, make_user, user_by_email):
    make_user("reopen@example.com")
    agent_id = make_user("reopener@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        customer = user_by_email("reopen@example.com")
        agent = db.session.get(type(customer), agent_id)
        with freeze_time(T0):
            item = services.open_item(customer, "question", "Q", "?")
            _resolve(item, agent)
        with freeze_time(T0 + timedelta(days=14)):
            services.reopen(item, customer, "Still broken")
        assert item.status == "in_progress" and item.resolved_at is None
        assert item.resolution_due_at == T0 + timedelta(days=14) + 72 * H
        with freeze_time(T0 + timedelta(days=15)):
            _resolve(item, agent)
        with (
            freeze_time(T0 + timedelta(days=29, seconds=1)),
            pytest.raises(services.FeedbackError),
        ):
            services.reopen(item, customer, "again")


def test_resolving_needs_all_three_answers_and_calls_the_hooks(app, make_user, user_by_email):
    make_user("hook@example.com")
    agent_id = make_user("hooker@example.com", roles=("agent",), departments=("customer-care",))
    called = []
    services.ON_RESOLVED.append(called.append)
    try:
        with app.app_context():
            customer = user_by_email("hook@example.com")
            agent = db.session.get(type(customer), agent_id)
            item = services.open_item(customer, "complaint", "Q", "?")
            cause = settings.root_causes()[0]
            with pytest.raises(services.FeedbackError):
                services.resolve(
                    item,
                    agent,
                    root_cause=cause,
                    what_went_wrong="x",
                    how_resolved="y",
                    prevention=" ",
                )
            assert item.status == "new" and not called
            _resolve(item, agent)
            assert item.status == "resolved"
            assert called == [item]
    finally:
        services.ON_RESOLVED.remove(called.append)


def test_rating_is_recorded_once(app, make_user, user_by_email):
    make_user("rate@example.com")
    agent_id = make_user("rater@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        customer = user_by_email("rate@example.com")
        agent = db.session.get(type(customer), agent_id)
        item = services.open_item(customer, "complaint", "Q", "?")
        with pytest.raises(services.FeedbackError):
            services.rate(item, customer, 5)
        _resolve(item, agent)
        assert services.rate(item, customer, 4, "Quick")
        assert not services.rate(item, customer, 1, "Changed my mind")
        assert (item.rating, item.rating_comment) == (4, "Quick")


def test_reroute_keeps_who_and_why_and_needs_a_reason(app, make_user, user_by_email):
    make_user("route@example.com")
    manager_id = make_user("router@example.com", roles=("manager",))
    with app.app_context():
        customer = user_by_email("route@example.com")
        manager = db.session.get(type(customer), manager_id)
        item = services.open_item(customer, "complaint", "Wrong VAT", "on the bill")
        with pytest.raises(services.FeedbackError):
            services.reroute(item, _department("billing"), manager, "  ")
        services.reroute(item, _department("billing"), manager, "It is about the invoice")
        event = db.session.scalar(
            select(FeedbackEvent).where(
                FeedbackEvent.item_id == item.id, FeedbackEvent.action == "rerouted"
            )
        )
        assert (event.from_value, event.to_value, event.actor_id, event.reason) == (
            "customer-care",
            "billing",
            manager.id,
            "It is about the invoice",
        )


def test_staff_reply_notifies_and_mails_the_customer_but_a_note_does_not(
    app, make_user, user_by_email, mailbox
):
    make_user("notify@example.com", locale="lv")
    agent_id = make_user("replier@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        customer = user_by_email("notify@example.com")
        agent = db.session.get(type(customer), agent_id)
        item = services.open_item(customer, "question", "Hours", "When?")
        services.staff_reply(item, agent, "Secret internal remark", internal=True)
        _commit_and_send()
        assert not mailbox.to("notify@example.com")
        services.staff_reply(item, agent, "We open at nine.")
        _commit_and_send()
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == customer.id)
        ).all()
        assert [n.data["reference"] for n in notes] == [item.reference]
        reference = item.reference
    text = mailbox.text_of(mailbox.last_to("notify@example.com"))
    assert "We open at nine." in text
    assert "Secret internal remark" not in text
    assert f"/feedback/{reference}" in text


def test_root_causes_are_a_managed_list(app):
    with app.app_context():
        names = [c.name for c in settings.root_causes()]
        assert "Carrier damage" in names
        cause = settings.add_root_cause("Packaging too thin")
        settings.toggle_root_cause(cause)
        assert cause not in settings.root_causes()
        assert cause in settings.root_causes(active_only=False)
        assert db.session.get(RootCause, cause.id).active is False


def test_periodic_tasks_are_registered_and_run(app):
    from portal.jobs.schedule import PERIODIC_TASKS, run_periodic

    assert PERIODIC_TASKS["feedback.mark_breaches"].cron == "* * * * *"
    with app.app_context():
        assert run_periodic("feedback.mark_breaches") == 0
        assert run_periodic("feedback.auto_close") == 0


def test_dashboard_figures(app, make_user, user_by_email):
    from portal.feedback.queries import breached_open_items, open_counts

    make_user("dash@example.com")
    with app.app_context():
        user = user_by_email("dash@example.com")
        with freeze_time(T0):
            late = services.open_item(user, "question", "Late", "?")
        services.open_item(user, "suggestion", "Idea", "!")
        assert open_counts() == {("customer-care", "normal"): 1, ("product", "normal"): 1}
        assert breached_open_items() == [late]


def test_language_rule_uses_the_language_of_the_item(app, make_user, user_by_email):
    make_user("pl@example.com", locale="pl")
    with app.app_context():
        _rule(name="Polish desk", languages=["pl"], department="customer-care", priority="low")
        user = user_by_email("pl@example.com")
        assert services.open_item(user, "question", "Pytanie", "?").priority == "low"
        english = services.open_item(user, "question", "Question", "?", language="en")
        assert english.priority == "normal"


def test_resolution_breach_is_marked_once_after_a_kept_first_promise(
    app, make_user, user_by_email, mailbox
):
    make_user("slow@example.com")
    agent_id = make_user("slow-agent@example.com", roles=("agent",), departments=("customer-care",))
    with app.app_context():
        _department("customer-care").manager_email = "care-lead@example.com"
        customer = user_by_email("slow@example.com")
        agent = db.session.get(type(customer), agent_id)
        with freeze_time(T0):
            item = services.open_item(customer, "question", "Slow", "?")  # 24 h / 72 h
        with freeze_time(T0 + 2 * H):
            services.staff_reply(item, agent, "Looking into it")
        with freeze_time(T0 + 71 * H):
            assert services.mark_breaches() == 0
        with freeze_time(T0 + 73 * H):
            assert services.mark_breaches() == 1
            assert services.mark_breaches() == 0
        assert item.first_response_breached_at is None
        assert item.resolution_breached_at == T0 + 73 * H
        _commit_and_send()
    assert len(mailbox.to("care-lead@example.com")) == 1

"""Audiences, invitations by mail through the outbox, triggers, reminders, unsubscribing."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.accounts.models import CustomerValue, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs.outbox import deliver_committed
from portal.surveys import sending, services
from portal.surveys.models import Invitation, Survey, SurveyOptOut
from tests.conftest import csrf_from


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _golden(app, *user_ids, lapsed=False):
    with app.app_context():
        for uid in user_ids:
            db.session.add(
                CustomerValue(
                    user_id=uid, is_golden=not lapsed, is_lapsed=lapsed, stage="commitment"
                )
            )
        db.session.commit()


def _invitations(app, survey_id=None):
    with app.app_context():
        query = select(func.count(Invitation.id))
        if survey_id:
            query = query.where(Invitation.survey_id == survey_id)
        return db.session.scalar(query)


def test_manager_sends_to_golden_customers_and_the_link_works(
    app, client, make_user, logged_in, build_survey, mailbox
):
    survey_id = build_survey(("nps",), title="Golden check")
    gold = make_user("gold@example.com", newsletter_consent=True, locale="lv")
    gold_no_consent = make_user("quiet@example.com", newsletter_consent=False)
    gold_opted_out = make_user("optout@example.com", newsletter_consent=True)
    make_user("plain@example.com", newsletter_consent=True)
    _golden(app, gold, gold_no_consent, gold_opted_out)
    with app.app_context():
        db.session.add(SurveyOptOut(user_id=gold_opted_out))
        db.session.commit()

    staff = logged_in("boss@example.com", roles=("manager",))
    url = f"/staff/surveys/{survey_id}/send"
    csrf = csrf_from(staff.get(url).get_data(as_text=True))
    counted = staff.post(url, data={"csrf_token": csrf, "golden": "y", "count": "1"})
    assert counted.status_code == 200
    assert "1 customer will be invited" in counted.get_data(as_text=True)
    assert _invitations(app) == 0
    sent = staff.post(url, data={"csrf_token": csrf, "golden": "y", "send": "1"})
    assert sent.status_code == 302
    assert _invitations(app) == 1
    # Sending again invites nobody twice.
    staff.post(url, data={"csrf_token": csrf, "golden": "y", "send": "1"})
    assert _invitations(app) == 1

    message = mailbox.last_to("gold@example.com")
    assert len(mailbox.messages) == 1
    assert str(message["List-Unsubscribe"]).strip().startswith("<http")
    assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    link = mailbox.link_in(message)
    assert re.search(r"/s/[A-Za-z0-9_-]{43,}$", link)
    with app.app_context():
        stored = db.session.scalar(select(Invitation))
        token = link.rsplit("/", 1)[-1]
        assert stored.token_hash == sending.hash_token(token) and token not in stored.token_hash
        assert stored.locale == "lv"
        assert stored.expires_at - stored.created_at == timedelta(days=30)
    visitor = app.test_client()
    page = visitor.get(_path(link))
    assert page.status_code == 200
    assert "The nps question" in page.get_data(as_text=True)


def test_everyone_with_consent_and_date_segment(app, make_user, build_survey):
    from portal.orders.models import Order

    survey_id = build_survey(("nps",))
    buyer = make_user("buyer@example.com", newsletter_consent=True)
    make_user("browser@example.com", newsletter_consent=True)
    make_user("nope@example.com")
    make_user("staffer@example.com", roles=("agent",), newsletter_consent=True)
    with app.app_context():
        db.session.add(
            Order(
                number="A-1",
                user_id=buyer,
                placed_at=utcnow() - timedelta(days=10),
                total_minor=100,
            )
        )
        db.session.commit()
        survey = db.session.get(Survey, survey_id)
        assert sending.count_audience(sending.Audience(), survey) == 2
        today = utcnow().date()
        recent = sending.Audience(bought_from=today - timedelta(days=20), bought_to=today)
        assert sending.count_audience(recent) == 1
        old = sending.Audience(bought_to=today - timedelta(days=30))
        assert sending.count_audience(old) == 0


def test_a_draft_survey_cannot_be_sent(app, logged_in, make_user, build_survey):
    survey_id = build_survey(("nps",), status="draft")
    make_user("c@example.com", newsletter_consent=True)
    staff = logged_in("boss@example.com", roles=("manager",))
    url = f"/staff/surveys/{survey_id}/send"
    csrf = csrf_from(staff.get(url).get_data(as_text=True))
    assert staff.post(url, data={"csrf_token": csrf, "send": "1"}).status_code == 409
    assert _invitations(app) == 0


def test_reminder_once_after_three_days_with_a_working_link(
    app, client, make_user, build_survey, issue, mailbox
):
    survey_id = build_survey(("nps",), title="Remind me")
    uid = make_user("slow@example.com")
    answered = make_user("quick@example.com")
    issue(survey_id, uid, "order:1", now=utcnow() - timedelta(days=2))
    issue(survey_id, answered, "order:2", now=utcnow() - timedelta(days=4))
    with app.app_context():
        db.session.scalar(
            select(Invitation).where(Invitation.user_id == answered)
        ).responded_at = utcnow()
        db.session.commit()
        assert sending.send_reminders() == 0  # too early for one, answered for the other
        later = utcnow() + timedelta(days=1, minutes=1)
        assert sending.send_reminders(now=later) == 1
        assert sending.send_reminders(now=later) == 0
        db.session.commit()
        deliver_committed()
    mailbox_messages = [m for m in mailbox.messages if "Reminder" in str(m["Subject"])]
    assert len(mailbox_messages) == 1
    assert mailbox_messages[0]["To"] == "slow@example.com"
    link = mailbox.link_in(mailbox_messages[0])
    assert client.get(_path(link)).status_code == 200


def test_unsubscribe_stops_the_reminder(app, client, make_user, build_survey, issue, mailbox):
    survey_id = build_survey(("nps",))
    uid = make_user("leave@example.com")
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        user = db.session.get(User, uid)
        sending.invite(survey, user, "order:1", now=utcnow() - timedelta(days=4))
        db.session.commit()
        deliver_committed()
    message = mailbox.last_to("leave@example.com")
    unsubscribe = re.search(r"https?://\S+/surveys/unsubscribe/\S+", mailbox.text_of(message))
    assert unsubscribe
    page = client.get(_path(unsubscribe.group(0)))
    assert page.status_code == 200
    assert "Stop survey invitations" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SurveyOptOut, uid) is None  # a GET changes nothing
    done = client.post(
        _path(unsubscribe.group(0)), data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert done.status_code == 200
    assert "not receive survey invitations" in done.get_data(as_text=True)
    mailbox.clear()
    with app.app_context():
        assert db.session.get(SurveyOptOut, uid) is not None
        assert sending.send_reminders() == 0
        db.session.commit()
        deliver_committed()
    assert mailbox.to("leave@example.com") == []


def test_one_click_unsubscribe_from_the_header(app, client, make_user, build_survey, mailbox):
    survey_id = build_survey(("nps",))
    uid = make_user("oneclick@example.com", newsletter_consent=True)
    with app.app_context():
        sending.send_survey(db.session.get(Survey, survey_id), sending.Audience())
        db.session.commit()
        deliver_committed()
    header = str(mailbox.last_to("oneclick@example.com")["List-Unsubscribe"]).strip().strip("<>")
    response = client.post(_path(header), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(SurveyOptOut, uid) is not None
    assert client.get("/surveys/unsubscribe/forged.token").status_code == 404


def test_customer_turns_invitations_back_on(app, logged_in):
    client = logged_in("pref@example.com")
    page = client.get("/surveys").get_data(as_text=True)
    client.post("/surveys", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "pref@example.com"))
        assert db.session.get(SurveyOptOut, uid) is not None
    client.post("/surveys", data={"csrf_token": csrf_from(page), "surveys_wanted": "y"})
    with app.app_context():
        assert db.session.get(SurveyOptOut, uid) is None


def test_trigger_invites_once_per_occasion(app, make_user, mailbox):
    uid = make_user("trig@example.com", locale="ru")  # no marketing consent needed
    opted = make_user("notrig@example.com")
    with app.app_context():
        builtin = services.ensure_builtin_surveys()
        assert set(builtin) == {"delivery", "complaint_resolved", "lapsed"}
        user = db.session.get(User, uid)
        first = sending.invite_for_trigger(
            "complaint_resolved", user, context={"reference": "FB-1"}
        )
        again = sending.invite_for_trigger(
            "complaint_resolved", user, context={"reference": "FB-1"}
        )
        other = sending.invite_for_trigger(
            "complaint_resolved", user, context={"reference": "FB-2"}
        )
        assert first is not None and again is None and other is not None
        sending.opt_out(db.session.get(User, opted))
        assert (
            sending.invite_for_trigger(
                "delivery", db.session.get(User, opted), context={"order_id": 1}
            )
            is None
        )
        builtin["lapsed"].status = "closed"
        assert sending.invite_for_trigger("lapsed", user, context={}) is None
        db.session.commit()
        deliver_committed()
    messages = mailbox.to("trig@example.com")
    assert len(messages) == 2
    assert "Как мы справились с вашим обращением?" in str(messages[0]["Subject"])  # noqa: RUF001


def test_delivery_and_lapse_tasks_are_idempotent(app, make_user):
    from portal.orders.models import Order
    from portal.surveys import tasks

    buyer = make_user("parcel@example.com")
    gone = make_user("gone@example.com")
    with app.app_context():
        survey_ids = {t: s.id for t, s in services.ensure_builtin_surveys().items()}
        now = utcnow()
        db.session.add_all(
            [
                Order(
                    number="D-1",
                    user_id=buyer,
                    status="delivered",
                    delivered_at=now - timedelta(days=4),
                ),
                Order(
                    number="D-2",
                    user_id=buyer,
                    status="delivered",
                    delivered_at=now - timedelta(days=1),
                ),
                Order(number="D-3", user_id=buyer, status="shipped"),
                CustomerValue(user_id=gone, is_lapsed=True, lapsed_at=now - timedelta(days=2)),
            ]
        )
        db.session.commit()
        assert tasks.delivery_surveys() == 1
        assert tasks.delivery_surveys() == 0
        assert tasks.exit_surveys() == 1
        assert tasks.exit_surveys() == 0
        db.session.commit()
    assert _invitations(app, survey_ids["delivery"]) == 1
    assert _invitations(app, survey_ids["lapsed"]) == 1


def test_staff_page_shows_the_count_before_sending(app, logged_in, make_user, build_survey):
    survey_id = build_survey(("nps",))
    for n in range(3):
        make_user(f"c{n}@example.com", newsletter_consent=True, acquisition_source="friend")
    staff = logged_in("boss@example.com", roles=("manager",))
    url = f"/staff/surveys/{survey_id}/send"
    page = staff.get(url).get_data(as_text=True)
    assert "Send invitations" not in page  # only after the count is shown
    counted = staff.post(
        url, data={"csrf_token": csrf_from(page), "source": "friend", "count": "1"}
    )
    assert "3 customers will be invited" in counted.get_data(as_text=True)
    assert "Send invitations" in counted.get_data(as_text=True)
    bad = staff.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "bought_from": "2026-05-01",
            "bought_to": "2026-04-01",
            "count": "1",
        },
    )
    assert bad.status_code == 422
    assert "end date" in bad.get_data(as_text=True)


def test_withdrawn_consent_stops_a_broadcast_reminder(app, make_user, build_survey):
    from portal.accounts.services import set_newsletter_consent

    survey_id = build_survey(("nps",))
    uid = make_user("changed@example.com", newsletter_consent=True)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert (
            sending.send_survey(survey, sending.Audience(), now=utcnow() - timedelta(days=4)) == 1
        )
        set_newsletter_consent(db.session.get(User, uid), False)
        assert sending.send_reminders() == 0
        set_newsletter_consent(db.session.get(User, uid), True)
        assert sending.send_reminders() == 1


def test_a_trigger_without_its_occasion_is_a_programming_error(app, make_user):
    import pytest

    uid = make_user("ctx@example.com")
    with app.app_context():
        user = db.session.get(User, uid)
        with pytest.raises(ValueError, match="order_id"):
            sending.invite_for_trigger("delivery", user, context={})
        with pytest.raises(ValueError, match="reference"):
            sending.invite_for_trigger("complaint_resolved", user)
        assert sending.invite_for_trigger("no-such-trigger", user) is None

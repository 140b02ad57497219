"""Bulk mail: consent, unsubscribe links (no sign-in, one-click), pacing and progress."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from portal.accounts.models import User
from portal.core.db import utcnow
from portal.extensions import db
from portal.jobs import bulk, outbox
from portal.jobs.models import MailCampaign, MailUnsubscribe
from portal.jobs.unsubscribe import make_token
from tests.conftest import csrf_from


def _newsletter(app, user_ids, **config):
    app.config.update(config)
    with app.app_context():
        campaign = bulk.start_bulk(
            "newsletter",
            user_ids,
            "bulk_message",
            "Our spring news",
            lambda user: {"body": f"News for {user.email}"},
        )
        db.session.commit()
        outbox.deliver_committed()  # the first batch goes at once on the immediate queue
        return campaign.id


def _next_batch(app, campaign_id):
    with app.app_context():
        db.session.execute(
            update(MailCampaign)
            .where(MailCampaign.id == campaign_id)
            .values(next_batch_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        sent = bulk.run_batch(campaign_id)
        db.session.commit()
        outbox.deliver_committed()
        return sent


def test_newsletter_goes_only_to_consenting_customers_with_unsubscribe_headers(
    app, make_user, mailbox
):
    yes = make_user("yes@example.com", newsletter_consent=True, locale="lv")
    no = make_user("no@example.com", newsletter_consent=False)
    campaign_id = _newsletter(app, [yes, no], MAIL_RATE_PER_MINUTE=600)
    message = mailbox.last_to("yes@example.com")
    assert mailbox.to("no@example.com") == []
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_url = str(message["List-Unsubscribe"]).strip("<>")
    # Sent as a plain <URL> (RFC 2369), not as an encoded word mail providers cannot read.
    raw = dict(message.raw_items())["List-Unsubscribe"]
    assert raw.strip() == f"<{header_url}>"
    assert header_url in mailbox.text_of(message)
    assert "News for yes@example.com" in mailbox.text_of(message)
    assert message.get_body(preferencelist=("html",)) is not None
    with app.app_context():
        campaign = db.session.get(MailCampaign, campaign_id)
        assert campaign.status == "done" and campaign.skipped_at_start == 1
        assert bulk.progress([campaign_id])[campaign_id].sent == 1


def test_unsubscribe_link_works_without_login_and_stops_the_rest_of_the_campaign(
    app, client, make_user, mailbox
):
    first = make_user("first@example.com", newsletter_consent=True)
    second = make_user("second@example.com", newsletter_consent=True)
    # 6 a minute in batches of 10 s: one message a batch.
    campaign_id = _newsletter(app, [first, second], MAIL_RATE_PER_MINUTE=6, MAIL_BATCH_SECONDS=10)
    assert len(mailbox.messages) == 1
    with app.app_context():
        # The second batch is not due yet: nothing more goes out.
        assert bulk.run_batch(campaign_id) == 0
        db.session.commit()
    with app.app_context():
        token = make_token(second, "newsletter")
    link = f"/unsubscribe/{token}"
    page = client.get(link)
    assert page.status_code == 200
    assert "s***@example.com" in page.get_data(as_text=True)
    done = client.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200
    assert "will no longer receive" in done.get_data(as_text=True)
    assert _next_batch(app, campaign_id) == 0
    assert mailbox.to("second@example.com") == []
    with app.app_context():
        user = db.session.get(User, second)
        assert user.newsletter_consent is False
        assert user.newsletter_consent_at is not None
        progress = bulk.progress([campaign_id])[campaign_id]
        assert (progress.sent, progress.skipped, progress.waiting) == (1, 1, 0)
        assert db.session.get(MailCampaign, campaign_id).status == "done"


def test_the_link_in_the_mail_unsubscribes(app, client, make_user, mailbox):
    user_id = make_user("linked@example.com", newsletter_consent=True)
    _newsletter(app, [user_id])
    link = mailbox.link_in(
        mailbox.last_to("linked@example.com"), r"https?://[^\s]+/unsubscribe/[^\s]+"
    )
    path = urlsplit(link).path
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    with app.app_context():
        assert db.session.get(User, user_id).newsletter_consent is False


def test_one_click_post_needs_no_form_token(app, client, make_user):
    user_id = make_user("oneclick@example.com", newsletter_consent=True)
    with app.app_context():
        token = make_token(user_id, "surveys")
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    # Twice is the same as once.
    assert (
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    with app.app_context():
        rows = db.session.scalars(
            select(MailUnsubscribe).where(MailUnsubscribe.user_id == user_id)
        ).all()
        assert [r.kind for r in rows] == ["surveys"]
        # Only survey mail stops: the newsletter consent is untouched.
        assert db.session.get(User, user_id).newsletter_consent is True
        campaign = bulk.start_bulk("surveys", [user_id], "bulk_message", "Tell us")
        assert campaign.total == 0 and campaign.skipped_at_start == 1


def test_a_browser_post_without_its_form_token_is_refused(app, client, make_user):
    user_id = make_user("csrf@example.com", newsletter_consent=True)
    with app.app_context():
        token = make_token(user_id, "newsletter")
    assert client.post(f"/unsubscribe/{token}", data={}).status_code == 400
    with app.app_context():
        assert db.session.get(User, user_id).newsletter_consent is True


def test_forged_or_unknown_tokens_are_404(app, client, make_user):
    user_id = make_user("forged@example.com")
    with app.app_context():
        token = make_token(user_id, "newsletter")
        unknown = make_token(999_999, "newsletter")
    assert client.get(f"/unsubscribe/{token[:-2]}xx").status_code == 404
    assert client.get(f"/unsubscribe/{unknown}").status_code == 404
    assert (
        client.post(f"/unsubscribe/{unknown}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 404
    )


def test_batches_follow_the_rate(app, make_user, mailbox):
    ids = [make_user(f"r{i}@example.com", newsletter_consent=True) for i in range(5)]
    campaign_id = _newsletter(app, ids, MAIL_RATE_PER_MINUTE=12, MAIL_BATCH_SECONDS=10)
    assert len(mailbox.messages) == 2  # 12 a minute = 2 per 10-second batch
    assert _next_batch(app, campaign_id) == 2
    assert _next_batch(app, campaign_id) == 1
    assert len({str(m["To"]) for m in mailbox.messages}) == 5
    with app.app_context():
        assert db.session.get(MailCampaign, campaign_id).status == "done"


def test_unconfirmed_or_deleted_accounts_get_no_bulk_mail(app, make_user):
    from portal.accounts.services import delete_account

    unconfirmed = make_user("unconfirmed@example.com", newsletter_consent=True, confirmed=False)
    gone = make_user("gone@example.com", newsletter_consent=True)
    with app.app_context():
        delete_account(db.session.get(User, gone))
        campaign = bulk.start_bulk("newsletter", [unconfirmed, gone], "bulk_message", "Hi")
        assert campaign.total == 0 and campaign.skipped_at_start == 2

"""Follow-up mail templates edited by managers: permissions, the sandbox, sending, reset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.staff import followups, mailtemplates
from tests.conftest import csrf_from

EDIT = "/staff/mail-templates/birthday/en"


def _post(client, url, **data):
    token = csrf_from(client.get(EDIT).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _stored(app, kind="birthday", locale="en"):
    with app.app_context():
        return db.session.scalar(
            select(mailtemplates.MailTemplate).where(
                mailtemplates.MailTemplate.kind == kind, mailtemplates.MailTemplate.locale == locale
            )
        )


def test_agents_and_customers_may_not_edit(app, logged_in):
    client = logged_in("agent-mt@example.com", roles=("agent",))
    assert client.get("/staff/mail-templates").status_code == 403
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT + "/reset").status_code in (400, 403)
    page = client.get("/staff/customers").get_data(as_text=True)
    assert "/staff/mail-templates" not in page


def test_manager_sees_every_occasion_and_language(app, logged_in):
    client = logged_in("manager-mt@example.com", roles=("manager",))
    page = client.get("/staff/mail-templates").get_data(as_text=True)
    for kind in mailtemplates.KINDS:
        for locale in mailtemplates.LOCALES:
            assert f"/staff/mail-templates/{kind}/{locale}" in page
    assert client.get("/staff/mail-templates/birthday/xx").status_code == 404
    assert client.get("/staff/mail-templates/nothing/en").status_code == 404


def test_the_form_starts_from_the_translated_default(app, logged_in):
    client = logged_in("manager-lv@example.com", roles=("manager",))
    page = client.get("/staff/mail-templates/thank_you/lv").get_data(as_text=True)
    with app.test_request_context():
        subject, text = mailtemplates.default_source("thank_you", "lv")
    assert (
        "{{ order_number }}" in subject and subject != "Thank you for your order {{ order_number }}"
    )
    assert "{{ order_number }}" in page
    # The default as written renders without complaint.
    with app.test_request_context():
        for kind in mailtemplates.KINDS:
            for locale in mailtemplates.LOCALES:
                subject, text = mailtemplates.default_source(kind, locale)
                for source in (subject, text):
                    mailtemplates.check_source(source, kind)
                    mailtemplates.render_source(source, mailtemplates.SAMPLES[kind])


def test_save_is_audited_and_preview_uses_sample_data(app, logged_in):
    client = logged_in("manager-save@example.com", roles=("manager",))
    preview = _post(
        client,
        EDIT,
        subject="Hi {{ name }}",
        body_text="Gift: {{ coupon }}",
        body_html="",
        preview="Preview",
    )
    assert preview.status_code == 200
    assert "Gift: BDAY-3F9A1C" in preview.get_data(as_text=True)
    assert _stored(app) is None  # a preview saves nothing
    saved = _post(
        client, EDIT, subject="Hi {{ name }}", body_text="Gift: {{ coupon }}", save="Save"
    )
    assert saved.status_code == 302
    template = _stored(app)
    assert template is not None and template.body_text == "Gift: {{ coupon }}"
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "mail_template.edit")
        )
        assert entry is not None and entry.object_id == "birthday:en"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Dear {{ name ", "Line 1"),
        ("{% if coupon %}open", "Line 1"),
        ("{{ config }}", "Unknown variable: config"),
        ("{{ request.environ }}", "Unknown variable: request"),
        ("{{ cycler.__init__.__globals__ }}", "Unknown variable: cycler"),
        ("{{ range(10) }}", "Unknown variable: range"),
        ("{{ ''.__class__.__mro__ }}", "Not allowed"),
        ("{{ name.__class__ }}", "Not allowed"),
        ("{{ name.upper.__globals__ }}", "Not allowed"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "Not allowed"),
        ("{{ 'x' * 100000000 }}", "Not allowed"),
        ("{% include 'mail/base.txt' %}", "cannot include"),
        ("{% extends 'base.html' %}", "cannot include"),
    ],
)
def test_bad_templates_are_refused_next_to_the_field(app, logged_in, source, message):
    client = logged_in(roles=("manager",))
    response = _post(client, EDIT, subject="Hello", body_text=source, save="Save")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="body_text-error"' in page
    error = page.split('id="body_text-error"', 1)[1].split("</div>", 1)[0]
    assert message in error.replace("&#39;", "'")
    # What was typed stays in the form.
    from markupsafe import escape

    assert str(escape(source)) in page
    assert _stored(app) is None


def test_syntax_error_in_the_subject_is_shown_on_the_subject(app, logged_in):
    client = logged_in(roles=("manager",))
    response = _post(client, EDIT, subject="Hi {{ name", body_text="ok", save="Save")
    assert response.status_code == 422
    assert 'id="subject-error"' in response.get_data(as_text=True)


def test_post_without_csrf_is_refused(app, logged_in):
    client = logged_in(roles=("manager",))
    response = client.post(EDIT, data={"subject": "x", "body_text": "y", "save": "Save"})
    assert response.status_code in (400, 422)
    assert _stored(app) is None


def test_html_is_escaped_and_cleaned(app):
    with app.test_request_context():
        rendered = mailtemplates.render(
            "birthday",
            "Hi {{ name }}",
            "Dear {{ name }}\n\nSee https://example.com/x?a=1&b=2",
            None,
            {"name": "<script>alert(1)</script>", "coupon": None},
        )
        assert "<script>" not in rendered.html_body
        assert "&lt;script&gt;" in rendered.html_body
        assert '<a href="https://example.com/x?a=1&amp;b=2">' in rendered.html_body
        written = mailtemplates.render(
            "birthday",
            "Hi",
            "text",
            '<p onclick="x()">{{ name }}</p><script>bad()</script><b>ok</b>',
            {"name": "<i>Anna</i>", "coupon": ""},
        )
        assert "onclick" not in written.html_body and "bad()" not in written.html_body
        assert "&lt;i&gt;Anna&lt;/i&gt;" in written.html_body and "<b>ok</b>" in written.html_body


def _birthday_customer(make_user, email, locale="en"):
    return make_user(
        email, birthday_day=14, birthday_month=3, newsletter_consent=True, locale=locale
    )


def test_the_mail_sent_uses_the_edited_template_and_reset_restores_the_default(
    app, make_user, logged_in, mailbox
):
    from portal.jobs.outbox import deliver_due

    client = logged_in("manager-send@example.com", roles=("manager",))
    saved = _post(
        client,
        EDIT,
        subject="Cake for {{ name }}",
        body_text="Dear {{ name }}, your code is {{ coupon }}.",
        body_html="<p>Code <b>{{ coupon }}</b></p>",
        save="Save",
    )
    assert saved.status_code == 302
    _birthday_customer(make_user, "cake@example.com")
    _birthday_customer(make_user, "kuka@example.com", locale="lv")  # no Latvian edit
    with app.test_request_context():
        assert followups.send_birthday_greetings(datetime(2026, 3, 14, 10, tzinfo=UTC)) == 2
        db.session.commit()
        deliver_due()
    message = mailbox.last_to("cake@example.com")
    assert str(message["Subject"]).startswith("Cake for ")
    text = mailbox.text_of(message)
    assert "your code is BDAY-" in text
    assert "List-Unsubscribe" in message and "/unsubscribe" in text
    html = message.get_body(("html",)).get_content()
    assert "<b>BDAY-" in html
    latvian = mailbox.last_to("kuka@example.com")
    assert "Cake" not in str(latvian["Subject"])

    reset = _post(client, EDIT + "/reset")
    assert reset.status_code == 302
    assert _stored(app) is None
    with app.app_context():
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "mail_template.reset")
        )
    _birthday_customer(make_user, "cake2@example.com")
    with app.test_request_context():
        assert followups.send_birthday_greetings(datetime(2026, 3, 14, 10, tzinfo=UTC)) == 1
        db.session.commit()
        deliver_due()
    default = mailbox.last_to("cake2@example.com")
    assert str(default["Subject"]).startswith("Happy birthday")


def test_edited_thank_you_names_the_order(app, make_user, mailbox):
    from portal.jobs.outbox import deliver_due
    from portal.orders.models import Order

    user_id = make_user("thanks-edit@example.com")
    with app.test_request_context():
        db.session.add(
            mailtemplates.MailTemplate(
                kind="thank_you",
                locale="en",
                subject="Order {{ order_number }} arrived",
                body_text="Thanks, {{ name }}! {{ orders_url }}",
            )
        )
        db.session.add(
            Order(
                number="E-7",
                user_id=user_id,
                status="delivered",
                delivered_at=datetime(2026, 5, 30, tzinfo=UTC),
            )
        )
        db.session.flush()
        assert followups.send_delivery_thanks(datetime(2026, 6, 1, tzinfo=UTC)) == 1
        db.session.commit()
        deliver_due()
    message = mailbox.last_to("thanks-edit@example.com")
    assert str(message["Subject"]) == "Order E-7 arrived"
    assert "/orders" in mailbox.text_of(message)
    assert "List-Unsubscribe" not in message  # service mail


@pytest.mark.parametrize(
    "source",
    ["{{ ''.__class__ }}", "{{ name.__class__.__base__ }}", "{{ name|attr('__class__') }}"],
)
def test_the_sandbox_refuses_internals_even_past_the_check(app, source):
    with app.test_request_context(), pytest.raises(mailtemplates.TemplateProblem):
        mailtemplates.render_source(source, {"name": "Anna"})

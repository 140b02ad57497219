"""Form helpers."""

from __future__ import annotations

import re
import time

from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.core.forms import CachedOptionsSelect, SignedCsrfTokens
from tests.conftest import login


class _Form(FlaskForm):
    zone = SelectField(
        "Zone", choices=[("UTC", "UTC"), ("Europe/Riga", "Riga <LV>")], widget=CachedOptionsSelect()
    )


def test_cached_select_marks_the_chosen_option_and_escapes(app):
    with app.test_request_context():
        first = _Form(meta={"csrf": False}, data={"zone": "Europe/Riga"})
        html = str(first.zone())
        assert '<option selected value="Europe/Riga">Riga &lt;LV&gt;</option>' in html
        assert '<option value="UTC">' in html
        second = _Form(meta={"csrf": False}, data={"zone": "UTC"})
        html = str(second.zone())
        assert '<option selected value="UTC">' in html
        assert '<option value="Europe/Riga">' in html


def test_language_cached_select_renders_as_wtforms_does(app):
    """The same markup as WTForms' own Select, whatever is chosen (nothing, the empty
    choice, a value, an unknown value), in each language, with extra attributes."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l
    from wtforms.widgets import Select

    from portal.core.forms import LanguageCachedSelect

    choices = [("", _l("All orders")), ("shipped", _l("Shipped")), ("a&b", "Tom & <Jerry>")]

    class Cached(FlaskForm):
        status = SelectField("Status", choices=choices, widget=LanguageCachedSelect())

    class Plain(FlaskForm):
        status = SelectField("Status", choices=choices, widget=Select())

    for language in ("en", "lv", "en"):
        for data in (None, "", "shipped", "a&b", "lost"):
            with app.test_request_context(), force_locale(language):
                cached = Cached(meta={"csrf": False}, data={"status": data})
                plain = Plain(meta={"csrf": False}, data={"status": data})
                for attributes in (
                    {},
                    {"class_": "form-select is-invalid", "aria-invalid": "true"},
                ):
                    assert str(cached.status(**attributes)) == str(plain.status(**attributes))
    with app.test_request_context(), force_locale("lv"):
        html = str(Cached(meta={"csrf": False}, data={"status": "shipped"}).status())
        assert '<option selected value="shipped">Nosūtīts</option>' in html
        assert '<option value="a&amp;b">Tom &amp; &lt;Jerry&gt;</option>' in html


def _token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def test_the_signed_csrf_token_is_reused_for_a_while_and_still_valid(app, logged_in, monkeypatch):
    from flask_wtf.csrf import validate_csrf

    client = logged_in("signed-once@example.com")
    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    client.get("/orders")  # the session's first token is made here
    first = _token_of(client.get("/orders").get_data(as_text=True))
    # A second later (itsdangerous signs with the second): the same signature, not a new one.
    time.sleep(1.05)
    second = _token_of(client.get("/orders").get_data(as_text=True))
    assert second == first
    now[0] += SignedCsrfTokens.REUSE_SECONDS + 1
    third = _token_of(client.get("/orders").get_data(as_text=True))
    assert third != first
    with client.session_transaction() as stored:
        raw = stored["csrf_token"]
    with app.test_request_context():
        from flask import session

        session["csrf_token"] = raw
        validate_csrf(first)
        validate_csrf(third)


def test_another_session_gets_its_own_token(app, logged_in, make_user):
    first = _token_of(logged_in("one-token@example.com").get("/account").get_data(as_text=True))
    other = app.test_client()
    make_user("other-token@example.com")
    login(other, "other-token@example.com")
    assert _token_of(other.get("/account").get_data(as_text=True)) != first


def test_a_token_a_form_signed_is_the_one_reused(logged_in):
    client = logged_in("form-signed@example.com")
    first = _token_of(client.get("/orders").get_data(as_text=True))
    time.sleep(1.05)  # itsdangerous signs with the second: a new signature differs
    # The profile's own forms sign the token before the navigation shows it.
    signed_by_form = _token_of(client.get("/account").get_data(as_text=True))
    assert signed_by_form != first
    assert _token_of(client.get("/orders").get_data(as_text=True)) == signed_by_form

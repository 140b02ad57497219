"""WTForms' own messages (a required field, a bad choice, a length...) in the user's language:
WTForms' catalog where it has the language, ours where it does not (Latvian) or lacks one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import support
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import SelectField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length

from portal.core.forms import FORM_TRANSLATIONS, WTFORMS_MESSAGES, FormTranslations
from tests.conftest import csrf_from, login

REQUIRED = "This field is required."
BAD_CHOICE = "Not a valid choice."

#: What each portal language shows for the two messages.
SHOWN = {
    "en": (REQUIRED, BAD_CHOICE),
    "lv": ("Šis lauks ir obligāts.", "Nederīga izvēle."),
    "pl": ("To pole jest wymagane.", "Nieprawidłowy wybór"),
    "ru": ("Обязательное поле.", "Неверный вариант."),
    "zh_Hans": ("该字段是必填字段。", "不是有效的选择。"),
    "ar": ("هذا الحقل مطلوب.", "اختيار غير صحيح."),
}

#: WTForms' messages no portal user can see (see WTFORMS_MESSAGES).
NEVER_SHOWN = {
    "Invalid field name '%s'.",
    "Choices cannot be None.",
    "Invalid CSRF Token.",
    "CSRF token missing.",
    "CSRF failed.",
    "CSRF token expired.",
}

#: Numbers that pick every plural form of our languages (ar has six).
PLURAL_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 22, 100, 101)


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired(), Length(min=2, max=2)])
    colour = SelectField("Colour", choices=[("red", "Red"), ("blue", "Blue")])


def _singular(message: str | tuple[str, str]) -> str:
    return message if isinstance(message, str) else message[0]


def test_every_portal_language_is_covered(app):
    folders = {p.name for p in (Path(app.root_path) / "translations").iterdir() if p.is_dir()}
    assert set(SHOWN) == set(app.config["LANGUAGES"]) == folders


def test_our_list_is_wtforms_messages_but_those_never_shown():
    with open(Path(messages_path()) / "wtforms.pot", "rb") as handle:
        template = read_po(handle)
    theirs = {_singular(m.id) for m in template if m.id}
    ours = [_singular(m) for m in WTFORMS_MESSAGES]
    assert len(ours) == len(set(ours))
    assert set(ours) == theirs - NEVER_SHOWN
    plural_ids = {m.id for m in template if m.id and m.pluralizable}
    assert {m for m in WTFORMS_MESSAGES if isinstance(m, tuple)} == plural_ids


@pytest.mark.parametrize("language", sorted(SHOWN))
def test_a_form_shows_required_and_bad_choice_in_the_language(app, language):
    with (
        app.test_request_context(method="POST", data={"name": "", "colour": "green"}),
        force_locale(language),
    ):
        form = _Form()
        assert not form.validate()
        assert (form.name.errors[0], form.colour.errors[0]) == SHOWN[language]


@pytest.mark.parametrize("language", sorted(set(SHOWN) - {"en"}))
def test_every_message_is_translated_in_every_language(app, language):
    with app.test_request_context(), force_locale(language):
        for message in WTFORMS_MESSAGES:
            if isinstance(message, str):
                shown = FORM_TRANSLATIONS.gettext(message)
                assert shown and shown != message, (language, message)
                continue
            for n in PLURAL_SAMPLES:
                shown = FORM_TRANSLATIONS.ngettext(*message, n)
                assert shown and shown not in message, (language, message, n)
                # The same placeholders as the original, so that WTForms can fill them in.
                assert set(re.findall(r"%\(\w+\)\w", shown)) <= set(
                    re.findall(r"%\(\w+\)\w", message[1])
                ), (language, shown)


def test_english_is_wtforms_english(app):
    """English shows WTForms' words: the message itself, or its English catalog's correction
    ("Invalid MAC address.")."""
    english = support.Translations.load(messages_path(), ["en"], domain="wtforms")
    with app.test_request_context(), force_locale("en"):
        for message in WTFORMS_MESSAGES:
            if isinstance(message, str):
                assert FORM_TRANSLATIONS.gettext(message) == english.ugettext(message)
            else:
                assert FORM_TRANSLATIONS.ngettext(*message, 1) == message[0]
                assert FORM_TRANSLATIONS.ngettext(*message, 5) == message[1]


@pytest.mark.parametrize("language", ["ar", "pl", "ru", "zh_Hans"])
def test_wtforms_catalog_answers_first_and_ours_fills_its_gaps(app, language):
    """Where WTForms translates a message, its words are shown (zh_Hans takes its zh); what
    it lacks (Arabic plurals, "This field cannot be edited." in most) comes from ours."""
    theirs = support.Translations.load(messages_path(), [language], domain="wtforms")
    assert isinstance(theirs, support.Translations)  # WTForms has the language
    filled = 0
    with app.test_request_context(), force_locale(language):
        for message in map(_singular, WTFORMS_MESSAGES):
            own = theirs.ugettext(message)
            if own != message:
                assert FORM_TRANSLATIONS.gettext(message) == own
            else:
                filled += 1
                assert FORM_TRANSLATIONS.gettext(message) not in ("", message)
    assert filled  # the gaps exist: this test would not notice the fallback otherwise


def test_a_language_catalog_is_read_once(app, monkeypatch):
    loads: list[object] = []
    original = support.Translations.load

    def counting(*args, **kwargs):
        loads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", counting)
    translations = FormTranslations()
    for _request in range(3):
        for language in ("lv", "pl"):
            with app.test_request_context(), force_locale(language):
                translations.gettext(REQUIRED)
    wtforms_loads = [args for args in loads if "wtforms" in repr(args)]
    assert len(wtforms_loads) == 2


def test_wtf_i18n_disabled_leaves_wtforms_english(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_I18N_ENABLED", False)
    with app.test_request_context(method="POST", data={"name": ""}), force_locale("lv"):
        form = _Form()
        assert not form.validate()
        assert form.name.errors == [REQUIRED]


# --- Through the portal's pages --------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(SHOWN))
def test_order_filter_shows_a_bad_status_in_the_language(client, make_user, language):
    make_user(f"filter-{language.lower()}@example.com", locale=language)
    login(client, f"filter-{language.lower()}@example.com")
    page = client.get("/orders?status=lost")
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    shown = SHOWN[language][1]
    assert re.search(
        rf'<div id="status-error" class="[^"]*">{re.escape(str(escape(shown)))}</div>', body
    )
    if language != "en":
        assert BAD_CHOICE not in body


@pytest.mark.parametrize("language", sorted(SHOWN))
def test_new_feedback_shows_required_and_bad_choice_in_the_language(client, make_user, language):
    make_user(f"feedback-{language.lower()}@example.com", locale=language)
    login(client, f"feedback-{language.lower()}@example.com")
    html = client.get("/feedback/new").get_data(as_text=True)
    page = client.post(
        "/feedback/new",
        data={
            "csrf_token": csrf_from(html),
            "kind": "complaint",
            "order": "NOT-MINE",
            "subject": "",
            "message": "  ",
        },
    )
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    required, bad_choice = (str(escape(text)) for text in SHOWN[language])
    for name, shown in (("subject", required), ("message", required), ("order", bad_choice)):
        assert re.search(
            rf'<div id="{name}-error" class="invalid-feedback d-block"><span>{re.escape(shown)}',
            body,
        ), (language, name)
    if language != "en":
        assert REQUIRED not in body and BAD_CHOICE not in body


def test_flask_security_forms_are_translated_too(client):
    """The registration form is Flask-Security's (with our fields): WTForms' messages on it
    follow the visitor's language as well."""
    latvian = {"Accept-Language": "lv"}
    html = client.get("/register", headers=latvian).get_data(as_text=True)
    page = client.post(
        "/register",
        headers=latvian,
        data={
            "csrf_token": csrf_from(html),
            "email": "jauns@example.com",
            "password": "correct-horse-battery-7",
            "password_confirm": "correct-horse-battery-7",
            "name": "x" * 121,
            "acquisition_source": "carrier-pigeon",
        },
    )
    body = page.get_data(as_text=True)
    assert page.status_code != 302
    assert "Laukā var būt ne vairāk kā 120 rakstzīmes." in body
    assert "Nederīga izvēle." in body
    assert "Field cannot be longer" not in body and BAD_CHOICE not in body

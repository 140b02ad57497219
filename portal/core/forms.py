"""Form helpers shared by features."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, ClassVar

from babel import support
from flask import current_app, g, session
from flask_babel import get_locale, get_translations
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta
from wtforms.widgets import Select, html_params


def N_(message: str) -> str:
    """Mark a message for the catalogs; it is translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural for the catalogs (``make extract-messages`` knows it)."""
    return singular, plural


#: WTForms' own messages that a form can show (its validators' and fields'), copied into our
#: catalogs: WTForms has no Latvian catalog, and its other catalogs miss a few. Left out are
#: those a user never sees: a validator set up wrongly ("Invalid field name '%s'.", "Choices
#: cannot be None.") and WTForms' session CSRF, which Flask-WTF replaces (our forms show their
#: own message for a failed CSRF check).
WTFORMS_MESSAGES: tuple[str | tuple[str, str], ...] = (
    N_("Field must be equal to %(other_name)s."),
    N_plural(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    N_plural(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    N_plural(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
    ),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid IP address."),
    N_("Invalid Mac address."),
    N_("Invalid URL."),
    N_("Invalid UUID."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid value, can't be any of: %(values)s."),
    N_("This field cannot be edited."),
    N_("This field is disabled and cannot have a value."),
    N_("Invalid Choice: could not coerce."),
    N_("Not a valid choice."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_plural(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
    ),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid week value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
)


class FormTranslations:
    """The messages of WTForms' validators and fields in the request's language.

    WTForms' own catalog answers first where it has the language ("zh" for "zh_Hans"); what
    it does not translate (all of Latvian, a few messages or plural forms elsewhere) comes
    from our catalog (``WTFORMS_MESSAGES`` above). WTForms' compiled catalogs give the English
    back for a plural form they lack, so "untranslated" means "the English came back". Each
    language's pair of catalogs is looked up once per process: Flask-WTF would read WTForms'
    catalog from disk again on every request.
    """

    def __init__(self) -> None:
        self._catalogs: dict[str, tuple[support.NullTranslations, Any]] = {}

    def _pair(self) -> tuple[support.NullTranslations, Any] | None:
        locale = get_locale()
        if locale is None:  # outside a request: WTForms' English
            return None
        key = str(locale)
        pair = self._catalogs.get(key)
        if pair is None:
            theirs = support.Translations.load(messages_path(), [locale], domain="wtforms")
            pair = self._catalogs[key] = (theirs, get_translations())
        return pair

    def gettext(self, string: str) -> str:
        pair = self._pair()
        if pair is None:
            return string
        theirs, ours = pair
        text: str = theirs.ugettext(string)
        if not text or text == string:
            text = ours.ugettext(string)
        return text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        pair = self._pair()
        if pair is None:
            return singular if n == 1 else plural
        theirs, ours = pair
        text: str = theirs.ungettext(singular, plural, n)
        if not text or text in (singular, plural):
            text = ours.ungettext(singular, plural, n)
        return text


FORM_TRANSLATIONS = FormTranslations()


def _form_translations(meta: DefaultMeta, form: Any) -> Any:
    # Flask-WTF's own rule: WTF_I18N_ENABLED off leaves WTForms' messages in English.
    if current_app.config.get("WTF_I18N_ENABLED", True):
        return FORM_TRANSLATIONS
    return DefaultMeta.get_translations(meta, form)


def install_form_translations() -> None:
    """Every Flask-WTF form (ours and Flask-Security's) takes WTForms' messages from
    ``FORM_TRANSLATIONS``. The hook is WTForms' ``Meta.get_translations``, set on
    ``FlaskForm.Meta`` since all those forms inherit it."""
    FlaskForm.Meta.get_translations = _form_translations  # type: ignore[method-assign]


class IntegerSelectField(SelectField):
    """A select whose values are integers, with an empty choice meaning None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", self._coerce)
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def iter_choices(self) -> Any:
        # The empty choice must post "" (not "None"), so that Optional() stops validation.
        choices = []
        for choice in super().iter_choices():
            value, *rest = choice
            choices.append(("" if value is None else value, *rest))
        return choices

    @staticmethod
    def _coerce(value: Any) -> int | None:
        if value in (None, "", "None"):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


class CachedOptionsSelect(Select):
    """A select whose long, fixed option list (time zones) is rendered once per language.

    Rendering some 600 options through WTForms took most of the profile page's time; the
    options never change, only which one is selected.
    """

    _cache: ClassVar[dict[tuple[str, str], str]] = {}

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = (field.name, str(get_locale()))
        options = self._cache.get(key)
        if options is None:
            options = "".join(
                str(self.render_option(value, label, False))
                for value, label, *_rest in field.iter_choices()
            )
            self._cache[key] = options
        if field.data not in (None, ""):
            needle = f'<option value="{escape(field.data)}">'
            options = options.replace(needle, f'<option selected value="{escape(field.data)}">', 1)
        kwargs.setdefault("id", field.id)
        # Every part is escaped: html_params and render_option escape, the value above too.
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


class LanguageCachedSelect(Select):
    """A select whose choices depend on nothing but the language (a list filter's fixed
    statuses): each option is rendered once per language, both chosen and not, and the chosen
    one is picked as WTForms picks it (the choice whose coerced value equals the data).

    WTForms renders and escapes every option of the filter on every request; here only the
    ``<select>`` tag is. Use one instance per field (the cache is keyed by field name).
    """

    def __init__(self) -> None:
        super().__init__()
        self._rendered: dict[tuple[str, str], list[tuple[Any, str, str]]] = {}

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if self.multiple or field.has_groups():
            return Markup(super().__call__(field, **kwargs))  # noqa: S704 - WTForms escaped it
        key = (field.name, str(get_locale()))
        options = self._rendered.get(key)
        if options is None:
            options = [
                (
                    field.coerce(value),
                    str(self.render_option(value, label, False, **render_kw)),
                    str(self.render_option(value, label, True, **render_kw)),
                )
                for value, label, _selected, render_kw in field.iter_choices()
            ]
            self._rendered[key] = options
        data = field.data
        body = "".join(chosen if value == data else plain for value, plain, chosen in options)
        # The <select> tag exactly as WTForms' Select writes it.
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        # Every part is escaped: html_params and render_option escape.
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{body}</select>")  # noqa: S704


class SignedCsrfTokens:
    """Flask-WTF's signed CSRF token of the session, signed once a while, not once a request.

    Flask-WTF signs the session's random token anew on each request that shows a form (the
    sign-out button of every signed-in page), with the time of signing; the form is valid as
    long as that signature is (``WTF_CSRF_TIME_LIMIT``: here the session's life). A token
    signed a moment ago for the same session is as good, so it is reused for up to
    ``REUSE_SECONDS`` (a tenth of a time limit that is shorter). It goes where Flask-WTF
    keeps the request's token, so the forms of the page show the same one.
    """

    REUSE_SECONDS = 60.0

    def __init__(self, size: int = 2048) -> None:
        self._signed: OrderedDict[tuple[Any, str], tuple[str, float]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __call__(self) -> str:
        config = current_app.config
        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        raw = session.get(field)
        if not isinstance(raw, str):
            return str(generate_csrf())  # the session's first token: made and kept there
        key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
        now = time.monotonic()
        if field in g:  # a form of the page signed it already: the one to reuse from now on
            token = str(g.get(field))
            with self._lock:
                if self._signed.get(key, ("",))[0] != token:
                    self._keep(key, token, now)
            return token
        limit = config.get("WTF_CSRF_TIME_LIMIT")
        reuse = self.REUSE_SECONDS if not limit else min(self.REUSE_SECONDS, limit / 10)
        with self._lock:
            known = self._signed.get(key)
        if known is not None and now - known[1] < reuse:
            setattr(g, field, known[0])
            return known[0]
        token = str(generate_csrf())
        with self._lock:
            self._keep(key, token, now)
        return token

    def _keep(self, key: tuple[Any, str], token: str, now: float) -> None:
        self._signed[key] = (token, now)
        self._signed.move_to_end(key)
        if len(self._signed) > self._size:
            self._signed.popitem(last=False)


#: The CSRF token of the current request's forms (templates' ``csrf_token()``).
csrf_token = SignedCsrfTokens()

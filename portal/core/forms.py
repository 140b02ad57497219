"""Form helpers shared by features."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, ClassVar

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.widgets import Select, html_params


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
        from flask_babel import get_locale

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
        from flask_babel import get_locale

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

"""Language and time-zone selection, and locale-aware formatting helpers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pytz
from babel import Locale
from flask import Flask, current_app, g, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_babel, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

# Browser language tags that map onto our catalogs.
_ALIASES = {
    "zh": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "zh_hans": "zh_Hans",
    "zh_hans_cn": "zh_Hans",
}


def normalise_locale(tag: str | None) -> str | None:
    """Map a language tag ("ru-RU", "zh-CN", "ar") onto a supported locale, or None."""
    if not tag:
        return None
    supported = current_app.config["LANGUAGES"]
    key = tag.replace("-", "_").strip()
    if key in supported:
        return key
    lowered = key.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    base = lowered.split("_")[0]
    if base in supported:
        return base
    return _ALIASES.get(base)


def select_locale() -> str:
    """Profile language, else the visitor's choice, else the page's own language (a survey
    link's), else the browser's, else English."""
    if current_user and current_user.is_authenticated:
        chosen = normalise_locale(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    chosen = normalise_locale(session.get("locale")) or g.get("page_locale")
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        chosen = normalise_locale(tag)
        if chosen:
            return chosen
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


@functools.lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> Any:
    return pytz.timezone(name)


def babel_locale() -> Locale:
    """Flask-Babel's locale selector: ``select_locale()``'s choice as one ``Locale`` object
    per language for the process, instead of a new one parsed on every request (which also
    loaded its locale data again for the first date or number it formatted)."""
    return _locale(select_locale())


def babel_timezone() -> Any:
    """Flask-Babel's time-zone selector: ``select_timezone()`` as a kept time-zone object."""
    name = select_timezone()
    if not name:
        return None
    try:
        return _zone(name)
    except pytz.UnknownTimeZoneError:
        return None


def use_page_locale(code: str | None) -> None:
    """This request's page has a language of its own (a survey in the language it was sent
    in): it is used after the profile's and the visitor's choice, without storing anything in
    the session. Call before anything on the page is translated."""
    g.page_locale = normalise_locale(code)


def select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return getattr(current_user, "timezone", None) or None
    return session.get("timezone")


def text_direction() -> str:
    locale = get_locale()
    language = locale.language if locale else "en"
    return "rtl" if language in current_app.config["RTL_LANGUAGES"] else "ltr"


def html_lang() -> str:
    locale = get_locale()
    if locale is None:
        return "en"
    if locale.script:
        return f"{locale.language}-{locale.script}"
    return locale.language


def current_locale_code() -> str:
    locale = get_locale()
    return str(locale) if locale else "en"


_MARKUP_CHARACTERS = frozenset("&<>\"'")


class _ResolvedLabels(dict[str, str]):
    """Labels translated on first use; an unknown key shows nothing, as in a template."""

    __slots__ = ("_labels",)

    def __init__(self, labels: Mapping[str, Any]) -> None:
        super().__init__()
        self._labels = labels

    def __missing__(self, key: str) -> str:
        label = self._labels.get(key)
        text = "" if label is None else str(label)
        # A template shows a lazy string as it is (``__html__``): the translation is markup
        # there, and stays markup here (the catalogs are ours, not user input). Text without
        # a character that escaping changes is the same either way, and a plain string is
        # the cheaper one for the template to show on every row.
        value = self[key] = (
            Markup(text) if _MARKUP_CHARACTERS.intersection(text) else text  # noqa: S704
        )
        return value


def resolved_labels(labels: Mapping[str, Any]) -> dict[str, str]:
    """``labels`` (lazy strings by key) in the current language, for the rows of one page.

    A lazy label looks its translation up each time it is shown; a list shows the same few
    labels on many rows, so each is translated once per rendering, when first shown. Index
    it (``labels[key]``): an unknown key gives an empty label. The labels show exactly as the
    lazy strings do (their text is not escaped).
    """
    return _ResolvedLabels(labels)


def _request_translations() -> Any:
    """The current catalog, looked up once per request and language instead of per string.

    Flask-Babel resolves the locale and its catalog again for every string a template
    translates; a page translates hundreds. The catalog is kept beside Flask-Babel's own
    locale for the request and looked up again whenever that locale object changes
    (``force_locale``, ``refresh``).
    """
    app_context = _cv_app.get(None)
    namespace = app_context.g.__dict__.get("_flask_babel") if app_context is not None else None
    if namespace is not None:
        kept = getattr(namespace, "portal_translations", None)
        locale = getattr(namespace, "babel_locale", None)
        if kept is not None and locale is not None and kept[0] is locale:
            return kept[1]
    translations = get_translations()
    if namespace is not None:
        namespace.portal_translations = (getattr(namespace, "babel_locale", None), translations)
    return translations


class RequestCachedDomain(Domain):
    """Flask-Babel's message domain, its catalog looked up once per request and language.

    Every ``gettext`` and every lazy string (form labels, status labels, navigation) asks the
    domain for the current catalog, and Flask-Babel answers by resolving the request's
    context, locale and catalog cache again each time. The answer is kept beside Flask-Babel's
    own locale for the request and looked up again whenever that locale object changes
    (``force_locale``, ``refresh``), exactly as ``_request_translations`` does for templates.
    """

    def get_translations(self) -> Any:
        app_context = _cv_app.get(None)
        if app_context is None:
            return super().get_translations()
        namespace = app_context.g.__dict__.get("_flask_babel")
        if namespace is not None:
            kept = namespace.__dict__.get("portal_domain_translations")
            locale = namespace.__dict__.get("babel_locale")
            if kept is not None and locale is not None and kept[0] is locale:
                return kept[1]
        translations = super().get_translations()
        namespace = app_context.g.__dict__.get("_flask_babel")
        if namespace is not None:
            namespace.portal_domain_translations = (
                namespace.__dict__.get("babel_locale"),
                translations,
            )
        return translations


def install_request_cached_domain(app: Flask) -> None:
    """Make the domain above Flask-Babel's default one (after ``babel.init_app``).

    Flask-Babel keeps its default domain on the ``Babel`` object as a cached property; its
    catalog directories are read from the current application when a catalog is loaded.
    """
    instance = get_babel(app).instance
    current = instance.__dict__.get("domain_instance")
    if not isinstance(current, RequestCachedDomain):
        instance.__dict__["domain_instance"] = RequestCachedDomain(
            domain=app.config.get("BABEL_DOMAIN", "messages")
        )


@pass_context
def _template_gettext(context: Context, string: str, /, **variables: Any) -> str:
    # Jinja's newstyle ``gettext`` (jinja2.ext._make_new_gettext), called directly: markup
    # under autoescape, always a format string.
    value: str = _request_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        value = Markup(value)  # noqa: S704 - our catalogs, as Jinja's own gettext trusts them
    if variables or "%" in value:  # no "%": formatting with nothing would give the same text
        return value % variables
    return value


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    # Jinja's newstyle ``ngettext`` (jinja2.ext._make_new_ngettext), called directly.
    variables.setdefault("num", num)
    value: str = _request_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        value = Markup(value)  # noqa: S704 - our catalogs, as Jinja's own ngettext trusts them
    return value % variables


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_``/``gettext``/``ngettext`` on the per-request catalog above.

    A page translates a few dozen strings, and each of Jinja's newstyle ``_()`` goes through
    two context calls (``_`` looks ``gettext`` up and calls it, which calls the catalog
    function); ``_``, ``gettext`` and ``ngettext`` here do the same work in one call.
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )

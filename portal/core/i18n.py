"""Language and time-zone selection, and locale-aware formatting helpers."""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

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
    """Profile language, else the visitor's choice, else the browser's, else English."""
    if current_user and current_user.is_authenticated:
        chosen = normalise_locale(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    chosen = normalise_locale(session.get("locale"))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        chosen = normalise_locale(tag)
        if chosen:
            return chosen
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


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

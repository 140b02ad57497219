"""Rendered public pages kept for anonymous readers, as forum software does for its busiest pages.

A page a visitor reads (a topic, a category, the board index) looks the same for every other
visitor with the same language, so its rendered HTML is kept in the worker's memory under the
same key as its ETag: the key changes whenever the content does (a topic's revision, a
category's counters), so a kept page is never served after its content changed. The only
per-visitor part of such a page is the CSRF token of its forms; it is rendered as a placeholder
and replaced by the visitor's own token on the way out.

Signed-in readers, visitors with a pending flash message and non-GET requests always get a
fresh rendering. The store is per process and bounded (``PAGE_CACHE_SIZE`` pages, kept
``PAGE_CACHE_SECONDS``); a size of 0 turns it off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cachelib import SimpleCache
from flask import Flask, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

CSRF_PLACEHOLDER = "__portal_csrf_token_placeholder__"
_EXTENSION_KEY = "portal_page_cache"


def init_app(app: Flask) -> None:
    size = int(app.config.get("PAGE_CACHE_SIZE", 256))
    timeout = int(app.config.get("PAGE_CACHE_SECONDS", 60))
    app.extensions[_EXTENSION_KEY] = (
        SimpleCache(threshold=size, default_timeout=timeout) if size > 0 else None
    )


def _store() -> SimpleCache | None:
    store: SimpleCache | None = current_app.extensions.get(_EXTENSION_KEY)
    return store


def clear() -> None:
    if (store := _store()) is not None:
        store.clear()


def template_csrf_token() -> str:
    """The ``csrf_token()`` of templates: a placeholder while a shared page is rendered."""
    if g.get("rendering_shared_page"):
        return CSRF_PLACEHOLDER
    return str(generate_csrf())


def _shareable() -> bool:
    return (
        request.method == "GET"
        and not current_user.is_authenticated
        and not session.get("_flashes")
    )


def page(etag: str, render: Callable[[], str]) -> str:
    """The page for ``etag``: from the store for anonymous readers, else rendered now."""
    store = _store()
    if store is None or not _shareable():
        return render()
    key = hashlib.sha256(f"{etag}|{request.full_path}".encode()).hexdigest()
    body: str | None = store.get(key)
    if body is None:
        g.rendering_shared_page = True
        try:
            body = render()
        finally:
            g.rendering_shared_page = False
        store.set(key, body)
    return body.replace(CSRF_PLACEHOLDER, str(generate_csrf()))

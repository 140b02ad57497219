"""Rendered public pages kept for anonymous readers, as forum software does for its busiest pages.

A page a visitor reads (a topic, a category, the board index) looks the same for every other
visitor with the same language, so its rendered HTML is kept in the worker's memory under the
same key as its ETag: the key changes whenever the content does (a topic's revision, a
category's counters, the community's display revision for what it shows of members and
categories), so a kept page is never served after its content changed. The only
per-visitor part of such a page is the CSRF token of its forms; it is rendered as a placeholder
and replaced by the visitor's own token on the way out.

Signed-in readers, visitors with a pending flash message and non-GET requests always get a
fresh rendering. The store is per process and bounded (``PAGE_CACHE_SIZE`` pages, kept
``PAGE_CACHE_SECONDS``); a size of 0 turns it off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Flask, current_app, g, request, session
from flask_login import current_user

from portal.core.forms import csrf_token

CSRF_PLACEHOLDER = "__portal_csrf_token_placeholder__"
_EXTENSION_KEY = "portal_page_cache"


class PageStore:
    """Rendered pages by key, least recently used first out, each kept ``seconds``.

    The pages are kept as the strings they are: a store that pickles (cachelib's) copies and
    decodes the whole page on every hit.
    """

    def __init__(self, size: int, seconds: int) -> None:
        self.size = size
        self.seconds = seconds
        self._pages: OrderedDict[tuple[str, ...], tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> str | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None:
                return None
            if kept[0] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return kept[1]

    def set(self, key: tuple[str, ...], body: str) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + self.seconds, body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask) -> None:
    size = int(app.config.get("PAGE_CACHE_SIZE", 256))
    seconds = int(app.config.get("PAGE_CACHE_SECONDS", 60))
    app.extensions[_EXTENSION_KEY] = PageStore(size, seconds) if size > 0 else None


def _store() -> PageStore | None:
    store: PageStore | None = current_app.extensions.get(_EXTENSION_KEY)
    return store


def clear() -> None:
    if (store := _store()) is not None:
        store.clear()


def template_csrf_token() -> str:
    """The ``csrf_token()`` of templates: a placeholder while a shared page is rendered."""
    if g.get("rendering_shared_page"):
        return CSRF_PLACEHOLDER
    return csrf_token()


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
    # The ETag names the content and its language; the path and query string the page
    # (links on it, such as the language form's way back, repeat them).
    environ = request.environ
    key = (etag, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
    body = store.get(key)
    if body is None:
        g.rendering_shared_page = True
        try:
            body = render()
        finally:
            g.rendering_shared_page = False
        store.set(key, body)
    return body.replace(CSRF_PLACEHOLDER, csrf_token())

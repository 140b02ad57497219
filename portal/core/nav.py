"""Main navigation: features register their entries; each says who sees it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user
from werkzeug.routing import UnicodeConverter

_URL_CACHE_KEY = "portal_constant_urls"
_URL_CACHE_LIMIT = 4096
_MAKER_CACHE_KEY = "portal_url_makers"
_SLOT = "portal-url-slot-7f3a"


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # a lazy string
    visible: Callable[[Any], bool]
    order: int = 50
    prefix: str | None = None  # URL prefix that marks the entry active


NAV_ENTRIES: list[NavEntry] = []


def _register(entries: list[NavEntry], entry: NavEntry) -> None:
    if any(existing.endpoint == entry.endpoint for existing in entries):
        return
    entries.append(entry)
    entries.sort(key=lambda item: item.order)


def constant_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` for arguments that never change (navigation, assets).

    Building a URL walks the URL map and the URL defaults each time; for a fixed endpoint and
    arguments the path only depends on where the application is mounted, so it is kept per
    application and mount point. Only hashable, constant arguments belong here.
    """
    cache: dict[tuple[Any, ...], str] = current_app.extensions.setdefault(_URL_CACHE_KEY, {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = cache.get(key)
    if url is None:
        if len(cache) >= _URL_CACHE_LIMIT:  # the mount point comes from the request: bound it
            cache.clear()
        url = cache[key] = url_for(endpoint, **values)
    return url


def url_maker(endpoint: str, name: str) -> Callable[[Any], str]:
    """``lambda value: url_for(endpoint, **{name: value})`` for the rows of a list page.

    A list links every row to its own page; ``url_for`` walks the URL map for each one. The
    URLs differ only in the one string argument, so the rule's URL is built once per
    application and mount point around a placeholder, and each value goes through the rule's
    own converter, quoted exactly as ``url_for`` quotes it. Any other endpoint (several rules,
    more arguments, a typed argument) is left to ``url_for``.
    """
    cache: dict[tuple[Any, ...], Callable[[Any], str]] = current_app.extensions.setdefault(
        _MAKER_CACHE_KEY, {}
    )
    key = (request.script_root, endpoint, name)
    maker = cache.get(key)
    if maker is None:
        maker = _string_argument_maker(endpoint, name) or functools.partial(
            _url_for_one, endpoint, name
        )
        if len(cache) >= _URL_CACHE_LIMIT:  # the mount point comes from the request: bound it
            cache.clear()
        cache[key] = maker
    return maker


def _string_argument_maker(endpoint: str, name: str) -> Callable[[Any], str] | None:
    rules = list(current_app.url_map.iter_rules(endpoint))
    if len(rules) != 1 or rules[0].arguments != {name} or rules[0].defaults:
        return None
    converter = rules[0]._converters.get(name)
    if type(converter) is not UnicodeConverter:
        return None
    # The placeholder is unreserved characters only: the converter passes it unquoted.
    values: dict[str, Any] = {name: _SLOT}
    head, mark, tail = url_for(endpoint, **values).partition(_SLOT)
    if not mark or _SLOT in tail:
        return None
    to_url = converter.to_url

    def make(value: Any) -> str:
        return head + to_url(value) + tail

    return make


def _url_for_one(endpoint: str, name: str, value: Any) -> str:
    values: dict[str, Any] = {name: value}
    return url_for(endpoint, **values)


#: Which entries of a navigation the current user sees, by position, each with whether it is
#: the active one: with the language and the mount point, everything the navigation shows,
#: so the key of its rendered fragment (``{% cache %}`` in the layouts).
NavState = tuple[tuple[int, bool], ...]


def _state(entries: list[NavEntry], is_active: Callable[[NavEntry, str], bool]) -> NavState:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return tuple(
        (index, is_active(entry, constant_url(entry.endpoint)))
        for index, entry in enumerate(entries)
        if entry.visible(user)
    )


def _items(entries: list[NavEntry], state: NavState) -> list[dict[str, Any]]:
    return [
        {
            "url": constant_url(entries[index].endpoint),
            "label": entries[index].label,
            "active": active,
        }
        for index, active in state
    ]


def register_nav(
    endpoint: str,
    label: Any,
    visible: Callable[[Any], bool],
    *,
    order: int = 50,
    prefix: str | None = None,
) -> None:
    _register(NAV_ENTRIES, NavEntry(endpoint, label, visible, order, prefix))


def everyone(_user: Any) -> bool:
    return True


def customers(user: Any) -> bool:
    return bool(user.is_authenticated)


def staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def _nav_active(entry: NavEntry, url: str) -> bool:
    prefix = entry.prefix or url
    return request.path == url if prefix == "/" else request.path.startswith(prefix)


def nav_state() -> NavState:
    return _state(NAV_ENTRIES, _nav_active)


def nav_items(state: NavState | None = None) -> list[dict[str, Any]]:
    """The main navigation's entries for the current user: url, label, active."""
    return _items(NAV_ENTRIES, nav_state() if state is None else state)


#: Home page blocks for signed-in users: (order, template, visible). Features add theirs.
HOME_BLOCKS: list[tuple[int, str, Callable[[Any], bool]]] = []


def register_home_block(template: str, visible: Callable[[Any], bool], *, order: int = 50) -> None:
    if any(block[1] == template for block in HOME_BLOCKS):
        return
    HOME_BLOCKS.append((order, template, visible))
    HOME_BLOCKS.sort(key=lambda block: block[0])


def home_blocks() -> list[str]:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return [template for _order, template, visible in HOME_BLOCKS if visible(user)]


#: Staff area side navigation: features add their staff pages here.
STAFF_NAV: list[NavEntry] = []


def register_staff_nav(
    endpoint: str,
    label: Any,
    visible: Callable[[Any], bool],
    *,
    order: int = 50,
    prefix: str | None = None,
) -> None:
    _register(STAFF_NAV, NavEntry(endpoint, label, visible, order, prefix))


def _staff_nav_active(entry: NavEntry, url: str) -> bool:
    return request.path == url or bool(entry.prefix and request.path.startswith(entry.prefix))


def staff_nav_state() -> NavState:
    return _state(STAFF_NAV, _staff_nav_active)


def staff_nav_items(state: NavState | None = None) -> list[dict[str, Any]]:
    return _items(STAFF_NAV, staff_nav_state() if state is None else state)


def has_role(*names: str) -> Callable[[Any], bool]:
    """A visibility predicate: signed in and holding one of ``names``."""

    def _visible(user: Any) -> bool:
        return bool(user.is_authenticated and user.role_names & set(names))

    return _visible

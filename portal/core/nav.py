"""Main navigation: features register their entries; each says who sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # a lazy string
    visible: Callable[[Any], bool]
    order: int = 50
    prefix: str | None = None  # URL prefix that marks the entry active


NAV_ENTRIES: list[NavEntry] = []


def register_nav(
    endpoint: str,
    label: Any,
    visible: Callable[[Any], bool],
    *,
    order: int = 50,
    prefix: str | None = None,
) -> None:
    if any(entry.endpoint == endpoint for entry in NAV_ENTRIES):
        return
    NAV_ENTRIES.append(NavEntry(endpoint, label, visible, order, prefix))
    NAV_ENTRIES.sort(key=lambda entry: entry.order)


def everyone(_user: Any) -> bool:
    return True


def customers(user: Any) -> bool:
    return bool(user.is_authenticated)


def staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def nav_items() -> list[dict[str, Any]]:
    items = []
    for entry in NAV_ENTRIES:
        if not entry.visible(current_user):
            continue
        url = url_for(entry.endpoint)
        prefix = entry.prefix or url
        active = request.path == url if prefix == "/" else request.path.startswith(prefix)
        items.append({"url": url, "label": entry.label, "active": active})
    return items


#: Home page blocks for signed-in users: (order, template, visible). Features add theirs.
HOME_BLOCKS: list[tuple[int, str, Callable[[Any], bool]]] = []


def register_home_block(template: str, visible: Callable[[Any], bool], *, order: int = 50) -> None:
    if any(block[1] == template for block in HOME_BLOCKS):
        return
    HOME_BLOCKS.append((order, template, visible))
    HOME_BLOCKS.sort(key=lambda block: block[0])


def home_blocks() -> list[str]:
    return [template for _order, template, visible in HOME_BLOCKS if visible(current_user)]


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
    if any(entry.endpoint == endpoint for entry in STAFF_NAV):
        return
    STAFF_NAV.append(NavEntry(endpoint, label, visible, order, prefix))
    STAFF_NAV.sort(key=lambda entry: entry.order)


def staff_nav_items() -> list[dict[str, Any]]:
    items = []
    for entry in STAFF_NAV:
        if not entry.visible(current_user):
            continue
        url = url_for(entry.endpoint)
        active = request.path == url or bool(entry.prefix and request.path.startswith(entry.prefix))
        items.append({"url": url, "label": entry.label, "active": active})
    return items


def has_role(*names: str) -> Callable[[Any], bool]:
    """A visibility predicate: signed in and holding one of ``names``."""

    def _visible(user: Any) -> bool:
        return bool(user.is_authenticated and user.role_names & set(names))

    return _visible

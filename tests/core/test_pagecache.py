"""The store of rendered public pages: bounded, least recently used out first, timed."""

from __future__ import annotations

from flask import Flask

from portal.core import pagecache
from portal.core.pagecache import PageStore


def test_the_least_recently_used_page_goes_first():
    store = PageStore(size=2, seconds=60)
    store.set(("a",), "page a")
    store.set(("b",), "page b")
    assert store.get(("a",)) == "page a"  # now b is the least recently used
    store.set(("c",), "page c")
    assert len(store) == 2
    assert store.get(("b",)) is None
    assert store.get(("a",)) == "page a" and store.get(("c",)) == "page c"


def test_a_page_is_kept_for_its_time_only(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now[0])
    store = PageStore(size=4, seconds=60)
    store.set(("a",), "page a")
    now[0] += 59
    assert store.get(("a",)) == "page a"
    now[0] += 2
    assert store.get(("a",)) is None
    assert len(store) == 0


def test_a_size_of_zero_keeps_nothing(app):
    other = Flask(__name__)
    other.config["PAGE_CACHE_SIZE"] = 0
    pagecache.init_app(other)
    assert other.extensions["portal_page_cache"] is None
    assert isinstance(app.extensions["portal_page_cache"], PageStore)

"""The layout's parts kept per language and mount point (``{% cache %}``): each request gets
the part for its own language, direction and mount point, and nothing about the request."""

from __future__ import annotations

import re

from portal.core.fragments import FragmentCache


def _page(client, language, script_root=""):
    response = client.get(
        "/login",
        headers={"Accept-Language": language},
        base_url=f"http://localhost{script_root}",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _selected(html):
    return re.findall(r'<option value="([^"]+)"[^>]* selected>', html)


def test_each_language_gets_its_own_parts_in_any_order(app, client):
    fragments = app.jinja_env.extensions[FragmentCache.identifier]
    fragments.clear()
    for _round in range(2):  # the second round is served from the kept parts
        english = _page(client, "en")
        latvian = _page(client, "lv")
        arabic = _page(client, "ar")
        assert _selected(english) == ["en"] and _selected(latvian) == ["lv"]
        assert _selected(arabic) == ["ar"]
        assert "Skip to main content" in english and "Skip to main content" not in latvian
        assert ">Language</label>" in english and ">Language</label>" not in latvian
        assert "bootstrap.rtl" in arabic and "bootstrap.rtl" not in english + latvian
        assert 'dir="rtl"' in arabic
    assert len(fragments) > 0


def test_parts_follow_the_mount_point(app, client):
    app.jinja_env.extensions[FragmentCache.identifier].clear()
    for _round in range(2):
        mounted = _page(client, "en", "/portal")
        plain = _page(client, "en")
        assert 'href="/portal/static/css/' in mounted and 'action="/portal/language"' in mounted
        assert "/portal/" not in plain


def test_the_requests_own_values_are_never_kept(app, client):
    first = _page(client, "en")
    response = client.get("/login?next=/orders", headers={"Accept-Language": "en"})
    second = response.get_data(as_text=True)
    assert 'name="next" value="/login"' in first
    assert 'name="next" value="/login?next=/orders"' in second


def test_nothing_is_kept_while_templates_reload(app, client):
    fragments = app.jinja_env.extensions[FragmentCache.identifier]
    fragments.clear()
    app.jinja_env.auto_reload = True
    try:
        _page(client, "en")
        assert len(fragments) == 0
    finally:
        app.jinja_env.auto_reload = False
    _page(client, "en")
    assert len(fragments) > 0

"""Error pages as a person meets them: a wrong address, an expired form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    LivePortal,
    Translator,
    assert_mirrored,
    click_through,
    expect_language,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("locale", "lang", "direction"), [("en-GB", "en", "ltr"), ("ar", "ar", "rtl")]
)
def test_unknown_page(
    open_page: Callable[..., Page],
    portal: LivePortal,
    check: Callable[[Page, str], None],
    locale: str,
    lang: str,
    direction: str,
) -> None:
    t = Translator(lang)
    page = open_page(locale=locale)
    response = page.goto(portal.url("/no-such-page"))
    assert response is not None and response.status == 404
    expect_language(page, lang, direction)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("We could not find that page"))
    if direction == "rtl":
        assert_mirrored(page)
    check(page, "not-found")
    click_through(page.get_by_role("link", name=t("Go to the home page")))
    expect(page).to_have_url(portal.url("/"))


def test_expired_form(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """The session ended while the form was open: the portal explains instead of crashing."""
    t = Translator("en")
    page = open_page()
    page.goto(portal.url("/login"))
    page.context.clear_cookies()
    page.get_by_label(t.fs("Email Address")).fill("ben@example.com")
    page.get_by_label(t.fs("Password"), exact=True).fill("whatever-it-was")
    click_through(page.locator("main").get_by_role("button", name=t("Sign in")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("We could not accept that request"))
    check(page, "form-expired")

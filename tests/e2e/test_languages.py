"""Languages in a real browser: Arabic right to left, the visitor's switcher, the profile's choice."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    NEW_PASSWORD,
    LivePortal,
    Translator,
    assert_mirrored,
    click_through,
    english_texts,
    expect_language,
    login,
    new_address,
    register_and_confirm,
)

pytestmark = pytest.mark.e2e


def test_registration_in_arabic_is_mirrored(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """A browser that asks for Arabic gets every page right to left, forms included."""
    t = Translator("ar")
    page = open_page(locale="ar")
    page.goto(portal.url("/register"))
    expect_language(page, "ar", "rtl")
    assert_mirrored(page)

    address = new_address("layla")
    register_and_confirm(page, portal, check, t, name="ليلى منصور", address=address)
    expect_language(page, "ar", "rtl")

    login(page, portal, address, NEW_PASSWORD, t)
    expect(page.get_by_role("heading", level=1)).to_contain_text("ليلى منصور")
    expect_language(page, "ar", "rtl")
    assert_mirrored(page)
    check(page, "home-customer")

    click_through(page.get_by_role("link", name=t("Edit profile")))
    assert_mirrored(page)
    check(page, "profile")
    # The confirmation mail was written in Arabic: the recipient's language.
    mail = portal.wait_for_mail(address)
    assert mail["Subject"]


def test_visitor_switches_language(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    page = open_page(locale="pl-PL")
    page.goto(portal.url("/"))
    expect_language(page, "pl")  # from the browser's Accept-Language
    t = Translator("pl")

    # From the keyboard, the first stop skips the menu, and the focus is visible.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=t("Skip to main content"))
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    page.get_by_label(t("Language")).select_option(label="Latviešu")
    click_through(page.get_by_role("button", name=t("Change")))
    expect_language(page, "lv")
    t = Translator("lv")
    expect(page.get_by_label(t("Language"))).to_have_value("lv")
    check(page, "home-latvian")

    # The choice sticks while the visitor moves on, and the switcher returns to the same page.
    click_through(page.get_by_role("link", name=t("Create an account")).first)
    expect_language(page, "lv")
    page.get_by_label(t("Language")).select_option(label="العربية")
    click_through(page.get_by_role("button", name=t("Change")))
    expect_language(page, "ar", "rtl")
    assert page.url.endswith("/register")
    assert_mirrored(page)
    check(page, "register-arabic")

    page.get_by_label(Translator("ar")("Language")).select_option(label="简体中文")
    click_through(page.get_by_role("button", name=Translator("ar")("Change")))
    expect_language(page, "zh-Hans")
    check(page, "register-chinese")


def test_profile_language_wins_over_the_browser(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Layla chose Arabic in her profile; an English browser still gets Arabic once she signs in."""
    page = open_page(locale="en-GB")
    login(page, portal, "layla@example.com")
    expect_language(page, "ar", "rtl")
    assert_mirrored(page)
    t = Translator("ar")
    click_through(page.get_by_role("link", name="ليلى حسن"))
    expect(page.get_by_label(t("Language"), exact=True).first).to_be_visible()
    assert_mirrored(page)
    check(page, "profile-arabic")
    click_through(page.get_by_role("link", name=t("Security")))
    check(page, "security-arabic")
    page.goto(portal.url("/notifications"))
    check(page, "notifications-arabic")


@pytest.mark.parametrize("locale", ["lv", "ar"])
def test_no_english_left_on_translated_pages(
    open_page: Callable[..., Page], portal: LivePortal, locale: str
) -> None:
    """No page a customer uses shows a source text in English: neither an untranslated one nor
    one translated too early. (Staff pages are in the staff's language; user data is not
    checked, as only the catalogs' texts are looked for.)"""
    t = Translator(locale)
    page = open_page(locale=locale)
    found: dict[str, list[str]] = {}
    for path in ("/", "/register", "/login", "/reset", "/no-such-page"):
        page.goto(portal.url(path))
        found[path] = english_texts(page, t)
    login(page, portal, "anna@example.com" if locale == "lv" else "layla@example.com", t=t)
    for path in (
        "/",
        "/account",
        "/account/security",
        "/account/data",
        "/notifications",
        "/orders",
        "/feedback",
        "/feedback/new",
        "/surveys",
        "/community",
        "/community/new",
    ):
        page.goto(portal.url(path))
        found[path] = english_texts(page, t)
    report = "\n".join(f"{path}: {texts}" for path, texts in found.items() if texts)
    assert not report, f"English texts on {locale} pages:\n{report}"


def test_form_messages_in_latvian_beside_their_field(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """WTForms' own messages (a field left empty, a choice that is not offered) come in the
    user's language, right under the field they are about; WTForms has no Latvian of its own."""
    t = Translator("lv")  # Anna's profile language
    required, bad_choice = t("This field is required."), t("Not a valid choice.")
    assert required != "This field is required." and bad_choice != "Not a valid choice."
    page = open_page()
    login(page, portal, "anna@example.com")

    page.goto(portal.url("/feedback/new"))
    expect_language(page, "lv")
    click_through(page.get_by_role("button", name=t("Send"), exact=True))
    subject = page.get_by_label(t("Subject"))
    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_accessible_description(required)
    expect(page.get_by_label(t("Message"), exact=True)).to_have_accessible_description(required)
    _just_under(page, subject, page.locator("#subject-error"))
    assert english_texts(page, t) == []
    check(page, "feedback-required-latvian")

    page.goto(portal.url("/orders?status=lost"))
    status = page.get_by_label(t("Status"))
    expect(status).to_have_accessible_description(bad_choice)
    _just_under(page, status, page.locator("#status-error"))
    status_box = status.bounding_box()
    show_box = page.get_by_role("button", name=t("Show"), exact=True).bounding_box()
    assert status_box and show_box
    # The button stays level with the select, the message goes under both.
    assert abs((show_box["y"] + show_box["height"]) - (status_box["y"] + status_box["height"])) <= 2
    assert english_texts(page, t) == []
    check(page, "orders-bad-status-latvian")


def _just_under(page: Page, field: Locator, message: Locator) -> None:
    """The message is visible directly below its field, starting at the same edge."""
    expect(message).to_be_visible()
    field_box, message_box = field.bounding_box(), message.bounding_box()
    assert field_box and message_box
    assert 0 <= message_box["y"] - (field_box["y"] + field_box["height"]) <= 16
    assert abs(message_box["x"] - field_box["x"]) <= 2

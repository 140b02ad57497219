"""Accounts in a real browser: register, confirm from the mail, sign in, edit the profile."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    NEW_PASSWORD,
    LivePortal,
    Translator,
    click_through,
    login,
    logout,
    new_address,
    register_and_confirm,
)

pytestmark = pytest.mark.e2e


def test_register_confirm_sign_in_edit_profile_sign_out(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    address = new_address("erika")
    register_and_confirm(page, portal, check, t, name="Erika Berzina", address=address)

    login(page, portal, address, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Erika Berzina")
    check(page, "home-customer")

    click_through(page.get_by_role("link", name=t("Edit profile")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your account"))
    check(page, "profile")
    page.get_by_label(t("What should we call you?")).fill("Erika")
    page.get_by_label(t("City")).fill("Riga")
    page.get_by_label(t("Country code")).fill("lv")
    page.get_by_label(t("Birthday: day")).select_option("14")
    page.get_by_label(t("Birthday: month")).select_option(label="March")
    click_through(page.get_by_role("button", name=t("Save profile")))
    expect(page.get_by_role("status")).to_contain_text(t("Your profile has been saved."))
    expect(page.get_by_label(t("Country code"))).to_have_value("LV")
    check(page, "profile-saved")
    assert portal.query(
        'SELECT preferred_name, city, birthday_day, birthday_month FROM "user" WHERE email = ?',
        address,
    ) == [("Erika", "Riga", 14, 3)]

    click_through(page.get_by_role("link", name=t("Change e-mail address")))
    check(page, "change-email")
    click_through(page.get_by_role("link", name=t("Back to your profile")))

    # The greeting and the menu use the preferred name now.
    click_through(page.get_by_role("link", name=t("Home")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Erika")

    click_through(page.get_by_role("link", name="Erika", exact=True))
    click_through(page.get_by_role("link", name=t("Security")))
    check(page, "security")
    click_through(page.get_by_role("link", name=t("My data")))
    check(page, "my-data")

    logout(page, t)
    expect(page.get_by_role("link", name=t("Sign in")).first).to_be_visible()
    check(page, "signed-out")


def test_forgotten_password_is_reset_from_the_mail(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    address = "ben@example.com"
    before = len(portal.mails_to(address))
    page.goto(portal.url("/login"))
    click_through(page.get_by_role("link", name=t("Forgot your password?")))
    check(page, "forgot-password")
    page.get_by_label(t.fs("Email Address")).fill(address)
    click_through(page.get_by_role("button", name=t("Send reset link")))
    check(page, "reset-link-sent")

    mail = portal.wait_for_mail(address, after=before)
    page.goto(portal.link_in(mail, "/reset"))
    check(page, "reset-password")
    new_password = "amber-meadow-compass-77"
    page.get_by_label(t.fs("Password"), exact=True).fill(new_password)
    page.get_by_label(t.fs("Retype Password")).fill(new_password)
    click_through(page.get_by_role("button", name=t("Reset password")))
    page.wait_for_load_state()

    login(page, portal, address, new_password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ben")

    # Change it back through the account's security page, as the owner would.
    page.goto(portal.url("/account/security"))
    click_through(page.get_by_role("link", name=t("Change password")))
    check(page, "change-password")
    page.get_by_label(t.fs("Password"), exact=True).fill(new_password)
    page.get_by_label(t.fs("New Password")).fill("portal-demo-2026")
    page.get_by_label(t.fs("Retype Password")).fill("portal-demo-2026")
    click_through(page.get_by_role("button", name=t("Change password")))
    expect(page).to_have_url(re.compile(r"/account/security$"))


def test_resend_confirmation_page(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    page.goto(portal.url("/login"))
    click_through(page.get_by_role("link", name=t("Did not get the confirmation mail?")))
    check(page, "send-confirmation")


def test_sign_in_and_save_the_profile_without_javascript_on_a_phone(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Core tasks need no script: the menu stays reachable and the forms post."""
    t = Translator("ru")
    page = open_page(
        locale="ru-RU", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page.goto(portal.url("/"))
    check(page, "home-phone-no-script")
    click_through(page.get_by_role("navigation").get_by_role("link", name=t("Sign in")))
    page.get_by_label(t.fs("Email Address")).fill("olga@example.com")
    page.get_by_label(t.fs("Password"), exact=True).fill("portal-demo-2026")
    click_through(page.locator("main").get_by_role("button", name=t("Sign in")))
    click_through(page.get_by_role("navigation").get_by_role("link", name="Ольга Смирнова"))
    page.get_by_label(t("City")).fill("Daugavpils")
    click_through(page.get_by_role("button", name=t("Save profile")))
    check(page, "profile-saved-phone-no-script")
    expect(page.get_by_role("status")).to_contain_text(t("Your profile has been saved."))

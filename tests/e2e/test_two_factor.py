"""Two-factor sign-in in a real browser: the demo administrator, and a customer setting it up."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LivePortal, Translator, click_through, login

pytestmark = pytest.mark.e2e


def test_admin_signs_in_with_an_authenticator_code(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    login(page, portal, "admin@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Two-factor authentication"))
    check(page, "code-asked")

    # A wrong code is refused beside the field.
    page.get_by_label(t.fs("Authentication Code")).fill("000000")
    click_through(page.get_by_role("button", name=t("Verify code")))
    expect(page.get_by_label(t.fs("Authentication Code"))).to_have_attribute("aria-invalid", "true")
    check(page, "code-refused")

    page.get_by_label(t.fs("Authentication Code")).fill(portal.totp_code("admin@example.com"))
    click_through(page.get_by_role("button", name=t("Verify code")))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Admin")
    check(page, "home-admin")

    click_through(page.get_by_role("link", name="Ada Admin"))
    click_through(page.get_by_role("link", name=t("Security")))
    expect(page.get_by_text(t("On"), exact=True)).to_be_visible()
    check(page, "security-admin")

    click_through(page.get_by_role("link", name=t("Set up two-factor authentication")))
    check(page, "two-factor-setup")
    click_through(page.get_by_role("link", name=t("Set up recovery codes")))
    check(page, "recovery-codes")
    click_through(page.get_by_role("button", name=t("Generate new codes")))
    expect(page.locator(".recovery-codes li")).not_to_have_count(0)
    check(page, "recovery-codes-shown")


def test_customer_sets_up_two_factor_from_the_key_on_the_page(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Piotr (Polish) turns two-factor on by typing the shown key into an authenticator."""
    t = Translator("pl")
    page = open_page(locale="pl-PL")
    login(page, portal, "piotr@example.com", t=t)
    page.goto(portal.url("/account/security"))
    click_through(page.get_by_role("link", name=t("Set up two-factor authentication")))
    check(page, "setup")
    page.get_by_label(
        t.fs("Set up using an authenticator app (e.g. google, lastpass, authy)")
    ).check()
    click_through(page.get_by_role("button", name=t("Continue")))
    key = page.locator(".totp-key").inner_text()
    expect(page.get_by_role("img", name=t("QR code for your authenticator app"))).to_be_visible()
    check(page, "setup-key")

    code = pyotp.TOTP(re.sub(r"[^A-Z2-7]", "", key.upper())).now()
    page.get_by_label(t.fs("Authentication Code")).fill(code)
    click_through(page.get_by_role("button", name=t("Verify code")))
    expect(page).to_have_url(re.compile(r"/account/security$"))
    expect(page.get_by_text(t("On"), exact=True)).to_be_visible()
    check(page, "security-two-factor-on")
    assert portal.query(
        'SELECT tf_primary_method FROM "user" WHERE email = ?', "piotr@example.com"
    ) == [("authenticator",)]

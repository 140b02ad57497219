"""The staff dashboard and the customer 360 page in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LivePortal, Translator, click_through, login

pytestmark = pytest.mark.e2e


def test_dashboard_period_customer_search_and_touchpoint(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    login(page, portal, "manager@example.com")
    click_through(page.get_by_role("navigation").get_by_role("link", name=t("Staff")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Dashboard"))
    check(page, "dashboard")

    page.get_by_label(t("Period"), exact=True).select_option(label="Last 90 days")
    click_through(page.get_by_role("button", name=t("Show")))
    expect(page).to_have_url(re.compile(r"days=90"))
    expect(page.get_by_label(t("Period"), exact=True)).to_have_value("90")
    check(page, "dashboard-90-days")

    click_through(page.get_by_role("link", name=t("Customers"), exact=True).first)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Customers"))
    check(page, "customers")
    page.get_by_label(t("Search customers")).fill("Ozola")
    click_through(page.get_by_role("button", name=t("Search")))
    check(page, "customers-found")
    click_through(page.get_by_role("link", name="Anna Ozola"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Anna")
    check(page, "customer-360")

    page.get_by_label(t("What happened")).select_option(label=t("Call"))
    page.get_by_label(t("Note"), exact=True).fill("Thanked her for two years with us.")
    click_through(page.get_by_role("button", name=t("Log it")))
    touchpoints = page.locator("#touchpoints")
    expect(touchpoints).to_contain_text("Thanked her for two years with us.")
    check(page, "touchpoint-logged")


def test_manager_edits_previews_and_resets_a_greeting(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("en")
    page = open_page()
    login(page, portal, "manager@example.com")
    page.goto(portal.url("/staff/"))
    click_through(page.get_by_role("link", name=t("Mail templates")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Mail templates"))
    check(page, "mail-templates")
    page.goto(portal.url("/staff/mail-templates/birthday/lv"))
    subject = page.get_by_label(t("Subject"), exact=True)
    expect(subject).to_have_value(re.compile(r"\{\{ name \}\}"))
    subject.fill("Sveicieni, {{ config }}")
    click_through(page.get_by_role("button", name=t("Save")))
    expect(page.locator("#subject-error")).to_contain_text("config")
    check(page, "mail-template-refused")
    subject.fill("Daudz laimes, {{ name }}!")
    click_through(page.get_by_role("button", name=t("Preview")))
    expect(page.get_by_role("heading", name=t("Preview with sample data"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("Daudz laimes, Anna!")
    check(page, "mail-template-preview")
    click_through(page.get_by_role("button", name=t("Save")))
    click_through(page.get_by_role("button", name=t("Reset to the default")))
    expect(subject).not_to_have_value("Daudz laimes, {{ name }}!")

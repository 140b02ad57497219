"""Surveys in a real browser: a customer answers from the link in the invitation mail."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LivePortal, Translator, click_through

pytestmark = pytest.mark.e2e


def test_answer_a_survey_from_its_mail_link_without_signing_in(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Piotr's invitation to the demo's NPS survey waits in his mailbox (Polish)."""
    mail = portal.wait_for_mail("piotr@example.com")
    # `seed-demo` wrote the mail before the server had its port: keep the link's path.
    found = re.search(r"https?://[^/\s]+(/s/[\w-]+)", portal.text_of(mail))
    assert found, portal.text_of(mail)
    link = portal.url(found.group(1))
    t = Translator("pl")

    page = open_page()  # a fresh browser: no session, an English browser
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    check(page, "survey")

    # Sending without the required score: the message sits at the question.
    click_through(page.get_by_role("button", name=t("Send my answers")))
    expect(page.get_by_role("alert").first).to_contain_text(
        t("Some answers need your attention. They are marked below.")
    )
    check(page, "survey-error")

    score = page.get_by_role("group").filter(has=page.locator(".survey-scale")).first
    score.get_by_text("9", exact=True).click()
    expect(score.get_by_role("radio", name="9", exact=True)).to_be_checked()
    click_through(page.get_by_role("button", name=t("Send my answers")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you"))
    check(page, "survey-thanks")
    assert portal.query(
        'SELECT count(*) FROM survey_invitation i JOIN "user" u ON u.id = i.user_id '
        "WHERE u.email = ? AND i.responded_at IS NOT NULL",
        "piotr@example.com",
    ) != [(0,)]

"""The community in a real browser: ask, answer, accept; flag a post until a moderator removes it."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LivePortal, Translator, click_through, login

pytestmark = pytest.mark.e2e

SPAM = "Cheap courier, best prices!!!"  # the demo's reply two members have reported already
SPAM_TOPIC = "Can I change the delivery address after ordering?"


def test_ask_answer_accept(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Ben (English) asks; Anna (Latvian) answers; Ben accepts her answer. Both have posted
    before, so their posts need no approval."""
    en = Translator("en")
    ben = open_page()
    login(ben, portal, "ben@example.com")
    click_through(ben.get_by_role("navigation").get_by_role("link", name=en("Community")))
    check(ben, "community")
    click_through(ben.get_by_role("link", name=en("Ask a question")))
    check(ben, "ask")
    title = f"Which box is best for sending a lamp? {os.urandom(2).hex()}"
    ben.get_by_label(en("Category")).select_option(label="Products and tips")
    ben.get_by_label(en("Title")).fill(title)
    ben.get_by_label(en("Your question or story")).fill(
        "I want to send the desk lamp I bought to my sister. How do you pack it?"
    )
    click_through(ben.get_by_role("button", name=en("Publish topic")))
    expect(ben.get_by_role("heading", level=1)).to_contain_text(title)
    check(ben, "asked")
    topic_url = ben.url

    t = Translator("lv")
    anna = open_page()
    login(anna, portal, "anna@example.com")
    anna.goto(topic_url)
    anna.get_by_label(t("Your reply")).fill("Keep the original box and wrap the shade in a towel.")
    click_through(anna.get_by_role("button", name=t("Post reply")))
    answer = anna.locator("article").filter(has_text="wrap the shade in a towel")
    expect(answer).to_be_visible()
    check(anna, "answered")

    ben.goto(topic_url)
    answer = ben.locator("article").filter(has_text="wrap the shade in a towel")
    click_through(answer.get_by_role("button", name=en("Accept as answer")))
    accepted = ben.get_by_role("region", name=en("Accepted answer"))
    expect(accepted).to_contain_text("wrap the shade in a towel")
    check(ben, "accepted")


def test_flagged_post_is_hidden_and_a_moderator_deletes_it(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Anna and Ben reported the demo's spam reply; Olga's report is the third, which hides it."""
    t = Translator("ru")  # Olga's profile language
    olga = open_page()
    login(olga, portal, "olga@example.com")
    click_through(olga.get_by_role("navigation").get_by_role("link", name=t("Community")))
    click_through(olga.get_by_role("link", name="Orders and delivery"))
    click_through(olga.get_by_role("link", name=SPAM_TOPIC))
    spam = olga.locator("article").filter(has_text=SPAM)
    click_through(spam.get_by_role("link", name=t("Report")))
    expect(olga.get_by_role("heading", level=1)).to_have_text(t("Report a post"))
    check(olga, "report-post")
    olga.get_by_label(t("Reason")).select_option(label=t("Spam or advertising"))
    olga.get_by_label(t("Anything moderators should know (optional)")).fill("Реклама.")
    click_through(olga.get_by_role("button", name=t("Report to moderators")))
    # Three reports hide it from members until a moderator looks.
    expect(olga.get_by_text(SPAM)).to_have_count(0)
    check(olga, "reported")

    en = Translator("en")
    moderator = open_page()
    login(moderator, portal, "moderator@example.com")
    click_through(moderator.get_by_role("navigation").get_by_role("link", name=en("Staff")))
    click_through(moderator.get_by_role("link", name=en("Moderation"), exact=True))
    expect(moderator.get_by_role("heading", level=1)).to_have_text(en("Moderation"))
    check(moderator, "moderation-queue")
    card = moderator.locator("article").filter(has_text=SPAM)
    expect(card).to_contain_text(en("Hidden"))
    card.get_by_label(en("Action")).select_option(label=en("Delete"))
    card.get_by_label(en("Reason")).fill("Advertising")
    click_through(card.get_by_role("button", name=en("Apply")))
    expect(moderator.locator("article").filter(has_text=SPAM)).to_have_count(0)
    check(moderator, "moderation-done")
    assert portal.query(
        "SELECT state FROM community_post WHERE body_markdown LIKE ?", SPAM + "%"
    ) == [("deleted",)]

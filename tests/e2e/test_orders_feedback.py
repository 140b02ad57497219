"""Orders and feedback in a real browser: follow an order; report a problem until it is rated."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    VIEWPORT,
    LivePortal,
    Translator,
    assert_mirrored,
    click_through,
    expect_language,
    login,
)

pytestmark = pytest.mark.e2e

ANNA = "anna@example.com"  # a Latvian customer of the demo
DELIVERED = "SO-104211"  # Anna's order delivered five days ago


def test_follow_an_order(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("lv")  # Anna's profile language
    page = open_page()
    login(page, portal, ANNA)
    click_through(page.get_by_role("navigation").get_by_role("link", name=t("Orders")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My orders"))
    check(page, "orders")

    click_through(page.get_by_role("link", name=DELIVERED))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Order %(number)s", number=DELIVERED)
    )
    timeline = page.get_by_role("heading", name=t("Timeline"))
    expect(timeline).to_be_visible()
    expect(page.get_by_text("Left with a neighbour at number 12.")).to_be_visible()
    check(page, "order")


def test_report_a_problem_answered_resolved_and_rated(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    t = Translator("lv")
    en = Translator("en")
    anna = open_page()
    login(anna, portal, ANNA)
    anna.goto(portal.url(f"/orders/{DELIVERED}"))
    click_through(anna.get_by_role("link", name=t("Report a problem")))
    expect(anna.get_by_role("heading", level=1)).to_have_text(t("Tell us something"))
    check(anna, "report-a-problem")
    anna.get_by_label(t("Complaint"), exact=True).check()
    subject = f"Parcel arrived damaged {DELIVERED}"
    anna.get_by_label(t("Subject")).fill(subject)
    anna.get_by_label(t("Message"), exact=True).fill(
        "The box of my delivery was crushed and the plate inside is broken."
    )
    click_through(anna.get_by_role("button", name=t("Send")))
    expect(anna.get_by_role("heading", level=1)).to_have_text(subject)
    check(anna, "complaint-sent")
    reference_url = anna.url

    # The agent finds it in the queue.
    agent = open_page()
    login(agent, portal, "agent@example.com")
    agent.goto(portal.url("/staff"))
    click_through(agent.get_by_role("link", name=en("Feedback queue")))
    check(agent, "staff-queue")
    row = agent.get_by_role("row").filter(has_text=subject)
    click_through(row.get_by_role("link").first)
    expect(agent.get_by_role("heading", level=1)).to_contain_text(subject)
    check(agent, "staff-item")
    agent.get_by_label(en("Message"), exact=True).fill(
        "We are sorry. Could you send a photo of the broken plate?"
    )
    click_through(agent.get_by_role("button", name=en("Post")))
    expect(agent.get_by_text("Could you send a photo of the broken plate?")).to_be_visible()
    check(agent, "staff-replied")

    # Anna answers.
    anna.goto(reference_url)
    expect(anna.get_by_text("Could you send a photo of the broken plate?")).to_be_visible()
    anna.get_by_label(t("Your reply")).fill("The plate is in two pieces; the box was wet too.")
    click_through(anna.get_by_role("button", name=t("Send reply")))
    expect(anna.get_by_text("The plate is in two pieces; the box was wet too.")).to_be_visible()
    check(anna, "customer-replied")

    # The agent resolves with a root cause and the three texts.
    agent.reload()
    expect(agent.get_by_text("The plate is in two pieces; the box was wet too.")).to_be_visible()
    causes = agent.get_by_label(en("Root cause"))
    causes.select_option(index=1)
    agent.get_by_label(en("What went wrong")).fill("The carrier dropped the parcel in the rain.")
    agent.get_by_label(en("How it was resolved")).fill("We sent a new plate at our cost.")
    agent.get_by_label(en("How to prevent it happening again")).fill(
        "Plates now travel in padded, waterproof boxes."
    )
    click_through(agent.get_by_role("button", name=en("Resolve"), exact=True))
    expect(agent.get_by_role("heading", name=en("Resolution"))).to_be_visible()
    check(agent, "staff-resolved")

    # Anna sees how it was resolved and rates the handling.
    anna.goto(reference_url)
    expect(anna.get_by_text("We sent a new plate at our cost.")).to_be_visible()
    check(anna, "resolved")
    anna.get_by_label(t("5: excellent")).check()
    anna.get_by_label(t("Comment (optional)")).fill("Quick and kind.")
    click_through(anna.get_by_role("button", name=t("Send rating")))
    expect(
        anna.get_by_text(t("You rated our handling %(rating)d of 5. Thank you.", rating=5))
    ).to_be_visible()
    check(anna, "rated")
    reference = reference_url.rstrip("/").rsplit("/", 1)[-1]
    assert portal.query("SELECT rating FROM feedback_item WHERE reference = ?", reference) == [(5,)]


def test_orders_in_arabic_are_mirrored(
    open_page: Callable[..., Page], portal: LivePortal, check: Callable[[Page, str], None]
) -> None:
    """Layla chose Arabic: her orders and an order's page read right to left."""
    t = Translator("ar")
    page = open_page(locale="ar")
    login(page, portal, "layla@example.com", t=t)
    expect_language(page, "ar", "rtl")
    click_through(page.get_by_role("navigation").get_by_role("link", name=t("Orders")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My orders"))
    expect_language(page, "ar", "rtl")
    assert_mirrored(page)
    check(page, "orders-arabic")

    click_through(page.get_by_role("link", name="SO-104402"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Order %(number)s", number="SO-104402")
    )
    expect(page.get_by_role("heading", name=t("Timeline"))).to_be_visible()
    assert_mirrored(page)
    # The breadcrumb back to the list starts at the right edge too.
    crumb = page.get_by_role("navigation", name=t("Breadcrumb")).get_by_role("link")
    box = crumb.bounding_box()
    assert box and box["x"] > VIEWPORT["width"] / 2, box
    check(page, "order-arabic")

"""Public pages kept for visitors: shared HTML, the visitor's own CSRF token, never stale."""

from __future__ import annotations

import re

from flask_login import AnonymousUserMixin
from sqlalchemy import select

from portal.community import moderation, policies, queries, services
from portal.community.models import POST_STATES, Category, Post, Topic
from portal.core.db import utcnow
from portal.extensions import db
from tests.community.conftest import seed_topic, user_by_email
from tests.conftest import login
from tests.staff.conftest import count_queries

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _add_reply(app, topic_id: int, email: str, text: str) -> None:
    with app.app_context():
        topic = db.session.get(Topic, topic_id)
        services._new_post(user_by_email(email), topic, text, utcnow())
        db.session.flush()
        post = db.session.scalar(
            select(Post).where(Post.topic_id == topic_id).order_by(Post.position.desc()).limit(1)
        )
        services.set_post_state(post, "visible")
        db.session.commit()


def test_visitor_pages_are_rendered_once_and_served_from_memory(app, make_user, board):
    make_user("kept@example.com")
    with app.app_context():
        topic_id = seed_topic("kept@example.com", board["general"], title="Kept page")
    url = f"/community/t/{topic_id}-kept-page"
    first_reader, second_reader = app.test_client(), app.test_client()
    with count_queries(app) as cold:
        first = first_reader.get(url)
    with count_queries(app) as warm:
        second = second_reader.get(url)
    assert first.status_code == second.status_code == 200
    # The kept page needs only the topic's own row (for its revision), not the posts.
    warm_selects = [s for s in warm.statements if s.startswith("SELECT")]
    cold_selects = [s for s in cold.statements if s.startswith("SELECT")]
    assert len(warm_selects) == 1 < len(cold_selects), warm_selects
    first_html, second_html = first.get_data(as_text=True), second.get_data(as_text=True)
    assert "Kept page" in second_html
    # Each visitor's form carries its own session's token, never another reader's.
    first_tokens, second_tokens = TOKEN.findall(first_html), TOKEN.findall(second_html)
    assert first_tokens and second_tokens and first_tokens != second_tokens
    assert "placeholder" not in second_html
    # The token works for that visitor: the language form accepts it.
    changed = second_reader.post(
        "/language", data={"csrf_token": second_tokens[0], "locale": "lv", "next": url}
    )
    assert changed.status_code == 302


def test_a_change_to_the_topic_is_seen_at_once(app, make_user, board):
    make_user("fresh@example.com")
    with app.app_context():
        topic_id = seed_topic("fresh@example.com", board["general"], title="Fresh page")
    url = f"/community/t/{topic_id}-fresh-page"
    assert "A brand new answer" not in app.test_client().get(url).get_data(as_text=True)
    _add_reply(app, topic_id, "fresh@example.com", "A brand new answer")
    assert "A brand new answer" in app.test_client().get(url).get_data(as_text=True)


def test_signed_in_readers_and_languages_get_their_own_page(app, make_user, board):
    make_user("member@example.com", name="Mara Member")
    with app.app_context():
        topic_id = seed_topic("member@example.com", board["general"], title="Own page")
    url = f"/community/t/{topic_id}-own-page"
    visitor_html = app.test_client().get(url).get_data(as_text=True)
    member = app.test_client()
    login(member, "member@example.com")
    member_html = member.get(url).get_data(as_text=True)
    assert "Mara Member" in member_html and "Sign out" in member_html
    assert "Sign out" not in visitor_html
    latvian = app.test_client()
    latvian.get(url, headers={"Accept-Language": "lv"})
    assert latvian.get(url, headers={"Accept-Language": "lv"}).get_data(as_text=True) != (
        visitor_html
    )


def test_a_pending_message_is_not_kept_for_others(app, make_user, board):
    make_user("flash@example.com")
    with app.app_context():
        topic_id = seed_topic("flash@example.com", board["general"], title="Flash page")
    url = f"/community/t/{topic_id}-flash-page"
    reader = app.test_client()
    with reader.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this reader")]
    assert "Only for this reader" in reader.get(url).get_data(as_text=True)
    assert "Only for this reader" not in app.test_client().get(url).get_data(as_text=True)


def _category_page(app, slug: str = "general"):
    response = app.test_client().get(f"/community/c/{slug}")
    assert response.status_code == 200
    return response.headers["ETag"], response.get_data(as_text=True)


def test_a_kept_category_list_reads_only_the_category(app, make_user, board):
    make_user("lister@example.com")
    with app.app_context():
        for number in range(3):
            seed_topic("lister@example.com", board["general"], title=f"Listed topic {number}")
    with count_queries(app) as cold:
        etag, _html = _category_page(app)
    with count_queries(app) as warm:
        again, kept = _category_page(app)
    assert again == etag and "Listed topic 2" in kept
    warm_selects = [s for s in warm.statements if s.startswith("SELECT")]
    assert len(warm_selects) == 1 and "community_topic" not in warm_selects[0], warm_selects
    assert any("community_topic" in s for s in cold.statements)


def test_the_category_list_follows_every_change_to_its_topics(app, make_user, board):
    """Replies, votes, moderation and moves change the list's ETag, and the list shows them."""
    make_user("writer@example.com")
    make_user("voter@example.com")
    make_user("mod@example.com", roles=("moderator",))
    with app.app_context():
        topic_id = seed_topic("writer@example.com", board["general"], title="Watched topic")
        db.session.add(Category(slug="elsewhere", name="Elsewhere", description="", position=2))
        db.session.commit()
    seen = {_category_page(app)[0]}

    def changed(expected: str, slug: str = "general") -> None:
        etag, html = _category_page(app, slug)
        assert etag not in seen, expected
        assert expected in html, expected
        seen.add(etag)

    _add_reply(app, topic_id, "voter@example.com", "A reply")
    changed("1 reply")
    with app.app_context():
        question = db.session.scalar(
            select(Post).where(Post.topic_id == topic_id, Post.position == 1)
        )
        services.vote(user_by_email("voter@example.com"), question)
        db.session.commit()
    changed("1 vote")
    with app.app_context():
        topic = db.session.get(Topic, topic_id)
        moderation.moderate_topic(user_by_email("mod@example.com"), topic, "pin", "useful")
        db.session.commit()
    changed("Pinned")
    with app.app_context():
        topic = db.session.get(Topic, topic_id)
        target = db.session.scalar(select(Category).where(Category.slug == "elsewhere"))
        moderation.move_topic(user_by_email("mod@example.com"), topic, target, "belongs there")
        db.session.commit()
    etag, html = _category_page(app)
    assert etag not in seen and "Watched topic" not in html
    changed("Watched topic", "elsewhere")


def test_each_change_gives_the_category_a_new_revision(app, make_user, board):
    make_user("counter@example.com")
    with app.app_context():
        topic_id = seed_topic("counter@example.com", board["general"], title="Counted")
        before = db.session.get(Category, board["general"]).revision
    _add_reply(app, topic_id, "counter@example.com", "one")
    _add_reply(app, topic_id, "counter@example.com", "two")
    with app.app_context():
        # Counted in SQL at each commit: one new revision per change, never the same twice.
        assert db.session.get(Category, board["general"]).revision == before + 2
        assert db.session.get(Category, board["staff"]).revision == 1


def test_what_visitors_are_checked_against_agrees_with_the_policies(app, make_user, board):
    """The visitors' stamps read columns instead of asking policies.can_view_*: both must give
    the same answer for every state of a topic, in public and staff-only categories."""
    make_user("stamper@example.com")
    visitor = AnonymousUserMixin()
    with app.app_context():
        topics = {}
        for category in ("general", "staff"):
            for state in POST_STATES:
                topic_id = seed_topic(
                    "stamper@example.com", board[category], title=f"{state} in {category}"
                )
                db.session.get(Topic, topic_id).state = state
                topics[(category, state)] = topic_id
        db.session.commit()
        for (category, state), topic_id in topics.items():
            topic = db.session.get(Topic, topic_id)
            allowed = policies.can_view_topic(visitor, topic)
            assert (queries.public_topic_stamp(topic_id) is not None) == allowed, (category, state)
            assert allowed == (category == "general" and state == "visible")
        for category in db.session.scalars(select(Category)):
            allowed = policies.can_view_category(visitor, category)
            assert (queries.public_category_stamp(category.slug) is not None) == allowed
    client = app.test_client()
    for (category, state), topic_id in topics.items():
        status = client.get(f"/community/t/{topic_id}").status_code
        assert status == (301 if (category, state) == ("general", "visible") else 404), status
    assert client.get("/community/c/staff-room").status_code == 404

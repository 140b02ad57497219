"""Flags and moderation, the topic page's query budget, and search in several scripts."""

# ruff: noqa: RUF001 - Chinese punctuation is meant

from __future__ import annotations

from sqlalchemy import select

from portal.community import services
from portal.community.models import ModerationAction, Post, PostFlag, Topic
from portal.core.db import utcnow
from portal.extensions import db
from tests.community.conftest import count_queries, seed_topic, user_by_email
from tests.conftest import csrf_from, login


def _reply_id(topic_id: int) -> int:
    return db.session.scalar(select(Post.id).where(Post.topic_id == topic_id, Post.position == 2))


def test_third_distinct_flag_hides_the_post(app, client, make_user, board):
    for name in ("author", "a", "b", "c"):
        make_user(f"{name}@example.com")
    with app.app_context():
        topic_id = seed_topic(
            "author@example.com", board["general"], replies=[("author@example.com", "Buy now!!!")]
        )
        post_id = _reply_id(topic_id)
    # One member flagging three times is one flag.
    login(client, "a@example.com")
    for _ in range(3):
        page = client.get(f"/community/p/{post_id}/flag").get_data(as_text=True)
        client.post(
            f"/community/p/{post_id}/flag", data={"reason": "spam", "csrf_token": csrf_from(page)}
        )
    with app.app_context():
        assert db.session.get(Post, post_id).state == "visible"
        assert (
            len(db.session.scalars(select(PostFlag).where(PostFlag.post_id == post_id)).all()) == 1
        )
        services.flag_post(user_by_email("b@example.com"), db.session.get(Post, post_id), "spam")
        db.session.commit()
        assert db.session.get(Post, post_id).state == "visible"
        services.flag_post(user_by_email("c@example.com"), db.session.get(Post, post_id), "other")
        db.session.commit()
        post = db.session.get(Post, post_id)
        assert post.state == "hidden" and post.hidden_reason == "flags"
        assert db.session.get(Topic, topic_id).reply_count == 0
    # Hidden for members until reviewed.
    assert client.get(f"/community/p/{post_id}/flag").status_code == 404
    page = client.get(f"/community/t/{topic_id}", follow_redirects=True).get_data(as_text=True)
    assert "Buy now" not in page


def test_moderator_reviews_and_every_action_is_logged(app, client, make_user, board):
    make_user("author2@example.com")
    make_user("mod2@example.com", roles=("moderator",))
    make_user("cust2@example.com")
    with app.app_context():
        topic_id = seed_topic(
            "author2@example.com", board["general"], replies=[("author2@example.com", "Spam here")]
        )
        post_id = _reply_id(topic_id)
        post = db.session.get(Post, post_id)
        post.hidden_reason = "flags"
        services.set_post_state(post, "hidden")
        db.session.commit()
    login(client, "cust2@example.com")
    assert client.get("/staff/moderation").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "mod2@example.com")
    page = client.get("/staff/moderation").get_data(as_text=True)
    assert "Spam here" in page
    token = csrf_from(page)
    response = client.post(
        f"/staff/moderation/post/{post_id}",
        data={"action": "delete", "reason": "Advertising", "csrf_token": token},
    )
    assert response.status_code == 302
    client.post(
        f"/staff/moderation/topic/{topic_id}",
        data={"action": "lock", "reason": "Resolved", "csrf_token": token},
    )
    client.post(
        f"/staff/moderation/topic/{topic_id}/move",
        data={"category": board["staff"], "reason": "Internal now", "csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(Post, post_id).state == "deleted"
        topic = db.session.get(Topic, topic_id)
        assert topic.is_locked and topic.category_id == board["staff"]
        actions = db.session.scalars(
            select(ModerationAction.action).where(ModerationAction.topic_id == topic_id)
        ).all()
        assert set(actions) == {"post.delete", "topic.lock", "topic.move"}
    page = client.get("/staff/moderation").get_data(as_text=True)
    assert "Advertising" in page and "Internal now" in page and "Spam here" not in page


def test_topic_page_queries_do_not_grow_with_the_topic(app, client, make_user, board):
    make_user("talker@example.com")
    with app.app_context():
        small = seed_topic(
            "talker@example.com",
            board["general"],
            title="Small topic",
            replies=[("talker@example.com", f"reply {n}") for n in range(5)],
        )
        large = seed_topic(
            "talker@example.com",
            board["general"],
            title="Large topic",
            replies=[("talker@example.com", f"reply {n}") for n in range(130)],
        )
        topic = db.session.get(Topic, large)
        topic.accepted_post_id = _reply_id(large)
        db.session.commit()
    counts = []
    for url in (
        f"/community/t/{small}-small-topic",
        f"/community/t/{large}-large-topic",
        f"/community/t/{large}-large-topic?page=6",
    ):
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert max(counts) <= 6, counts
    assert counts[1] == counts[2]
    page = client.get(f"/community/t/{large}-large-topic?page=6").get_data(as_text=True)
    assert "reply 99" in page and "reply 118" in page and "reply 119" not in page


def test_category_listing_has_a_query_budget(app, client, make_user, board):
    make_user("lister@example.com")
    with app.app_context():
        for n in range(12):
            seed_topic("lister@example.com", board["general"], title=f"Topic number {n}")
    with count_queries(app) as statements:
        assert client.get("/community/c/general").status_code == 200
    assert len(statements) <= 3
    with count_queries(app) as statements:
        assert client.get("/community").status_code == 200
    assert len(statements) <= 2


def test_search_finds_chinese_arabic_and_english(app, client, make_user, board):
    make_user("polyglot@example.com")
    with app.app_context():
        seed_topic(
            "polyglot@example.com",
            board["general"],
            title="国际快递",
            body="我上周在网站下单，想知道国际快递一般需要几天才能到上海，运费怎么计算？",
        )
        seed_topic(
            "polyglot@example.com",
            board["general"],
            title="استبدال",
            body="اشتريت قميصا بمقاس كبير جدا. هل يمكنني استبداله بمقاس أصغر؟",
        )
        seed_topic(
            "polyglot@example.com",
            board["general"],
            title="Parcel lockers in Riga",
            body="The <b>locker</b> did not open.",
        )
        seed_topic("polyglot@example.com", board["staff"], title="Staff locker notes")
    chinese = client.get("/community/search?q=运费怎么").get_data(as_text=True)
    assert "国际快递" in chinese and "<mark>运费怎么</mark>" in chinese
    # Two characters are below the trigram length: the fallback still finds it.
    short = client.get("/community/search?q=上海").get_data(as_text=True)
    assert "国际快递" in short and "<mark>上海</mark>" in short
    arabic = client.get("/community/search?q=قميصا").get_data(as_text=True)
    assert "استبدال" in arabic and "<mark>قميصا</mark>" in arabic
    english = client.get("/community/search?q=locker").get_data(as_text=True)
    assert "Parcel lockers in Riga" in english
    # Snippets are escaped except for the highlight marks; staff-only topics stay hidden.
    assert "<b>" not in english and "&lt;b&gt;" in english
    assert "Staff locker notes" not in english
    other = client.get(f"/community/search?q=locker&category={board['staff']}").get_data(
        as_text=True
    )
    assert "Staff locker notes" not in other


def test_search_follows_edits(app, client, make_user, board):
    make_user("editor@example.com")
    with app.app_context():
        topic_id = seed_topic("editor@example.com", board["general"], body="old wording")
        post = db.session.scalar(select(Post).where(Post.topic_id == topic_id))
        with app.test_request_context():
            services.edit_post(user_by_email("editor@example.com"), post, "brand new wording")
        post.edited_at = utcnow()
        db.session.commit()
    assert "How do I track" in client.get("/community/search?q=brand new").get_data(as_text=True)
    assert "How do I track" not in client.get("/community/search?q=old wording").get_data(
        as_text=True
    )

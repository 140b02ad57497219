# ruff: noqa: RUF001 - Chinese punctuation is meant
"""Search terms shorter than a trigram (one or two characters) through their own index.

Every term still has to be in the post as written (case aside): a pair of characters that
only occurs apart, or reversed, is no match. The index follows edits, and hidden posts stay
out of the results.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from portal.accounts.services import delete_account
from portal.community import moderation, search, services
from portal.community.models import Post, Topic
from portal.extensions import db
from tests.community.conftest import count_queries, seed_topic, user_by_email


def _found(client: Any, query: str) -> str:
    page = client.get("/community/search", query_string={"q": query})
    assert page.status_code == 200
    return str(page.get_data(as_text=True))


def test_short_chinese_terms_match_as_written(app, client, make_user, board):
    make_user("writer@example.com")
    with app.app_context():
        seed_topic(
            "writer@example.com",
            board["general"],
            title="包裹放错门口",
            body="快递员把包裹放错了门口，一直没人管。",
        )
        # Both characters of 快递, but never side by side.
        seed_topic(
            "writer@example.com", board["general"], title="发票问题", body="递快：发票下载。"
        )
        seed_topic(
            "writer@example.com",
            board["general"],
            title="国际快递",
            body="请问运费怎么计算？",
            replies=[("writer@example.com", "三天就到了。")],
        )
        seed_topic("writer@example.com", board["staff"], title="内部快递", body="快递合同")

    page = _found(client, "快递")
    assert "包裹放错门口" in page and "<mark>快递</mark>" in page
    assert "国际快递" in page and "请问运费怎么计算" in page  # the title of a first post
    assert "三天就到了" not in page  # a reply does not inherit the title
    assert "发票问题" not in page
    assert "内部快递" not in page  # staff-only
    assert "包裹放错门口" in _found(client, "递员")
    assert "包裹放错门口" not in _found(client, "员快")
    one = _found(client, "管")
    assert "包裹放错门口" in one and "国际快递" not in one
    both = _found(client, "快递 门口")
    assert "包裹放错门口" in both and "国际快递" not in both
    mixed = _found(client, "运费怎么 快递")
    assert "国际快递" in mixed and "包裹放错门口" not in mixed


def test_short_latin_and_arabic_terms_are_substrings(app, client, make_user, board):
    make_user("writer@example.com")
    with app.app_context():
        seed_topic("writer@example.com", board["general"], title="Screens", body="Our HDTV came.")
        seed_topic("writer@example.com", board["general"], title="Laptops", body="A laptop.")
        seed_topic("writer@example.com", board["general"], title="الطرد", body="الطرد في المركز")
        seed_topic("writer@example.com", board["general"], title="الشحنة", body="وصلت الشحنة")
    page = _found(client, "tv")
    assert "Screens" in page and "<mark>TV</mark>" in page and "Laptops" not in page
    assert "Screens" not in _found(client, "vt")
    arabic = _found(client, "في")
    assert "الطرد" in arabic and "الشحنة" not in arabic
    assert "Laptops" in _found(client, "p")


def test_short_terms_are_looked_up_in_the_index(app, client, make_user, board):
    make_user("writer@example.com")
    with app.app_context():
        seed_topic("writer@example.com", board["general"], title="包裹", body="快递到了")
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            # The expression the search uses is the indexed one: with sequential scans off
            # PostgreSQL can still answer it, from the index.
            for column, index in (
                (Post.body_markdown, "ix_community_post_body_grams"),
                (Topic.title, "ix_community_topic_title_grams"),
            ):
                statement = select(column).where(search._short_terms_in(column, ["快递"]))
                compiled = statement.compile(db.engine)
                connection = db.session.connection()
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
                assert index in "\n".join(row[0] for row in plan)
            db.session.rollback()
    with count_queries(app) as statements:
        assert "包裹" in _found(client, "快递")
    searched = [s for s in statements if "community_post" in s and "LIKE" in s.upper()]
    if dialect == "sqlite":
        assert any("community_search_grams" in s for s in statements)
        assert not searched  # no substring scan of the posts
    else:
        assert any("community_search_grams" in s for s in statements)


def _index_ids(term: str) -> set[int]:
    """The posts SQLite's pair index holds ``term`` for (PostgreSQL keeps its index itself)."""
    if db.engine.dialect.name != "sqlite":
        return set()
    return set(
        db.session.scalars(
            text("SELECT rowid FROM community_search_grams WHERE community_search_grams MATCH :m"),
            {"m": search._fts5_all(search.gram_tokens(term))},
        )
    )


def _integrity_check() -> None:
    if db.engine.dialect.name == "sqlite":
        for table in ("community_search_grams", "community_search_title_grams"):
            check = f"INSERT INTO {table}({table}) VALUES ('integrity-check')"  # noqa: S608
            db.session.execute(text(check))


def test_short_term_index_follows_edits_hiding_and_erasure(app, client, make_user, board):
    make_user("member@example.com")
    make_user("leaving@example.com")
    make_user("moderator@example.com")
    with app.app_context():
        topic_id = seed_topic(
            "member@example.com",
            board["general"],
            title="等包裹",
            body="快递还没到",
            replies=[("leaving@example.com", "我也在等快递")],
        )
        first, second = db.session.scalars(
            select(Post).where(Post.topic_id == topic_id).order_by(Post.position)
        ).all()
        first_id, second_id = first.id, second.id
        if db.engine.dialect.name == "sqlite":
            assert {first_id, second_id} <= _index_ids("快递")
    page = _found(client, "快递")
    assert "还没到" in page and "我也在等" in page

    with app.app_context():
        first = db.session.get(Post, first_id)
        with app.test_request_context():
            services.edit_post(
                user_by_email("member@example.com"), first, "邮局通知了", title="新标题"
            )
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            assert first_id not in _index_ids("快递") and first_id in _index_ids("邮局")
    page = _found(client, "快递")
    assert "还没到" not in page and "我也在等" in page
    assert "新标题" in _found(client, "邮局")
    assert "新标题" in _found(client, "标题")  # the new title
    assert "新标题" not in _found(client, "包裹")  # the old title

    with app.app_context():
        second = db.session.get(Post, second_id)
        with app.test_request_context():
            moderation.moderate_post(user_by_email("moderator@example.com"), second, "hide", "spam")
        db.session.commit()
    assert "我也在等" not in _found(client, "快递")
    with app.app_context():
        second = db.session.get(Post, second_id)
        with app.test_request_context():
            moderation.moderate_post(
                user_by_email("moderator@example.com"), second, "restore", "fine"
            )
        db.session.commit()
    assert "我也在等" in _found(client, "快递")

    # Erasure keeps the posts (the author becomes a deleted member): still found.
    with app.app_context():
        delete_account(user_by_email("leaving@example.com"))
        db.session.commit()
    assert "我也在等" in _found(client, "快递")

    # A post row that goes leaves the index.
    with app.app_context():
        db.session.delete(db.session.get(Post, second_id))
        db.session.commit()
        assert second_id not in _index_ids("快递")
        _integrity_check()
        db.session.commit()
    assert "我也在等" not in _found(client, "快递")


@pytest.mark.parametrize(
    ("term", "tokens"),
    [
        ("快递", ["快递"]),
        ("一", ["一"]),
        ("a,", ["a"]),
        ("!?", []),
        ("物流信息", ["物流", "流信", "信息"]),
        ("re-do", ["re", "do"]),
    ],
)
def test_gram_tokens(term, tokens):
    assert search.gram_tokens(term) == tokens


def test_pairs_across_the_index_pieces_and_in_long_posts(app, client, make_user, board):
    # SQLite's triggers read the text in pieces of 64 characters: a pair that straddles two
    # pieces, and one at the end of a post of the longest kind, are found too.
    make_user("writer@example.com")
    with app.app_context():
        seed_topic("writer@example.com", board["general"], title="Edge", body="x" * 63 + "快递")
        seed_topic(
            "writer@example.com", board["general"], title="Long", body="y" * 19_990 + " 门口"
        )
    assert "Edge" in _found(client, "快递") and "Edge" in _found(client, "x快")
    assert "Long" in _found(client, "门口") and "Long" in _found(client, "口")
    assert "Long" not in _found(client, "快")

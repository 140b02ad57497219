"""The community scale generator, and the topic page on a long generated topic."""

from __future__ import annotations

import random
import re

from sqlalchemy import func, select

from portal.community import markup, search
from portal.community.models import Category, Post, Topic, TopicSubscription
from portal.community.queries import page_links
from portal.community.scale import BIG_TOPIC_TITLE, generate_posts
from portal.community.services import POSTS_PER_PAGE
from portal.extensions import db
from portal.orders.scale import generate_customers
from tests.community.conftest import count_queries


def _generate(app, posts: int, big: int, seed: int = 5) -> dict:
    rng = random.Random(seed)
    with app.app_context():
        population = generate_customers(customers=6, rng=rng, progress=lambda _n: None)
        return generate_posts(
            population=population,
            posts=posts,
            big_topic_posts=big,
            rng=rng,
            progress=lambda _n: None,
        )


def test_generated_topics_keep_the_counters(app):
    result = _generate(app, posts=400, big=120)
    with app.app_context():
        topics = list(db.session.scalars(select(Topic)))
        assert len(topics) == result["topics"] > 10
        assert sum(t.last_position for t in topics) == 400
        for topic in topics:
            posts = list(
                db.session.scalars(
                    select(Post).where(Post.topic_id == topic.id).order_by(Post.position)
                )
            )
            assert [p.position for p in posts] == list(range(1, topic.last_position + 1))
            assert topic.reply_count == len(posts) - 1
            assert topic.last_post_at == posts[-1].created_at
            assert topic.last_poster_id == posts[-1].author_id
            assert topic.created_at == posts[0].created_at and topic.author_id == posts[0].author_id
            assert topic.revision == 1 + len(posts)
            assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)
            if topic.accepted_post_id is not None:
                assert topic.accepted_post_id in {p.id for p in posts[1:]}
            assert db.session.get(TopicSubscription, (topic.id, topic.author_id)) is not None
        for post in db.session.scalars(select(Post).limit(60)):
            assert post.body_html == markup.render(post.body_markdown)
            assert post.renderer_version == markup.RENDERER_VERSION
        big = db.session.get(Topic, result["big_topic_id"])
        assert big.title == BIG_TOPIC_TITLE and big.last_position == 120
        for category in db.session.scalars(select(Category)):
            visible = select(func.count(Topic.id)).where(Topic.category_id == category.id)
            assert category.topic_count == db.session.scalar(visible)
            assert category.post_count == db.session.scalar(
                select(func.count(Post.id))
                .join(Topic, Topic.id == Post.topic_id)
                .where(Topic.category_id == category.id)
            )
            if category.topic_count:
                latest = db.session.scalar(
                    select(func.max(Topic.last_post_at)).where(Topic.category_id == category.id)
                )
                assert category.last_post_at == latest
        languages = " ".join(db.session.scalars(select(Post.body_markdown)))
        for sample in ("的", "ā", "ы", "ب"):  # Chinese, Latvian, Russian, Arabic text
            assert sample in languages
        if db.session.get_bind().dialect.name == "sqlite":
            indexed = db.session.scalar(
                select(func.count()).select_from(db.table("community_search"))
            )
            assert indexed == 400


def test_generated_posts_are_found_by_search(app, client):
    _generate(app, posts=600, big=50, seed=11)
    for query in ("物流信息", "kurjeru", "курьер", "Big thread", "快递", "一"):
        page = client.get("/community/search", query_string={"q": query})
        assert page.status_code == 200
        assert "<mark>" in page.get_data(as_text=True), query
    with app.app_context():
        categories = list(db.session.scalars(select(Category.id)))
        posts = db.session.execute(
            select(Post.id, Post.position, Post.body_markdown, Topic.title).join(
                Topic, Topic.id == Post.topic_id
            )
        ).all()
        # Short terms through the bulk-loaded pair index: exactly the posts that hold them.
        for term in ("快递", "一", "款", "ب"):
            hits, _short = search.search(term, category_ids=categories, limit=1000)
            expected = {
                post.id
                for post in posts
                if term in post.body_markdown or (post.position == 1 and term in post.title)
            }
            assert expected and {hit.post_id for hit in hits} == expected, term


def _offset_over_posts(statement: str) -> bool:
    # The posts of a page are a range of positions; other one-row fetches may say OFFSET.
    upper = statement.upper()
    return "FROM COMMUNITY_POST" in upper and "OFFSET" in upper


def test_topic_page_queries_do_not_grow_with_the_topic(app, client, logged_in):
    """First and last page of a short and a long topic: the same few queries, no OFFSET,
    for a visitor and for a signed-in member."""
    short = _generate(app, posts=30, big=30, seed=1)["big_topic_id"]
    long = _generate(app, posts=1500, big=1500, seed=2)["big_topic_id"]
    counts = {}
    with app.app_context():
        slug = db.session.get(Topic, long).slug
    for topic_id, size in ((short, 30), (long, 1500)):
        last_page = (size - 2) // POSTS_PER_PAGE + 1
        for page in (1, last_page):
            url = f"/community/t/{topic_id}-{slug}" + (f"?page={page}" if page > 1 else "")
            with count_queries(app) as statements:
                response = client.get(url)
            assert response.status_code == 200, url
            assert f"{BIG_TOPIC_TITLE}, part" in response.get_data(as_text=True) or page > 1
            assert not any(_offset_over_posts(s) for s in statements), statements
            assert any("BETWEEN" in s.upper() for s in statements), statements
            counts[(size, page > 1)] = len(statements)
    assert len(set(counts.values())) == 1, counts
    assert max(counts.values()) <= 6, counts
    logged_in("member@example.com")
    member_counts = set()
    for topic_id, size in ((short, 30), (long, 1500)):
        for page in (1, (size - 2) // POSTS_PER_PAGE + 1):
            with count_queries(app) as statements:
                assert client.get(f"/community/t/{topic_id}-{slug}?page={page}").status_code in (
                    200,
                    301,
                )
            assert not any(_offset_over_posts(s) for s in statements), statements
            member_counts.add(len(statements))
    assert len(member_counts) == 1, member_counts


def test_page_links_keep_the_ends_and_the_neighbours():
    assert page_links(1, 1) == [1]
    assert page_links(1, 4) == [1, 2, 3, 4]
    assert page_links(1, 1000) == [1, 2, 3, None, 1000]
    assert page_links(500, 1000) == [1, None, 498, 499, 500, 501, 502, None, 1000]
    assert page_links(1000, 1000) == [1, None, 998, 999, 1000]
    # A gap of one page shows that page rather than "…".
    assert page_links(5, 9) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert page_links(5, 10) == [1, 2, 3, 4, 5, 6, 7, None, 10]


def test_a_long_topic_links_to_a_few_pages_not_to_each(app, client):
    big = _generate(app, posts=400, big=400, seed=3)["big_topic_id"]
    with app.app_context():
        slug = db.session.get(Topic, big).slug
    pages = (400 - 2) // POSTS_PER_PAGE + 1
    html = client.get(f"/community/t/{big}-{slug}?page=10").get_data(as_text=True)
    linked = {int(n) for n in re.findall(rf'href="/community/t/{big}-{slug}\?page=(\d+)"', html)}
    assert linked == {8, 9, 10, 11, 12, pages}
    assert f'href="/community/t/{big}-{slug}"' in html  # the first page, without ?page=
    assert 'aria-current="page">10<' in html
    assert html.count("…") == 2

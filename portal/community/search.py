"""Full-text search over topic titles and post bodies, one interface for both databases.

SQLite: an FTS5 table with the trigram tokenizer (any language, Chinese and Arabic
included), kept current by triggers made in the migration. PostgreSQL: pg_trgm GIN indexes
on the title and body columns, matched with ILIKE and ranked by word similarity. Trigrams
need three characters, so shorter queries fall back to a plain substring match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import and_, func, literal, not_, or_, select, text, union, union_all

from portal.community.models import Category, Post, Topic
from portal.extensions import db

MIN_TRIGRAM_LENGTH = 3
#: Matches ranked per search, newest first: relevance is decided among these.
SEARCH_WINDOW = 500
#: How many of the newest posts a PostgreSQL search reads before it asks the trigram index.
RECENT_POSTS = 10_000
_OPEN, _CLOSE = "\x02", "\x03"  # highlight marks, swapped for <mark> after escaping


@dataclass
class SearchHit:
    post_id: int
    topic_id: int
    topic_slug: str
    title: str
    category_name: str
    position: int
    created_at: datetime
    snippet: Markup


def _terms(query: str) -> list[str]:
    return [term for term in query.split() if term][:8]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def highlight(marked: str) -> Markup:
    """Escape a snippet that carries the private highlight marks, then add <mark>."""
    safe = str(escape(marked))
    return Markup(safe.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>"))  # noqa: S704


def make_snippet(body: str, terms: list[str], width: int = 160) -> Markup:
    """A window of ``body`` around the first term found, with every term marked."""
    flat = " ".join(body.split())
    lowered = flat.casefold()
    start = 0
    for term in terms:
        found = lowered.find(term.casefold())
        if found >= 0:
            start = max(0, found - width // 3)
            break
    window = flat[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(flat) else ""
    marked = window
    for term in sorted(terms, key=len, reverse=True):
        marked = _mark_all(marked, term)
    return highlight(prefix + marked + suffix)


def _mark_all(textual: str, term: str) -> str:
    if not term:
        return textual
    lowered = textual.casefold()
    needle = term.casefold()
    if len(lowered) != len(textual):  # casefold changed lengths: mark exact matches only
        return textual.replace(term, f"{_OPEN}{term}{_CLOSE}")
    out: list[str] = []
    index = 0
    while True:
        found = lowered.find(needle, index)
        if found < 0:
            out.append(textual[index:])
            return "".join(out)
        out.append(textual[index:found])
        out.append(_OPEN + textual[found : found + len(term)] + _CLOSE)
        index = found + len(term)


def _visible_filters(category_ids: list[int]) -> list:
    return [
        Post.state == "visible",
        Topic.state == "visible",
        Topic.category_id.in_(category_ids),
    ]


def search(query: str, *, category_ids: list[int], limit: int = 30) -> tuple[list[SearchHit], bool]:
    """Posts matching every word of ``query`` in the given categories, best first.

    Returns the hits and whether the short-query fallback was used.
    """
    terms = _terms(query.strip())
    if not terms or not category_ids:
        return [], False
    dialect = db.session.get_bind().dialect.name
    short = any(len(term) < MIN_TRIGRAM_LENGTH for term in terms)
    if dialect == "sqlite" and not short:
        return _search_fts5(terms, category_ids, limit), False
    return _search_like(terms, category_ids, limit, ranked=dialect == "postgresql"), short


def _columns() -> tuple:
    return (
        Post.id,
        Post.topic_id,
        Topic.slug,
        Topic.title,
        Category.name,
        Post.position,
        Post.created_at,
    )


def _search_fts5(terms: list[str], category_ids: list[int], limit: int) -> list[SearchHit]:
    # Rank only the newest matches: FTS5 walks its index in rowid order and stops after the
    # window, so a common word costs as little as a rare one however many posts there are.
    # Snippets are cut in Python for the few hits shown (FTS5's snippet() would be computed
    # for every row of the window).
    match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
    fts = text(
        "SELECT rowid AS post_id, bm25(community_search, 4.0, 1.0) AS rank "
        "FROM community_search WHERE community_search MATCH :match "
        "ORDER BY rowid DESC LIMIT :window"
    ).columns(post_id=db.Integer, rank=db.Float)
    found = fts.bindparams(match=match, window=SEARCH_WINDOW).subquery("found")
    rows = db.session.execute(
        select(*_columns(), Post.body_markdown)
        .join(found, found.c.post_id == Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(*_visible_filters(category_ids))
        .order_by(found.c.rank, Post.id.desc())
        .limit(limit)
    ).all()
    return [SearchHit(*row[:7], snippet=make_snippet(row.body_markdown, terms)) for row in rows]


def _search_like(
    terms: list[str], category_ids: list[int], limit: int, *, ranked: bool
) -> list[SearchHit]:
    """Every term in the post's body, or (for a first post) in the topic's title.

    Candidates come from two index-friendly branches, each the newest SEARCH_WINDOW: posts
    whose body has every term (PostgreSQL: the body's trigram index), and first posts of
    topics whose title has any term (the title's trigram index); the exact condition and
    the ranking run on those few rows only, never on every post that matches.
    """
    patterns = [_like_pattern(term) for term in terms]
    by_body: Any = (
        select(Post.id)
        .where(*(Post.body_markdown.ilike(pattern, escape="\\") for pattern in patterns))
        .order_by(Post.id.desc())
        .limit(SEARCH_WINDOW)
    )
    if ranked:
        # PostgreSQL cannot tell a common word from a rare one (its estimate for a trigram
        # ILIKE is far too low), and a bitmap scan of a common word's trigram index reads
        # every match. So look among the newest posts first: enough hits there and those are
        # the candidates; otherwise the word is rare and the index returns few rows. One
        # statement: the branch not taken is cut by a one-time filter, never run.
        recent = (
            select(Post.id.label("id"), Post.body_markdown.label("body"))
            .order_by(Post.id.desc())
            .limit(RECENT_POSTS)
            .subquery("recent")
        )
        recent_hits = (
            select(recent.c.id)
            .where(*(recent.c.body.ilike(pattern, escape="\\") for pattern in patterns))
            .order_by(recent.c.id.desc())
            .limit(SEARCH_WINDOW)
            .cte("recent_hits")
        )
        enough = select(func.count() >= limit).select_from(recent_hits).scalar_subquery()
        indexed = by_body.subquery("indexed")
        by_body = union_all(
            select(recent_hits.c.id).where(enough),
            select(indexed.c.id).where(not_(enough)),
        )
    by_body = by_body.subquery("by_body")
    by_title = (
        select(Post.id)
        .join(Topic, and_(Topic.id == Post.topic_id, Post.position == 1))
        .where(or_(*(Topic.title.ilike(pattern, escape="\\") for pattern in patterns)))
        .order_by(Post.id.desc())
        .limit(SEARCH_WINDOW)
        .subquery("by_title")
    )
    candidates = union(select(by_body.c.id), select(by_title.c.id)).subquery("candidates")
    conditions = [
        or_(
            Post.body_markdown.ilike(pattern, escape="\\"),
            and_(Post.position == 1, Topic.title.ilike(pattern, escape="\\")),
        )
        for pattern in patterns
    ]
    statement = (
        select(*_columns(), Post.body_markdown)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(Post.id.in_(select(candidates.c.id)))
        .where(*_visible_filters(category_ids), *conditions)
        .limit(limit)
    )
    if ranked:
        phrase = literal(" ".join(terms))
        score = func.word_similarity(phrase, Post.body_markdown) + 2 * func.word_similarity(
            phrase, Topic.title
        )
        statement = statement.order_by(score.desc(), Post.id.desc())
    else:
        # Newest first by id (the order posts are written in).
        statement = statement.order_by(Post.id.desc())
    return [
        SearchHit(*row[:7], snippet=make_snippet(row.body_markdown, terms))
        for row in db.session.execute(statement).all()
    ]

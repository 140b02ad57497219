"""Full-text search over topic titles and post bodies, one interface for both databases.

SQLite: an FTS5 table with the trigram tokenizer (any language, Chinese and Arabic
included), kept current by triggers made in the migration. PostgreSQL: pg_trgm GIN indexes
on the title and body columns, matched with ILIKE and ranked by word similarity. Trigrams
need three characters, so shorter queries fall back to a plain substring match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import and_, func, literal, or_, select, text

from portal.community.models import Category, Post, Topic
from portal.extensions import db

MIN_TRIGRAM_LENGTH = 3
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
    match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
    fts = text(
        "SELECT rowid AS post_id, bm25(community_search, 4.0, 1.0) AS rank, "
        "snippet(community_search, 1, :open, :close, '…', 32) AS snippet "
        "FROM community_search WHERE community_search MATCH :match"
    ).columns(post_id=db.Integer, rank=db.Float, snippet=db.Text)
    found = fts.bindparams(open=_OPEN, close=_CLOSE, match=match).subquery("found")
    rows = db.session.execute(
        select(*_columns(), found.c.snippet, Post.body_markdown)
        .join(found, found.c.post_id == Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(*_visible_filters(category_ids))
        .order_by(found.c.rank, Post.id.desc())
        .limit(limit)
    ).all()
    hits = []
    for row in rows:
        snippet = row.snippet or ""
        # A title-only match leaves no mark in the body: show the start of the body.
        marked = highlight(snippet) if _OPEN in snippet else make_snippet(row.body_markdown, terms)
        hits.append(SearchHit(*row[:7], snippet=marked))
    return hits


def _search_like(
    terms: list[str], category_ids: list[int], limit: int, *, ranked: bool
) -> list[SearchHit]:
    title_match = Post.position == 1
    conditions = []
    for term in terms:
        pattern = _like_pattern(term)
        conditions.append(
            or_(
                Post.body_markdown.ilike(pattern, escape="\\"),
                and_(title_match, Topic.title.ilike(pattern, escape="\\")),
            )
        )
    statement = (
        select(*_columns(), Post.body_markdown)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
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
        statement = statement.order_by(Post.created_at.desc(), Post.id.desc())
    return [
        SearchHit(*row[:7], snippet=make_snippet(row.body_markdown, terms))
        for row in db.session.execute(statement).all()
    ]

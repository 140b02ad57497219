"""Full-text search over topic titles and post bodies, one interface for both databases.

SQLite: an FTS5 table with the trigram tokenizer (any language, Chinese and Arabic
included), kept current by triggers made in the migration. PostgreSQL: pg_trgm GIN indexes
on the title and body columns, matched with ILIKE and ranked by word similarity.

Trigrams need three characters, so a shorter term (the common two-character Chinese word,
one character) is looked up in an index of every character and every pair of neighbouring
characters (migration 0810): on SQLite two FTS5 tables under unicode61, on PostgreSQL GIN
indexes on ``community_search_grams(column)``. SQLite lists such matches newest first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import String, and_, func, literal, not_, or_, select, text, union, union_all
from sqlalchemy.dialects.postgresql import array

from portal.community.models import Category, Post, Topic
from portal.extensions import db

MIN_TRIGRAM_LENGTH = 3
#: Matches ranked per search, newest first: relevance is decided among these.
SEARCH_WINDOW = 500
#: How many of the newest posts a PostgreSQL search reads before it asks the trigram index.
RECENT_POSTS = 10_000
#: Topics whose title has a term, newest first: their first posts are candidates too.
TITLE_WINDOW = 100
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

    Returns the hits and whether a term was shorter than a trigram (on SQLite such
    results are listed newest first, not ranked).
    """
    terms = _terms(query.strip())
    if not terms or not category_ids:
        return [], False
    dialect = db.session.get_bind().dialect.name
    short = any(len(term) < MIN_TRIGRAM_LENGTH for term in terms)
    if dialect == "sqlite":
        if not short:
            return _search_fts5(terms, category_ids, limit), False
        tokens = [gram_tokens(term) for term in terms]
        if all(tokens):
            return _search_grams(terms, tokens, category_ids, limit), True
    return _search_like(terms, category_ids, limit, dialect=dialect), short


def _is_token_character(character: str) -> bool:
    """Whether the unicode61 tokenizer of the pair tables keeps ``character`` (L*, N*, M*, Co)."""
    category = unicodedata.category(character)
    return category[0] in "LNM" or category == "Co"


def gram_tokens(term: str) -> list[str]:
    """What a post holding ``term`` must have in the SQLite pair index: pairs of
    neighbouring characters, or single characters (looked up as the start of a pair).

    A short term is itself (split where it has punctuation); a longer one gives its pairs
    (at most eight). Empty when the term has nothing the tokenizer keeps: such a term
    cannot be looked up.
    """
    runs: list[str] = []
    run = ""
    for character in term:
        if _is_token_character(character):
            run += character
        elif run:
            runs.append(run)
            run = ""
    if run:
        runs.append(run)
    if len(term) < MIN_TRIGRAM_LENGTH:
        return runs
    tokens: list[str] = []
    for run in runs:
        for pair in [run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)):
            if pair not in tokens:
                tokens.append(pair)
    return tokens[:8]


def _fts5_all(tokens: Iterable[str]) -> str:
    """An FTS5 query for posts holding every token: a pair, or a character's prefix search
    (the index holds pairs, and the first characters of tokens beside them)."""
    return " AND ".join(
        '"' + token.replace('"', '""') + '"' + ("*" if len(token) == 1 else "") for token in tokens
    )


def _term_found(term: str, body: str, title: str | None) -> bool:
    return term in body or (title is not None and term in title)


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


def _search_grams(
    terms: list[str], tokens: list[list[str]], category_ids: list[int], limit: int
) -> list[SearchHit]:
    """SQLite, a query with a term shorter than a trigram: the pair tables, newest first.

    Candidates are the newest SEARCH_WINDOW posts whose body has every term's tokens and the
    first posts of the newest TITLE_WINDOW topics whose title has some term's tokens; the
    exact rule (every term, case-insensitive, in the body or a first post's title) is
    checked here on those rows, newest first, until ``limit`` are found.
    """
    body_match = _fts5_all(token for term_tokens in tokens for token in term_tokens)
    title_match = " OR ".join(f"({_fts5_all(term_tokens)})" for term_tokens in tokens)
    by_body = (
        text(
            "SELECT rowid AS id FROM community_search_grams "
            "WHERE community_search_grams MATCH :body_match ORDER BY rowid DESC LIMIT :window"
        )
        .columns(id=db.Integer)
        .bindparams(body_match=body_match, window=SEARCH_WINDOW)
        .subquery("by_body")
    )
    titled = (
        text(
            "SELECT rowid AS id FROM community_search_title_grams "
            "WHERE community_search_title_grams MATCH :title_match "
            "ORDER BY rowid DESC LIMIT :window"
        )
        .columns(id=db.Integer)
        .bindparams(title_match=title_match, window=TITLE_WINDOW)
        .subquery("titled")
    )
    by_title = (
        select(Post.id)
        .join(titled, titled.c.id == Post.topic_id)
        .where(Post.position == 1)
        .subquery("by_title")
    )
    candidates = union(select(by_body.c.id), select(by_title.c.id)).subquery("candidates")
    rows = db.session.execute(
        select(*_columns(), Post.body_markdown, Topic.title.label("topic_title"))
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(Post.id.in_(select(candidates.c.id)))
        .where(*_visible_filters(category_ids))
        .order_by(Post.id.desc())
    )
    folded = [term.casefold() for term in terms]
    hits: list[SearchHit] = []
    for row in rows:
        body = row.body_markdown.casefold()
        title = row.topic_title.casefold() if row.position == 1 else None
        if all(_term_found(term, body, title) for term in folded):
            hits.append(SearchHit(*row[:7], snippet=make_snippet(row.body_markdown, terms)))
            if len(hits) >= limit:
                break
    return hits


def _short_terms_in(column: Any, terms: list[str]) -> Any:
    """PostgreSQL: ``column`` holds every one of ``terms`` (all shorter than a trigram),
    answered by the GIN index on its characters and character pairs."""
    wanted = array([func.lower(literal(term, String)) for term in terms])
    return func.community_search_grams(column).op("@>")(wanted)


def _index_conditions(column: Any, terms: list[str], dialect: str) -> list[Any]:
    """``column`` holds every term: ILIKEs (the trigram index answers those of three
    characters or more) and, on PostgreSQL, the pair index's condition for shorter ones.

    The ILIKE of a short term stays beside the pair condition: the planner takes the inlined
    function for cheap, and when it reads rows in order rather than use the index, it
    evaluates the cheaper ILIKE first and the function only on the rows that pass.
    """
    conditions = [column.ilike(_like_pattern(term), escape="\\") for term in terms]
    short = [term for term in terms if len(term) < MIN_TRIGRAM_LENGTH]
    if dialect == "postgresql" and short:
        conditions.append(_short_terms_in(column, short))
    return conditions


def _search_like(
    terms: list[str], category_ids: list[int], limit: int, *, dialect: str
) -> list[SearchHit]:
    """Every term in the post's body, or (for a first post) in the topic's title.

    Candidates come from two index-friendly branches, newest first: the SEARCH_WINDOW
    posts whose body has every term (PostgreSQL: the body's trigram index, and its pair
    index for terms shorter than a trigram), and the first posts of the TITLE_WINDOW topics
    whose title has any term (the title's indexes); the exact condition and the ranking run
    on those few rows only, never on every post that matches. SQLite comes here only for a
    term its pair index cannot look up (punctuation alone): a substring scan.
    """
    ranked = dialect == "postgresql"
    patterns = [_like_pattern(term) for term in terms]
    by_body: Any = (
        select(Post.id)
        .where(*_index_conditions(Post.body_markdown, terms, dialect))
        .order_by(Post.id.desc())
        .limit(SEARCH_WINDOW)
    )
    if ranked:
        # PostgreSQL cannot tell a common word from a rare one (its estimate for a trigram
        # ILIKE is far too low), and a bitmap scan of a common word's trigram index reads
        # every match. So look among the newest posts first: enough hits there and those are
        # the candidates; otherwise the word is rare and the index returns few rows. One
        # statement: the branch not taken is cut by a one-time filter, never run.
        # Each body is lower-cased once for all the terms (an ILIKE per term would do it
        # per term: that is what ILIKE does in a multibyte encoding).
        recent = (
            select(Post.id.label("id"), func.lower(Post.body_markdown).label("body"))
            .order_by(Post.id.desc())
            .limit(RECENT_POSTS)
            .subquery("recent")
        )
        recent_hits = (
            select(recent.c.id)
            .where(
                *(
                    recent.c.body.like(func.lower(literal(pattern, String)), escape="\\")
                    for pattern in patterns
                )
            )
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
    # The newest topics whose title has a term (a topic's first post is written with it),
    # then their first posts: reading posts backwards for first posts would visit ten
    # replies for every topic.
    titled = (
        select(Topic.id)
        .where(or_(*(and_(*_index_conditions(Topic.title, [term], dialect)) for term in terms)))
        .order_by(Topic.id.desc())
        .limit(TITLE_WINDOW)
        .subquery("titled")
    )
    by_title = (
        select(Post.id)
        .join(titled, titled.c.id == Post.topic_id)
        .where(Post.position == 1)
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
        # A rare word and a common one want different plans: never one generic plan.
        .execution_options(plan_with_values=True)
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

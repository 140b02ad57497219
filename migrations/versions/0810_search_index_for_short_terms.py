"""search index for one- and two-character terms

Trigrams cannot answer a term shorter than three characters (the common two-character
Chinese word, a one-character query), so such searches read posts one by one. This adds an
index of every character and every pair of neighbouring characters:

- SQLite: two contentless FTS5 tables under the unicode61 tokenizer, one for post bodies
  (rowid = post id) and one for topic titles (rowid = topic id), fed by triggers with the
  text written out as its character pairs separated by spaces, with an index of their
  first characters.
- PostgreSQL: the immutable function ``community_search_grams(text)`` (the lower-cased
  text's characters and character pairs, as an array) and GIN expression indexes on it
  for the post body and the topic title; PostgreSQL keeps them current by itself.

Made by hand: Alembic cannot describe either (portal.core.db.UNMANAGED_SCHEMA_NAMES).

Revision ID: 0810
Revises: 0800
Create Date: 2026-11-24 17:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0810"
down_revision = "0800"
branch_labels = None
depends_on = None


#: Characters per piece, and pairs written per row of a piece, in sqlite_grams().
PIECE, PER_ROW = 64, 8


def sqlite_grams(expression: str) -> str:
    """SQL for every pair of neighbouring characters of ``expression``, separated by spaces.

    Triggers cannot hold a WITH clause, so positions come from json_each over arrays of
    zeros (one built from a zero blob's hex digits). substr() walks a text from its start,
    so the text is first cut into pieces of PIECE characters (and the next one, for the
    last pair), each pair being read from its piece: time grows with the length, not with
    its square. The tokenizer drops spaces and punctuation: a pair with one of them becomes
    the other character alone, and a lone last character stays a token too, so every
    character starts a token (a one-character search is a prefix search).
    """
    pairs = " || ' ' || ".join(
        f"substr(piece.value, slot.key * {PER_ROW} + {offset}, 2)"
        for offset in range(1, PER_ROW + 1)
    )
    slots = "'[" + ",".join(["0"] * (PIECE // PER_ROW)) + "]'"
    count = f"(length(src.s) + {PIECE - 1}) / {PIECE}"
    return (
        f"(SELECT group_concat({pairs}, ' ')"
        f" FROM (SELECT {expression} AS s) AS src,"
        f" json_each((SELECT json_group_array(substr(src.s, start.key * {PIECE} + 1, {PIECE + 1}))"
        f"   FROM json_each('[' || rtrim(replace(hex(zeroblob({count})), '00', '0,'), ',') || ']')"
        f"   AS start)) AS piece,"
        f" json_each({slots}) AS slot"
        f" WHERE slot.key * {PER_ROW} < length(piece.value))"
    )


# Combining marks (M*) are token characters too, so that a pair with a vowel sign or a
# harakah stays one token; content='' keeps no copy of the text, detail=none no positions,
# prefix='1' an index of first characters (one-character searches).
TOKENIZE = "tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\""

SQLITE = (
    f"CREATE VIRTUAL TABLE community_search_grams USING fts5("
    f"grams, content = '', detail = none, prefix = '1', {TOKENIZE})",
    f"CREATE VIRTUAL TABLE community_search_title_grams USING fts5("
    f"grams, content = '', detail = none, prefix = '1', {TOKENIZE})",
    # A contentless table forgets a row only when told the exact text it was given.
    f"""CREATE TRIGGER community_search_grams_post_insert AFTER INSERT ON community_post BEGIN
         INSERT INTO community_search_grams(rowid, grams)
         VALUES (new.id, {sqlite_grams("new.body_markdown")});
       END""",
    f"""CREATE TRIGGER community_search_grams_post_update AFTER UPDATE OF body_markdown
       ON community_post BEGIN
         INSERT INTO community_search_grams(community_search_grams, rowid, grams)
         VALUES ('delete', old.id, {sqlite_grams("old.body_markdown")});
         INSERT INTO community_search_grams(rowid, grams)
         VALUES (new.id, {sqlite_grams("new.body_markdown")});
       END""",
    f"""CREATE TRIGGER community_search_grams_post_delete AFTER DELETE ON community_post BEGIN
         INSERT INTO community_search_grams(community_search_grams, rowid, grams)
         VALUES ('delete', old.id, {sqlite_grams("old.body_markdown")});
       END""",
    f"""CREATE TRIGGER community_search_grams_topic_insert AFTER INSERT ON community_topic
       BEGIN
         INSERT INTO community_search_title_grams(rowid, grams)
         VALUES (new.id, {sqlite_grams("new.title")});
       END""",
    f"""CREATE TRIGGER community_search_grams_topic_update AFTER UPDATE OF title
       ON community_topic BEGIN
         INSERT INTO community_search_title_grams(community_search_title_grams, rowid, grams)
         VALUES ('delete', old.id, {sqlite_grams("old.title")});
         INSERT INTO community_search_title_grams(rowid, grams)
         VALUES (new.id, {sqlite_grams("new.title")});
       END""",
    f"""CREATE TRIGGER community_search_grams_topic_delete AFTER DELETE ON community_topic
       BEGIN
         INSERT INTO community_search_title_grams(community_search_title_grams, rowid, grams)
         VALUES ('delete', old.id, {sqlite_grams("old.title")});
       END""",
    # The rows already there.
    f"INSERT INTO community_search_grams(rowid, grams)"
    f" SELECT id, {sqlite_grams('body_markdown')} FROM community_post",
    f"INSERT INTO community_search_title_grams(rowid, grams)"
    f" SELECT id, {sqlite_grams('title')} FROM community_topic",
)

SQLITE_TRIGGERS = (
    "post_insert",
    "post_update",
    "post_delete",
    "topic_insert",
    "topic_update",
    "topic_delete",
)

# string_to_array(s, NULL) splits a text into its characters; the pairs come from marking
# the end of every second character with \x01, from the first character and from the
# second, and splitting there (a regular expression: a subquery over the positions costs
# twice as much). Duplicates, a lone last character and an empty string are left in: GIN
# keeps each distinct element once, and no query asks for them. One expression, so it is
# inlined; immutable, as lower() is, so it can be indexed.
POSTGRESQL = (
    r"""CREATE FUNCTION community_search_grams(body text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT string_to_array(lower(body), NULL)
           || string_to_array(regexp_replace(lower(body), '(..)', E'\\1\x01', 'g'), E'\x01')
           || string_to_array(
                regexp_replace(substr(lower(body), 2), '(..)', E'\\1\x01', 'g'), E'\x01')
       $$""",
    "CREATE INDEX ix_community_post_body_grams ON community_post "
    "USING gin (community_search_grams(body_markdown))",
    "CREATE INDEX ix_community_topic_title_grams ON community_topic "
    "USING gin (community_search_grams(title))",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS community_search_grams_{trigger}")
        op.execute("DROP TABLE IF EXISTS community_search_grams")
        op.execute("DROP TABLE IF EXISTS community_search_title_grams")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_community_post_body_grams")
        op.execute("DROP INDEX IF EXISTS ix_community_topic_title_grams")
        op.execute("DROP FUNCTION IF EXISTS community_search_grams(text)")

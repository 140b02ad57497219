"""psycopg cursors describe a result when asked (portal.core.postgresql): the description is
the one psycopg gives, and still that of its own result after the cursor has moved on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from portal.accounts.models import User
from portal.core.db import configure_postgresql
from portal.core.postgresql import Description


@pytest.fixture
def described_engine(server_engine: Engine) -> Engine:
    configure_postgresql(server_engine)
    return server_engine


def _described(cursor: Any) -> list[tuple[Any, ...]]:
    return [tuple(column) for column in cursor.description]


def test_the_description_is_psycopgs(described_engine: Engine) -> None:
    import psycopg

    statement = "SELECT 1 AS one, 'a'::varchar(5) AS letter, now() AS at, NULL::numeric(6, 2)"
    plain = psycopg.connect(
        described_engine.url.set(drivername="postgresql").render_as_string(False)
    )
    with plain, plain.cursor() as cursor:
        cursor.execute(statement)
        expected = _described(cursor)
        names = [column.name for column in cursor.description]
    raw = described_engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(statement)
        description = cursor.description
        assert isinstance(description, Description)
        assert len(description) == 4
        assert _described(cursor) == expected
        assert (
            [column.name for column in description] == names == ["one", "letter", "at", "numeric"]
        )
        assert description[1].type_code == expected[1][1]
        assert description[-1].name == "numeric"
        assert cursor.fetchall()[0][0] == 1

        cursor.execute("SELECT 2 AS two")
        assert [column.name for column in description] == names  # still the first result's
        assert [column.name for column in cursor.description] == ["two"]

        cursor.execute("CREATE TEMPORARY TABLE described (x int)")
        assert cursor.description is None
        cursor.execute("SELECT")  # rows with no column: described, and empty
        assert cursor.description is not None and len(cursor.description) == 0
    finally:
        raw.close()


def test_sqlalchemy_results_read_the_described_columns(described_engine: Engine) -> None:
    with described_engine.connect() as connection:
        for _ in range(3):  # the first execution describes the result, the next ones reuse it
            result = connection.execute(text("SELECT 7 AS seven, 'x' AS ex"))
            assert list(result.keys()) == ["seven", "ex"]
            assert result.mappings().one() == {"seven": 7, "ex": "x"}
        rows = connection.execute(select(User.id, User.email).where(User.id < 0)).all()
        assert rows == []

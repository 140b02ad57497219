"""A link's token finds its invitation through an index, never by reading every invitation.

The claim runs while SQLite's write lock is held, so a scan there stalls every other writer
for as long as the invitations table takes to read.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.surveys import answering


@pytest.mark.parametrize("statement", ["_CLAIM_BY_TOKEN", "_LINK_BY_TOKEN"])
def test_a_token_is_looked_up_by_index(app: Flask, statement: str) -> None:
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip("the query plan checked is SQLite's")
        # What ANALYZE records on real data: 100,000 invitations, each link's hash unique, and
        # most reminder hashes empty (the same NULL), so that index looks useless for "=".
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'survey_invitation'")
        for column, stat in (("token_hash", "100000 1"), ("reminder_token_hash", "100000 100000")):
            index = connection.exec_driver_sql(
                "SELECT il.name FROM pragma_index_list('survey_invitation') il "
                'JOIN pragma_index_info(il.name) ii WHERE ii.name = ? AND il."unique"',
                (column,),
            ).scalar_one()
            connection.exec_driver_sql(
                "INSERT INTO sqlite_stat1 VALUES ('survey_invitation', ?, ?)", (index, stat)
            )
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # load the statistics
        compiled: Any = getattr(answering, statement).compile(dialect=connection.dialect)
        parameters = dict.fromkeys(compiled.params)
        parameters.update(digest="x", now="2026-01-01 00:00:00.000000")
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(parameters[n] for n in compiled.positiontup),
        ).all()
    details = [row[-1] for row in plan]
    assert not any(d.startswith("SCAN survey_invitation") for d in details), details
    assert any("survey_invitation" in d and "INDEX" in d for d in details), details

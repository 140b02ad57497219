"""A pool of fresh survey links for load tests: one active one-question (NPS) survey and
``count`` invitations whose plain tokens are written one a line, for wrk or a load client.

Inside an app context: ``make_pool(count)``. From the command line (the app is configured
from the environment, as `flask` would be):

    .venv/bin/python bench/survey_tokens.py COUNT OUTFILE

prints ``<survey id> <question id>``. Invitations are inserted in bulk with known tokens
(the token is stored only as its hash, like `sending.invite` does), so making 20,000 of
them takes a second or two and sends no mail.
"""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

BENCH_SURVEY_TITLE = "Benchmark survey"


def bench_survey() -> tuple[int, int]:
    """The active benchmark survey and its one required NPS question, made once."""
    from portal.extensions import db
    from portal.surveys import services
    from portal.surveys.models import Question, Survey

    survey = db.session.scalar(select(Survey).where(Survey.title == BENCH_SURVEY_TITLE))
    if survey is None:
        survey = services.create_survey(title=BENCH_SURVEY_TITLE)
        services.add_question(survey, type="nps", text="How likely…?", required=True)
        survey.status = "active"
        db.session.commit()
    question_id = db.session.scalar(select(Question.id).where(Question.survey_id == survey.id))
    assert question_id is not None
    return survey.id, question_id


def make_pool(count: int) -> tuple[int, int, list[str]]:
    """(survey id, question id, tokens) with ``count`` fresh, open invitations."""
    from portal.accounts.models import Role, User
    from portal.core.db import utcnow
    from portal.extensions import db
    from portal.surveys.models import Invitation
    from portal.surveys.sending import hash_token, new_token

    survey_id, question_id = bench_survey()
    users = list(
        db.session.scalars(
            select(User.id).where(User.roles.any(Role.name == "customer")).limit(1000)
        )
    )
    assert users, "no customers to invite: seed the database first"
    batch = uuid.uuid4().hex[:12]
    now = utcnow()
    tokens = [new_token() for _ in range(count)]
    rows = [
        {
            "survey_id": survey_id,
            "user_id": users[n % len(users)],
            "occasion": f"bench:{batch}:{n}",
            "token_hash": hash_token(token),
            "locale": "en",
            "created_at": now,
            "expires_at": now + timedelta(days=30),
            "draft_answers": {},
        }
        for n, token in enumerate(tokens)
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Invitation), rows[start : start + 5000])
    db.session.commit()
    return survey_id, question_id, tokens


def main() -> None:
    import os

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from portal import create_app

    count, out = int(sys.argv[1]), Path(sys.argv[2])
    app = create_app(os.environ.get("PORTAL_CONFIG"))
    with app.app_context():
        survey_id, question_id, tokens = make_pool(count)
    out.write_text("\n".join(tokens) + "\n")
    print(survey_id, question_id)


if __name__ == "__main__":
    main()

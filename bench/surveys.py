"""Survey throughput on a fresh SQLite file: count an audience, send to it, store answers,
compute the results. Run: `PYTHONPATH=. .venv/bin/python bench/surveys.py [customers]`."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select


def main(customers: int) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    directory = Path(tempfile.mkdtemp())
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "MAIL_BACKEND": "null",
            "MAIL_DELIVER_INLINE": False,
        },
    )
    with app.app_context():
        upgrade()
        from portal.accounts.models import User
        from portal.accounts.services import ensure_reference_data, get_role
        from portal.surveys import answering, sending, services
        from portal.surveys.models import Invitation
        from portal.surveys.results import survey_results

        ensure_reference_data()
        role = get_role("customer")
        for n in range(customers):
            user = User(
                email=f"c{n}@example.com",
                password="-",  # noqa: S106 - never used to sign in
                fs_uniquifier=f"bench-{n}",
                active=True,
                newsletter_consent=True,
                locale=("en", "lv", "ru")[n % 3],
            )
            user.roles.append(role)
            db.session.add(user)
        survey = services.create_survey(title="Bench")
        question = services.add_question(survey, type="nps", text="Score?", required=True)
        survey.status = "active"
        db.session.commit()

        started = time.perf_counter()
        audience = sending.count_audience(sending.Audience(), survey)
        counted = time.perf_counter() - started
        started = time.perf_counter()
        sent = sending.send_survey(survey, sending.Audience())
        db.session.commit()
        sending_time = time.perf_counter() - started
        invitations = db.session.scalars(select(Invitation)).all()
        started = time.perf_counter()
        for invitation in invitations:
            answering.submit_response(invitation, {question.id: invitation.id % 11}, locale="en")
        db.session.commit()
        answering_time = time.perf_counter() - started
        started = time.perf_counter()
        outcome = survey_results(survey)
        results_time = time.perf_counter() - started

    print("| step | amount | time |")
    print("|---|---:|---:|")
    print(f"| count the audience | {audience} | {counted * 1000:.1f} ms |")
    print(f"| send (invitation + mail into the outbox) | {sent} | {sending_time:.2f} s |")
    print(f"| store responses | {len(invitations)} | {answering_time:.2f} s |")
    print(
        f"| compute results (NPS {outcome.nps}) | {outcome.responses} | {results_time * 1000:.0f} ms |"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

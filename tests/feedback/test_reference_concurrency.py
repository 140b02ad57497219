"""References stay unique when many requests take a number at once (real transactions)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.feedback import services
from portal.feedback.models import FeedbackCounter

YEAR = 2091  # a year no other test uses: this test commits for real


@pytest.mark.live_db
def test_concurrent_references_are_unique_and_gapless(app):
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(10):
                with app.app_context():
                    reference = services.next_reference(datetime(YEAR, 6, 1, tzinfo=UTC))
                    db.session.commit()
                    db.session.remove()
                with lock:
                    taken.append(reference)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert sorted(taken) == [f"FB-{YEAR}-{n:06d}" for n in range(1, 41)]
    finally:
        with app.app_context():
            db.session.execute(delete(FeedbackCounter).where(FeedbackCounter.year == YEAR))
            db.session.commit()
            db.session.remove()

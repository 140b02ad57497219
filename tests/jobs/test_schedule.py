"""The schedule: registered tasks become huey periodic tasks; once() makes reruns no-ops."""

from __future__ import annotations

import datetime as dt

import pytest
from huey import MemoryHuey
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import schedule
from portal.jobs.models import JobRun, OutboxMessage
from portal.jobs.outbox import queue_rendered
from portal.jobs.queue import JobQueue


def test_once_does_the_work_once(app):
    with app.app_context():
        assert schedule.once("greetings.birthdays", "user:1:2026")
        assert not schedule.once("greetings.birthdays", "user:1:2026")
        assert schedule.once("greetings.birthdays", "user:1:2027")
        db.session.commit()
        assert db.session.scalar(select(func.count(JobRun.id))) == 2


def test_a_rolled_back_run_leaves_no_claim(app):
    with app.app_context():
        assert schedule.once("orders.thank_after_delivery", "order:7")
        db.session.rollback()
        assert schedule.once("orders.thank_after_delivery", "order:7")


def test_a_task_run_twice_sends_one_mail(app, mailbox):
    def thank_everyone() -> int:
        sent = 0
        for order in ("A-1", "A-2"):
            if schedule.once("test.thanks", order):
                queue_rendered(to=f"{order}@example.com", subject="Thanks", text="Thank you")
                sent += 1
        return sent

    schedule.register_periodic("test.thanks", "*/5 * * * *", thank_everyone)
    try:
        with app.app_context():
            assert schedule.run_periodic("test.thanks") == 2
            assert schedule.run_periodic("test.thanks") == 0
            assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
    finally:
        schedule.PERIODIC_TASKS.pop("test.thanks")


def test_standard_hooks_are_registered_as_placeholders_until_a_feature_provides_them(app):
    for hook in schedule.STANDARD_HOOKS:
        assert hook.name in schedule.PERIODIC_TASKS
    assert schedule.is_placeholder("feedback.sla_check")
    with app.app_context():
        assert "not provided" in schedule.run_periodic("feedback.sla_check")


def test_bad_cron_is_refused():
    with pytest.raises(ValueError):
        schedule.register_periodic("broken", "* * *", lambda: None)


def test_periodic_tasks_become_huey_crontabs(app):
    calls: list[str] = []
    schedule.register_periodic("test.nightly", "30 2 * * *", lambda: calls.append("ran"))
    try:
        queue = JobQueue(app, MemoryHuey("schedule-test", results=False))
        names = queue.register_periodic_tasks()
        assert "test.nightly" in names and "outbox.sweep" in names
        periodic = {t.name: t for t in queue.huey._registry.periodic_tasks}
        task = periodic["periodic.test.nightly"]
        assert task.validate_datetime(dt.datetime(2026, 5, 1, 2, 30))
        assert not task.validate_datetime(dt.datetime(2026, 5, 1, 2, 31))
        assert periodic["outbox.sweep.periodic"].validate_datetime(dt.datetime(2026, 5, 1, 9, 7))
        # The task runs in an app context and its work is committed.
        queue.huey.execute(task)
        assert calls == ["ran"]
    finally:
        schedule.PERIODIC_TASKS.pop("test.nightly")


def test_each_occurrence_runs_once_however_many_workers_enqueue_it(app):
    """Every worker runs huey's scheduler: two workers enqueue each occurrence twice."""
    calls: list[str] = []
    schedule.register_periodic("test.twice", "30 2 * * *", lambda: calls.append("ran"))
    try:
        first = JobQueue(app, MemoryHuey("worker-a", results=False))
        second = JobQueue(app, MemoryHuey("worker-b", results=False))
        first.register_periodic_tasks()
        second.register_periodic_tasks()
        for queue in (first, second):
            periodic = {t.name: t for t in queue.huey._registry.periodic_tasks}
            queue.huey.execute(periodic["periodic.test.twice"])
        assert calls == ["ran"]
        with app.app_context():
            claims = db.session.scalars(
                select(JobRun.occasion_key).where(JobRun.task == "schedule:test.twice")
            ).all()
            assert len(claims) == 1 and claims[0].endswith("T02:30")
    finally:
        schedule.PERIODIC_TASKS.pop("test.twice")


def test_an_occurrence_is_claimed_once_and_the_next_one_again(app):
    utc = dt.UTC
    with app.app_context():
        at = dt.datetime(2026, 5, 1, 9, 7, 30, tzinfo=utc)
        assert schedule.claim_occurrence("test.quarter", "*/15 * * * *", at)
        later = dt.datetime(2026, 5, 1, 9, 14, 59, tzinfo=utc)
        assert not schedule.claim_occurrence("test.quarter", "*/15 * * * *", later)
        next_one = dt.datetime(2026, 5, 1, 9, 15, 1, tzinfo=utc)
        assert schedule.claim_occurrence("test.quarter", "*/15 * * * *", next_one)


def test_last_occurrence():
    utc = dt.UTC
    at = dt.datetime(2026, 5, 1, 9, 7, 30, tzinfo=utc)
    assert schedule.last_occurrence("* * * * *", at) == dt.datetime(2026, 5, 1, 9, 7, tzinfo=utc)
    assert schedule.last_occurrence("*/15 * * * *", at) == dt.datetime(2026, 5, 1, 9, 0, tzinfo=utc)
    assert schedule.last_occurrence("30 2 * * *", at) == dt.datetime(2026, 5, 1, 2, 30, tzinfo=utc)
    assert schedule.last_occurrence("30 10 * * *", at) == dt.datetime(
        2026, 4, 30, 10, 30, tzinfo=utc
    )


def test_old_occurrence_claims_are_pruned_and_other_claims_kept(app):
    utc = dt.UTC
    with app.app_context():
        old = dt.datetime(2026, 5, 1, 9, 0, tzinfo=utc)
        assert schedule.claim_occurrence("test.prune", "* * * * *", old)
        assert schedule.claim_occurrence("test.prune", "* * * * *", old + dt.timedelta(days=3))
        assert schedule.once("greetings.birthdays", "user:1:2020")
        removed = schedule.prune_occurrence_claims(old + dt.timedelta(days=3))
        assert removed == 1
        left = db.session.scalars(select(JobRun.task).order_by(JobRun.task)).all()
        assert left == ["greetings.birthdays", "schedule:test.prune"]

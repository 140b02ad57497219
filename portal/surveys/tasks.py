"""Periodic survey work: the delivery and exit triggers and the reminders. All idempotent."""

from __future__ import annotations

from portal.jobs.schedule import register_periodic
from portal.surveys import sending


def delivery_surveys() -> int:
    return sending.invite_after_delivery()


def exit_surveys() -> int:
    return sending.invite_lapsed()


def survey_reminders() -> int:
    return sending.send_reminders()


def register() -> None:
    register_periodic("surveys.after_delivery", "15 * * * *", delivery_surveys)
    register_periodic("surveys.exit_invitations", "30 6 * * *", exit_surveys)
    register_periodic("surveys.reminders", "45 * * * *", survey_reminders)

"""The SLA clock and the customer's windows: pure functions, at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.feedback.sla import (
    DEFAULT_TARGETS,
    can_escalate,
    can_rate,
    can_reopen,
    current_due,
    due_times,
    promise_broken,
    promised_answer_at,
    resumed_due,
    should_auto_close,
    sla_state,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_default_targets():
    assert {p: t[0] for p, t in DEFAULT_TARGETS.items()} == {
        "low": 72,
        "normal": 24,
        "high": 8,
        "urgent": 4,
    }
    assert DEFAULT_TARGETS["urgent"][1] == 8


def test_due_times_count_from_opening():
    assert due_times(T0, 8, 24) == (T0 + 8 * H, T0 + 24 * H)


def test_pause_moves_the_due_time_by_the_pause():
    due = T0 + 8 * H
    assert resumed_due(due, T0 + H, T0 + 4 * H) == due + 3 * H
    assert resumed_due(due, None, T0 + 4 * H) == due
    # A clock that went backwards never moves a due time earlier.
    assert resumed_due(due, T0 + 4 * H, T0 + H) == due


def test_two_pauses_add_up():
    first_due, _ = due_times(T0, 8, 24)
    after_first = resumed_due(first_due, T0 + 1 * H, T0 + 3 * H)  # 2 h waiting
    after_second = resumed_due(after_first, T0 + 5 * H, T0 + 10 * H)  # 5 h waiting
    assert after_second == T0 + 15 * H


def test_current_due_follows_the_stage_and_stops_while_paused_or_finished():
    base = {
        "first_response_due_at": T0 + 8 * H,
        "resolution_due_at": T0 + 24 * H,
        "paused_since": None,
    }
    assert current_due(status="new", first_response_at=None, **base) == T0 + 8 * H
    assert current_due(status="in_progress", first_response_at=T0, **base) == T0 + 24 * H
    assert current_due(status="resolved", first_response_at=T0, **base) is None
    paused = {**base, "paused_since": T0}
    assert current_due(status="waiting_on_customer", first_response_at=T0, **paused) is None


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (T0 - 2 * H - timedelta(seconds=1), "on_time"),
        (T0 - 2 * H, "due_soon"),
        (T0, "due_soon"),
        (T0 + timedelta(seconds=1), "breached"),
    ],
)
def test_sla_state_edges(now, state):
    assert sla_state(T0, now) == state


def test_sla_state_without_a_running_clock():
    assert sla_state(None, T0) is None


def _item(**overrides):
    values = {
        "status": "new",
        "first_response_at": None,
        "first_response_due_at": T0 + 8 * H,
        "resolution_due_at": T0 + 24 * H,
        "paused_since": None,
        "escalated_at": None,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_escalation_only_after_the_promise_is_broken_and_only_once():
    item = _item()
    assert not can_escalate(item, T0 + 8 * H)  # at the promised time: still kept
    assert can_escalate(item, T0 + 8 * H + timedelta(seconds=1))
    item.escalated_at = T0 + 9 * H
    assert not can_escalate(item, T0 + 10 * H)


def test_after_the_first_answer_the_resolution_promise_counts():
    item = _item(first_response_at=T0 + H, status="in_progress")
    assert not promise_broken(item, T0 + 20 * H)
    assert promise_broken(item, T0 + 24 * H + timedelta(seconds=1))
    assert promised_answer_at(item, T0) == T0 + 24 * H


def test_no_escalation_while_waiting_on_the_customer_or_after_resolution():
    assert not can_escalate(_item(status="waiting_on_customer", paused_since=T0), T0 + 99 * H)
    assert not can_escalate(_item(status="resolved"), T0 + 99 * H)


def test_the_promise_shown_while_paused_moves_with_the_pause():
    item = _item(status="waiting_on_customer", paused_since=T0 + H)
    assert promised_answer_at(item, T0 + 5 * H) == T0 + 12 * H


def test_reopen_window_is_fourteen_days_from_resolution():
    resolved = T0
    assert can_reopen("resolved", resolved, resolved + timedelta(days=14))
    assert can_reopen("closed", resolved, resolved + timedelta(days=14))
    assert not can_reopen("closed", resolved, resolved + timedelta(days=14, seconds=1))
    assert not can_reopen("in_progress", resolved, resolved)
    assert not can_reopen("resolved", None, resolved)


def test_auto_close_after_seven_days_of_resolution():
    resolved = T0
    assert not should_auto_close("resolved", resolved, resolved + timedelta(days=7, seconds=-1))
    assert should_auto_close("resolved", resolved, resolved + timedelta(days=7))
    assert not should_auto_close("closed", resolved, resolved + timedelta(days=30))
    assert not should_auto_close("in_progress", resolved, resolved + timedelta(days=30))


def test_rating_once_after_resolution():
    assert can_rate("resolved", None)
    assert can_rate("closed", None)
    assert not can_rate("resolved", 4)
    assert not can_rate("in_progress", None)

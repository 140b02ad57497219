"""The SLA clock (portal/feedback/sla.py and the status flow in services.set_status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from portal.feedback import sla
from portal.feedback.services import set_status

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
hours = st.integers(0, 24 * 30)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))
OPEN = ("new", "assigned", "in_progress", "waiting_on_customer")


@given(moments, hours, hours)
def test_due_times_are_the_budget_after_opening(opened: datetime, first: int, total: int) -> None:
    first_due, resolution_due = sla.due_times(opened, first, total)
    assert first_due >= opened and resolution_due >= opened
    assert first_due - opened == timedelta(hours=first)
    assert (first_due <= resolution_due) == (first <= total)


@given(moments, hours, hours)
def test_a_bigger_budget_is_never_due_earlier(opened: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert sla.due_times(opened, low, low)[0] <= sla.due_times(opened, high, high)[0]


@given(moments, moments, spans)
def test_a_pause_moves_the_due_time_by_exactly_its_length(
    due: datetime, since: datetime, length: timedelta
) -> None:
    assert sla.resumed_due(due, since, since + length) == due + length
    assert sla.resumed_due(due, since, since - length) == due  # a clock going back adds nothing
    assert sla.resumed_due(due, None, since) == due


@given(moments, st.sampled_from(OPEN), st.lists(st.tuples(st.sampled_from(OPEN), spans)))
def test_the_status_flow_extends_due_times_by_the_time_waiting_on_the_customer(
    opened: datetime, first_status: str, steps: list[tuple[str, timedelta]]
) -> None:
    opened = opened.replace(microsecond=0)
    first_due, resolution_due = sla.due_times(opened, 24, 72)
    item = SimpleNamespace(
        status="new",
        paused_since=None,
        paused_seconds=0,
        first_response_at=None,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        resolved_at=None,
        closed_at=None,
        events=[],
    )
    now = opened
    waited = timedelta(0)
    for status, after in [(first_status, timedelta(0)), *steps]:
        after = timedelta(seconds=int(after.total_seconds()))
        if item.status == "waiting_on_customer":
            waited += after
        now += after
        set_status(item, status, None, now)
    still_paused = item.status == "waiting_on_customer"
    counted = waited - (now - item.paused_since if still_paused else timedelta(0))
    assert item.first_response_due_at == first_due + counted
    assert item.resolution_due_at == resolution_due + counted
    assert item.paused_seconds == int(counted.total_seconds())
    assert (item.paused_since is not None) == still_paused
    # What the customer is promised already counts the pause still running.
    promised = sla.promised_answer_at(item, now)
    assert promised == first_due + waited


@given(moments, moments, moments)
def test_the_state_only_moves_forward_with_time(due: datetime, a: datetime, b: datetime) -> None:
    order = (None, "on_time", "due_soon", "breached")
    early, late = sorted((a, b))
    assert order.index(sla.sla_state(due, early)) <= order.index(sla.sla_state(due, late))
    assert (sla.sla_state(due, late) == "breached") == (late > due)
    assert sla.sla_state(None, late) is None


@given(
    st.sampled_from(("resolved", "closed", *OPEN)),
    st.none() | moments,
    moments,
    moments,
    st.none() | moments,
    moments,
)
def test_the_promise_is_broken_exactly_when_now_is_past_it(
    status: str,
    first_response_at: datetime | None,
    first_due: datetime,
    resolution_due: datetime,
    paused_since: datetime | None,
    now: datetime,
) -> None:
    item = SimpleNamespace(
        status=status,
        first_response_at=first_response_at,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        paused_since=paused_since,
        escalated_at=None,
    )
    promised = sla.promised_answer_at(item, now)
    broken = sla.promise_broken(item, now)
    if status in ("resolved", "closed"):
        assert promised is None and not broken
    elif paused_since is not None:
        assert not broken and not sla.can_escalate(item, now)
    else:
        assert broken == (now > promised)
        assert sla.can_escalate(item, now) == broken
        item.escalated_at = now
        assert not sla.can_escalate(item, now)  # once only


@given(st.sampled_from(("resolved", "closed", *OPEN)), moments, spans)
def test_reopening_is_possible_for_exactly_fourteen_days(
    status: str, resolved_at: datetime, later: timedelta
) -> None:
    allowed = sla.can_reopen(status, resolved_at, resolved_at + later)
    assert allowed == (status in ("resolved", "closed") and later <= timedelta(days=14))
    assert not sla.can_reopen(status, None, resolved_at + later)
    finished = status in ("resolved", "closed")
    edge = resolved_at + timedelta(days=14)
    assert sla.can_reopen(status, resolved_at, edge) == finished  # the last moment still counts
    assert not sla.can_reopen(status, resolved_at, edge + timedelta(microseconds=1))

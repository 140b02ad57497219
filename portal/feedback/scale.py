"""Feedback at scale (`flask portal seed-scale`): complaints, questions and the like in bulk.

Each item is routed to the department its text belongs to (the demo corpus, six languages),
gets the SLA due times of that department and priority, and a history that fits its age:
recent items are still open, older ones were answered, resolved with a root cause and the
three resolution answers, closed a week later; some missed their first-response or
resolution target and carry the breach. References take numbers from the per-year counter,
which is moved on past them, so the portal's next item continues the sequence.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import Department
from portal.core.db import utcnow
from portal.extensions import db
from portal.feedback.models import (
    FeedbackCounter,
    FeedbackEvent,
    FeedbackItem,
    FeedbackMessage,
    RootCause,
)
from portal.feedback.sla import DEFAULT_TARGETS
from portal.orders.bulk import next_id, reset_sequences, write_chunk
from portal.orders.models import Order
from portal.orders.scale import Population, Progress

CHUNK = 5_000
DAYS = 730
KIND_WEIGHTS = {"complaint": 50, "question": 32, "suggestion": 10, "compliment": 8}
PRIORITY_WEIGHTS = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
#: Root causes that fit a department, most likely first.
CAUSES_BY_DEPARTMENT = {
    "delivery": ("Carrier damage", "Late delivery", "Wrong item sent"),
    "billing": ("Billing error", "Unclear information"),
    "technical-support": ("Website problem", "Unclear information"),
    "product": ("Product defect", "Wrong item sent", "Unclear information"),
    "customer-care": ("Unclear information", "Other"),
}
STAFF_REPLIES = (
    "Thank you for writing. We are looking into it and will come back to you shortly.",
    "Sorry about this. Could you send us a photo of the label?",
    "We have asked the courier and will let you know what they say.",
)
RESOLUTIONS = {
    "what_went_wrong": (
        "The parcel was handled roughly in transit.",
        "A wrong amount was charged.",
    ),
    "how_resolved": ("We sent a replacement.", "We refunded the difference."),
    "prevention": ("Stronger packaging for fragile items.", "A check of the billing run."),
}


def _orders_by_user(population: Population) -> dict[int, list[int]]:
    """A few orders of every generated customer, to link complaints to."""
    last = population.first_user + population.count
    rows = db.session.execute(
        select(Order.user_id, func.max(Order.id), func.min(Order.id))
        .where(Order.user_id >= population.first_user, Order.user_id < last)
        .group_by(Order.user_id)
    )
    return {user_id: [high, low] for user_id, high, low in rows}


def generate_feedback(
    *, population: Population, items: int, rng: random.Random, progress: Progress
) -> dict[str, int]:
    """Insert ``items`` feedback items with their history; commits as it goes."""
    from portal.accounts.services import ensure_reference_data
    from portal.feedback.demo import CORPUS
    from portal.feedback.settings import ensure_root_causes, sla_table

    ensure_reference_data()
    ensure_root_causes()
    targets = {
        department: {p: (t.first_response_hours, t.resolution_hours) for p, t in row.items()}
        for department, row in sla_table().items()
    }
    departments = {d.slug: d.id for d in db.session.scalars(select(Department))}
    causes = {c.name: c.id for c in db.session.scalars(select(RootCause))}
    counters = {c.year: c.last_value for c in db.session.scalars(select(FeedbackCounter))}
    db.session.commit()
    orders = _orders_by_user(population)
    now = utcnow().replace(microsecond=0)
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    priorities, priority_weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    next_item, next_message, next_event = (
        next_id(FeedbackItem),
        next_id(FeedbackMessage),
        next_id(FeedbackEvent),
    )
    counts = {"items": 0, "messages": 0, "events": 0, "breaches": 0}
    customers = population.count
    fallback_agents: list[int | None] = list(population.all_agents) or [None]
    new_counters: dict[int, int] = {}

    item_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []

    def event(
        item_id: int,
        action: str,
        actor: int | None,
        when: datetime,
        to_value: str | None,
        from_value: str | None = None,
        reason: str | None = None,
    ) -> None:
        nonlocal next_event
        event_rows.append(
            {
                "id": next_event,
                "item_id": item_id,
                "actor_id": actor,
                "action": action,
                "from_value": from_value,
                "to_value": to_value,
                "reason": reason,
                "created_at": when,
            }
        )
        next_event += 1

    for chunk_start in range(0, items if customers else 0, CHUNK):
        size = min(CHUNK, items - chunk_start)

        for _ in range(size):
            item_id = next_item
            next_item += 1
            user_id = population.user_id(int(rng.random() * customers))
            language, slug, subject, message = CORPUS[int(rng.random() * len(CORPUS))]
            kind = rng.choices(kinds, weights=kind_weights)[0]
            priority = rng.choices(priorities, weights=priority_weights)[0]
            department = departments.get(slug) or departments["customer-care"]
            first_hours, resolution_hours = targets.get(department, {}).get(
                priority, DEFAULT_TARGETS[priority]
            )
            # More items lately (the shop grows), none in the future.
            created = now - timedelta(days=rng.random() ** 1.5 * DAYS, hours=rng.random())
            year = created.year
            counters[year] = counters.get(year, 0) + 1
            new_counters[year] = counters[year]
            first_due = created + timedelta(hours=first_hours)
            resolution_due = created + timedelta(hours=resolution_hours)
            agents = population.agents.get(department) or fallback_agents
            agent = agents[int(rng.random() * len(agents))]
            # How long the work takes: mostly within the targets, a tail beyond them.
            answer_at = created + timedelta(hours=rng.lognormvariate(0, 0.8) * first_hours / 4)
            done_at = answer_at + timedelta(hours=rng.lognormvariate(0, 0.7) * resolution_hours / 4)
            row: dict[str, Any] = {
                "id": item_id,
                "reference": f"FB-{year}-{counters[year]:06d}",
                "user_id": user_id,
                "kind": kind,
                "subject": subject,
                "message": message,
                "language": language,
                "order_id": None,
                "source": "portal",
                "source_ref": None,
                "department_id": department,
                "priority": priority,
                "status": "new",
                "assignee_id": None,
                "routing_rule_id": None,
                "first_response_due_at": first_due,
                "resolution_due_at": resolution_due,
                "next_due_at": first_due,
                "paused_since": None,
                "paused_seconds": 0,
                "first_response_at": None,
                "first_response_breached_at": None,
                "resolution_breached_at": None,
                "escalated_at": None,
                "resolved_at": None,
                "closed_at": None,
                "root_cause_id": None,
                "what_went_wrong": None,
                "how_resolved": None,
                "prevention": None,
                "rating": None,
                "rating_comment": None,
                "rated_at": None,
                "created_at": created,
                "updated_at": created,
            }
            if kind == "complaint" and user_id in orders and rng.random() < 0.7:
                row["order_id"] = rng.choice(orders[user_id])
            event(item_id, "created", user_id, created, "new")
            event(item_id, "routed", None, created, slug, reason=f"default; priority {priority}")
            status = "new"
            latest = created
            if agent is not None and answer_at < now and rng.random() < 0.995:
                # Assigned, then answered (which starts the work).
                assigned_at = created + (answer_at - created) / 3
                row["assignee_id"] = agent
                event(item_id, "assigned", agent, assigned_at, population.names.get(agent))
                event(item_id, "status", agent, assigned_at, "assigned", "new")
                row["first_response_at"] = answer_at
                message_rows.append(
                    {
                        "id": next_message,
                        "item_id": item_id,
                        "author_id": agent,
                        "is_staff": True,
                        "internal": False,
                        "body": rng.choice(STAFF_REPLIES),
                        "submission": None,
                        "created_at": answer_at,
                    }
                )
                next_message += 1
                event(item_id, "status", agent, answer_at, "in_progress", "assigned")
                status, latest = "in_progress", answer_at
                row["next_due_at"] = resolution_due
                if done_at < now and rng.random() < 0.995:
                    cause_names = CAUSES_BY_DEPARTMENT.get(slug, ("Other",))
                    cause = causes.get(cause_names[int(rng.random() ** 2 * len(cause_names))])
                    pick = int(rng.random() * 2)
                    row.update(
                        root_cause_id=cause,
                        what_went_wrong=RESOLUTIONS["what_went_wrong"][pick],
                        how_resolved=RESOLUTIONS["how_resolved"][pick],
                        prevention=RESOLUTIONS["prevention"][pick],
                        resolved_at=done_at,
                        next_due_at=None,
                    )
                    event(item_id, "status", agent, done_at, "resolved", "in_progress")
                    status, latest = "resolved", done_at
                    if rng.random() < 0.3:
                        rated = done_at + timedelta(hours=rng.uniform(1, 72))
                        if rated < now:
                            row.update(rating=rng.choices((1, 2, 3, 4, 5), (5, 5, 10, 35, 45))[0])
                            row["rated_at"] = rated
                    closing = done_at + timedelta(days=7)
                    if closing < now:
                        row["closed_at"] = closing
                        event(item_id, "status", None, closing, "closed", "resolved")
                        status, latest = "closed", closing
                elif rng.random() < 0.3:
                    # Asked the customer something; the clock waits.
                    paused = answer_at + timedelta(minutes=5)
                    row.update(paused_since=paused, next_due_at=None)
                    event(item_id, "status", agent, paused, "waiting_on_customer", "in_progress")
                    status, latest = "waiting_on_customer", paused
            row["status"] = status
            row["updated_at"] = latest
            # Breaches are stamped by the periodic check, a few minutes after the due time.
            answered = row["first_response_at"] or now
            if answered > first_due:
                row["first_response_breached_at"] = first_due + timedelta(minutes=5)
            finished = row["resolved_at"] or (now if row["paused_since"] is None else None)
            if finished is not None and finished > resolution_due:
                row["resolution_breached_at"] = resolution_due + timedelta(minutes=5)
            for column in ("first_response_breached_at", "resolution_breached_at"):
                if row[column] is not None and row[column] <= now:
                    counts["breaches"] += 1
                    event(
                        item_id, "breached", None, row[column], column.removesuffix("_breached_at")
                    )
                elif row[column] is not None:
                    row[column] = None
            item_rows.append(row)
        write_chunk(
            counts,
            [
                ("items", FeedbackItem.__table__, item_rows),
                ("messages", FeedbackMessage.__table__, message_rows),
                ("events", FeedbackEvent.__table__, event_rows),
            ],
        )
        progress(size)
    # The next reference the portal hands out follows the generated ones.
    for year, value in new_counters.items():
        counter = db.session.get(FeedbackCounter, year)
        if counter is None:
            db.session.add(FeedbackCounter(year=year, last_value=value))
        else:
            counter.last_value = max(counter.last_value, value)
    reset_sequences("feedback_item", "feedback_message", "feedback_event")
    db.session.commit()
    return counts

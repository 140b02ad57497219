"""What managers configure: routing rules, SLA targets per department, root causes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import Department
from portal.extensions import db
from portal.feedback.models import PRIORITIES, RootCause, RoutingRule, SlaTarget
from portal.feedback.routing import Decision, Sample, parse_keywords, route, rule_matches
from portal.feedback.sla import DEFAULT_TARGETS

DEFAULT_ROOT_CAUSES = (
    "Carrier damage",
    "Late delivery",
    "Wrong item sent",
    "Billing error",
    "Product defect",
    "Website problem",
    "Unclear information",
    "Other",
)


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def ensure_sla_targets() -> None:
    """Every department has a target row per priority (the defaults until edited)."""
    existing = {(row.department_id, row.priority) for row in db.session.scalars(select(SlaTarget))}
    for department in departments():
        for priority in PRIORITIES:
            if (department.id, priority) not in existing:
                first, resolution = DEFAULT_TARGETS[priority]
                db.session.add(
                    SlaTarget(
                        department_id=department.id,
                        priority=priority,
                        first_response_hours=first,
                        resolution_hours=resolution,
                    )
                )
    db.session.flush()


def sla_table() -> dict[int, dict[str, SlaTarget]]:
    ensure_sla_targets()
    table: dict[int, dict[str, SlaTarget]] = {}
    for row in db.session.scalars(select(SlaTarget)):
        table.setdefault(row.department_id, {})[row.priority] = row
    return table


def update_department(department: Department, data: dict[str, Any]) -> None:
    """``data``: manager_email and ``<priority>_first`` / ``<priority>_resolution`` hours."""
    department.manager_email = (data.get("manager_email") or "").strip() or None
    table = sla_table().get(department.id, {})
    for priority in PRIORITIES:
        row = table[priority]
        row.first_response_hours = int(data[f"{priority}_first"])
        row.resolution_hours = int(data[f"{priority}_resolution"])
    db.session.flush()


def ensure_root_causes() -> None:
    if db.session.scalar(select(func.count(RootCause.id))):
        return
    for name in DEFAULT_ROOT_CAUSES:
        db.session.add(RootCause(name=name))
    db.session.flush()


def root_causes(active_only: bool = True) -> list[RootCause]:
    ensure_root_causes()
    query = select(RootCause).order_by(RootCause.name)
    if active_only:
        query = query.where(RootCause.active.is_(True))
    return list(db.session.scalars(query))


def add_root_cause(name: str) -> RootCause:
    existing = db.session.scalar(select(RootCause).where(RootCause.name == name.strip()))
    if existing is not None:
        existing.active = True
        return existing
    cause = RootCause(name=name.strip())
    db.session.add(cause)
    db.session.flush()
    return cause


def toggle_root_cause(cause: RootCause) -> None:
    cause.active = not cause.active
    db.session.flush()


# --- routing rules -------------------------------------------------------------------------------


def rules() -> list[RoutingRule]:
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            select(RoutingRule)
            .options(joinedload(RoutingRule.department))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def _apply_rule_data(rule: RoutingRule, data: dict[str, Any]) -> None:
    rule.name = data["name"].strip()
    rule.enabled = bool(data.get("enabled", True))
    rule.kinds = list(data.get("kinds") or [])
    rule.keywords = parse_keywords(data.get("keywords") or "")
    rule.order_statuses = list(data.get("order_statuses") or [])
    rule.segments = list(data.get("segments") or [])
    rule.languages = list(data.get("languages") or [])
    rule.department_id = int(data["department_id"])
    rule.priority = data["priority"]


def create_rule(data: dict[str, Any]) -> RoutingRule:
    last = db.session.scalar(select(func.max(RoutingRule.position))) or 0
    rule = RoutingRule(position=last + 10)
    _apply_rule_data(rule, data)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(rule: RoutingRule, data: dict[str, Any]) -> None:
    _apply_rule_data(rule, data)
    db.session.flush()


def delete_rule(rule: RoutingRule) -> None:
    db.session.delete(rule)
    db.session.flush()


def toggle_rule(rule: RoutingRule) -> None:
    rule.enabled = not rule.enabled
    db.session.flush()


def move_rule(rule: RoutingRule, direction: int) -> None:
    """Swap with the neighbour above (-1) or below (+1), then renumber 10, 20, 30..."""
    ordered = rules()
    index = next(i for i, candidate in enumerate(ordered) if candidate.id == rule.id)
    target = index + direction
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, candidate in enumerate(ordered, start=1):
        candidate.position = position * 10
    db.session.flush()


def test_sample(sample: Sample, only: RoutingRule | None = None) -> tuple[Decision, bool | None]:
    """Which rule a sample would hit; with ``only``, also whether that rule matches it."""
    decision = route(rules(), sample)
    return decision, (rule_matches(only, sample) if only is not None else None)

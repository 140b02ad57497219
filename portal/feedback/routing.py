"""Routing: which department gets an item, and at what priority. Pure functions.

Rules are tried in order; every condition a rule sets must hold (an empty condition
matches anything); the first matching rule wins. Without a match, suggestions and
compliments go to Product and everything else to Customer care.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from portal.feedback.models import PRIORITIES

DEFAULT_DEPARTMENT = "customer-care"
PRODUCT_DEPARTMENT = "product"
PRODUCT_KINDS = frozenset({"suggestion", "compliment"})
DEFAULT_PRIORITY = "normal"


class RuleLike(Protocol):
    id: Any
    enabled: bool
    kinds: list
    keywords: list
    order_statuses: list
    segments: list
    languages: list
    priority: str

    @property
    def department_slug(self) -> str: ...


@dataclass(frozen=True)
class Sample:
    """What routing looks at in an item."""

    kind: str
    subject: str = ""
    message: str = ""
    order_status: str | None = None
    segments: frozenset[str] = field(default_factory=frozenset)
    language: str = "en"

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.message}".casefold()


@dataclass(frozen=True)
class Decision:
    department_slug: str
    priority: str
    rule_id: int | None = None
    rule_name: str | None = None


def parse_keywords(raw: str) -> list[str]:
    """Comma- or newline-separated keywords, trimmed, lower-cased, without duplicates."""
    seen: list[str] = []
    for part in raw.replace("\n", ",").replace("\uff0c", ",").replace("\u060c", ",").split(","):
        word = part.strip().casefold()
        if word and word not in seen:
            seen.append(word)
    return seen


def rule_matches(rule: RuleLike, sample: Sample) -> bool:
    if not rule.enabled:
        return False
    if rule.kinds and sample.kind not in rule.kinds:
        return False
    if rule.order_statuses and sample.order_status not in rule.order_statuses:
        return False
    if rule.segments and not (sample.segments & set(rule.segments)):
        return False
    if rule.languages and sample.language not in rule.languages:
        return False
    if rule.keywords:
        # Substring match works in every script, Chinese (no spaces) included.
        text = sample.text
        if not any(str(word).casefold() in text for word in rule.keywords):
            return False
    return True


def first_matching_rule(rules: Iterable[RuleLike], sample: Sample) -> RuleLike | None:
    for rule in rules:
        if rule_matches(rule, sample):
            return rule
    return None


def default_department(kind: str) -> str:
    return PRODUCT_DEPARTMENT if kind in PRODUCT_KINDS else DEFAULT_DEPARTMENT


def raise_priority(priority: str, steps: int = 1) -> str:
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(index + steps, len(PRIORITIES) - 1)]


def initial_priority(priority: str, segments: frozenset[str] | set[str]) -> str:
    """Golden customers' items start one priority higher (urgent stays urgent)."""
    return raise_priority(priority) if "golden" in segments else priority


def route(rules: Sequence[RuleLike], sample: Sample) -> Decision:
    """The routing decision for ``sample`` (``rules`` in their order)."""
    rule = first_matching_rule(rules, sample)
    if rule is None:
        base = Decision(default_department(sample.kind), DEFAULT_PRIORITY)
    else:
        base = Decision(rule.department_slug, rule.priority, rule.id, getattr(rule, "name", None))
    return Decision(
        base.department_slug,
        initial_priority(base.priority, sample.segments),
        base.rule_id,
        base.rule_name,
    )


def segments_of(value: Any) -> frozenset[str]:
    """Segments from a CustomerValue row; a missing row is a new customer."""
    if value is None:
        return frozenset({"new"})
    found = set()
    if value.is_golden:
        found.add("golden")
    if value.is_lapsed:
        found.add("lapsed")
    if value.stage in ("exploration", "awareness") or not value.order_count:
        found.add("new")
    return frozenset(found)

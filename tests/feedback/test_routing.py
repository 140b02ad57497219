"""Routing rules and priority: pure functions, at their edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from portal.feedback.routing import (
    Sample,
    initial_priority,
    parse_keywords,
    raise_priority,
    route,
    rule_matches,
    segments_of,
)


@dataclass
class Rule:
    id: int
    department_slug: str
    priority: str = "normal"
    name: str = "rule"
    enabled: bool = True
    kinds: list = field(default_factory=list)
    keywords: list = field(default_factory=list)
    order_statuses: list = field(default_factory=list)
    segments: list = field(default_factory=list)
    languages: list = field(default_factory=list)


def test_without_rules_complaints_and_questions_go_to_customer_care():
    assert route([], Sample("complaint")).department_slug == "customer-care"
    assert route([], Sample("question")).department_slug == "customer-care"


@pytest.mark.parametrize("kind", ["suggestion", "compliment"])
def test_without_rules_suggestions_and_compliments_go_to_product(kind):
    decision = route([], Sample(kind))
    assert (decision.department_slug, decision.priority, decision.rule_id) == (
        "product",
        "normal",
        None,
    )


def test_first_matching_rule_wins():
    rules = [
        Rule(1, "billing", keywords=["refund"]),
        Rule(2, "delivery", "high", keywords=["parcel"]),
        Rule(3, "technical-support", keywords=["parcel"]),
    ]
    decision = route(rules, Sample("complaint", "My parcel", "is broken"))
    assert (decision.department_slug, decision.priority, decision.rule_id) == (
        "delivery",
        "high",
        2,
    )


def test_disabled_rule_is_skipped():
    rules = [Rule(1, "billing", enabled=False), Rule(2, "delivery")]
    assert route(rules, Sample("complaint")).rule_id == 2


def test_empty_conditions_match_anything_and_every_set_condition_must_hold():
    rule = Rule(1, "delivery", kinds=["complaint"], keywords=["damaged"], languages=["lv", "en"])
    assert rule_matches(Rule(9, "x"), Sample("question"))
    assert rule_matches(rule, Sample("complaint", "Damaged box", language="en"))
    assert not rule_matches(rule, Sample("question", "Damaged box", language="en"))
    assert not rule_matches(rule, Sample("complaint", "Fine box", language="en"))
    assert not rule_matches(rule, Sample("complaint", "Damaged box", language="pl"))


def test_keywords_match_case_insensitively_in_subject_or_message_in_any_script():
    rule = Rule(1, "delivery", keywords=["包裹", "посылк", "DAMAGED"])
    assert rule_matches(rule, Sample("complaint", "", "我的包裹坏了"))
    assert rule_matches(rule, Sample("complaint", "Посылка не пришла", ""))
    assert rule_matches(rule, Sample("complaint", "it arrived damaged", ""))
    assert not rule_matches(rule, Sample("complaint", "all good", "thanks"))


def test_order_status_condition_needs_a_linked_order_in_that_status():
    rule = Rule(1, "billing", order_statuses=["returned"])
    assert rule_matches(rule, Sample("complaint", order_status="returned"))
    assert not rule_matches(rule, Sample("complaint", order_status="delivered"))
    assert not rule_matches(rule, Sample("complaint", order_status=None))


def test_segment_condition():
    rule = Rule(1, "customer-care", segments=["lapsed"])
    assert rule_matches(rule, Sample("complaint", segments=frozenset({"lapsed"})))
    assert not rule_matches(rule, Sample("complaint", segments=frozenset({"golden"})))
    assert not rule_matches(rule, Sample("complaint"))


def test_golden_customers_start_one_priority_higher_and_urgent_is_the_ceiling():
    golden = frozenset({"golden"})
    assert initial_priority("low", golden) == "normal"
    assert initial_priority("normal", golden) == "high"
    assert initial_priority("high", golden) == "urgent"
    assert initial_priority("urgent", golden) == "urgent"
    assert initial_priority("normal", frozenset({"lapsed"})) == "normal"
    assert raise_priority("urgent", 3) == "urgent"
    rules = [Rule(1, "delivery", keywords=["parcel"])]
    assert route(rules, Sample("complaint", "parcel", segments=golden)).priority == "high"
    assert route([], Sample("complaint", segments=golden)).priority == "high"


def test_segments_from_customer_value():
    assert segments_of(None) == {"new"}
    value = SimpleNamespace(is_golden=True, is_lapsed=False, stage="commitment", order_count=9)
    assert segments_of(value) == {"golden"}
    value = SimpleNamespace(is_golden=False, is_lapsed=True, stage="dissolution", order_count=3)
    assert segments_of(value) == {"lapsed"}
    value = SimpleNamespace(is_golden=False, is_lapsed=False, stage="awareness", order_count=1)
    assert segments_of(value) == {"new"}


def test_parse_keywords_trims_lowers_and_deduplicates():
    assert parse_keywords(" Damaged, broken\nBROKEN ,, 包裹\uff0cطرد\u060c x") == [
        "damaged",
        "broken",
        "包裹",
        "طرد",
        "x",
    ]

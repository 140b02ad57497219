"""Routing rules (portal/feedback/routing.py): ordered rules, the first match wins, defaults,
golden customers one priority higher."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import given
from hypothesis import strategies as st

from portal.feedback.models import KINDS, PRIORITIES
from portal.feedback.routing import (
    DEFAULT_DEPARTMENT,
    PRODUCT_DEPARTMENT,
    Sample,
    parse_keywords,
    raise_priority,
    route,
    rule_matches,
)
from portal.orders.models import ORDER_STATUSES

SEGMENTS = ("golden", "lapsed", "new")
LANGUAGES = ("en", "lv", "pl", "ru", "zh_Hans", "ar")
DEPARTMENTS = ("customer-care", "product", "logistics", "billing", "returns")
WORDS = ("refund", "late", "broken", "invoice", "kettle", "доставка", "退款")


@dataclass
class Rule:
    id: int
    department_slug: str
    priority: str
    enabled: bool = True
    kinds: list = field(default_factory=list)
    keywords: list = field(default_factory=list)
    order_statuses: list = field(default_factory=list)
    segments: list = field(default_factory=list)
    languages: list = field(default_factory=list)
    name: str = ""


def _subset(values: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), max_size=3, unique=True)


rules = st.builds(
    Rule,
    id=st.integers(1, 10_000),
    department_slug=st.sampled_from(DEPARTMENTS),
    priority=st.sampled_from(PRIORITIES),
    enabled=st.booleans(),
    kinds=_subset(KINDS),
    keywords=_subset(WORDS),
    order_statuses=_subset(ORDER_STATUSES),
    segments=_subset(SEGMENTS),
    languages=_subset(LANGUAGES),
)
rule_lists = st.lists(rules, max_size=8)
text = st.lists(st.sampled_from((*WORDS, "hello", "the", "Refund", "LATE", " ")), max_size=6).map(
    " ".join
)
samples = st.builds(
    Sample,
    kind=st.sampled_from(KINDS),
    subject=text,
    message=text,
    order_status=st.none() | st.sampled_from(ORDER_STATUSES),
    segments=st.frozensets(st.sampled_from(SEGMENTS)),
    language=st.sampled_from(LANGUAGES),
)


def _without_golden(sample: Sample) -> Sample:
    return replace(sample, segments=sample.segments - {"golden"})


@given(rule_lists, samples)
def test_the_first_matching_rule_decides(rule_list: list[Rule], sample: Sample) -> None:
    decision = route(rule_list, sample)
    matching = [rule for rule in rule_list if rule_matches(rule, sample)]
    if matching:
        first = matching[0]
        assert (decision.rule_id, decision.department_slug) == (first.id, first.department_slug)
    else:
        assert decision.rule_id is None
        expected = PRODUCT_DEPARTMENT if sample.kind in ("suggestion", "compliment") else None
        assert decision.department_slug == (expected or DEFAULT_DEPARTMENT)


@given(rule_lists, rule_lists, rules, samples)
def test_rules_after_a_match_change_nothing(
    before: list[Rule], after: list[Rule], rule: Rule, sample: Sample
) -> None:
    rule.enabled = True
    rule.kinds, rule.keywords, rule.order_statuses = [sample.kind], [], []
    rule.segments, rule.languages = [], [sample.language]
    before = [r for r in before if not rule_matches(r, sample)]
    assert route([*before, rule], sample) == route([*before, rule, *after], sample)
    assert route([*before, rule, *after], sample).rule_id == rule.id


@given(rule_lists, rules, samples, st.integers(0, 8))
def test_a_disabled_rule_is_never_used(
    rule_list: list[Rule], rule: Rule, sample: Sample, at: int
) -> None:
    rule.enabled = False
    with_it = [*rule_list[:at], rule, *rule_list[at:]]
    assert not rule_matches(rule, sample)
    assert route(with_it, sample) == route(rule_list, sample)


@given(samples, st.sampled_from(DEPARTMENTS), st.sampled_from(PRIORITIES))
def test_a_rule_without_conditions_matches_everything(
    sample: Sample, department: str, priority: str
) -> None:
    assert rule_matches(Rule(1, department, priority), sample)


@given(rules, samples, st.data())
def test_widening_a_condition_never_loses_a_match(rule: Rule, sample: Sample, data) -> None:
    if not rule_matches(rule, sample):
        return
    name, values = data.draw(
        st.sampled_from(
            [
                ("kinds", KINDS),
                ("keywords", WORDS),
                ("order_statuses", ORDER_STATUSES),
                ("segments", SEGMENTS),
                ("languages", LANGUAGES),
            ]
        )
    )
    condition = getattr(rule, name)
    if not condition:
        return  # an empty condition already matches anything; adding one would narrow it
    extra = data.draw(st.sampled_from(values))
    assert rule_matches(replace(rule, **{name: [*condition, extra]}), sample)


@given(rule_lists, samples)
def test_golden_customers_start_one_priority_higher(rule_list: list[Rule], sample: Sample) -> None:
    # Rules that look at segments would see the golden segment too; these do not.
    for rule in rule_list:
        rule.segments = []
    plain = route(rule_list, _without_golden(sample))
    golden = route(rule_list, replace(sample, segments=sample.segments | {"golden"}))
    assert golden.department_slug == plain.department_slug
    assert golden.rule_id == plain.rule_id
    assert golden.priority == raise_priority(plain.priority)
    up = PRIORITIES.index(golden.priority) - PRIORITIES.index(plain.priority)
    assert up == (0 if plain.priority == "urgent" else 1)


@given(rule_lists, samples)
def test_keywords_ignore_case(rule_list: list[Rule], sample: Sample) -> None:
    shouted = replace(sample, subject=sample.subject.upper(), message=sample.message.upper())
    assert route(rule_list, shouted) == route(rule_list, sample)


@given(st.text(alphabet=st.sampled_from("ab,\n\uff0c\u060c XY")))
def test_parsed_keywords_are_clean_and_parse_to_themselves(raw: str) -> None:
    words = parse_keywords(raw)
    assert all(word and word == word.strip() and word == word.casefold() for word in words)
    assert len(words) == len(set(words))
    assert parse_keywords(", ".join(words)) == words

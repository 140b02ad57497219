"""Building surveys: texts, questions, order, translations, status, the built-in surveys."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.surveys.models import (
    CHOICE_TYPES,
    QUESTION_TYPES,
    SURVEY_STATUSES,
    Answer,
    Question,
    Response,
    Survey,
)

#: Locales a survey can be translated into; English is the base text.
TRANSLATED_LOCALES = ("lv", "pl", "ru", "zh_Hans", "ar")
SURVEY_TEXT_FIELDS = ("title", "intro", "thank_you")


class SurveyRuleError(ValueError):
    """A change the rules refuse; ``field`` names the form field the message belongs to."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message  # a lazy string: rendered in the reader's language
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


def get_survey(survey_id: int) -> Survey | None:
    return db.session.get(Survey, survey_id)


def list_surveys() -> list[tuple[Survey, int]]:
    """Every survey with its number of responses, newest first (two queries)."""
    counts = dict(
        db.session.execute(
            select(Response.survey_id, func.count(Response.id)).group_by(Response.survey_id)
        ).all()
    )
    surveys = db.session.scalars(
        select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    return [(survey, counts.get(survey.id, 0)) for survey in surveys]


def response_count(survey: Survey) -> int:
    return (
        db.session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id))
        or 0
    )


def question_answered(question: Question) -> bool:
    return (
        db.session.scalar(select(Answer.id).where(Answer.question_id == question.id).limit(1))
        is not None
    )


def create_survey(
    *, title: str, intro: str = "", thank_you: str = "", created_by_id: int | None = None
) -> Survey:
    survey = Survey(
        title=title.strip(),
        intro=(intro or "").strip(),
        thank_you=(thank_you or "").strip(),
        status="draft",
        translations={},
        created_by_id=created_by_id,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def update_survey(survey: Survey, *, title: str, intro: str, thank_you: str) -> None:
    survey.title = title.strip()
    survey.intro = (intro or "").strip()
    survey.thank_you = (thank_you or "").strip()
    db.session.flush()


def set_status(survey: Survey, status: str) -> None:
    """Draft → active → closed; a closed survey can be reopened. Activating needs a question."""
    if status not in SURVEY_STATUSES:
        raise SurveyRuleError(_l("Unknown status."))
    if status == "active" and not any(not q.hidden for q in survey.questions):
        raise SurveyRuleError(_l("Add at least one question before activating the survey."))
    if status == "draft" and survey.status != "draft" and response_count(survey):
        raise SurveyRuleError(_l("A survey with responses cannot go back to draft."))
    survey.status = status
    db.session.flush()


def _clean_choices(question_type: str, choices: list[str]) -> list[str]:
    cleaned = [c.strip() for c in choices if c and c.strip()]
    if question_type in CHOICE_TYPES:
        if len(cleaned) < 2:
            raise SurveyRuleError(_l("Give at least two choices, one a line."), "choices")
        if len(set(cleaned)) != len(cleaned):
            raise SurveyRuleError(_l("Each choice must be different."), "choices")
        return cleaned
    return []


def add_question(
    survey: Survey, *, type: str, text: str, required: bool, choices: list[str] | None = None
) -> Question:
    """Adding is always allowed, even when the survey already has responses."""
    if type not in QUESTION_TYPES:
        raise SurveyRuleError(_l("Unknown question type."), "type")
    position = max((q.position for q in survey.questions), default=0) + 1
    question = Question(
        type=type,
        text=text.strip(),
        required=required,
        choices=_clean_choices(type, choices or []),
        translations={},
        position=position,
    )
    survey.questions.append(question)
    db.session.flush()
    return question


def update_question(
    question: Question,
    *,
    type: str,
    text: str,
    required: bool,
    choices: list[str] | None = None,
) -> None:
    """Once answered, the type cannot change and choices can only be relabelled or added."""
    answered = question_answered(question)
    if type != question.type and answered:
        raise SurveyRuleError(
            _l("This question has answers, so its type cannot change. Add a new question."),
            "type",
        )
    if type not in QUESTION_TYPES:
        raise SurveyRuleError(_l("Unknown question type."), "type")
    new_choices = _clean_choices(type, choices or [])
    if answered and len(new_choices) < len(question.choices or []):
        raise SurveyRuleError(
            _l("This question has answers, so choices can be reworded or added but not removed."),
            "choices",
        )
    question.type = type
    question.text = text.strip()
    question.required = required
    question.choices = new_choices
    db.session.flush()


def move_question(question: Question, direction: str) -> None:
    """Swap with the neighbour above ("up") or below ("down"); positions become 1..n."""
    ordered = list(question.survey.questions)
    index = ordered.index(question)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    db.session.flush()


def remove_question(question: Question) -> str:
    """Delete an unanswered question; hide an answered one so its answers stay readable."""
    if question_answered(question):
        question.hidden = True
        db.session.flush()
        return "hidden"
    survey = question.survey
    survey.questions.remove(question)
    db.session.flush()
    return "deleted"


def restore_question(question: Question) -> None:
    question.hidden = False
    db.session.flush()


def set_translation(survey: Survey, locale: str, data: dict[str, Any]) -> None:
    """Store the texts of one locale: survey fields plus ``q<id>`` / ``q<id>_choices``.

    Empty texts are dropped so the English text shows instead.
    """
    if locale not in TRANSLATED_LOCALES:
        raise SurveyRuleError(_l("Unknown language."))
    texts = {f: (data.get(f) or "").strip() for f in SURVEY_TEXT_FIELDS}
    translations = dict(survey.translations or {})
    translations[locale] = {k: v for k, v in texts.items() if v}
    survey.translations = translations
    for question in survey.questions:
        entry: dict[str, Any] = {}
        text = (data.get(f"q{question.id}") or "").strip()
        if text:
            entry["text"] = text
        if question.choices:
            raw = data.get(f"q{question.id}_choices") or ""
            lines = [line.strip() for line in str(raw).splitlines()]
            if any(lines):
                entry["choices"] = lines[: len(question.choices)]
        q_translations = dict(question.translations or {})
        q_translations[locale] = entry
        question.translations = q_translations
    db.session.flush()


def translation_defaults(survey: Survey, locale: str) -> dict[str, str]:
    """What the translation form shows for ``locale`` (existing translations only)."""
    stored = (survey.translations or {}).get(locale, {})
    values = {f: stored.get(f, "") for f in SURVEY_TEXT_FIELDS}
    for question in survey.questions:
        entry = (question.translations or {}).get(locale, {})
        values[f"q{question.id}"] = entry.get("text", "")
        values[f"q{question.id}_choices"] = "\n".join(entry.get("choices", []))
    return values


def visible_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.questions if not q.hidden]


def survey_for_trigger(trigger: str) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.trigger == trigger))


def missing_builtin_triggers() -> list[str]:
    from portal.surveys.builtin import BUILTIN_SURVEYS

    present = set(db.session.scalars(select(Survey.trigger).where(Survey.trigger.is_not(None))))
    return [trigger for trigger in BUILTIN_SURVEYS if trigger not in present]


def ensure_builtin_surveys() -> dict[str, Survey]:
    """Create the delivery, handling and exit surveys once, active and translated.

    Safe to call from anywhere: the unique trigger column decides between concurrent calls.
    """
    from portal.surveys.builtin import BUILTIN_SURVEYS

    found: dict[str, Survey] = {}
    for trigger, spec in BUILTIN_SURVEYS.items():
        survey = survey_for_trigger(trigger)
        if survey is None:
            try:
                with db.session.begin_nested():
                    survey = _builtin_survey(trigger, spec)
                    db.session.add(survey)
            except IntegrityError:
                survey = survey_for_trigger(trigger)
        assert survey is not None
        found[trigger] = survey
    return found


def _builtin_survey(trigger: str, spec: dict[str, Any]) -> Survey:
    survey = Survey(
        title=spec["title"]["en"],
        intro=spec["intro"]["en"],
        thank_you=spec["thank_you"]["en"],
        trigger=trigger,
        status="active",
        translations={
            locale: {f: spec[f][locale] for f in SURVEY_TEXT_FIELDS if locale in spec[f]}
            for locale in TRANSLATED_LOCALES
        },
    )
    for position, q in enumerate(spec["questions"], start=1):
        survey.questions.append(
            Question(
                position=position,
                type=q["type"],
                text=q["text"]["en"],
                required=q.get("required", False),
                choices=list(q.get("choices", {}).get("en", [])),
                translations={
                    locale: {
                        "text": q["text"].get(locale, ""),
                        "choices": list(q.get("choices", {}).get(locale, [])),
                    }
                    for locale in TRANSLATED_LOCALES
                },
            )
        )
    return survey

"""Surveys, their questions, invitations (one per recipient and occasion) and responses."""

from __future__ import annotations

from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.db import TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User

SURVEY_STATUSES = ("draft", "active", "closed")

#: Built-in surveys sent by automation; at most one survey per trigger.
TRIGGERS = ("delivery", "complaint_resolved", "lapsed")

#: Question types and the inclusive range of their numeric answers.
SCALE_RANGES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
}
CHOICE_TYPES = ("single", "multiple")
QUESTION_TYPES = ("nps", "csat", "ces", "single", "multiple", "rating", "text")


class _Translated(Protocol):
    @property
    def translations(self) -> dict[str, Any]: ...


class _Asked(_Translated, Protocol):
    @property
    def text(self) -> str: ...

    @property
    def choices(self) -> Any: ...

    @property
    def type(self) -> str: ...


class SurveyTexts:
    """Reading a survey's texts in a language: for the model and answering's snapshot."""

    __slots__ = ()

    def text(self: _Translated, field: str, locale: str | None) -> str:
        """A survey text in ``locale``, falling back to English when not translated."""
        translated = (self.translations or {}).get(locale or "en", {}).get(field)
        return translated or getattr(self, field) or ""


class QuestionTexts:
    """Reading a question in a language: for the model and answering's snapshot."""

    __slots__ = ()

    def text_in(self: _Asked, locale: str | None) -> str:
        translated = (self.translations or {}).get(locale or "en", {}).get("text")
        return translated or self.text

    def choices_in(self: _Asked, locale: str | None) -> list[str]:
        translated = (self.translations or {}).get(locale or "en", {}).get("choices") or []
        return [
            (translated[i] if i < len(translated) and translated[i] else label)
            for i, label in enumerate(self.choices or [])
        ]

    @property
    def scale(self: _Asked) -> tuple[int, int] | None:
        return SCALE_RANGES.get(self.type)


class Survey(SurveyTexts, TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    thank_you: Mapped[str] = mapped_column(Text, default="")
    # {"lv": {"title": ..., "intro": ..., "thank_you": ...}}; English lives in the columns.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    trigger: Mapped[str | None] = mapped_column(String(24), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        order_by="(Question.position, Question.id)",
    )


class Question(QuestionTexts, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    # Answers store the index of a choice, so labels can be corrected and translated.
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"lv": {"text": ..., "choices": [...]}}
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=False)
    # A question that has answers is hidden instead of deleted.
    hidden: Mapped[bool] = mapped_column(default=False)

    survey: Mapped[Survey] = relationship(back_populates="questions")


@event.listens_for(Session, "before_flush")
def _new_survey_version(session: Session, _context: Any, _instances: Any) -> None:
    """Any change to a survey or to one of its questions moves the survey's ``updated_at``.

    Answering keeps each survey's questions per process and reads them again when this
    changes (answering.survey_spec); a question edited, added, moved, hidden or removed
    changes no column of the survey itself, so it is touched here.
    """
    touched: set[Survey] = set()
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, Question):
            if instance in session.dirty and not session.is_modified(instance):
                continue
            survey = instance.survey
            if survey is None and instance.survey_id is not None:
                survey = session.get(Survey, instance.survey_id)
            if survey is not None:
                touched.add(survey)
        elif (
            isinstance(instance, Survey)
            and instance in session.dirty
            and session.is_modified(instance)  # a column or the list of its questions
        ):
            touched.add(instance)
    now = utcnow()
    for survey in touched:
        if survey not in session.deleted:
            survey.updated_at = now


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """One recipient asked once on one occasion; the link's token is stored only as a hash."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        UniqueConstraint("survey_id", "user_id", "occasion"),
        Index("ix_survey_invitation_user_id_responded_at", "user_id", "responded_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # What the invitation is about: "send:<stamp>", "order:<id>", "feedback:<ref>", "lapse:<date>"
    occasion: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The reminder carries a fresh token of its own; both links lead to the same invitation.
    reminder_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Answers saved before submitting, so a reload keeps the customer's progress.
    draft_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    survey: Mapped[Survey] = relationship()


class Response(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "survey_response"
    __table_args__ = (
        Index("ix_survey_response_survey_id_submitted_at", "survey_id", "submitted_at"),
        # A customer's answers, newest first (the customer 360).
        Index("ix_survey_response_user_id_submitted_at", "user_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The unique constraint is what makes a double submit record one response.
    # NULL once the invitation is erased with the customer's personal data.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitation.id", ondelete="SET NULL"), unique=True
    )
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    invitation: Mapped[Invitation | None] = relationship()


class Answer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_question.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[list[int] | None] = mapped_column(JSON)

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class ContactRequest(db.Model):  # type: ignore[name-defined,misc]
    """A detractor asked to be contacted; the follow-up item it opened, when there is one."""

    __tablename__ = "survey_contact_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_response.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    follow_up_reference: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    response: Mapped[Response] = relationship()
    user: Mapped[User | None] = relationship()


class SurveyOptOut(db.Model):  # type: ignore[name-defined,misc]
    """The customer asked for no more survey invitations (unsubscribe link or /surveys)."""

    __tablename__ = "survey_opt_out"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="link")

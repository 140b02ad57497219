# ruff: noqa: RUF001 - Chinese and Arabic punctuation is meant
"""Survey responses at scale (`flask portal seed-scale`): answers to the built-in surveys.

Every response comes through an invitation, as in the portal (one invitation, one response,
the token stored only as its hash), in the customer's language, with answers to the
survey's questions: required ones always, optional ones mostly, comments sometimes. Scores
drift over the two years so the dashboard's trends have a shape: delivery satisfaction
improves, a bad winter dips it.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.bulk import next_id, reset_sequences, write_chunk
from portal.orders.scale import Population, Progress
from portal.surveys.models import Answer, Invitation, Response
from portal.surveys.sending import hash_token

CHUNK = 10_000
DAYS = 730
#: Which built-in survey a response answers, by share.
SURVEY_SHARES = {"delivery": 70, "complaint_resolved": 20, "lapsed": 10}
COMMENTS: dict[str, tuple[str, ...]] = {
    "en": ("Fast delivery, thank you.", "The courier was late again.", "Great service!"),
    "lv": ("Ātra piegāde, paldies.", "Kurjers atkal kavējās.", "Lielisks serviss!"),
    "ru": ("Быстрая доставка, спасибо.", "Курьер опять опоздал.", "Отличный сервис!"),
    "pl": ("Szybka dostawa, dziękuję.", "Kurier znowu się spóźnił.", "Świetna obsługa!"),
    "zh_Hans": ("配送很快，谢谢。", "快递员又迟到了。", "服务很好！"),
    "ar": ("توصيل سريع، شكراً.", "تأخر المندوب مرة أخرى.", "خدمة رائعة!"),
}


def invitation_token(invitation_id: int) -> str:
    """The link token of a generated invitation (its hash is what is stored)."""
    return f"scale-invitation-{invitation_id}"


def _mood(days_ago: float) -> float:
    """0..1, higher is happier: a slow improvement with a dip a year ago."""
    trend = 0.65 + 0.2 * (1 - days_ago / DAYS)
    dip = 0.15 * math.exp(-(((days_ago - 365) / 30) ** 2))
    return max(0.05, min(0.95, trend - dip))


def _score(low: int, high: int, mood: float, rng: random.Random) -> int:
    """A skewed score: happy customers cluster at the top of the scale."""
    value = rng.betavariate(1 + 6 * mood, 1 + 6 * (1 - mood))
    return low + min(high - low, int(value * (high - low + 1)))


def generate_responses(
    *, population: Population, responses: int, rng: random.Random, progress: Progress
) -> dict[str, int]:
    """Insert ``responses`` responses (with invitations and answers); commits as it goes."""
    from portal.surveys.services import ensure_builtin_surveys, visible_questions

    surveys = ensure_builtin_surveys()
    db.session.commit()
    now = utcnow().replace(microsecond=0)
    plans = []
    for trigger, share in SURVEY_SHARES.items():
        survey = surveys[trigger]
        questions = [(q.id, q.type, q.required, len(q.choices)) for q in visible_questions(survey)]
        plans.append((survey.id, questions, share))
    weights = [share for _survey, _questions, share in plans]
    next_invitation, next_response, next_answer = (
        next_id(Invitation),
        next_id(Response),
        next_id(Answer),
    )
    counts = {"invitations": 0, "responses": 0, "answers": 0}
    customers = population.count
    for chunk_start in range(0, responses if customers else 0, CHUNK):
        size = min(CHUNK, responses - chunk_start)
        invitations: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for survey_id, questions, _share in rng.choices(plans, weights=weights, k=size):
            user_id = population.user_id(int(rng.random() * customers))
            locale = population.locale(user_id)
            days_ago = rng.random() ** 0.8 * DAYS
            submitted = now - timedelta(days=days_ago)
            invited = submitted - timedelta(hours=rng.expovariate(1 / 20))
            invitations.append(
                {
                    "id": next_invitation,
                    "survey_id": survey_id,
                    "user_id": user_id,
                    "occasion": f"scale:{next_invitation}",
                    "token_hash": hash_token(invitation_token(next_invitation)),
                    "locale": locale,
                    "created_at": invited,
                    "expires_at": invited + timedelta(days=30),
                    "responded_at": submitted,
                    "draft_answers": {},
                }
            )
            rows.append(
                {
                    "id": next_response,
                    "invitation_id": next_invitation,
                    "survey_id": survey_id,
                    "user_id": user_id,
                    "locale": locale,
                    "submitted_at": submitted,
                }
            )
            mood = _mood(days_ago)
            for question_id, kind, required, choice_count in questions:
                if not required and rng.random() < (0.85 if kind == "text" else 0.2):
                    continue
                number, comment, choices = None, None, None
                if kind == "nps":
                    # Customers who would recommend a shop they still buy from: NPS about +30.
                    number = _score(0, 10, min(0.95, mood + 0.15), rng)
                elif kind == "csat":
                    number = _score(1, 5, mood, rng)
                elif kind == "ces":
                    # Effort: lower is better.
                    number = 8 - _score(1, 7, mood, rng)
                elif kind == "rating":
                    number = _score(1, 5, mood, rng)
                elif kind in ("single", "multiple") and choice_count:
                    picks = 1 if kind == "single" else 1 + int(rng.random() < 0.3)
                    choices = sorted(rng.sample(range(choice_count), min(picks, choice_count)))
                elif kind == "text":
                    comment = rng.choice(COMMENTS.get(locale, COMMENTS["en"]))
                else:
                    continue
                answers.append(
                    {
                        "id": next_answer,
                        "response_id": next_response,
                        "question_id": question_id,
                        "number": number,
                        "text": comment,
                        "choices": choices,
                    }
                )
                next_answer += 1
            next_invitation += 1
            next_response += 1
        write_chunk(
            counts,
            [
                ("invitations", Invitation.__table__, invitations),
                ("responses", Response.__table__, rows),
                ("answers", Answer.__table__, answers),
            ],
        )
        progress(size)
    reset_sequences("survey_invitation", "survey_response", "survey_answer")
    db.session.commit()
    return counts

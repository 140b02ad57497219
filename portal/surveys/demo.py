# ruff: noqa: RUF001 - texts in other languages and typographic dashes are intended
"""Demo surveys: an NPS survey answered over several weeks, the built-in surveys with some
answers, and invitations still waiting for demo customers (their mails are in the outbox)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from portal.accounts.models import CustomerValue, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.surveys import sending, services
from portal.surveys.models import Answer, Invitation, Question, Response, Survey

CUSTOMERS = (
    "anna@example.com",
    "piotr@example.com",
    "olga@example.com",
    "li@example.com",
    "layla@example.com",
    "ben@example.com",
)
#: Olga stopped ordering months ago (portal/orders/demo.py): she answered the NPS survey while
#: she was still buying and the exit survey after she left, and none of the recent surveys.
LAPSED = "olga@example.com"

NPS_SURVEY: dict[str, Any] = {
    "title": "Would you recommend us?",
    "intro": "Three short questions about your experience with us this year.",
    "thank_you": "Thank you for taking the time. Every answer is read by our team.",
    "translations": {
        "lv": {
            "title": "Vai jūs mūs ieteiktu?",
            "intro": "Trīs īsi jautājumi par jūsu pieredzi ar mums šogad.",
            "thank_you": "Paldies, ka veltījāt laiku. Mūsu komanda izlasa katru atbildi.",
        },
        "pl": {
            "title": "Czy poleciłbyś nas?",
            "intro": "Trzy krótkie pytania o Twoje doświadczenia z nami w tym roku.",
            "thank_you": "Dziękujemy za poświęcony czas. Nasz zespół czyta każdą odpowiedź.",
        },
        "ru": {
            "title": "Порекомендовали бы вы нас?",
            "intro": "Три коротких вопроса о вашем опыте с нами в этом году.",
            "thank_you": "Спасибо за уделённое время. Наша команда читает каждый ответ.",
        },
        "zh_Hans": {
            "title": "您会推荐我们吗？",
            "intro": "关于您今年与我们合作体验的三个简短问题。",
            "thank_you": "感谢您抽出时间。我们的团队会阅读每一条回答。",
        },
        "ar": {
            "title": "هل توصي بنا؟",
            "intro": "ثلاثة أسئلة قصيرة عن تجربتك معنا هذا العام.",
            "thank_you": "شكرًا على وقتك. يقرأ فريقنا كل إجابة.",
        },
    },
    "questions": [
        (
            "nps",
            "How likely are you to recommend us to a friend or colleague?",
            True,
            [],
            {
                "lv": "Cik ticami, ka jūs mūs ieteiktu draugam vai kolēģim?",
                "pl": "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu?",
                "ru": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
                "zh_Hans": "您向朋友或同事推荐我们的可能性有多大？",
                "ar": "ما مدى احتمال أن توصي بنا لصديق أو زميل؟",
            },
        ),
        (
            "single",
            "What matters most to you when you shop with us?",
            False,
            ["Price", "Speed of delivery", "Product quality", "Friendly help"],
            {
                "lv": "Kas jums ir vissvarīgākais, iepērkoties pie mums?",
                "pl": "Co jest dla Ciebie najważniejsze podczas zakupów u nas?",
                "ru": "Что для вас важнее всего при покупках у нас?",
                "zh_Hans": "在我们这里购物时，您最看重什么？",
                "ar": "ما الأهم بالنسبة لك عند التسوق معنا؟",
            },
        ),
        (
            "text",
            "What is the one thing we should improve?",
            False,
            [],
            {
                "lv": "Kas ir tā viena lieta, kas mums būtu jāuzlabo?",
                "pl": "Jaką jedną rzecz powinniśmy poprawić?",
                "ru": "Что одно нам стоит улучшить?",
                "zh_Hans": "我们最应该改进的一件事是什么？",
                "ar": "ما هو الشيء الوحيد الذي يجب أن نحسنه؟",
            },
        ),
    ],
}

CHOICE_TRANSLATIONS = {
    "lv": ["Cena", "Piegādes ātrums", "Produktu kvalitāte", "Laipna palīdzība"],
    "pl": ["Cena", "Szybkość dostawy", "Jakość produktów", "Życzliwa pomoc"],
    "ru": ["Цена", "Скорость доставки", "Качество товаров", "Дружелюбная помощь"],
    "zh_Hans": ["价格", "配送速度", "产品质量", "友好的帮助"],
    "ar": ["السعر", "سرعة التوصيل", "جودة المنتجات", "المساعدة الودودة"],
}

IMPROVEMENTS = (
    "Faster delivery to the countryside, please.",
    "The tracking page could say more about where my parcel is.",
    "More sizes in stock.",
    "Everything was perfect, keep it up!",
    "Packaging uses too much plastic.",
    "Доставка иногда задерживается.",
    "Piegāde varētu būt ātrāka.",
    "希望有更多的付款方式。",
)


def _nps_survey(manager: User | None) -> Survey:
    survey = Survey(
        title=NPS_SURVEY["title"],
        intro=NPS_SURVEY["intro"],
        thank_you=NPS_SURVEY["thank_you"],
        translations=NPS_SURVEY["translations"],
        status="active",
        created_by_id=manager.id if manager else None,
    )
    for position, (kind, text, required, choices, texts) in enumerate(
        NPS_SURVEY["questions"], start=1
    ):
        survey.questions.append(
            Question(
                position=position,
                type=kind,
                text=text,
                required=required,
                choices=choices,
                translations={
                    locale: {"text": texts[locale], "choices": CHOICE_TRANSLATIONS[locale]}
                    if choices
                    else {"text": texts[locale]}
                    for locale in texts
                },
            )
        )
    db.session.add(survey)
    db.session.flush()
    return survey


def _answered(
    survey: Survey,
    user: User,
    occasion: str,
    when: Any,
    answers: dict[int, Any],
) -> None:
    invitation = Invitation(
        survey_id=survey.id,
        user_id=user.id,
        occasion=occasion,
        token_hash=sending.hash_token(sending.new_token()),
        locale=sending.recipient_locale(user),
        created_at=when - timedelta(days=1),
        expires_at=when + timedelta(days=29),
        responded_at=when,
        draft_answers={},
    )
    db.session.add(invitation)
    db.session.flush()
    response = Response(
        invitation_id=invitation.id,
        survey_id=survey.id,
        user_id=user.id,
        locale=invitation.locale,
        submitted_at=when,
    )
    for question_id, value in answers.items():
        answer = Answer(question_id=question_id)
        if isinstance(value, str):
            answer.text = value
        elif isinstance(value, list):
            answer.choices = value
        else:
            answer.number = value
        response.answers.append(answer)
    db.session.add(response)


def _ensure_values(users: dict[str, User]) -> None:
    """Without order data (no value rows at all), give the segments someone to find."""
    if db.session.scalar(select(func.count()).select_from(CustomerValue)):
        return
    now = utcnow()
    db.session.add_all(
        [
            CustomerValue(
                user_id=users["anna@example.com"].id,
                spend_12m_minor=184500,
                order_count=7,
                is_golden=True,
                stage="commitment",
                first_order_at=now - timedelta(days=400),
                last_order_at=now - timedelta(days=12),
                computed_at=now,
            ),
            CustomerValue(
                user_id=users["piotr@example.com"].id,
                spend_12m_minor=42_00,
                order_count=2,
                stage="expansion",
                computed_at=now,
            ),
            CustomerValue(
                user_id=users["ben@example.com"].id,
                spend_12m_minor=0,
                order_count=3,
                is_lapsed=True,
                lapsed_at=now - timedelta(days=20),
                stage="dissolution",
                computed_at=now,
            ),
        ]
    )
    db.session.flush()


def load_demo_surveys(users: dict[str, User]) -> None:
    rng = random.Random(2026)
    now = utcnow()
    _ensure_values(users)
    builtin = services.ensure_builtin_surveys()
    customers = [users[e] for e in CUSTOMERS if e in users and e != LAPSED]
    survey = _nps_survey(users.get("manager@example.com"))
    nps_q, choice_q, text_q = survey.questions
    for n in range(48):
        when = now - timedelta(days=rng.uniform(1, 70))
        score = rng.choice((10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 3, 10, 9, 8))
        answers: dict[int, Any] = {nps_q.id: score, choice_q.id: rng.randrange(4)}
        if rng.random() < 0.4:
            answers[text_q.id] = rng.choice(IMPROVEMENTS)
        _answered(survey, customers[n % len(customers)], f"demo:{n}", when, answers)

    delivery = builtin["delivery"]
    d_csat, d_nps, d_text = delivery.questions
    for n in range(20):
        when = now - timedelta(days=rng.uniform(1, 56))
        answers = {d_csat.id: rng.choice((5, 5, 4, 4, 3, 2)), d_nps.id: rng.randint(5, 10)}
        if rng.random() < 0.3:
            answers[d_text.id] = rng.choice(IMPROVEMENTS)
        _answered(delivery, customers[n % len(customers)], f"demo-order:{n}", when, answers)

    handling = builtin["complaint_resolved"]
    h_csat, h_ces, _h_text = handling.questions
    for n in range(10):
        when = now - timedelta(days=rng.uniform(1, 50))
        answers = {h_csat.id: rng.choice((5, 4, 4, 3, 1)), h_ces.id: rng.randint(2, 7)}
        _answered(handling, customers[n % len(customers)], f"demo-feedback:{n}", when, answers)

    exit_survey = builtin["lapsed"]
    reasons, comeback = exit_survey.questions
    olga = users.get(LAPSED)
    if olga is not None:
        _answered(
            survey,
            olga,
            "demo:olga",
            now - timedelta(days=280),
            {nps_q.id: 6, choice_q.id: 1, text_q.id: IMPROVEMENTS[0]},
        )
        picked = sorted(rng.sample(range(len(reasons.choices)), 2))
        _answered(
            exit_survey,
            olga,
            "demo-lapse:olga",
            now - timedelta(days=9),
            {reasons.id: picked, comeback.id: "A discount on my next order would help."},
        )
    db.session.flush()

    # Invitations still waiting: each queues a real mail with a working link.
    for email in ("anna@example.com", "layla@example.com"):
        if email in users:
            sending.invite(delivery, users[email], "order:demo")
    for email in ("piotr@example.com", "li@example.com"):
        if email in users:
            sending.invite(survey, users[email], sending.MANUAL_OCCASION)
    db.session.flush()

"""Demo community: categories and conversations in the portal's six languages."""

# ruff: noqa: RUF001 - Chinese and Arabic punctuation is meant

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.community import services
from portal.community.models import Category, Post, Topic
from portal.core.db import utcnow
from portal.extensions import db

CATEGORIES = (
    # slug, name, description, staff only
    ("announcements", "Announcements", "News from the team about the shop and the portal.", False),
    (
        "orders-delivery",
        "Orders and delivery",
        "Tracking, couriers, parcel lockers, returns.",
        False,
    ),
    ("products", "Products and tips", "How to choose, use and care for what you bought.", False),
    ("billing", "Payments and invoices", "Cards, bank transfers, invoices and refunds.", False),
    ("staff-room", "Staff room", "Notes for the team; customers do not see this category.", True),
)

# category, author, title, body, replies [(author, body)], accepted reply index or None,
# votes on the first post [voters]
CONVERSATIONS: tuple = (
    (
        "orders-delivery",
        "ben@example.com",
        "Can I change the delivery address after ordering?",
        "I ordered yesterday and only now noticed the old address. The order is not shipped "
        "yet. Is there a way to change it myself?",
        [
            (
                "anna@example.com",
                "Yes: open **Orders**, choose the order and use *Change address* while it "
                "is still being packed. It worked for me last month.",
            ),
            (
                "agent@example.com",
                "Anna is right. Once it has shipped, write to us and we ask the courier.",
            ),
        ],
        0,
        ["anna@example.com", "piotr@example.com"],
    ),
    (
        "orders-delivery",
        "anna@example.com",
        "Pakomāts neatvērās — ko darīt?",
        "Vakar saņēmu kodu, bet pakomāts Rīgā, Brīvības ielā, neatvērās. Vai kādam ir "
        "bijis tas pats?",
        [
            (
                "olga@example.com",
                "Man bija tāpat. Palīdzēja kods no īsziņas, nevis no e-pasta — tie atšķiras.",
            ),
        ],
        0,
        ["olga@example.com"],
    ),
    (
        "products",
        "piotr@example.com",
        "Jak dbać o drewnianą deskę do krojenia?",
        "Kupiłem dębową deskę. Czym ją olejować i jak często? Czy można ją myć w zmywarce?",
        [
            (
                "anna@example.com",
                "Nigdy w zmywarce! Olej lniany lub parafinowy raz w miesiącu wystarczy.",
            ),
            ("ben@example.com", "Mineral oil works too, and warm water with a little soap."),
        ],
        0,
        ["anna@example.com", "ben@example.com", "li@example.com"],
    ),
    (
        "billing",
        "olga@example.com",
        "Как получить счёт на фирму?",
        "Я оплатила заказ картой, но мне нужен счёт на компанию с реквизитами. Где это указать?",
        [
            (
                "billing@example.com",
                "В профиле можно указать реквизиты компании до оплаты; для уже оплаченного "
                "заказа напишите нам номер заказа, и мы пришлём исправленный счёт.",
            ),
        ],
        0,
        ["piotr@example.com"],
    ),
    (
        "orders-delivery",
        "li@example.com",
        "快递几天能到上海？",
        "我上周在网站下单，想知道国际快递一般需要几天才能到上海，运费怎么计算？",
        [
            ("ben@example.com", "For me it took about nine days to Shanghai with tracking."),
            (
                "agent@example.com",
                "国际快递一般七到十个工作日送达上海，运费按重量计算，结账时会显示。",
            ),
        ],
        1,
        ["ben@example.com", "layla@example.com"],
    ),
    (
        "products",
        "layla@example.com",
        "هل يمكن استبدال المقاس بعد الشراء؟",
        "اشتريت قميصا بمقاس كبير جدا. هل يمكنني استبداله بمقاس أصغر دون رسوم إضافية؟",
        [
            (
                "manager@example.com",
                "نعم، يمكنك استبدال المقاس خلال ثلاثين يوما مجانا من صفحة الطلبات.",
            ),
            ("li@example.com", "我也换过尺码，很方便。"),
        ],
        0,
        ["li@example.com", "olga@example.com"],
    ),
    (
        "announcements",
        "manager@example.com",
        "Welcome to the community",
        "Ask questions, share tips and help each other. Our team reads along and answers "
        "too; posts from staff carry a badge. Please keep it friendly.",
        [],
        None,
        ["anna@example.com", "ben@example.com"],
    ),
    (
        "staff-room",
        "moderator@example.com",
        "Moderation notes for this week",
        "Watch the delivery category for couriers advertising their services.",
        [],
        None,
        [],
    ),
)


def _post(topic: Topic, author: User, body: str, when) -> Post:  # type: ignore[no-untyped-def]
    post = services._new_post(author, topic, body, when)
    db.session.flush()
    services.set_post_state(post, "visible")
    return post


def load_demo(users: dict[str, User]) -> None:
    # The categories may be there already (`seed-scale` on an empty board creates them).
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, (slug, name, description, staff_only) in enumerate(CATEGORIES):
        if slug in categories:
            continue
        category = Category(
            slug=slug,
            name=name,
            description=description,
            position=position,
            staff_only=staff_only,
        )
        db.session.add(category)
        categories[slug] = category
    db.session.flush()
    start = utcnow() - timedelta(days=10)
    topics: list[Topic] = []
    for number, (slug, author_email, title, body, replies, accepted, voters) in enumerate(
        CONVERSATIONS
    ):
        when = start + timedelta(days=number, hours=2)
        author = users[author_email]
        topic = Topic(
            category=categories[slug],
            author_id=author.id,
            title=title,
            slug=services.slugify(title),
            state="new",
            last_position=0,
            reply_count=0,
            vote_count=0,
            revision=1,
            created_at=when,
            last_post_at=when,
        )
        db.session.add(topic)
        topics.append(topic)
        question = _post(topic, author, body, when)
        services.subscribe(author.id, topic, "watching")
        answers = []
        for offset, (replier, text) in enumerate(replies, start=1):
            answers.append(_post(topic, users[replier], text, when + timedelta(hours=offset)))
            services.subscribe(users[replier].id, topic, "watching", keep_existing=True)
        for voter in voters:
            services.vote(users[voter], question)
        if answers:
            services.vote(author, answers[0])
        if accepted is not None:
            topic.accepted_post_id = answers[accepted].id
        staff_answer = next((a for a in answers if a.author_is_staff), None)
        if staff_answer is not None and slug != "announcements":
            services.mark_official(staff_answer)
    # A spam reply that two members have already reported.
    spam = _post(
        topics[0],
        users["piotr@example.com"],
        "Cheap courier, best prices!!! Visit https://example.net/cheap-parcels now",
        utcnow() - timedelta(hours=3),
    )
    services.flag_post(users["anna@example.com"], spam, "spam")
    services.flag_post(users["ben@example.com"], spam, "spam", "Advertising another courier.")
    db.session.flush()

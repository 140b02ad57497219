# ruff: noqa: RUF001 - Chinese and Arabic punctuation is meant
"""Community data at scale (`flask portal seed-scale`): topics and posts in bulk.

Topics are conversations in the existing categories, in the portal's six languages; most
are short, a few run long, and one, titled :data:`BIG_TOPIC_TITLE`, has a fixed number of
posts (20,000 by default) for the topic-page benchmark. Rows keep the invariants the
services keep: positions 1..last_position without gaps, reply counts, the last post's time
and author, the revision (bumped once per post), the category counters, the author's
subscription, bodies rendered with the current renderer. The search indexes follow the
posts: SQLite's FTS5 tables (trigrams; characters and character pairs of bodies and titles)
by their insert triggers, PostgreSQL's trigram and pair indexes by themselves.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.community import markup
from portal.community.models import Category, Post, Topic, TopicSubscription
from portal.community.services import slugify, touch_category
from portal.core.db import utcnow
from portal.extensions import db
from portal.orders.bulk import next_id, reset_sequences, write_chunk
from portal.orders.scale import PRODUCTS, Population, Progress

BIG_TOPIC_TITLE = "Big thread"
BIG_TOPIC_POSTS = 20_000
CHUNK = 10_000
#: Topic languages and their shares.
LANGUAGES = ("en", "lv", "ru", "pl", "zh_Hans", "ar")
LANGUAGE_WEIGHTS = (35, 18, 15, 12, 12, 8)

TITLES: dict[str, tuple[str, ...]] = {
    "en": (
        "Parcel stuck at the sorting centre",
        "How do I return a {product}?",
        "Refund not received after two weeks",
        "Which {product} would you recommend?",
        "Courier left my parcel at the wrong door",
        "Invoice shows the wrong company name",
        "Discount code does not apply",
        "Is the {product} worth it?",
    ),
    "lv": (
        "Paka iestrēgusi šķirošanas centrā",
        "Kā atgriezt {product}?",
        "Nauda nav atgriezta jau divas nedēļas",
        "Pakomāts neatvērās — ko darīt?",
        "Rēķinā nepareizs uzņēmuma nosaukums",
        "Vai {product} ir tā vērts?",
    ),
    "ru": (
        "Посылка застряла на сортировке",
        "Как вернуть {product}?",
        "Деньги не вернули через две недели",
        "Курьер оставил посылку у чужой двери",
        "Промокод не применяется",
        "Стоит ли брать {product}?",
    ),
    "pl": (
        "Paczka utknęła w sortowni",
        "Jak zwrócić {product}?",
        "Nie otrzymałem zwrotu pieniędzy",
        "Kurier zostawił paczkę pod złymi drzwiami",
        "Kod rabatowy nie działa",
    ),
    "zh_Hans": (
        "包裹卡在分拣中心了",
        "如何退回{product}？",
        "两周了还没收到退款",
        "快递员把包裹放错了门口",
        "优惠码无法使用",
        "{product}值得买吗？",
    ),
    "ar": (
        "الطرد عالق في مركز الفرز",
        "كيف يمكنني إرجاع {product}؟",
        "لم أستلم المبلغ المسترد بعد أسبوعين",
        "ترك المندوب الطرد عند الباب الخطأ",
        "رمز الخصم لا يعمل",
    ),
}

#: One sentence a paragraph: bodies are paragraphs, rendered once each and joined.
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "I ordered on Monday and the tracking page has not changed since Wednesday.",
        "Has anyone else had the same problem with the courier this week?",
        "The parcel locker code from the text message worked for me, not the one in the email.",
        "Open Orders, choose the order and use Change address while it is still being packed.",
        "I returned mine through the portal and the refund arrived after five working days.",
        "Customer care answered within a day and sent a replacement.",
        "Check the spam folder, the invoice mail sometimes lands there.",
        "The {product} arrived well packed and works perfectly.",
        "Mine came with a scratch, so I opened a complaint and attached a photo.",
        "Thanks, that solved it!",
        "Same here, following this thread.",
        "You can download every invoice as a PDF from the order page.",
    ),
    "lv": (
        "Pasūtīju pirmdien, bet sūtījuma statuss nav mainījies kopš trešdienas.",
        "Vai kādam citam šonedēļ ir bijusi tāda pati problēma ar kurjeru?",
        "Man palīdzēja kods no īsziņas, nevis no e-pasta — tie atšķiras.",
        "Atgriezu preci caur portālu, un nauda pienāca pēc piecām darba dienām.",
        "Klientu apkalpošana atbildēja dienas laikā un nosūtīja jaunu preci.",
        "{product} pienāca labi iepakots un strādā lieliski.",
        "Paldies, tas palīdzēja!",
        "Rēķinu var lejupielādēt PDF formātā pasūtījuma lapā.",
    ),
    "ru": (
        "Заказал в понедельник, а статус доставки не меняется со среды.",
        "У кого-нибудь ещё была такая же проблема с курьером на этой неделе?",
        "Мне помог код из СМС, а не из письма — они отличаются.",
        "Вернул товар через портал, деньги пришли через пять рабочих дней.",
        "Служба поддержки ответила за день и отправила замену.",
        "{product} пришёл хорошо упакованным и отлично работает.",
        "Спасибо, это помогло!",
        "Счёт можно скачать в формате PDF на странице заказа.",
    ),
    "pl": (
        "Zamówiłem w poniedziałek, a status przesyłki nie zmienił się od środy.",
        "Czy ktoś jeszcze miał ten sam problem z kurierem w tym tygodniu?",
        "Zwróciłem towar przez portal, pieniądze wróciły po pięciu dniach roboczych.",
        "Obsługa klienta odpowiedziała w ciągu dnia i wysłała nowy egzemplarz.",
        "{product} dotarł dobrze zapakowany i działa świetnie.",
        "Dzięki, to pomogło!",
    ),
    "zh_Hans": (
        "我周一下的订单，从周三开始物流信息就没有更新。",
        "这周还有人遇到同样的快递员问题吗？",
        "短信里的取件码可以用，邮件里的不行。",
        "我通过门户网站退货，五个工作日后收到了退款。",
        "客服一天之内就回复了，并寄来了新的商品。",
        "{product}包装很好，用起来非常好。",
        "谢谢，问题解决了！",
        "可以在订单页面下载PDF格式的发票。",
    ),
    "ar": (
        "طلبت يوم الاثنين ولم تتغير حالة الشحنة منذ الأربعاء.",
        "هل واجه أحد آخر نفس المشكلة مع المندوب هذا الأسبوع؟",
        "أعدت المنتج عبر البوابة ووصل المبلغ بعد خمسة أيام عمل.",
        "ردت خدمة العملاء خلال يوم وأرسلت بديلاً.",
        "وصل {product} مغلفاً جيداً ويعمل بشكل ممتاز.",
        "شكراً، هذا حل المشكلة!",
    ),
}

#: Share of topics per category slug (the demo's categories); others get the rest evenly.
CATEGORY_WEIGHTS = {
    "orders-delivery": 40,
    "products": 30,
    "billing": 20,
    "announcements": 3,
    "staff-room": 2,
}


class _Renderer:
    """Rendered HTML per paragraph: a body's HTML is its paragraphs' HTML joined."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, paragraphs: list[str]) -> str:
        out = []
        for paragraph in paragraphs:
            html = self.cache.get(paragraph)
            if html is None:
                html = self.cache[paragraph] = markup.render(paragraph)
            out.append(html)
        return "".join(out)


def ensure_categories() -> list[Category]:
    """The existing categories; the demo's when there are none yet."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    if not categories:
        from portal.community.demo import CATEGORIES

        for position, (slug, name, description, staff_only) in enumerate(CATEGORIES):
            db.session.add(
                Category(
                    slug=slug,
                    name=name,
                    description=description,
                    position=position,
                    staff_only=staff_only,
                )
            )
        db.session.flush()
        categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    return categories


def _sizes(posts: int, big: int, rng: random.Random) -> list[int]:
    """Posts per topic: the big topic first, then mostly short conversations."""
    sizes = [big] if big else []
    left = posts - big
    while left > 0:
        size = min(left, 1 + min(int(rng.expovariate(1 / 9)), 600))
        sizes.append(size)
        left -= size
    return sizes


def _body(language: str, rng: random.Random) -> list[str]:
    pool = SENTENCES[language]
    paragraphs = []
    for _ in range(1 + int(rng.expovariate(1.0))):
        sentence = pool[int(rng.random() * len(pool))]
        paragraphs.append(sentence.replace("{product}", rng.choice(PRODUCTS)))
    return paragraphs[:4]


def generate_posts(
    *,
    population: Population,
    posts: int,
    big_topic_posts: int = BIG_TOPIC_POSTS,
    rng: random.Random,
    progress: Progress,
) -> dict[str, Any]:
    """Insert ``posts`` posts in new topics, one of them the big topic; commits as it goes."""
    now = utcnow().replace(microsecond=0)
    big = min(big_topic_posts, posts)
    categories = ensure_categories()
    public = [c for c in categories if not c.staff_only]
    weights = [CATEGORY_WEIGHTS.get(c.slug, 10) for c in categories]
    staff = population.all_agents or [population.first_user]
    customers = population.count
    render = _Renderer()
    db.session.commit()

    next_topic, next_post = next_id(Topic), next_id(Post)
    big_topic_id = next_topic if big else None
    totals = {c.id: {"topics": 0, "posts": 0} for c in categories}
    latest: dict[int, tuple[datetime, int, str]] = {}
    topic_rows: list[dict[str, Any]] = []
    post_rows: list[dict[str, Any]] = []
    subscriptions: list[dict[str, Any]] = []
    counts = {"topics": 0, "posts": 0, "subscriptions": 0}

    def flush() -> None:
        # Topics first: the search trigger reads the title of the topic a first post opens.
        written = len(post_rows)
        write_chunk(
            counts,
            [
                ("topics", Topic.__table__, topic_rows),
                ("posts", Post.__table__, post_rows),
                ("subscriptions", TopicSubscription.__table__, subscriptions),
            ],
        )
        progress(written)

    def customer() -> int:
        # A few members write most of the posts.
        return population.user_id(int(customers * rng.random() ** 3)) if customers else staff[0]

    for number, size in enumerate(_sizes(posts, big, rng)):
        topic_id = next_topic
        next_topic += 1
        is_big = topic_id == big_topic_id
        category = (
            next((c for c in public if c.slug == "orders-delivery"), public[0])
            if is_big and public
            else rng.choices(categories, weights=weights)[0]
        )
        language = "en" if is_big else rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
        staff_topic = category.staff_only
        author = rng.choice(staff) if staff_topic else customer()
        if is_big:
            title = BIG_TOPIC_TITLE
            created = now - timedelta(days=700)
            mean_gap = 690 * 86400 / max(size, 1)
        else:
            template = rng.choice(TITLES[language])
            title = template.replace("{product}", rng.choice(PRODUCTS))
            created = now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
            mean_gap = rng.choice((1800, 4 * 3600, 18 * 3600))
        moment = created
        first_post = next_post
        accepted = None
        if size >= 2 and not staff_topic and not is_big and rng.random() < 0.3:
            accepted = first_post + rng.randint(1, min(size - 1, 3))
        last_author = author
        for position in range(1, size + 1):
            if position > 1:
                moment = min(now, moment + timedelta(seconds=rng.expovariate(1 / mean_gap)))
            if position == 1:
                writer, is_staff = author, staff_topic
            elif staff_topic or rng.random() < 0.05:
                writer, is_staff = rng.choice(staff), True
            else:
                writer, is_staff = customer(), False
            paragraphs = _body(language, rng)
            if is_big and position % 1000 == 1:
                paragraphs.append(f"{BIG_TOPIC_TITLE}, part {position // 1000 + 1}.")
            post_rows.append(
                {
                    "id": next_post,
                    "topic_id": topic_id,
                    "position": position,
                    "author_id": writer,
                    "body_markdown": "\n\n".join(paragraphs),
                    "body_html": render(paragraphs),
                    "renderer_version": markup.RENDERER_VERSION,
                    "state": "visible",
                    "author_is_staff": is_staff,
                    "is_official": False,
                    "vote_score": 0,
                    "flag_count": 0,
                    "created_at": moment,
                }
            )
            next_post += 1
            last_author = writer
        topic_rows.append(
            {
                "id": topic_id,
                "category_id": category.id,
                "author_id": author,
                "title": title,
                "slug": slugify(title),
                "state": "visible",
                "is_pinned": is_big,
                "is_locked": False,
                "created_at": created,
                "last_post_at": moment,
                "last_poster_id": last_author,
                "last_position": size,
                "reply_count": size - 1,
                "vote_count": 0,
                "accepted_post_id": accepted,
                # The services bump it when the topic opens and with every post after.
                "revision": 1 + size,
            }
        )
        subscriptions.append(
            {
                "topic_id": topic_id,
                "user_id": author,
                "level": "watching",
                "mailed_since_visit": False,
                "created_at": created,
            }
        )
        totals[category.id]["topics"] += 1
        totals[category.id]["posts"] += size
        if category.id not in latest or moment >= latest[category.id][0]:
            latest[category.id] = (moment, topic_id, title)
        if len(post_rows) >= CHUNK or number % 2000 == 1999:
            flush()
    flush()
    for category in categories:
        touch_category(category)
        category.topic_count += totals[category.id]["topics"]
        category.post_count += totals[category.id]["posts"]
        if category.id in latest:
            moment, topic_id, title = latest[category.id]
            if category.last_post_at is None or moment >= category.last_post_at:
                category.last_post_at = moment
                category.last_topic_id = topic_id
                category.last_topic_title = title
    reset_sequences("community_topic", "community_post")
    db.session.commit()
    return {**counts, "big_topic_id": big_topic_id}


def big_topic_id() -> int | None:
    """The benchmark's long topic: the first topic titled :data:`BIG_TOPIC_TITLE`."""
    return db.session.scalar(
        select(Topic.id).where(Topic.title == BIG_TOPIC_TITLE).order_by(Topic.id).limit(1)
    )

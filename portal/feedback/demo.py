# ruff: noqa: RUF001 - the demo texts are written in six languages
"""Demo data: routing rules, and items in every status and language with their history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal.accounts.models import CustomerValue, Department, User
from portal.core.db import utcnow
from portal.extensions import db
from portal.feedback import services, settings
from portal.feedback.models import FeedbackItem, RoutingRule
from portal.orders.models import Order

# (language, department, subject, message): past items as customers wrote them.
CORPUS: tuple[tuple[str, str, str, str], ...] = (
    # Delivery
    (
        "en",
        "delivery",
        "Parcel arrived damaged",
        "The box was crushed and the mug inside is broken.",
    ),
    (
        "en",
        "delivery",
        "Where is my package?",
        "Tracking has not moved for five days, the courier never came.",
    ),
    (
        "en",
        "delivery",
        "Late delivery",
        "The courier left the parcel with a neighbour I do not know.",
    ),
    (
        "en",
        "delivery",
        "Wrong address on the shipment",
        "The parcel went to my old address, please redirect it.",
    ),
    ("lv", "delivery", "Sūtījums bojāts", "Kaste bija saspiesta un krūze iekšā saplīsusi."),
    (
        "lv",
        "delivery",
        "Kur ir mana paka?",
        "Izsekošana nav mainījusies piecas dienas, kurjers neatbrauca.",
    ),
    ("lv", "delivery", "Piegāde kavējas", "Paka joprojām nav atvesta, lai gan solīja vakar."),
    (
        "lv",
        "delivery",
        "Kurjers atstāja paku",
        "Kurjers atstāja paku pie durvīm lietū, tā ir slapja.",
    ),
    ("pl", "delivery", "Paczka uszkodzona", "Karton był zgnieciony, a kubek w środku rozbity."),
    (
        "pl",
        "delivery",
        "Gdzie jest moja przesyłka?",
        "Śledzenie przesyłki nie zmieniło się od pięciu dni, kurier nie przyjechał.",
    ),
    ("pl", "delivery", "Opóźniona dostawa", "Kurier zostawił paczkę u sąsiada, którego nie znam."),
    (
        "pl",
        "delivery",
        "Zły adres dostawy",
        "Paczka pojechała na mój stary adres, proszę o przekierowanie.",
    ),
    ("ru", "delivery", "Посылка повреждена", "Коробка была смята, кружка внутри разбита."),
    (
        "ru",
        "delivery",
        "Где моя посылка?",
        "Отслеживание не меняется пять дней, курьер так и не приехал.",
    ),
    ("ru", "delivery", "Задержка доставки", "Курьер оставил посылку у соседа, которого я не знаю."),
    (
        "ru",
        "delivery",
        "Неверный адрес доставки",
        "Посылка ушла на мой старый адрес, перенаправьте, пожалуйста.",
    ),
    ("zh_Hans", "delivery", "包裹损坏", "箱子被压扁了，里面的杯子碎了。"),
    ("zh_Hans", "delivery", "我的包裹在哪里？", "物流信息五天没有更新，快递员一直没来。"),
    ("zh_Hans", "delivery", "送货延迟", "快递员把包裹放在了我不认识的邻居家。"),
    ("zh_Hans", "delivery", "收货地址错误", "包裹寄到了我的旧地址，请帮忙改送。"),
    ("ar", "delivery", "الطرد وصل تالفاً", "كان الصندوق مسحوقاً والكوب في الداخل مكسور."),
    ("ar", "delivery", "أين طردي؟", "لم يتغير التتبع منذ خمسة أيام ولم يأت المندوب."),
    ("ar", "delivery", "تأخر التوصيل", "ترك المندوب الطرد عند جار لا أعرفه."),
    ("ar", "delivery", "عنوان الشحن خاطئ", "ذهب الطرد إلى عنواني القديم، أرجو إعادة توجيهه."),
    # Billing
    (
        "en",
        "billing",
        "Charged twice",
        "My card was charged twice for the same order, please refund one payment.",
    ),
    ("en", "billing", "Invoice is wrong", "The invoice shows the wrong VAT number and amount."),
    (
        "en",
        "billing",
        "Refund not received",
        "I returned the item two weeks ago and still have no refund.",
    ),
    (
        "en",
        "billing",
        "Payment failed but money taken",
        "The payment failed at checkout but my bank shows the charge.",
    ),
    (
        "lv",
        "billing",
        "Nauda noņemta divreiz",
        "No kartes divreiz noņemta nauda par vienu pasūtījumu, lūdzu atmaksu.",
    ),
    ("lv", "billing", "Kļūda rēķinā", "Rēķinā norādīts nepareizs PVN numurs un summa."),
    (
        "lv",
        "billing",
        "Nav saņemta atmaksa",
        "Preci atgriezu pirms divām nedēļām, bet naudas atmaksas nav.",
    ),
    (
        "lv",
        "billing",
        "Maksājums neizdevās",
        "Maksājums neizdevās, bet banka rāda, ka nauda noņemta.",
    ),
    (
        "pl",
        "billing",
        "Podwójne obciążenie",
        "Moja karta została obciążona dwa razy za to samo zamówienie, proszę o zwrot.",
    ),
    ("pl", "billing", "Błędna faktura", "Na fakturze jest zły numer VAT i kwota."),
    (
        "pl",
        "billing",
        "Brak zwrotu pieniędzy",
        "Zwróciłem towar dwa tygodnie temu i nadal nie mam zwrotu pieniędzy.",
    ),
    (
        "pl",
        "billing",
        "Płatność nieudana",
        "Płatność się nie powiodła, ale bank pokazuje obciążenie.",
    ),
    (
        "ru",
        "billing",
        "Двойное списание",
        "С карты дважды списали деньги за один заказ, верните один платёж.",
    ),
    ("ru", "billing", "Ошибка в счёте", "В счёте указан неверный номер НДС и сумма."),
    (
        "ru",
        "billing",
        "Не получил возврат",
        "Я вернул товар две недели назад, а возврата денег всё нет.",
    ),
    ("ru", "billing", "Оплата не прошла", "Оплата не прошла, но банк показывает списание."),
    ("zh_Hans", "billing", "重复扣款", "同一个订单我的卡被扣了两次钱，请退还一笔。"),
    ("zh_Hans", "billing", "发票错误", "发票上的税号和金额都不对。"),
    ("zh_Hans", "billing", "没有收到退款", "我两周前退了货，还没有收到退款。"),
    ("zh_Hans", "billing", "付款失败但扣了钱", "结账时付款失败，但银行显示已经扣款。"),
    (
        "ar",
        "billing",
        "خصم المبلغ مرتين",
        "تم خصم المبلغ من بطاقتي مرتين لنفس الطلب، أرجو استرداد دفعة.",
    ),
    ("ar", "billing", "الفاتورة خاطئة", "الفاتورة تظهر رقم ضريبة ومبلغاً غير صحيحين."),
    (
        "ar",
        "billing",
        "لم أستلم المبلغ المسترد",
        "أعدت المنتج قبل أسبوعين ولم أستلم المبلغ المسترد بعد.",
    ),
    ("ar", "billing", "فشل الدفع", "فشل الدفع عند الشراء لكن البنك يظهر الخصم."),
    # Technical support
    (
        "en",
        "technical-support",
        "Cannot log in",
        "The website shows an error when I try to sign in with my password.",
    ),
    (
        "en",
        "technical-support",
        "App crashes",
        "The app crashes every time I open the order page on my phone.",
    ),
    (
        "en",
        "technical-support",
        "Password reset link broken",
        "The reset link in the e-mail says the page was not found.",
    ),
    (
        "en",
        "technical-support",
        "Checkout page error",
        "The checkout button does nothing in my browser.",
    ),
    (
        "lv",
        "technical-support",
        "Nevaru pieslēgties",
        "Mājaslapa rāda kļūdu, kad mēģinu ielogoties ar paroli.",
    ),
    (
        "lv",
        "technical-support",
        "Lietotne avarē",
        "Lietotne aizveras katru reizi, kad telefonā atveru pasūtījumu lapu.",
    ),
    (
        "lv",
        "technical-support",
        "Paroles saite nedarbojas",
        "Paroles atjaunošanas saite e-pastā rāda, ka lapa nav atrasta.",
    ),
    ("lv", "technical-support", "Kļūda apmaksas lapā", "Poga apmaksas lapā pārlūkā neko nedara."),
    (
        "pl",
        "technical-support",
        "Nie mogę się zalogować",
        "Strona pokazuje błąd, gdy próbuję się zalogować hasłem.",
    ),
    (
        "pl",
        "technical-support",
        "Aplikacja się zawiesza",
        "Aplikacja zamyka się za każdym razem, gdy otwieram stronę zamówień w telefonie.",
    ),
    (
        "pl",
        "technical-support",
        "Link do resetu hasła nie działa",
        "Link do resetu hasła w e-mailu pokazuje, że strony nie znaleziono.",
    ),
    (
        "pl",
        "technical-support",
        "Błąd strony kasy",
        "Przycisk na stronie kasy nic nie robi w mojej przeglądarce.",
    ),
    (
        "ru",
        "technical-support",
        "Не могу войти",
        "Сайт показывает ошибку, когда я пытаюсь войти с паролем.",
    ),
    (
        "ru",
        "technical-support",
        "Приложение вылетает",
        "Приложение закрывается каждый раз, когда я открываю страницу заказов в телефоне.",
    ),
    (
        "ru",
        "technical-support",
        "Ссылка сброса пароля не работает",
        "Ссылка для сброса пароля в письме ведёт на страницу «не найдено».",
    ),
    (
        "ru",
        "technical-support",
        "Ошибка на странице оплаты",
        "Кнопка на странице оформления заказа ничего не делает в браузере.",
    ),
    ("zh_Hans", "technical-support", "无法登录", "我用密码登录时网站显示错误。"),
    ("zh_Hans", "technical-support", "应用闪退", "每次在手机上打开订单页面，应用就闪退。"),
    ("zh_Hans", "technical-support", "重置密码链接无效", "邮件里的重置密码链接显示页面未找到。"),
    ("zh_Hans", "technical-support", "结账页面出错", "在浏览器里点结账按钮没有任何反应。"),
    (
        "ar",
        "technical-support",
        "لا أستطيع تسجيل الدخول",
        "يظهر الموقع خطأ عندما أحاول تسجيل الدخول بكلمة المرور.",
    ),
    ("ar", "technical-support", "التطبيق يتعطل", "يتوقف التطبيق كلما فتحت صفحة الطلبات على هاتفي."),
    (
        "ar",
        "technical-support",
        "رابط إعادة تعيين كلمة المرور لا يعمل",
        "رابط إعادة التعيين في البريد يقول إن الصفحة غير موجودة.",
    ),
    ("ar", "technical-support", "خطأ في صفحة الدفع", "زر الدفع لا يفعل شيئاً في المتصفح."),
    # Product
    (
        "en",
        "product",
        "Please add more colours",
        "I love the mugs, it would be great to have them in green and blue.",
    ),
    (
        "en",
        "product",
        "Great quality",
        "The blanket is soft and well made, thank you for a lovely product.",
    ),
    (
        "en",
        "product",
        "Idea for a gift set",
        "A gift set with two mugs and tea would sell well for holidays.",
    ),
    ("en", "product", "Bigger sizes wanted", "Please make the jumper in larger sizes too."),
    (
        "lv",
        "product",
        "Lūdzu vairāk krāsu",
        "Krūzes ir lieliskas, būtu jauki tās redzēt zaļā un zilā krāsā.",
    ),
    (
        "lv",
        "product",
        "Lieliska kvalitāte",
        "Sega ir mīksta un labi izgatavota, paldies par jauku produktu.",
    ),
    (
        "lv",
        "product",
        "Ideja dāvanu komplektam",
        "Dāvanu komplekts ar divām krūzēm un tēju labi pārdotos svētkos.",
    ),
    (
        "lv",
        "product",
        "Vajag lielākus izmērus",
        "Lūdzu, izgatavojiet džemperi arī lielākos izmēros.",
    ),
    (
        "pl",
        "product",
        "Proszę o więcej kolorów",
        "Uwielbiam te kubki, byłoby super mieć je w zielonym i niebieskim.",
    ),
    (
        "pl",
        "product",
        "Świetna jakość",
        "Koc jest miękki i dobrze wykonany, dziękuję za wspaniały produkt.",
    ),
    (
        "pl",
        "product",
        "Pomysł na zestaw prezentowy",
        "Zestaw prezentowy z dwoma kubkami i herbatą dobrze by się sprzedawał na święta.",
    ),
    ("pl", "product", "Większe rozmiary", "Proszę szyć sweter także w większych rozmiarach."),
    (
        "ru",
        "product",
        "Добавьте больше цветов",
        "Мне нравятся кружки, было бы здорово иметь их в зелёном и синем цвете.",
    ),
    ("ru", "product", "Отличное качество", "Плед мягкий и хорошо сшит, спасибо за чудесный товар."),
    (
        "ru",
        "product",
        "Идея подарочного набора",
        "Подарочный набор с двумя кружками и чаем хорошо продавался бы к праздникам.",
    ),
    ("ru", "product", "Нужны большие размеры", "Пожалуйста, шейте свитер и больших размеров."),
    ("zh_Hans", "product", "希望增加颜色", "我很喜欢这些杯子，希望能有绿色和蓝色的。"),
    ("zh_Hans", "product", "质量很好", "毯子柔软做工好，谢谢你们的好产品。"),
    ("zh_Hans", "product", "礼盒建议", "两个杯子加茶叶的礼盒在节日一定好卖。"),
    ("zh_Hans", "product", "需要更大尺码", "请把毛衣也做成更大的尺码。"),
    (
        "ar",
        "product",
        "أرجو إضافة ألوان أكثر",
        "أحب الأكواب، سيكون رائعاً لو توفرت باللون الأخضر والأزرق.",
    ),
    ("ar", "product", "جودة ممتازة", "البطانية ناعمة ومصنوعة جيداً، شكراً على المنتج الرائع."),
    ("ar", "product", "فكرة لمجموعة هدايا", "مجموعة هدايا بكوبين وشاي ستباع جيداً في الأعياد."),
    ("ar", "product", "نحتاج مقاسات أكبر", "أرجو صنع الكنزة بمقاسات أكبر أيضاً."),
    # Customer care
    (
        "en",
        "customer-care",
        "Change my account details",
        "How can I change the name and phone number on my account?",
    ),
    (
        "en",
        "customer-care",
        "Rude answer on the phone",
        "The person on your hotline was unfriendly and hung up on me.",
    ),
    (
        "en",
        "customer-care",
        "Opening hours of the shop",
        "When is your shop in town open on Sundays?",
    ),
    (
        "en",
        "customer-care",
        "Delete my newsletter subscription",
        "I keep getting newsletters although I asked to stop them.",
    ),
    (
        "lv",
        "customer-care",
        "Mainīt konta datus",
        "Kā es varu mainīt vārdu un tālruņa numuru savā kontā?",
    ),
    (
        "lv",
        "customer-care",
        "Nelaipna atbilde pa tālruni",
        "Jūsu informatīvā tālruņa darbinieks bija nelaipns un nolika klausuli.",
    ),
    (
        "lv",
        "customer-care",
        "Veikala darba laiks",
        "Kad jūsu veikals pilsētā ir atvērts svētdienās?",
    ),
    (
        "lv",
        "customer-care",
        "Atteikties no jaunumiem",
        "Joprojām saņemu jaunumu vēstules, lai gan lūdzu tās pārtraukt.",
    ),
    (
        "pl",
        "customer-care",
        "Zmiana danych konta",
        "Jak mogę zmienić imię i numer telefonu na moim koncie?",
    ),
    (
        "pl",
        "customer-care",
        "Niemiła rozmowa na infolinii",
        "Osoba na infolinii była nieuprzejma i rozłączyła się.",
    ),
    (
        "pl",
        "customer-care",
        "Godziny otwarcia sklepu",
        "W jakich godzinach sklep w mieście jest otwarty w niedziele?",
    ),
    (
        "pl",
        "customer-care",
        "Wypisanie z newslettera",
        "Nadal dostaję newslettery, chociaż prosiłem o rezygnację.",
    ),
    (
        "ru",
        "customer-care",
        "Изменить данные аккаунта",
        "Как изменить имя и номер телефона в моём аккаунте?",
    ),
    (
        "ru",
        "customer-care",
        "Грубый ответ по телефону",
        "Сотрудник на горячей линии был невежлив и бросил трубку.",
    ),
    (
        "ru",
        "customer-care",
        "Часы работы магазина",
        "Когда ваш магазин в городе открыт по воскресеньям?",
    ),
    (
        "ru",
        "customer-care",
        "Отписаться от рассылки",
        "Мне всё ещё приходят рассылки, хотя я просил их прекратить.",
    ),
    ("zh_Hans", "customer-care", "修改账户信息", "怎样修改我账户上的姓名和电话号码？"),
    ("zh_Hans", "customer-care", "电话客服态度差", "热线客服态度很不友好，还挂了我的电话。"),
    ("zh_Hans", "customer-care", "门店营业时间", "你们市里的门店周日几点开门？"),
    ("zh_Hans", "customer-care", "取消订阅邮件", "我已经要求停止，但还是一直收到新闻邮件。"),
    ("ar", "customer-care", "تغيير بيانات الحساب", "كيف يمكنني تغيير الاسم ورقم الهاتف في حسابي؟"),
    (
        "ar",
        "customer-care",
        "رد غير لائق على الهاتف",
        "كان موظف الخط الساخن غير ودود وأغلق الخط في وجهي.",
    ),
    ("ar", "customer-care", "ساعات عمل المتجر", "متى يفتح متجركم في المدينة يوم الأحد؟"),
    (
        "ar",
        "customer-care",
        "إلغاء الاشتراك في النشرة",
        "ما زلت أتلقى النشرات رغم أنني طلبت إيقافها.",
    ),
)

LANGUAGE_CUSTOMERS = {
    "en": "ben@example.com",
    "lv": "anna@example.com",
    "pl": "piotr@example.com",
    "ru": "olga@example.com",
    "zh_Hans": "li@example.com",
    "ar": "layla@example.com",
}

RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Damaged or lost parcels",
        "kinds": ["complaint", "question"],
        "keywords": "damaged, broken, parcel, courier, package, bojāt, paka, sūtījum, kurjer, "
        "paczk, kurier, uszkodzon, посылк, курьер, поврежд, 包裹, 快递, 损坏, طرد, مندوب, تالف",
        "department": "delivery",
        "priority": "normal",
    },
    {
        "name": "Money matters",
        "kinds": [],
        "keywords": "invoice, refund, charge, payment, rēķin, atmaks, faktur, zwrot, płatnoś, "
        "счёт, возврат, списа, 发票, 退款, 扣款, فاتورة, استرداد, خصم",
        "department": "billing",
        "priority": "normal",
    },
    {
        "name": "Sign-in and website problems",
        "kinds": ["complaint", "question"],
        "keywords": "log in, sign in, password, error, crash, parole, hasło, zalogow, пароль, "
        "ошибк, 登录, 密码, كلمة المرور",
        "department": "technical-support",
        "priority": "normal",
    },
    {
        "name": "Returned orders go to Billing",
        "kinds": ["complaint"],
        "order_statuses": ["returned"],
        "department": "billing",
        "priority": "high",
    },
)

ROOT_CAUSE_BY_DEPARTMENT = {
    "delivery": "Carrier damage",
    "billing": "Billing error",
    "technical-support": "Website problem",
    "product": "Other",
    "customer-care": "Unclear information",
}


def demo_corpus() -> list[tuple[str, str]]:
    """The corpus as (text, department), interleaved so every split mixes languages."""
    return [(f"{subject}\n{message}", department) for _l, department, subject, message in CORPUS]


def _shift(item: FeedbackItem, delta: timedelta) -> None:
    """Move an item's whole history back in time (the demo needs a past)."""
    for name in (
        "created_at",
        "first_response_due_at",
        "resolution_due_at",
        "next_due_at",
        "paused_since",
        "first_response_at",
        "first_response_breached_at",
        "resolution_breached_at",
        "resolved_at",
        "closed_at",
        "rated_at",
    ):
        value = getattr(item, name)
        if value is not None:
            setattr(item, name, value - delta)
    for event in item.events:
        event.created_at = event.created_at - delta
    for message in item.messages:
        message.created_at = message.created_at - delta


def _department(slug: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.slug == slug))
    assert department is not None
    return department


def load_demo(users: dict[str, User]) -> None:
    settings.ensure_sla_targets()
    settings.ensure_root_causes()
    for slug, address in (
        ("delivery", "manager@example.com"),
        ("billing", "manager@example.com"),
        ("product", "manager@example.com"),
        ("technical-support", "manager@example.com"),
    ):
        department = _department(slug)
        department.manager_email = department.manager_email or address
    if not db.session.scalar(select(RoutingRule.id).limit(1)):
        for rule in RULES:
            settings.create_rule(
                {
                    **rule,
                    "department_id": _department(rule["department"]).id,
                    "enabled": True,
                }
            )
    anna = users["anna@example.com"]
    # Anna is one of the golden customers (the value job keeps this up to date later).
    if db.session.get(CustomerValue, anna.id) is None:
        db.session.add(
            CustomerValue(
                user_id=anna.id,
                is_golden=True,
                stage="commitment",
                order_count=6,
                spend_12m_minor=48_200,
            )
        )
    if not db.session.scalar(select(Order.id).where(Order.user_id == anna.id).limit(1)):
        now = utcnow()
        db.session.add(
            Order(
                number="LV-20417",
                user_id=anna.id,
                status="delivered",
                total_minor=4900,
                subtotal_minor=4900,
                placed_at=now - timedelta(days=6),
                delivered_at=now - timedelta(days=1),
            )
        )
    db.session.flush()
    db.session.info[services.QUIET] = True
    try:
        _load_items(users)
    finally:
        db.session.info.pop(services.QUIET, None)


def _load_items(users: dict[str, User]) -> None:
    agent = users["agent@example.com"]
    billing = users["billing@example.com"]
    manager = users["manager@example.com"]
    causes = {cause.name: cause for cause in settings.root_causes()}
    kinds = {"product": ("suggestion", "compliment")}
    for index, (language, label, subject, message) in enumerate(CORPUS):
        customer = users[LANGUAGE_CUSTOMERS[language]]
        kind_choices = kinds.get(label, ("complaint", "question"))
        kind = kind_choices[index % len(kind_choices)]
        item = services.open_item(
            customer,
            kind,
            subject,
            message,
            language=language,
            source="demo",
            source_ref=str(index),
        )
        target = _department(label)
        if item.department_id != target.id:
            services.reroute(item, target, manager, "Belongs to " + target.name)
        handler = (
            billing
            if label == "billing"
            else agent
            if label in ("delivery", "customer-care")
            else manager
        )
        stage = index % 8
        if stage == 0:
            pass  # new: nobody has looked yet
        elif stage == 1:
            services.assign(item, handler, manager)
        else:
            services.assign(item, handler, manager)
            services.staff_reply(item, handler, "Thank you for telling us. We are looking into it.")
            services.staff_reply(item, handler, "Checked the order history.", internal=True)
            if stage == 3:
                services.staff_reply(item, handler, "Could you send us a photo, please?", wait=True)
            elif stage >= 4:
                services.customer_reply(item, customer, "Thank you, I am waiting for the solution.")
                services.resolve(
                    item,
                    handler,
                    root_cause=causes[ROOT_CAUSE_BY_DEPARTMENT[label]],
                    what_went_wrong="See the customer's message.",
                    how_resolved="Replaced, refunded or explained, as the customer wished.",
                    prevention="Shared with the team in the weekly review.",
                )
                if stage >= 6:
                    services.rate(item, customer, 5 - index % 3, "")
        # Spread items over the past weeks; open ones from the last days, some late.
        age = timedelta(days=(index % 20) + 2) if stage >= 4 else timedelta(hours=(index % 9) * 9)
        _shift(item, age)
    db.session.flush()
    services.auto_close()
    services.mark_breaches()

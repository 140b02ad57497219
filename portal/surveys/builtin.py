# ruff: noqa: RUF001 - texts in other languages and typographic dashes are intended
"""The built-in surveys that automation sends, with their texts in every supported language.

These are data, not interface strings: staff edit them afterwards like any other survey.
"""

from __future__ import annotations

from typing import Any

DELIVERY_SURVEY: dict[str, Any] = {
    "title": {
        "en": "How was your delivery?",
        "lv": "Kā jums patika piegāde?",
        "pl": "Jak oceniasz dostawę?",
        "ru": "Как прошла доставка?",
        "zh_Hans": "您对配送满意吗？",
        "ar": "كيف كانت عملية التوصيل؟",
    },
    "intro": {
        "en": "Your order has arrived. Two minutes of your time help us do better.",
        "lv": "Jūsu pasūtījums ir piegādāts. Divas minūtes jūsu laika palīdz mums kļūt labākiem.",
        "pl": "Twoje zamówienie dotarło. Dwie minuty Twojego czasu pomogą nam działać lepiej.",
        "ru": "Ваш заказ доставлен. Две минуты вашего времени помогут нам стать лучше.",
        "zh_Hans": "您的订单已送达。花两分钟时间帮助我们做得更好。",
        "ar": "لقد وصل طلبك. دقيقتان من وقتك تساعداننا على التحسن.",
    },
    "thank_you": {
        "en": "Thank you! We read every answer.",
        "lv": "Paldies! Mēs izlasām katru atbildi.",
        "pl": "Dziękujemy! Czytamy każdą odpowiedź.",
        "ru": "Спасибо! Мы читаем каждый ответ.",
        "zh_Hans": "谢谢！我们会阅读每一条回答。",
        "ar": "شكرًا لك! نحن نقرأ كل إجابة.",
    },
    "questions": [
        {
            "type": "csat",
            "required": True,
            "text": {
                "en": "How satisfied are you with the delivery?",
                "lv": "Cik apmierināts esat ar piegādi?",
                "pl": "Jak bardzo jesteś zadowolony z dostawy?",
                "ru": "Насколько вы довольны доставкой?",
                "zh_Hans": "您对这次配送的满意度如何？",
                "ar": "ما مدى رضاك عن التوصيل؟",
            },
        },
        {
            "type": "nps",
            "required": False,
            "text": {
                "en": "How likely are you to recommend us to a friend?",
                "lv": "Cik ticami, ka jūs mūs ieteiktu draugam?",
                "pl": "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu?",
                "ru": "Насколько вероятно, что вы порекомендуете нас другу?",
                "zh_Hans": "您向朋友推荐我们的可能性有多大？",
                "ar": "ما مدى احتمال أن توصي بنا لصديق؟",
            },
        },
        {
            "type": "text",
            "required": False,
            "text": {
                "en": "Anything we could have done better?",
                "lv": "Ko mēs varējām izdarīt labāk?",
                "pl": "Co mogliśmy zrobić lepiej?",
                "ru": "Что мы могли бы сделать лучше?",
                "zh_Hans": "我们还有哪些可以做得更好？",
                "ar": "هل هناك ما كان بإمكاننا فعله بشكل أفضل؟",
            },
        },
    ],
}

HANDLING_SURVEY: dict[str, Any] = {
    "title": {
        "en": "How did we handle your request?",
        "lv": "Kā mēs izskatījām jūsu pieprasījumu?",
        "pl": "Jak poradziliśmy sobie z Twoim zgłoszeniem?",
        "ru": "Как мы справились с вашим обращением?",
        "zh_Hans": "我们对您的问题处理得如何？",
        "ar": "كيف تعاملنا مع طلبك؟",
    },
    "intro": {
        "en": "Your request has been resolved. Tell us how it went.",
        "lv": "Jūsu pieprasījums ir atrisināts. Pastāstiet, kā tas noritēja.",
        "pl": "Twoje zgłoszenie zostało rozwiązane. Powiedz nam, jak poszło.",
        "ru": "Ваше обращение решено. Расскажите, как всё прошло.",
        "zh_Hans": "您的问题已解决。请告诉我们您的感受。",
        "ar": "تم حل طلبك. أخبرنا كيف سارت الأمور.",
    },
    "thank_you": {
        "en": "Thank you for helping us improve our service.",
        "lv": "Paldies, ka palīdzat mums uzlabot apkalpošanu.",
        "pl": "Dziękujemy za pomoc w ulepszaniu naszej obsługi.",
        "ru": "Спасибо, что помогаете нам улучшать обслуживание.",
        "zh_Hans": "感谢您帮助我们改进服务。",
        "ar": "شكرًا لمساعدتنا في تحسين خدمتنا.",
    },
    "questions": [
        {
            "type": "csat",
            "required": True,
            "text": {
                "en": "How satisfied are you with how we handled it?",
                "lv": "Cik apmierināts esat ar to, kā mēs to atrisinājām?",
                "pl": "Jak bardzo jesteś zadowolony ze sposobu obsługi?",
                "ru": "Насколько вы довольны тем, как мы это решили?",
                "zh_Hans": "您对我们的处理方式满意吗？",
                "ar": "ما مدى رضاك عن طريقة تعاملنا؟",
            },
        },
        {
            "type": "ces",
            "required": True,
            "text": {
                "en": "How easy was it to get your problem solved? (1 very hard, 7 very easy)",
                "lv": "Cik viegli bija atrisināt jūsu problēmu? (1 ļoti grūti, 7 ļoti viegli)",
                "pl": "Jak łatwo było rozwiązać Twój problem? (1 bardzo trudno, 7 bardzo łatwo)",
                "ru": "Насколько легко было решить вашу проблему? (1 очень трудно, 7 очень легко)",
                "zh_Hans": "解决您的问题有多容易？（1 非常困难，7 非常容易）",
                "ar": "ما مدى سهولة حل مشكلتك؟ (1 صعب جدًا، 7 سهل جدًا)",
            },
        },
        {
            "type": "text",
            "required": False,
            "text": {
                "en": "What should we do differently next time?",
                "lv": "Ko mums nākamreiz vajadzētu darīt citādi?",
                "pl": "Co powinniśmy następnym razem zrobić inaczej?",
                "ru": "Что нам стоит сделать иначе в следующий раз?",
                "zh_Hans": "下次我们应该在哪些方面做得不同？",
                "ar": "ما الذي يجب أن نفعله بشكل مختلف في المرة القادمة؟",
            },
        },
    ],
}

#: The exit survey's first question: its answers are the deal breakers on the dashboard.
EXIT_REASONS: dict[str, list[str]] = {
    "en": [
        "Prices are too high",
        "Delivery took too long",
        "Product quality",
        "Customer service",
        "I found another shop",
        "I no longer need these products",
        "Something else",
    ],
    "lv": [
        "Cenas ir pārāk augstas",
        "Piegāde aizņēma pārāk ilgu laiku",
        "Produktu kvalitāte",
        "Klientu apkalpošana",
        "Atradu citu veikalu",
        "Man vairs nav vajadzīgi šie produkti",
        "Kas cits",
    ],
    "pl": [
        "Ceny są zbyt wysokie",
        "Dostawa trwała zbyt długo",
        "Jakość produktów",
        "Obsługa klienta",
        "Znalazłem inny sklep",
        "Nie potrzebuję już tych produktów",
        "Coś innego",
    ],
    "ru": [
        "Слишком высокие цены",
        "Доставка занимала слишком много времени",
        "Качество товаров",
        "Обслуживание клиентов",
        "Я нашёл другой магазин",
        "Мне больше не нужны эти товары",
        "Другое",
    ],
    "zh_Hans": [
        "价格太高",
        "配送时间太长",
        "产品质量",
        "客户服务",
        "我找到了另一家商店",
        "我不再需要这些产品",
        "其他原因",
    ],
    "ar": [
        "الأسعار مرتفعة جدًا",
        "استغرق التوصيل وقتًا طويلاً",
        "جودة المنتجات",
        "خدمة العملاء",
        "وجدت متجرًا آخر",
        "لم أعد بحاجة إلى هذه المنتجات",
        "سبب آخر",
    ],
}

EXIT_SURVEY: dict[str, Any] = {
    "title": {
        "en": "We miss you: why did you stop?",
        "lv": "Mums jūs pietrūkst: kāpēc jūs pārstājāt iepirkties?",
        "pl": "Tęsknimy: dlaczego przestałeś u nas kupować?",
        "ru": "Нам вас не хватает: почему вы перестали у нас покупать?",
        "zh_Hans": "我们想念您：您为什么不再购买了？",
        "ar": "نفتقدك: لماذا توقفت عن الشراء؟",
    },
    "intro": {
        "en": "You have not ordered for a while. Tell us why, so we can put it right.",
        "lv": "Jūs kādu laiku neesat pasūtījis. Pastāstiet, kāpēc, lai mēs to varētu labot.",
        "pl": "Od dawna nic nie zamawiałeś. Powiedz nam dlaczego, abyśmy mogli to naprawić.",
        "ru": "Вы давно ничего не заказывали. Расскажите почему, чтобы мы могли это исправить.",
        "zh_Hans": "您已经有一段时间没有下单了。请告诉我们原因，以便我们改进。",
        "ar": "لم تطلب منذ فترة. أخبرنا بالسبب حتى نتمكن من إصلاحه.",
    },
    "thank_you": {
        "en": "Thank you for your honesty. We hope to see you again.",
        "lv": "Paldies par atklātību. Ceram jūs atkal redzēt.",
        "pl": "Dziękujemy za szczerość. Mamy nadzieję, że jeszcze się zobaczymy.",
        "ru": "Спасибо за откровенность. Надеемся увидеть вас снова.",
        "zh_Hans": "感谢您的坦诚。期待再次见到您。",
        "ar": "شكرًا على صراحتك. نأمل أن نراك مجددًا.",
    },
    "questions": [
        {
            "type": "multiple",
            "required": True,
            "text": {
                "en": "Why did you stop buying from us?",
                "lv": "Kāpēc jūs pārstājāt pie mums iepirkties?",
                "pl": "Dlaczego przestałeś u nas kupować?",
                "ru": "Почему вы перестали у нас покупать?",
                "zh_Hans": "您为什么不再从我们这里购买？",
                "ar": "لماذا توقفت عن الشراء منا؟",
            },
            "choices": EXIT_REASONS,
        },
        {
            "type": "text",
            "required": False,
            "text": {
                "en": "What would bring you back?",
                "lv": "Kas jūs atvestu atpakaļ?",
                "pl": "Co skłoniłoby Cię do powrotu?",
                "ru": "Что заставило бы вас вернуться?",
                "zh_Hans": "什么能让您再次光顾？",
                "ar": "ما الذي قد يعيدك إلينا؟",
            },
        },
    ],
}

BUILTIN_SURVEYS: dict[str, dict[str, Any]] = {
    "delivery": DELIVERY_SURVEY,
    "complaint_resolved": HANDLING_SURVEY,
    "lapsed": EXIT_SURVEY,
}

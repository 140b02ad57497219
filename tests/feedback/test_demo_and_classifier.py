"""Demo data and the department suggestion's accuracy on held-out demo items."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.feedback import services
from portal.feedback.classifier import NaiveBayes, accuracy, leave_one_out, split_held_out
from portal.feedback.demo import demo_corpus
from portal.feedback.models import FeedbackEvent, FeedbackItem, RoutingRule
from portal.feedback.queries import training_samples


def test_classifier_accuracy_on_held_out_demo_items(capsys):
    samples = demo_corpus()
    train, test = split_held_out(samples)
    score = accuracy(NaiveBayes().fit(train), test)
    loo = leave_one_out(samples)
    with capsys.disabled():
        print(
            f"\nclassifier: {score:.1%} on {len(test)} held-out demo items "
            f"(trained on {len(train)}); leave-one-out {loo:.1%}; chance 20%"
        )
    # Five departments: chance is 20%.
    assert score >= 0.5
    assert loo >= 0.45


def test_classifier_works_in_every_script():
    model = NaiveBayes().fit(
        [
            ("包裹损坏了 快递员", "delivery"),
            ("快递没有送到 包裹", "delivery"),
            ("发票错误 退款", "billing"),
            ("重复扣款 请退款", "billing"),
            ("الطرد تالف", "delivery"),
            ("الفاتورة خاطئة", "billing"),
        ]
    )
    assert model.predict("我的包裹在哪里")[0] == "delivery"
    assert model.predict("我要退款")[0] == "billing"
    assert model.predict("أين الطرد")[0] == "delivery"
    label, confidence = model.predict("发票")
    assert label == "billing" and 0.5 < confidence < 1.0


def test_untrained_model_suggests_nothing():
    assert NaiveBayes().fit([("only one", "billing")]).predict("anything") is None


def test_demo_data_then_anna_reports_a_damaged_parcel_to_delivery(app):
    with app.app_context():
        from portal.core.demo import load_demo_data

        assert load_demo_data()
        assert db.session.scalar(select(func.count(RoutingRule.id))) >= 3
        statuses = set(db.session.scalars(select(FeedbackItem.status)))
        assert statuses >= {
            "new",
            "assigned",
            "in_progress",
            "waiting_on_customer",
            "resolved",
            "closed",
        }
        languages = set(db.session.scalars(select(FeedbackItem.language)))
        assert languages == {"en", "lv", "pl", "ru", "zh_Hans", "ar"}
        assert db.session.scalar(
            select(func.count(FeedbackEvent.id)).where(FeedbackEvent.action == "rerouted")
        )
        assert db.session.scalar(
            select(func.count(FeedbackItem.id)).where(
                FeedbackItem.first_response_breached_at.is_not(None)
            )
        )
        assert len(training_samples()) >= 90
        anna = db.session.scalar(select(User).where(User.email == "anna@example.com"))
        item = services.open_item(
            anna, "complaint", "Damaged parcel", "The parcel arrived with a broken mug."
        )
        assert (item.department.slug, item.priority) == ("delivery", "high")
        db.session.rollback()

"""What the API accepts and returns (documented in the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from portal.orders.models import ORDER_STATUSES
from portal.orders.services import MAX_AMOUNT_MINOR

_MINOR = validate.Range(min=0, max=MAX_AMOUNT_MINOR)


#: PostgreSQL cannot store a NUL character, and nothing a shop sends on purpose contains one.
_TEXT = validate.Regexp(r"^[^\x00]*$", error="Text cannot contain NUL characters.")


def _text(maximum: int, minimum: int = 0) -> list[validate.Validator]:
    return [validate.Length(min=minimum, max=maximum), _TEXT]


class ItemSchema(Schema):
    sku = fields.String(required=True, validate=_text(60, 1))
    name = fields.String(required=True, validate=_text(200, 1))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    unit_price_minor = fields.Integer(
        required=True, validate=_MINOR, metadata={"description": "Price in minor units."}
    )


class CustomerRefSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=255))
    name = fields.String(load_default="", validate=_text(120))
    locale = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(["en", "lv", "pl", "ru", "zh_Hans", "ar"]),
    )


class OrderInSchema(Schema):
    customer = fields.Nested(CustomerRefSchema, required=True)
    status = fields.String(load_default="placed", validate=validate.OneOf(ORDER_STATUSES))
    currency = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter ISO 4217 code."),
    )
    placed_at = fields.AwareDateTime(default_timezone=UTC, load_default=None)
    status_at = fields.AwareDateTime(
        default_timezone=UTC,
        load_default=None,
        metadata={"description": "When the order reached its status (default: now)."},
    )
    subtotal_minor = fields.Integer(load_default=None, validate=_MINOR)
    shipping_minor = fields.Integer(load_default=0, validate=_MINOR)
    tax_minor = fields.Integer(load_default=0, validate=_MINOR)
    total_minor = fields.Integer(load_default=None, validate=_MINOR)
    carrier = fields.String(load_default=None, allow_none=True, validate=_text(60))
    tracking_number = fields.String(load_default=None, allow_none=True, validate=_text(80))
    note = fields.String(load_default=None, allow_none=True, validate=_text(2000))
    items = fields.List(fields.Nested(ItemSchema), load_default=list)


class EventInSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    occurred_at = fields.AwareDateTime(default_timezone=UTC, load_default=None)
    note = fields.String(load_default=None, allow_none=True, validate=_text(2000))


class EventSchema(Schema):
    status = fields.String()
    occurred_at = fields.AwareDateTime()
    note = fields.String(allow_none=True)


class CustomerBriefSchema(Schema):
    id = fields.Integer()
    email = fields.Email()


class OrderSchema(Schema):
    number = fields.String()
    status = fields.String()
    currency = fields.String()
    subtotal_minor = fields.Integer()
    shipping_minor = fields.Integer()
    tax_minor = fields.Integer()
    total_minor = fields.Integer()
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    placed_at = fields.AwareDateTime()
    paid_at = fields.AwareDateTime(allow_none=True)
    shipped_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    customer = fields.Method("_customer", metadata={"type": "object"})
    items = fields.List(fields.Nested(ItemSchema))
    events = fields.List(fields.Nested(EventSchema))

    def _customer(self, order: object) -> dict:
        user = order.user  # type: ignore[attr-defined]
        return {"id": user.id, "email": user.email}


class CustomerQuerySchema(Schema):
    email = fields.Email(required=True)


class ValueSchema(Schema):
    currency = fields.String()
    spend_12m_minor = fields.Integer()
    order_count = fields.Integer()
    average_order_minor = fields.Integer()
    first_order_at = fields.AwareDateTime(allow_none=True)
    last_order_at = fields.AwareDateTime(allow_none=True)
    is_golden = fields.Boolean()
    is_lapsed = fields.Boolean()
    stage = fields.String()


class CustomerSchema(Schema):
    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    confirmed = fields.Boolean()
    joined_at = fields.AwareDateTime()
    segments = fields.List(fields.String())
    value = fields.Nested(ValueSchema, allow_none=True)


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field at fault (dotted path)."},
    )

"""/api/v1: the shop reports orders; the portal answers about orders and customers."""

from __future__ import annotations

import functools
import http
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from flask import Blueprint as FlaskBlueprint
from flask import g, render_template, request, url_for
from flask_smorest import Api, Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from portal.accounts.models import User
from portal.api import keys
from portal.api.errors import PROBLEM_JSON, handle_http_exception, handle_unexpected
from portal.api.schemas import (
    CustomerQuerySchema,
    CustomerSchema,
    EventInSchema,
    OrderInSchema,
    OrderSchema,
    ProblemSchema,
)
from portal.extensions import csrf, db
from portal.orders import services
from portal.orders.models import Order
from portal.orders.recompute import customer_segments

F = TypeVar("F", bound=Callable[..., Any])


class PortalApi(Api):
    """flask-smorest without its app-wide error handler: the portal's own pages keep theirs,
    and the API blueprint answers with problem+json (see :mod:`portal.api.errors`)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        """The default error responses documented as what the API sends: problem+json."""
        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "A problem (RFC 9457).", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


blp = Blueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Orders and customers, for the shop. Authenticate with `Authorization: Bearer <key>`.",
)
blp.register_error_handler(HTTPException, handle_http_exception)
blp.register_error_handler(Exception, handle_unexpected)
csrf.exempt(blp)


class OrderNumberConverter(BaseConverter):
    """An order number as the shop sends it: 1 to 40 characters, no slash, no NUL, no space
    at either end (what :func:`services.validate_order_data` accepts). Others are 404s."""

    _CHAR = r"[^/\x00\s]"
    _INNER = r"[^/\x00]"
    regex = f"{_CHAR}(?:{_INNER}{{0,{services.NUMBER_LENGTH - 2}}}{_CHAR})?"


def _order_number_schema(_converter: BaseConverter) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": services.NUMBER_LENGTH,
        "pattern": f"^{OrderNumberConverter.regex}$",
    }


#: The docs page (Swagger UI served from /static, no other host).
docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.route("/api/v1/docs")
def docs() -> str:
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


def require_scope(scope: str) -> Callable[[F], F]:
    """The request must carry an active API key holding ``scope`` (401 / 403 otherwise)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = keys.authenticate(request.headers.get("Authorization"))
            if key is None:
                abort(
                    401,
                    message="A valid API key is required: Authorization: Bearer <key>.",
                    headers={"WWW-Authenticate": 'Bearer realm="api"'},
                )
            assert key is not None
            if scope not in key.scope_set:
                abort(403, message=f"This API key lacks the scope {scope}.")
            g.api_key = key
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


_ERRORS = {
    401: "No API key, or a revoked or unknown one.",
    403: "The API key lacks the scope this operation needs.",
}


def _document_errors(*codes: int) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        for code in codes:
            view = blp.alt_response(
                code,
                schema=ProblemSchema,
                content_type="application/problem+json",
                description=_ERRORS.get(code, "A problem; `errors` names the fields at fault."),
            )(view)
        return view

    return decorator


def _order_or_404(number: str) -> Order:
    order = db.session.scalar(
        select(Order)
        .where(Order.number == number)
        .options(selectinload(Order.items), selectinload(Order.events), selectinload(Order.user))
    )
    if order is None:
        abort(404, message=f"There is no order {number}.")
    return order  # type: ignore[return-value]


def _refuse(error: services.OrderError) -> NoReturn:
    code = 409 if isinstance(error, services.StatusChangeRefused) else 422
    abort(code, message=str(error), errors={error.field or "_body": [str(error)]})
    raise AssertionError("abort() returned")


@blp.route("/orders/<order_number:number>", methods=["GET"])
@blp.response(200, OrderSchema)
@_document_errors(401, 403, 404)
@require_scope("orders:read")
def get_order(number: str) -> Order:
    """Read an order with its items and status events."""
    return _order_or_404(number)


@blp.route("/orders/<order_number:number>", methods=["PUT"])
@blp.arguments(OrderInSchema)
@blp.response(200, OrderSchema, description="The order existed and is now up to date.")
@blp.alt_response(201, schema=OrderSchema, description="The order was created.")
@_document_errors(401, 403, 409, 422)
@require_scope("orders:write")
def put_order(payload: dict[str, Any], number: str) -> tuple[Order, int]:
    """Create or update an order by the shop's order number.

    Idempotent: sending the same body again changes nothing and records no new event.
    An unknown customer e-mail creates an unconfirmed account and invites the customer to
    claim it. A status change must be possible (409 otherwise).
    """
    customer = payload.pop("customer")
    items = [services.ItemData(**item) for item in payload.pop("items")]
    data = services.OrderData(
        number=number,
        email=customer["email"],
        customer_name=customer.get("name") or "",
        customer_locale=customer.get("locale"),
        items=items,
        **payload,
    )
    try:
        result = services.upsert_order(data)
    except services.OrderError as error:
        _refuse(error)
    return _order_or_404(result.order.number), 201 if result.created else 200


@blp.route("/orders/<order_number:number>/events", methods=["POST"])
@blp.arguments(EventInSchema)
@blp.response(200, OrderSchema)
@_document_errors(401, 403, 404, 409, 422)
@require_scope("orders:write")
def post_event(payload: dict[str, Any], number: str) -> Order:
    """Report a status change. The same event (status and time) sent twice counts once."""
    order = _order_or_404(number)
    try:
        services.add_status_event(
            order, payload["status"], at=payload.get("occurred_at"), note=payload.get("note")
        )
    except services.OrderError as error:
        _refuse(error)
    return order


@blp.route("/customers", methods=["GET"])
@blp.arguments(CustomerQuerySchema, location="query")
@blp.response(200, CustomerSchema)
@_document_errors(401, 403, 404, 422)
@require_scope("customers:read")
def find_customer(query: dict[str, Any]) -> dict[str, Any]:
    """Find a customer by e-mail address, with their value figures."""
    user = db.session.scalar(
        select(User).where(User.email == query["email"].strip().lower(), User.deleted_at.is_(None))
    )
    if user is None:
        abort(404, message="There is no customer with this e-mail address.")
    assert user is not None
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "confirmed": user.confirmed_at is not None,
        "joined_at": user.joined_at,
        "segments": sorted(customer_segments(user.id)),
        "value": user.value,
    }


def init_api(app: Any) -> None:
    app.config.setdefault("API_TITLE", "Portal shop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "security": [{"bearerAuth": []}],
            "info": {
                "description": "Orders come from the shop; customers are matched by e-mail. "
                "Errors are application/problem+json with `errors` per field."
            },
        },
    )
    app.url_map.converters["order_number"] = OrderNumberConverter
    api = PortalApi(app)
    api.register_converter(OrderNumberConverter, _order_number_schema)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "An API key."}
    )
    api.register_blueprint(blp)
    app.register_blueprint(docs_bp)

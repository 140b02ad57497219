"""Errors as application/problem+json (RFC 9457), with the fields at fault."""

from __future__ import annotations

from typing import Any

from flask import Response, json
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs' nested messages ({"json": {"customer": {"email": [...]}}}) as dotted paths."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "form", "headers", "view_args"):
                flat.update(flatten_messages(value, ""))
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_body"] = [str(m) for m in messages]
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat


def problem(
    status: int,
    *,
    title: str,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    from portal.extensions import db

    db.session.rollback()
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten_messages(data["messages"]) if "messages" in data else data.get("errors")
    detail = data.get("message") or error.description
    if code == 422 and errors:
        detail = "The request has invalid fields: " + ", ".join(sorted(errors)) + "."
    headers = dict(data.get("headers") or {})
    return problem(code, title=error.name, detail=detail, errors=errors, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    """A bug answers the shop with a problem document too, never an HTML page."""
    from flask import current_app, request

    from portal.extensions import db

    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    if current_app.config.get("PROPAGATE_EXCEPTIONS") and current_app.testing:
        raise error
    return problem(500, title="Internal Server Error", detail="Something went wrong on our side.")

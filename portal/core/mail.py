"""Mail transport: turns an outbox row into a MIME message and hands it to SMTP or a file."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email import policy as email_policy
from pathlib import Path

from flask import current_app
from flask_mail import Message

from portal.extensions import mail

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://\S+")


class PortalMessage(Message):
    """Long header values (``List-Unsubscribe`` URLs) stay plain text instead of being
    folded into RFC 2047 encoded words, which mail providers would not recognise."""

    _policy = email_policy.SMTP.clone(max_line_length=998)

    def as_bytes(self) -> bytes:
        msg = self._message()
        msg.policy = self._policy
        return msg.as_bytes()

    def as_string(self) -> str:
        msg = self._message()
        msg.policy = self._policy
        return msg.as_string()


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    headers: dict[str, str] | None = None,
    sender: str | None = None,
) -> Message:
    msg = PortalMessage(
        subject=subject,
        recipients=[to],
        body=text,
        html=html,
        sender=sender or current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=dict(headers or {}),
    )
    msg.msgId = message_id
    return msg


def transmit(msg: Message) -> None:
    """Send one message through the configured backend; raises on failure."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "file":
        directory = Path(current_app.config["MAIL_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", str(msg.recipients[0]))
        path = directory / f"{stamp}-{safe_to}.eml"
        path.write_bytes(msg.as_bytes())
        links = _LINK.findall(msg.body or "")
        log.info(
            "Mail to %s written to %s%s",
            msg.recipients[0],
            path,
            f" (link: {links[0]})" if links else "",
        )
        return
    if backend == "null":
        return
    mail.send(msg)

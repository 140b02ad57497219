"""Mail transport: turns an outbox row into a MIME message and hands it to SMTP or a file."""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy as email_policy
from pathlib import Path

from flask import current_app
from flask_mail import (
    BadHeaderError,
    Message,
    email_dispatched,
    sanitize_address,
    sanitize_addresses,
)

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


class CommitPointFailed(Exception):
    """The caller's commit point raised: the connection was dropped before the final ".",
    so the server did not accept the message (``__cause__`` is the caller's error)."""


def transmit(msg: Message, commit_point: Callable[[], None] | None = None) -> None:
    """Send one message through the configured backend; raises on failure.

    ``commit_point`` runs when the SMTP server holds the whole message except the final
    ``.`` that makes it accept it (for the file and null backends: just before writing).
    The outbox takes its database lock there and writes "sent" without committing, so that
    the commit right after the server's 250 never waits. If ``commit_point`` raises, the
    connection is dropped instead of finishing DATA, the server discards what it got, and
    :class:`CommitPointFailed` is raised: nothing was sent.
    """
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp" and not current_app.extensions["mail"].suppress:
        _smtp_send(msg, commit_point)
        return
    if commit_point is not None:
        try:
            commit_point()
        except Exception as exc:
            raise CommitPointFailed(str(exc)) from exc
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


def _smtp_send(msg: Message, commit_point: Callable[[], None] | None) -> None:
    """Flask-Mail's SMTP conversation, with DATA split around ``commit_point``."""
    config = current_app.config
    state = current_app.extensions["mail"]
    assert msg.send_to, "No recipients have been added"
    assert msg.sender, "The message has no sender"
    if msg.has_bad_headers():
        raise BadHeaderError
    if msg.date is None:
        msg.date = time.time()
    timeout = float(config.get("MAIL_TIMEOUT", 10))
    host: smtplib.SMTP
    if state.use_ssl:
        host = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
    else:
        host = smtplib.SMTP(state.server, state.port, timeout=timeout)
    finished = False
    try:
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        host.ehlo_or_helo_if_needed()
        sender = sanitize_address(msg.sender)
        recipients = list(sanitize_addresses(msg.send_to))
        payload = msg.as_bytes()
        options = list(msg.mail_options)
        if host.does_esmtp and host.has_extn("size"):
            options.append(f"size={len(payload)}")
        code, reply = host.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = host.rcpt(recipient, list(msg.rcpt_options))
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = host.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = re.sub(rb"(?m)^\.", b"..", payload)  # dot-stuffing, as smtplib does
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        host.send(body)
        if commit_point is not None:
            try:
                commit_point()
            except Exception as exc:
                # Without the final "." the server never accepts the message.
                raise CommitPointFailed(str(exc)) from exc
        host.send(b".\r\n")
        code, reply = host.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        finished = True
    finally:
        if finished:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                host.quit()
        else:
            host.close()
    email_dispatched.send(current_app._get_current_object(), message=msg)  # type: ignore[attr-defined]

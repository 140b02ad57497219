"""API key rules: a 256-bit random key shown once, stored as its SHA-256, scoped, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.api.models import API_SCOPES, ApiKey
from portal.core.db import utcnow
from portal.extensions import db

KEY_PREFIX = "pk_"
#: Recording every single use would make every read a write; once a minute is enough.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class DuplicateKeyName(ValueError):
    pass


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    name: str, scopes: Iterable[str], *, created_by_id: int | None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself, which is never stored."""
    chosen = sorted(set(scopes) & set(API_SCOPES))
    if not chosen:
        raise ValueError("at least one scope is needed")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    key = ApiKey(
        name=name.strip(),
        prefix=secret[:11],
        key_hash=hash_key(secret),
        scopes=" ".join(chosen),
        created_by_id=created_by_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(key)
            db.session.flush()
    except IntegrityError:
        raise DuplicateKeyName(name)
    return key, secret


def authenticate(header: str | None) -> ApiKey | None:
    """The active key named by an ``Authorization: Bearer <key>`` header, or None."""
    if not header:
        return None
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(KEY_PREFIX):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_RESOLUTION:
        key.last_used_at = now
        db.session.flush()
    return key


def revoke_key(key: ApiKey) -> bool:
    """Revoke ``key``; False when it already was (revoking twice changes nothing)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    db.session.flush()
    return True


def list_keys() -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())
        )
    )


def get_key(key_id: int) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)

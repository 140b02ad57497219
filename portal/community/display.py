"""The community's display revision: bumped with every committed change pages show from afar.

Visitors' pages are checked (304, kept page) against their topic's or category's revision,
which the community's own writes bump. Pages also show rows other features change: a
member's name (``User.display_name`` is made of the name, the preferred name and the address;
a deleted account shows as a deleted member), a category's name, address and description
beside its topics, and post bodies rendered by rules a command may apply again. A change to
one of those ``WATCHED`` columns, by any write path of the ORM (a flushed object or a bulk
UPDATE or DELETE), bumps the one-row counter ``DisplayRevision`` in the same transaction, and
every visitor's ETag includes it.

The counter is bumped once per transaction, as its last statement before COMMIT: on
PostgreSQL its row lock is then held for the shortest time, and always after the transaction's
other locks, so writers queue on it instead of deadlocking. Raw SQL bypasses the ORM events:
a hand-written UPDATE of these columns must bump the counter itself (``bump``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, inspect, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from portal.accounts.models import User
from portal.community.models import Category, DisplayRevision, Post

#: The columns whose change community pages show without their topic's or category's own
#: revision changing.
WATCHED: dict[type, tuple[str, ...]] = {
    User: ("name", "preferred_name", "email", "deleted_at"),
    Category: ("name", "slug", "description", "staff_only", "position"),
    Post: ("renderer_version",),
}

_PENDING = "community_display_changed"

_BUMP = (
    update(DisplayRevision)
    .where(DisplayRevision.id == 1)
    .values(revision=DisplayRevision.revision + 1)
)


def bump(connection: Connection) -> None:
    """Count a change community pages show, in the transaction of ``connection``."""
    connection.execute(_BUMP)


def _shows_change(instance: Any) -> bool:
    columns = WATCHED.get(type(instance))
    if columns is None:
        return False
    attributes = inspect(instance).attrs
    return any(attributes[name].history.has_changes() for name in columns)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_PENDING):
        return
    if any(type(instance) in WATCHED for instance in session.deleted) or any(
        _shows_change(instance) for instance in session.dirty
    ):
        session.info[_PENDING] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in WATCHED:
        state.session.info[_PENDING] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    # The commit flushes what is left after this hook: flush it first, to see it.
    session.flush()
    if session.info.pop(_PENDING, False):
        bump(session.connection())


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's end keeps the mark: the transaction around it may still commit.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)

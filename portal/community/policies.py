"""Who may do what in the community; used by views and templates alike."""

from __future__ import annotations

from typing import Any

from portal.community.models import Category, Post, Topic

MODERATOR_ROLES = frozenset({"moderator", "manager", "admin"})


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_staff(user: Any) -> bool:
    return _signed_in(user) and bool(user.is_staff)


def is_moderator(user: Any) -> bool:
    return _signed_in(user) and bool(user.role_names & MODERATOR_ROLES)


def can_view_category(user: Any, category: Category) -> bool:
    return not category.staff_only or is_staff(user)


def can_view_topic(user: Any, topic: Topic) -> bool:
    if not can_view_category(user, topic.category):
        return False
    if topic.state == "visible" or is_moderator(user):
        return True
    return topic.state == "pending" and _signed_in(user) and topic.author_id == user.id


def can_view_post(user: Any, post: Post) -> bool:
    """Whether the post's text may be shown (hidden and deleted posts: moderators only)."""
    if post.state == "visible" or is_moderator(user):
        return True
    return post.state == "pending" and _signed_in(user) and post.author_id == user.id


def can_edit(user: Any, post: Post) -> bool:
    if not _signed_in(user) or post.state == "deleted":
        return False
    return post.author_id == user.id or is_moderator(user)


def can_delete(user: Any, post: Post) -> bool:
    return _signed_in(user) and post.author_id == user.id and post.state != "deleted"


def can_see_revisions(user: Any, post: Post) -> bool:
    return _signed_in(user) and (post.author_id == user.id or is_staff(user))


def can_accept(user: Any, topic: Topic) -> bool:
    return _signed_in(user) and (topic.author_id == user.id or is_staff(user))


def can_vote(user: Any, post: Post) -> bool:
    return _signed_in(user) and post.author_id != user.id and post.state == "visible"


def can_flag(user: Any, post: Post) -> bool:
    return _signed_in(user) and post.author_id != user.id and post.state == "visible"


def can_reply(user: Any, topic: Topic) -> bool:
    return _signed_in(user) and topic.state == "visible" and (not topic.is_locked or is_staff(user))

"""GDPR export and erasure cover every table that holds personal data.

A table is personal when it points at a user. Each must be covered by a registered exporter
and eraser (by the name of the feature that owns it), or be listed here with the reason it
is exempt. A new table that points at users fails this test until someone decides.
"""

from __future__ import annotations

from portal.accounts.services import DATA_ERASERS, DATA_EXPORTERS
from portal.extensions import db

#: table -> (exporter key, eraser key) that cover it
COVERED = {
    "notification": ("notifications", "mail_and_notifications"),
    "outbox_message": ("mail", "mail_and_notifications"),
    "mail_unsubscribe": ("mail", None),  # kept: the choice not to be mailed must survive erasure
    "mail_campaign_recipient": ("mail", "mail_and_notifications"),
    "touchpoint": ("touchpoints", "accounts"),
    "customer_value": ("value", None),  # derived figures: deleted with the recomputation
    "order": ("orders", "orders"),  # kept for accounting; tracking and notes cleared
    "community_post": ("community", None),  # posts stay, signed as a deleted member
    "community_topic": ("community", None),
    "community_post_vote": ("community", "community"),
    "community_post_flag": ("community", "community"),
    "community_post_revision": ("community", "community"),
    "community_subscription": ("community", "community"),
    "community_suspension": ("community", "community"),
    "feedback_item": ("feedback", "feedback"),
    "feedback_message": ("feedback", "feedback"),
    "survey_invitation": ("surveys", "surveys"),
    "survey_response": ("surveys", "surveys"),  # free text blanked, scores kept unlinked
    "survey_contact_request": ("surveys", "surveys"),
    "survey_opt_out": ("surveys", "surveys"),
}
#: tables that point at users but hold no personal data of theirs, with the reason
EXEMPT = {
    "user": "the account itself: exported as 'account'/'profile', erased to a tombstone",
    "roles_users": "role membership, exported as account.roles",
    "department_member": "staff membership of a department",
    "webauthn": "security keys, deleted with the user by cascade",
    "audit_entry": "staff accountability log; keeps the ids, not personal content",
    "community_moderation_log": "moderators' accountability log; ids and reasons",
    "survey": "surveys written by staff (the author's id only)",
    "mail_campaign": "campaigns started by staff (the sender's id only)",
    "api_key": "keys created by admins (the creator's id only)",
    "feedback_event": "status and routing history: who on staff did what, no content",
    "mail_template": "follow-up mail templates edited by managers (the editor's id only)",
}


def _tables_pointing_at_users() -> set[str]:
    found = set()
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "user":
                found.add(table.name)
    return found


def test_every_personal_table_is_covered_or_exempt(app):
    missing = _tables_pointing_at_users() - set(COVERED) - set(EXEMPT)
    assert not missing, f"personal data tables without export/erasure: {sorted(missing)}"


def test_covering_functions_are_registered(app):
    for table, (exporter, eraser) in COVERED.items():
        assert exporter in DATA_EXPORTERS, table
        if eraser:
            assert eraser in DATA_ERASERS, table

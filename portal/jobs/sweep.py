"""The periodic safety net: due retries, rows stuck in "sending", paced campaigns."""

from __future__ import annotations

import logging
from typing import Any

from portal.jobs import bulk, outbox

log = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Release messages a dead worker left, hand due ones to the queue, start due batches."""
    from portal.jobs.queue import get_queue
    from portal.jobs.schedule import prune_occurrence_claims

    released = outbox.release_stuck()
    prune_occurrence_claims()
    queue = get_queue()
    due = outbox.due_ids()
    for message_id in due:
        queue.deliver(message_id)
    campaigns = bulk.due_campaign_ids()
    for campaign_id in campaigns:
        queue.campaign_batch(campaign_id)
    result: dict[str, Any] = {"released": released, "due": len(due), "campaigns": len(campaigns)}
    if released:
        log.warning("Released %s outbox messages interrupted while sending", released)
    return result

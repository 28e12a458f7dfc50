"""How long the question log is kept: questions older than `privacy.question_log_days` are deleted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.storage.base import Store

log = logging.getLogger(__name__)


async def purge_old_questions(store: Store, now: datetime, keep_days: int) -> int:
    """Delete every guild's questions asked more than `keep_days` days before `now`; return how many."""
    deleted = await store.purge_questions(now - timedelta(days=keep_days))
    log.info("question log retention (%d days): deleted %d question(s)", keep_days, deleted)
    return deleted

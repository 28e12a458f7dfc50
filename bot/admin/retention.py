"""How long the question log and quiz answers are kept: older than `privacy.question_log_days` and
`privacy.quiz_answer_days` they are deleted."""

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


async def purge_old_quiz_answers(store: Store, now: datetime, keep_days: int) -> int:
    """Delete every guild's quiz answers given more than `keep_days` days before `now`; return how many."""
    deleted = await store.purge_quiz_answers(now - timedelta(days=keep_days))
    log.info("quiz answer retention (%d days): deleted %d answer(s)", keep_days, deleted)
    return deleted

"""Server administration without Discord: who is an admin, server stats, unanswered questions, log retention."""

from bot.admin.access import is_admin
from bot.admin.retention import purge_old_questions, purge_old_quiz_answers
from bot.admin.stats import GuildStats, TopicQuizResults, UnansweredGroup, group_unanswered, guild_stats

__all__ = [
    "GuildStats",
    "TopicQuizResults",
    "UnansweredGroup",
    "group_unanswered",
    "guild_stats",
    "is_admin",
    "purge_old_questions",
    "purge_old_quiz_answers",
]

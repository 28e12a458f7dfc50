"""Progress rules: what a member should study next, how far they are, and finding topics by name."""

from bot.progress.finder import TopicFinder
from bot.progress.recommend import Recommendation, recommend_next, topics_after
from bot.progress.report import ProgressReport, StepProgress, progress_report, streak

__all__ = [
    "ProgressReport",
    "Recommendation",
    "StepProgress",
    "TopicFinder",
    "progress_report",
    "recommend_next",
    "streak",
    "topics_after",
]

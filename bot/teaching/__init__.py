"""Teaching the tutor from feedback: the questions admins teach (kept in `data_dir/taught.yaml`) and what members'
feedback shows them to teach, without any Discord code."""

from bot.teaching.feedback import FeedbackGroup, FeedbackQuestion, group_feedback
from bot.teaching.taught_file import TAUGHT_FILE_NAME, TaughtFileError, taught_path
from bot.teaching.teacher import EVERY_SERVER, EntryFinder, Listed, Taught, Teacher, TeachingError

__all__ = [
    "EVERY_SERVER",
    "TAUGHT_FILE_NAME",
    "EntryFinder",
    "FeedbackGroup",
    "FeedbackQuestion",
    "Listed",
    "Taught",
    "TaughtFileError",
    "Teacher",
    "TeachingError",
    "group_feedback",
    "taught_path",
]

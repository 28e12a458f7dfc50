"""Quizzes and spaced review, without Discord: what to ask, whether an answer is right, when a topic comes back
(FSRS), the reminders that say so, and each member's quiz session."""

from bot.quiz.picking import NothingToAsk, Pick, pick_question
from bot.quiz.reminders import PlannedReminder, ReminderService, reminder_day
from bot.quiz.results import QuizResult, QuizUnavailable, ReviewSchedule, ScheduledTopic, TopicKnowledge
from bot.quiz.schedule import TopicState, counts_as_review, first_review, is_due, rating_for, review, topic_state
from bot.quiz.session import SESSION_IDLE, QuizSession, Sessions

__all__ = [
    "SESSION_IDLE",
    "NothingToAsk",
    "Pick",
    "PlannedReminder",
    "QuizResult",
    "QuizSession",
    "QuizUnavailable",
    "ReminderService",
    "ReviewSchedule",
    "ScheduledTopic",
    "Sessions",
    "TopicKnowledge",
    "TopicState",
    "counts_as_review",
    "first_review",
    "is_due",
    "pick_question",
    "rating_for",
    "reminder_day",
    "review",
    "topic_state",
]

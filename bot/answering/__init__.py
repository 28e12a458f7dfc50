"""Answering questions from the knowledge base: clean, retrieve, decide, compose."""

from bot.answering.answerer import Answerer
from bot.answering.compose import Answer

__all__ = ["Answer", "Answerer"]

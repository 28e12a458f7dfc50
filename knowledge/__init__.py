"""The roadmaps, weekly prompts and notes Roadmap Tutor teaches from, with their schema."""

from knowledge.loader import KnowledgeBase, KnowledgeError, load_knowledge

__all__ = ["KnowledgeBase", "KnowledgeError", "load_knowledge"]

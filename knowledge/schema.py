"""Pydantic schema for the knowledge files: roadmaps, weekly project prompts, asked questions, quizzes and admin
notes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationInfo, field_validator, model_validator

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# A common problem is shown whole in an answer: a symptom, its cause and the fix, in a few sentences.
PROBLEM_MAX_CHARS = 400


class _Strict(BaseModel):
    """Base for every knowledge model: unknown keys are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _words(text: str) -> int:
    return len(re.findall(r"\b\w[\w'-]*\b", text))


def _each_within(texts: list[str], shortest: int, longest: int, what: str) -> list[str]:
    """`texts` unchanged when each has `shortest` to `longest` characters; else the first that has not."""
    for text in texts:
        if not shortest <= len(text) <= longest:
            raise ValueError(f"{what} must be {shortest} to {longest} characters: {text[:40]!r}")
    return texts


class Resource(_Strict):
    """A book, course, documentation site, video or tutorial the roadmap recommends.

    `url` is the link the tutor serves, and it must work. When the roadmap's own link is broken, outdated or
    too general, `url` serves a better one and `source_url` keeps the roadmap's link, with `link_note` saying
    in a sentence why they differ (a trailing period, a discontinued course, a site's front page).
    """

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    url: HttpUrl
    source_url: HttpUrl | None = None
    link_note: str | None = Field(default=None, min_length=20, max_length=300)
    kind: Literal["book", "course", "docs", "video", "tutorial"]
    description: str = Field(min_length=40, max_length=1000)
    serves: list[str] = Field(default_factory=list, description="topic ids this resource helps with")
    # What learners call it besides its title ("Hands-On ML", "the Goodfellow book").
    aliases: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _source_link_is_explained(self) -> Resource:
        if self.source_url is None:
            if self.link_note is not None:
                raise ValueError("link_note explains why url differs from source_url: give source_url too")
            return self
        if self.link_note is None:
            raise ValueError("source_url needs a link_note: a sentence on why url serves another link")
        if str(self.source_url) == str(self.url):
            raise ValueError("source_url equals url: keep source_url only when url serves a different link")
        return self


class Concept(_Strict):
    """A named sub-concept of a topic (L1, ReLU, Adam ...), findable on its own."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=2, max_length=120)
    aliases: list[str] = Field(default_factory=list)
    explanation: str = Field(min_length=80, max_length=1500)


class Topic(_Strict):
    """One unit of study a member can mark done."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=2, max_length=120)
    kind: Literal["topic", "tutorial", "project"] = "topic"
    summary: str = Field(min_length=20, max_length=300)
    explanation: str
    key_points: list[str] = Field(min_length=2, max_length=8)
    # Problems as learners meet them (a symptom, an error message, a confusion), each with its cause and fix.
    common_problems: list[str] = Field(default_factory=list, max_length=10)
    aliases: list[str] = Field(default_factory=list)
    prerequisites: list[str] = Field(default_factory=list)
    hours: float = Field(gt=0, le=200)
    resources: list[str] = Field(default_factory=list)
    concepts: list[Concept] = Field(default_factory=list)

    @field_validator("explanation")
    @classmethod
    def _explanation_length(cls, text: str) -> str:
        words = _words(text)
        if not 100 <= words <= 300:
            raise ValueError(f"explanation has {words} words; write 100 to 300")
        return text

    @field_validator("key_points")
    @classmethod
    def _key_points_short(cls, points: list[str]) -> list[str]:
        return _each_within(points, 3, 300, "key point")

    @field_validator("common_problems")
    @classmethod
    def _problems_short(cls, problems: list[str]) -> list[str]:
        return _each_within(problems, 20, PROBLEM_MAX_CHARS, "common problem")


class Step(_Strict):
    """A numbered stage of a roadmap."""

    number: int = Field(ge=1, le=50)
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=120)
    # What learners call the step besides "step N" and its title ("the classic ML part", "the frameworks").
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=20, max_length=600)
    topics: list[Topic] = Field(min_length=1)
    resources: list[Resource] = Field(default_factory=list)

    @property
    def hours(self) -> float:
        """How long the step takes: its topics' hours together."""
        return sum(topic.hours for topic in self.topics)


class NextRoadmap(_Strict):
    """What comes after a roadmap."""

    title: str
    description: str = Field(min_length=20)


class Roadmap(_Strict):
    """A whole learning roadmap: goals, ordered steps and what comes next."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=120)
    # What learners call the roadmap besides its title ("the intermediate roadmap").
    aliases: list[str] = Field(default_factory=list)
    level: Literal["beginner", "intermediate", "advanced", "other"] = "other"
    summary: str = Field(min_length=20, max_length=1000)
    goals: list[str] = Field(min_length=1)
    # What a learner should know before starting: the roadmap it builds on, the skills it assumes.
    builds_on: str | None = Field(default=None, min_length=20, max_length=600)
    steps: list[Step] = Field(min_length=1)
    beyond: list[str] = Field(default_factory=list)
    """Subjects learners ask about that this roadmap does not teach: such questions are declined."""
    next_roadmap: NextRoadmap | None = None
    # The field's chat shorthand, spelled out before a question is searched ("lr": "learning rate").
    shorthand: dict[str, str] = Field(default_factory=dict)

    @field_validator("shorthand")
    @classmethod
    def _shorthand_is_words(cls, shorthand: dict[str, str]) -> dict[str, str]:
        for short, spelled in shorthand.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9/+#]*", short):
                raise ValueError(f"shorthand {short!r} must be one lowercase word")
            if not spelled.strip() or len(spelled) > 60:
                raise ValueError(f"shorthand {short!r} must spell out to 1 to 60 characters")
        return shorthand

    @property
    def hours(self) -> float:
        return sum(step.hours for step in self.steps)

    @property
    def next_steps_id(self) -> str | None:
        """The entry id of what comes after this roadmap, when something does; the slash keeps it apart from
        every id of the knowledge files (a slug)."""
        return f"{self.id}/next-steps" if self.next_roadmap is not None else None

    @property
    def next_steps_title(self) -> str | None:
        """The title of that entry: "Next Steps: Advanced Roadmap", as a roadmap's text heads the section."""
        return f"Next Steps: {self.next_roadmap.title}" if self.next_roadmap is not None else None

    @field_validator("beyond")
    @classmethod
    def _subjects_are_names(cls, subjects: list[str]) -> list[str]:
        return _each_within(subjects, 2, 80, "each subject")

    @model_validator(mode="after")
    def _check_references(self) -> Roadmap:
        numbers = [step.number for step in self.steps]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"step numbers must be unique and ascending, got {numbers}")
        ids: set[str] = set()
        for step in self.steps:
            for item in [*step.topics, *(c for t in step.topics for c in t.concepts), *step.resources]:
                if item.id in ids:
                    raise ValueError(f"id {item.id!r} is used twice")
                ids.add(item.id)
        topic_ids = {t.id for s in self.steps for t in s.topics}
        resource_ids = {r.id for s in self.steps for r in s.resources}
        for step in self.steps:
            for topic in step.topics:
                for resource in topic.resources:
                    if resource not in resource_ids:
                        raise ValueError(f"topic {topic.id!r} names unknown resource {resource!r}")
            for resource in step.resources:
                for served in resource.serves:
                    if served not in topic_ids:
                        raise ValueError(f"resource {resource.id!r} serves unknown topic {served!r}")
        return self


class WeeklyPrompt(_Strict):
    """A project brief posted to a server once a week."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=120)
    difficulty: Literal["easy", "medium", "hard"]
    brief: str = Field(min_length=80, max_length=1000)
    milestones: list[str] = Field(min_length=3, max_length=7)
    datasets: list[str] = Field(min_length=1, max_length=6)
    stretch_goals: list[str] = Field(min_length=1, max_length=5)
    topics: list[str] = Field(min_length=1, description="topic ids the project practises")
    prerequisites: list[str] = Field(default_factory=list, description="topic ids to finish first")

    @field_validator("milestones", "datasets", "stretch_goals")
    @classmethod
    def _items_fit_a_field(cls, items: list[str]) -> list[str]:
        for item in items:
            if not 3 <= len(item) <= 200:
                raise ValueError(f"each entry must be 3 to 200 characters: {item[:40]!r}")
        return items


class PromptSet(_Strict):
    """A file of weekly prompts."""

    prompts: list[WeeklyPrompt] = Field(min_length=1)


class AskedQuestion(_Strict):
    """A question as learners ask it, with the entries that answer it (ids of steps, topics, concepts,
    resources, weekly prompts or notes)."""

    q: str = Field(min_length=3, max_length=1000)
    answers: list[str] = Field(min_length=1, max_length=12)


class DeclinedQuestion(_Strict):
    """A question as learners ask it that the roadmap does not answer: a subject beyond it, a word trap on one
    of its words, something unrelated. The tutor declines a new question that reads more like these than like
    the asked ones (`bot.answering.retrieval.Evidence.declined`)."""

    q: str = Field(min_length=3, max_length=1000)


class AskedSet(_Strict):
    """A file of asked questions: how learners word their questions, so that the next learner who words
    one the same way finds its answer (see `indexer.documents.Document.asked_passages`), and of declined
    ones, questions learners asked that the roadmap does not answer.

    `roadmap`: the roadmap that declines the `declined` questions; without it, the roadmap most of the
    asked questions' answers belong to, or the only roadmap loaded."""

    roadmap: str | None = Field(default=None, min_length=1)
    asked: list[AskedQuestion] = Field(default_factory=list)
    declined: list[DeclinedQuestion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> AskedSet:
        if not self.asked and not self.declined:
            raise ValueError("needs at least one question under 'asked' or 'declined'")
        return self


# A taught question's text: what `AskedQuestion.q` allows.
TAUGHT_QUESTION_MIN = 3
TAUGHT_QUESTION_MAX = 1000


class TaughtQuestion(_Strict):
    """A question an admin taught the tutor (`/admin teach`, `roadmap-tutor teach`): asked in server `guild`
    (every server, direct messages and the console when None), it is answered with entry `answer`."""

    q: str = Field(min_length=TAUGHT_QUESTION_MIN, max_length=TAUGHT_QUESTION_MAX)
    answer: str = Field(min_length=1, max_length=100)
    guild: int | None = Field(default=None, gt=0)
    taught_at: datetime | None = None


class TaughtSet(_Strict):
    """The file of taught questions (`data_dir/taught.yaml`), written by the bot and the CLI; may be empty."""

    taught: list[TaughtQuestion] = Field(default_factory=list)


class NoteFrontMatter(_Strict):
    """The front matter of an admin's Markdown note."""

    title: str = Field(min_length=3, max_length=200)
    topics: list[str] = Field(default_factory=list, description="topic ids the note is about")
    step: int | None = None
    roadmap: str | None = None
    aliases: list[str] = Field(default_factory=list)


# Quizzes ----------------------------------------------------------------------------------------------


def _distinct_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class QuizQuestion(_Strict):
    """One multiple-choice question on a topic: exactly one choice is right, and one wrong choice is the
    tempting one, whose mistake the explanation names. The format is docs/QUIZZES.md."""

    question: str = Field(min_length=15, max_length=500)
    choices: list[str] = Field(min_length=3, max_length=5)
    answer: int
    why: str = Field(min_length=20, max_length=600)
    tempting: int
    why_not: str = Field(min_length=20, max_length=600)
    concept: str | None = Field(default=None, pattern=SLUG)

    @field_validator("choices")
    @classmethod
    def _choices_distinct(cls, choices: list[str]) -> list[str]:
        _each_within(choices, 1, 200, "each choice")
        seen: dict[str, int] = {}
        for number, choice in enumerate(choices):
            key = _distinct_key(choice)
            if key in seen:
                raise ValueError(f"choices {seen[key]} and {number} are the same: {choice[:40]!r}")
            seen[key] = number
        return choices

    # Field validators run in the order the fields are declared, so these see `choices` (and `answer`)
    # when those were valid, and their errors name their own field.
    @field_validator("answer", "tempting")
    @classmethod
    def _a_choice(cls, index: int, info: ValidationInfo) -> int:
        choices = info.data.get("choices")
        if choices is not None and not 0 <= index < len(choices):
            raise ValueError(f"must be the 0-based index of a choice: 0 to {len(choices) - 1}, got {index}")
        if info.field_name == "tempting" and index == info.data.get("answer"):
            raise ValueError("the tempting choice must be a wrong one, not the answer")
        return index


class QuizSet(_Strict):
    """A file of quiz questions for one roadmap: topic id → its questions."""

    roadmap: str = Field(pattern=SLUG)
    topics: dict[str, Annotated[list[QuizQuestion], Field(min_length=1)]] = Field(min_length=1)

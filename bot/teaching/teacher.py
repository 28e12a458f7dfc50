"""Teaching the tutor: admins add a question with the entry that answers it, list and remove what they taught.

One `Teacher` serves the bot (with its `Answerer`: a question taught is embedded alone and answered from at once)
and the CLI (without one: it only checks and writes the file). Its methods do file and model work: the bot calls
them from its answering thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils

from bot.answering import Answerer
from bot.answering.normalise import clean_question
from bot.answering.taught import TaughtPassage, TaughtPassages
from bot.progress.finder import MATCH_THRESHOLD, MAX_CHOICES, Choice
from bot.teaching.taught_file import TaughtFileError, file_signature, read_taught, taught_lock, write_taught
from knowledge.loader import Entry, KnowledgeBase
from knowledge.schema import TAUGHT_QUESTION_MAX, TAUGHT_QUESTION_MIN, TaughtQuestion

log = logging.getLogger(__name__)

# The operator's view (the CLI): every taught question, whatever server it was taught in, and all removable.
EVERY_SERVER = None


class TeachingError(ValueError):
    """What an admin asked cannot be done; the message says why, for them."""


@dataclass(frozen=True)
class Taught:
    """The outcome of teaching a question: what it now answers with, what it answered with before if it was
    taught with another entry (`previous`), and whether it was already taught just so (`unchanged`)."""

    question: TaughtQuestion
    entry: Entry
    previous: Entry | None = None
    unchanged: bool = False


@dataclass(frozen=True)
class Listed:
    """A taught question as listed: its number in the list, a key that names it while the list changes, the entry
    it answers with (None if the knowledge no longer has it) and whether the one listing it may remove it."""

    number: int
    key: str
    question: TaughtQuestion
    entry: Entry | None
    removable: bool


_WORD = re.compile(r"\w+(?:[+#]+)?")


def same_question(text: str) -> str:
    """What two wordings of one question share when they are the same question: its words, case, spacing and
    punctuation aside ("Adam vs SGD?" is "adam vs sgd"; "c++" keeps its pluses)."""
    return " ".join(_WORD.findall(clean_question(text).text.casefold()))


def taught_key(question: TaughtQuestion) -> str:
    """10 hex digits naming a taught question (its server and wording): an autocomplete value that stays right
    when the list is renumbered."""
    return hashlib.sha256(f"{question.guild}\n{same_question(question.q)}".encode()).hexdigest()[:10]


class EntryFinder:
    """Every entry a question can be answered with (`KnowledgeBase.entries`), found by id or title as typed."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries = kb.entries()
        self._ids = list(self.entries)
        self._labels = [f"{e.title} {e.id}" for e in self.entries.values()]
        self._titles = {e.title.casefold(): e for e in self.entries.values()}

    @staticmethod
    def label(entry: Entry) -> str:
        """How an entry is listed in autocomplete: its title, kind and id, within Discord's 100 characters."""
        suffix = f" · {entry.kind} · {entry.id}"
        return (entry.title[: max(10, 100 - len(suffix))] + suffix)[:100]

    def ranked(self, typed: str, limit: int = MAX_CHOICES) -> list[Entry]:
        """The entries best matching `typed` (knowledge order when nothing is typed)."""
        if not typed.strip():
            return list(self.entries.values())[:limit]
        matches = process.extract(
            typed, self._labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit * 2
        )
        found = [self.entries[self._ids[i]] for _, score, i in matches if score >= MATCH_THRESHOLD]
        exact = self.resolve(typed)
        if exact is not None:
            found = [exact, *(e for e in found if e.id != exact.id)]
        return found[:limit]

    def choices(self, typed: str) -> list[Choice]:
        return [Choice(self.label(entry), entry.id) for entry in self.ranked(typed)]

    def resolve(self, typed: str) -> Entry | None:
        """The entry `typed` names exactly: its id, or its title (any case). Never a guess: teaching the wrong entry
        would answer every member with it."""
        typed = typed.strip()
        return self.entries.get(typed) or self._titles.get(typed.casefold())


class Teacher:
    """The questions admins taught: kept in a YAML file (`bot.teaching.taught_file`), checked against the knowledge
    `kb()` returns, and, with an `answerer`, served by it (`Answerer.taught`)."""

    def __init__(self, path: Path, kb: Callable[[], KnowledgeBase], answerer: Answerer | None = None) -> None:
        self.path = path
        self._kb = kb
        self.answerer = answerer
        self.problem: TaughtFileError | None = None  # why the file was not loaded, while it is broken
        self._signature: tuple[int, int, int] | None = None
        self.current: list[TaughtQuestion] = []  # what is served: as last read or written
        self._finder: EntryFinder | None = None
        self._finder_kb: KnowledgeBase | None = None
        # Vectors of the texts taught questions are read as, so that teaching one embeds it alone.
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def finder(self) -> EntryFinder:
        kb = self._kb()
        if self._finder is None or self._finder_kb is not kb:  # the knowledge was rebuilt
            self._finder, self._finder_kb = EntryFinder(kb), kb
        return self._finder

    # Reading --------------------------------------------------------------------------------------

    def read(self) -> list[TaughtQuestion]:
        """The taught questions as the file holds them now; `TaughtFileError` when it does not pass its check."""
        return read_taught(self.path, self.finder.entries)

    def load(self) -> list[TaughtQuestion]:
        """Read the file and serve what it holds. A broken file is logged and kept as `problem`; what was served
        before stays served (nothing, at start) and the file is left for the operator to fix."""
        signature = file_signature(self.path)  # before reading: a change made meanwhile is seen next time
        try:
            taught = self.read()
        except TaughtFileError as error:
            if self._signature != signature or self.problem is None:
                log.error("%s; taught questions are not loaded until it is fixed", error)
            self.problem, self._signature = error, signature
            return []
        self.problem, self._signature = None, signature
        self._serve(taught, self._passages(taught))
        if taught:
            log.info("serving %d taught question(s) from %s", len(taught), self.path)
        return taught

    def refresh_if_changed(self) -> None:
        """Load the file again if it changed since it was last read (the CLI or a hand edit): one `stat`."""
        if file_signature(self.path) != self._signature:
            self.load()

    def listed(self, guild: int | None) -> list[Listed]:
        """The taught questions that apply in server `guild`, numbered from 1 in the file's order: its own, which
        it may remove, and those taught for every server, which only the operator may. `EVERY_SERVER`: all of
        them, all removable (the CLI). Read from the file (`TaughtFileError` when it is broken)."""
        return self._listed(self.read(), guild)

    def listed_in_memory(self, guild: int | None) -> list[Listed]:
        """`listed` as served now, without reading the file: for autocomplete, on the event loop."""
        return self._listed(self.current, guild)

    def _listed(self, taught: list[TaughtQuestion], guild: int | None) -> list[Listed]:
        entries = self.finder.entries
        shown = [q for q in taught if guild is EVERY_SERVER or q.guild is None or q.guild == guild]
        return [
            Listed(
                number,
                taught_key(q),
                q,
                entries.get(q.answer),
                removable=guild is EVERY_SERVER or q.guild == guild,
            )
            for number, q in enumerate(shown, start=1)
        ]

    # Changing -------------------------------------------------------------------------------------

    def teach(self, question: str, entry: str, guild: int | None, now: datetime) -> Taught:
        """Teach that `question`, asked in `guild` (None: anywhere), is answered with `entry` (an id or a title).

        The same question taught there before with another entry now answers with this one. The file is written
        atomically; with an answerer, only this question is embedded and it answers at once."""
        text = self._checked_question(question)
        found = self.finder.resolve(entry)
        if found is None:
            raise TeachingError(self._unknown_entry(entry))
        new = TaughtQuestion(q=text, answer=found.id, guild=guild, taught_at=now)
        with taught_lock(self.path):
            taught = self.read()
            same = [q for q in taught if q.guild == guild and same_question(q.q) == same_question(text)]
            if same and same[0].answer == found.id:
                return Taught(same[0], found, unchanged=True)
            previous = self.finder.entries.get(same[0].answer) if same else None
            changed = [q for q in taught if q not in same] + [new]
            self._write(changed)
        return Taught(new, found, previous)

    def remove(self, which: str, guild: int | None) -> Listed:
        """Remove a taught question `guild` may remove (`listed`): by its number there, its key or its wording."""
        listed = self.listed(guild)
        chosen = self._find(listed, which)
        if chosen is None:
            where = "here" if guild is not EVERY_SERVER else "in the file"
            raise TeachingError(
                f"No taught question {where} is “{which.strip()[:80]}”. "
                f"Pick one from the list (there are {len(listed)})."
            )
        if not chosen.removable:
            raise TeachingError(
                f"“{chosen.question.q[:80]}” was taught for every server by the bot's operator; only they can "
                "remove it (roadmap-tutor taught --remove N)."
            )
        with taught_lock(self.path):
            taught = self.read()
            if chosen.question not in taught:  # changed meanwhile (another admin, the CLI)
                raise TeachingError("The taught questions changed meanwhile; look at the list again.")
            kept = list(taught)
            kept.remove(chosen.question)
            self._write(kept)
        return chosen

    # Helpers --------------------------------------------------------------------------------------

    def _checked_question(self, question: str) -> str:
        cleaned = clean_question(question)
        if cleaned.problem == "empty":
            raise TeachingError("The question is empty: write it the way a member would ask it.")
        if len(cleaned.text) < TAUGHT_QUESTION_MIN:
            raise TeachingError(f"The question is too short: write at least {TAUGHT_QUESTION_MIN} characters.")
        if len(question.strip()) > TAUGHT_QUESTION_MAX:
            raise TeachingError(f"The question is too long: at most {TAUGHT_QUESTION_MAX} characters.")
        return cleaned.text

    def _unknown_entry(self, typed: str) -> str:
        near = [e for e in self.finder.ranked(typed, 3)]
        hint = f" Did you mean {', '.join(f'{e.id} ({e.title})' for e in near)}?" if near else ""
        return (
            f"No entry has the id or title “{typed.strip()[:80]}”: teach with the id of a roadmap (or what "
            f"comes after it, <roadmap>/next-steps), step, topic, concept, resource, weekly prompt or note.{hint}"
        )

    @staticmethod
    def _find(listed: list[Listed], which: str) -> Listed | None:
        which = which.strip()
        if which.isdigit():
            number = int(which)
            return listed[number - 1] if 1 <= number <= len(listed) else None
        return next((item for item in listed if item.key == which), None) or next(
            (item for item in listed if same_question(item.question.q) == same_question(which)), None
        )

    def _write(self, taught: list[TaughtQuestion]) -> None:
        """Embed what is new (before anything is written: a failure changes nothing), write the file, serve it."""
        passages = self._passages(taught)
        write_taught(self.path, taught)
        self._signature = file_signature(self.path)
        self.problem = None
        self._serve(taught, passages)

    def _passages(self, taught: list[TaughtQuestion]) -> TaughtPassages | None:
        """The taught questions as answering holds them, embedding only texts not embedded before; None without
        an answerer."""
        if self.answerer is None:
            return None
        texts = self.answerer.read_questions([q.q for q in taught])
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            vectors = np.asarray(self.answerer.encoder.encode(new), dtype=np.float32)
            self._vectors.update(zip(new, vectors, strict=True))
        passages = tuple(TaughtPassage(t, q.answer, q.guild) for t, q in zip(texts, taught, strict=True))
        matrix = (
            np.stack([self._vectors[t] for t in texts])
            if texts
            else np.zeros((0, self.answerer.encoder.dimension), dtype=np.float32)
        )
        return TaughtPassages(passages, matrix)

    def _serve(self, taught: list[TaughtQuestion], passages: TaughtPassages | None) -> None:
        self.current = list(taught)
        if self.answerer is None or passages is None:
            return
        self.answerer.taught = passages  # one assignment: a question being answered sees the old set or the new
        kept = {p.text for p in passages.passages}
        self._vectors = {t: v for t, v in self._vectors.items() if t in kept}

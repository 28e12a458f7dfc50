"""Load and cross-check knowledge files: roadmaps, weekly prompts, asked questions, quizzes and admins' Markdown
notes."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.parse_cache import ParseCache
from knowledge.schema import (
    AskedQuestion,
    AskedSet,
    Concept,
    NoteFrontMatter,
    PromptSet,
    QuizQuestion,
    QuizSet,
    Resource,
    Roadmap,
    Step,
    Topic,
    WeeklyPrompt,
)

SHIPPED_DIR = Path(__file__).resolve().parent
# libyaml's safe loader where PyYAML was built with it: the asked questions are thousands of lines.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.DOTALL)


class KnowledgeError(Exception):
    """A knowledge file is broken; the message names the file, the field and the reason."""

    def __init__(self, path: Path | str, field_path: str, reason: str) -> None:
        self.path = Path(path)
        self.field_path = field_path
        self.reason = reason
        where = f"{self.path}: {field_path}" if field_path else str(self.path)
        super().__init__(f"{where}: {reason}")


class UnknownRoadmap(LookupError):
    """A roadmap id that none of the loaded roadmaps has."""


@dataclass(frozen=True)
class Note:
    """An admin's Markdown note with its front matter."""

    id: str
    title: str
    body: str
    topics: tuple[str, ...]
    step: int | None
    roadmap: str | None
    aliases: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class TopicEntry:
    """A topic with where it sits: its roadmap and step."""

    topic: Topic
    step: Step
    roadmap: Roadmap


@dataclass(frozen=True)
class ConceptEntry:
    concept: Concept
    topic: TopicEntry


@dataclass(frozen=True)
class ResourceEntry:
    resource: Resource
    step: Step
    roadmap: Roadmap


@dataclass(frozen=True)
class Entry:
    """An entry a question can be answered with, as admins pick one: its id, what kind it is, its title."""

    id: str
    kind: str  # roadmap, step, topic, concept, resource, prompt, note
    title: str


@dataclass(frozen=True)
class QuizEntry:
    """A quiz question with its topic and a key that names it as long as its topic and wording stay the
    same (in stored answers and in the custom ids of its buttons)."""

    key: str
    topic_id: str
    item: QuizQuestion


def quiz_key(topic_id: str, question: str) -> str:
    """12 hex digits of the question's hash: short enough for a button's custom id, and a collision
    between two questions of one knowledge base is checked for at load."""
    return hashlib.sha256(f"{topic_id}\n{' '.join(question.split())}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DeclinedExample:
    """A question the roadmap `roadmap` does not answer (a `declined:` entry of an asked-question file)."""

    q: str
    roadmap: str


@dataclass
class KnowledgeBase:
    """Every roadmap, prompt, note, asked question and quiz question, with lookups by id.

    Quizzes are not indexed for answering (`indexer.documents` never reads them): they check a member's
    understanding, and changing them does not rebuild the index.
    """

    roadmaps: list[Roadmap]
    prompts: list[WeeklyPrompt]
    notes: list[Note]
    files: list[Path]
    content_hash: str
    asked: list[AskedQuestion] = field(default_factory=list)
    # Questions a roadmap does not answer, as learners asked them (`knowledge.schema.DeclinedQuestion`).
    declined: list[DeclinedExample] = field(default_factory=list)
    # Topic id → its quiz questions, in file order.
    quizzes: dict[str, tuple[QuizEntry, ...]] = field(default_factory=dict)
    topics: dict[str, TopicEntry] = field(default_factory=dict)
    concepts: dict[str, ConceptEntry] = field(default_factory=dict)
    resources: dict[str, ResourceEntry] = field(default_factory=dict)
    quiz_questions: dict[str, QuizEntry] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for roadmap in self.roadmaps:
            for step in roadmap.steps:
                for resource in step.resources:
                    self.resources[resource.id] = ResourceEntry(resource, step, roadmap)
                for topic in step.topics:
                    entry = TopicEntry(topic, step, roadmap)
                    self.topics[topic.id] = entry
                    for concept in topic.concepts:
                        self.concepts[concept.id] = ConceptEntry(concept, entry)
        self.quiz_questions = {entry.key: entry for entries in self.quizzes.values() for entry in entries}

    @property
    def beyond(self) -> tuple[str, ...]:
        """Every roadmap's subjects that it does not teach, once each."""
        return tuple(dict.fromkeys(subject for roadmap in self.roadmaps for subject in roadmap.beyond))

    def roadmap(self, roadmap_id: str | None) -> Roadmap | None:
        return next((r for r in self.roadmaps if r.id == roadmap_id), None)

    def check_roadmap(self, roadmap_id: str | None) -> None:
        """Nothing when `roadmap_id` is None or a loaded roadmap's; else UnknownRoadmap naming the loaded ones."""
        if roadmap_id is not None and self.roadmap(roadmap_id) is None:
            known = ", ".join(r.id for r in self.roadmaps)
            raise UnknownRoadmap(f"--roadmap {roadmap_id!r} is not a loaded roadmap (loaded: {known})")

    def prompt(self, prompt_id: str) -> WeeklyPrompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def prompt_roadmap(self, prompt: WeeklyPrompt) -> Roadmap:
        """The roadmap a weekly prompt belongs to: the one whose topics it practises."""
        return self.topics[prompt.topics[0]].roadmap

    def roadmap_prompts(self, roadmap_id: str | None) -> list[WeeklyPrompt]:
        """The weekly prompts of one roadmap (every prompt when `roadmap_id` is None)."""
        return [p for p in self.prompts if roadmap_id is None or self.prompt_roadmap(p).id == roadmap_id]

    def quiz_question(self, key: str) -> QuizEntry | None:
        return self.quiz_questions.get(key)

    def entries(self) -> dict[str, Entry]:
        """Every entry a question can be answered with (what an asked or taught question's answers name): roadmaps
        (and what comes after each), steps, topics, concepts, resources, weekly prompts and notes, by id, in
        knowledge order."""
        found: dict[str, Entry] = {}
        for roadmap in self.roadmaps:
            found[roadmap.id] = Entry(roadmap.id, "roadmap", roadmap.title)
            if roadmap.next_steps_id is not None and roadmap.next_steps_title is not None:
                found[roadmap.next_steps_id] = Entry(roadmap.next_steps_id, "roadmap", roadmap.next_steps_title)
            for step in roadmap.steps:
                found[step.id] = Entry(step.id, "step", f"Step {step.number}: {step.title}")
                for topic in step.topics:
                    found[topic.id] = Entry(topic.id, "topic", topic.title)
                    for concept in topic.concepts:
                        found[concept.id] = Entry(concept.id, "concept", concept.title)
                for resource in step.resources:
                    found[resource.id] = Entry(resource.id, "resource", resource.title)
        for prompt in self.prompts:
            found[prompt.id] = Entry(prompt.id, "prompt", prompt.title)
        for note in self.notes:
            found[note.id] = Entry(note.id, "note", note.title)
        return found


def _field_path(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def knowledge_error(path: Path, error: ValidationError) -> KnowledgeError:
    """A schema error as a `KnowledgeError`: the file, the field path of the first problem and its reason."""
    first = error.errors()[0]
    # A check of ours reads better without pydantic's "Value error, " in front of its own words.
    reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
    more = len(error.errors()) - 1
    if more:
        reason += f" (and {more} more problem{'s' if more > 1 else ''})"
    return KnowledgeError(path, _field_path(first["loc"]), reason)


def read_yaml(path: Path, data: bytes | None = None) -> Any:
    """A YAML file's data (safe loader), from `data` when its bytes were read already; a `KnowledgeError` naming
    the file and line when it cannot be read."""
    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8")
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise KnowledgeError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, "", f"cannot be read: {exc}") from None


def _read_note(path: Path) -> Note:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, "", f"cannot be read: {exc}") from None
    match = _FRONT_MATTER.match(text)
    if not match:
        raise KnowledgeError(path, "front matter", "a note starts with '---', YAML front matter with a title, '---'")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, "front matter", f"not valid YAML: {exc}") from None
    try:
        front = NoteFrontMatter.model_validate(meta)
    except ValidationError as exc:
        raise knowledge_error(path, exc) from None
    body = match.group(2).strip()
    if len(body) < 20:
        raise KnowledgeError(path, "body", "the note needs some text after its front matter")
    note_id = "note-" + re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return Note(note_id, front.title, body, tuple(front.topics), front.step, front.roadmap, tuple(front.aliases), path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(path, "", f"cannot be read: {exc}") from None


def knowledge_files(dirs: Iterable[Path], include_shipped: bool = True) -> list[Path]:
    """Every knowledge file to load, shipped ones first, each directory in a stable order."""
    roots = ([SHIPPED_DIR] if include_shipped else []) + [Path(d) for d in dirs]
    files: list[Path] = []
    for root in roots:
        if not root.is_dir():
            raise KnowledgeError(root, "", "knowledge directory does not exist")
        for path in sorted(root.rglob("*")):
            if path.suffix in {".yaml", ".yml", ".md"} and path.is_file() and not path.name.startswith((".", "_")):
                if path.name.lower() == "readme.md":
                    continue
                files.append(path)
    return files


def load_knowledge(
    dirs: Iterable[Path] = (), include_shipped: bool = True, cache_dir: Path | None = None
) -> KnowledgeBase:
    """Load every knowledge file and check the references between them.

    `cache_dir`, when given, keeps each YAML file's parsed data (`knowledge.parse_cache`), so that a start with
    unchanged files does not parse them again; every file is validated and checked all the same."""
    files = knowledge_files(dirs, include_shipped)
    cache = ParseCache(cache_dir) if cache_dir is not None else None
    roadmaps: list[tuple[Path, Roadmap]] = []
    prompts: list[tuple[Path, WeeklyPrompt]] = []
    notes: list[Note] = []
    asked: list[tuple[Path, int, AskedQuestion]] = []
    asked_sets: list[tuple[Path, AskedSet]] = []
    quizzes: list[tuple[Path, QuizSet]] = []
    digest = hashlib.sha256()
    for path in files:
        raw = _read_bytes(path)
        digest.update(path.name.encode())
        digest.update(raw)
        if path.suffix == ".md":
            notes.append(_read_note(path))
            continue
        data = read_yaml(path, raw) if cache is None else cache.read(path, raw, functools.partial(read_yaml, path, raw))
        if not isinstance(data, dict) or not ({"steps", "prompts", "asked", "declined", "topics"} & data.keys()):
            expected = (
                "a roadmap (with 'steps'), a prompt set (with 'prompts'), asked questions (with 'asked' or "
                "'declined') "
                "or quizzes (with 'roadmap' and 'topics')"
            )
            raise KnowledgeError(path, "", f"expected {expected}")
        try:
            if "steps" in data:
                roadmaps.append((path, Roadmap.model_validate(data)))
            elif "prompts" in data:
                prompts.extend((path, p) for p in PromptSet.model_validate(data).prompts)
            elif "topics" in data:
                quizzes.append((path, QuizSet.model_validate(data)))
            else:
                asked_set = AskedSet.model_validate(data)
                asked.extend((path, i, q) for i, q in enumerate(asked_set.asked))
                asked_sets.append((path, asked_set))
        except ValidationError as exc:
            raise knowledge_error(path, exc) from None
    answerable = _check_references(roadmaps, prompts, notes)
    for path, i, question in asked:
        for j, answer in enumerate(question.answers):
            if answer not in answerable:
                raise KnowledgeError(path, f"asked[{i}].answers[{j}]", f"unknown entry id {answer!r}")
    declined = _declined_examples(asked_sets, [r for _, r in roadmaps])
    quiz_entries = check_quizzes([r for _, r in roadmaps], quizzes)
    return KnowledgeBase(
        roadmaps=[r for _, r in roadmaps],
        prompts=[p for _, p in prompts],
        notes=notes,
        files=files,
        content_hash=digest.hexdigest(),
        asked=[q for _, _, q in asked],
        declined=declined,
        quizzes=quiz_entries,
    )


def shipped_asked_files() -> list[Path]:
    """The shipped asked-question files (`knowledge/asked/`)."""
    return sorted((SHIPPED_DIR / "asked").glob("*.yaml"))


@functools.cache
def shipped_declined_questions() -> tuple[str, ...]:
    """The declined questions of the shipped asked-question files, whether the shipped roadmap is loaded or not:
    questions learners asked in an AI engineering server that it does not answer, from everyday life to subjects
    next to its field. Each index build judges which of them lie outside the knowledge it holds
    (`indexer.general`). Read only when an index is built: the files are large."""
    found: list[str] = []
    for path in shipped_asked_files():
        try:
            found.extend(question.q for question in AskedSet.model_validate(read_yaml(path)).declined)
        except ValidationError as exc:
            raise knowledge_error(path, exc) from None
    return tuple(found)


def _declined_examples(asked_sets: list[tuple[Path, AskedSet]], roadmaps: list[Roadmap]) -> list[DeclinedExample]:
    """Each file's declined questions with the roadmap that declines them: the file's `roadmap`, else the
    roadmap most of its asked questions' answers belong to, else the only roadmap loaded."""
    loaded = {roadmap.id for roadmap in roadmaps}
    owner: dict[str, str] = {}
    for roadmap in roadmaps:
        owner[roadmap.id] = roadmap.id
        for step in roadmap.steps:
            owner[step.id] = roadmap.id
            owner.update({resource.id: roadmap.id for resource in step.resources})
            for topic in step.topics:
                owner[topic.id] = roadmap.id
                owner.update({concept.id: roadmap.id for concept in topic.concepts})
    found: list[DeclinedExample] = []
    for path, asked_set in asked_sets:
        if not asked_set.declined:
            continue
        roadmap = asked_set.roadmap
        if roadmap is not None and roadmap not in loaded:
            known = ", ".join(sorted(loaded)) or "none"
            raise KnowledgeError(path, "roadmap", f"unknown roadmap id {roadmap!r} (loaded: {known})")
        if roadmap is None:
            counted = [owner[a] for q in asked_set.asked for a in q.answers if a in owner]
            if counted:
                roadmap = max(dict.fromkeys(counted), key=counted.count)
            elif len(loaded) == 1:
                roadmap = next(iter(loaded))
            else:
                reason = "name the roadmap that declines these questions (several roadmaps are loaded)"
                raise KnowledgeError(path, "roadmap", reason)
        found.extend(DeclinedExample(question.q, roadmap) for question in asked_set.declined)
    return found


def check_quizzes(roadmaps: list[Roadmap], quizzes: list[tuple[Path, QuizSet]]) -> dict[str, tuple[QuizEntry, ...]]:
    """Each quiz file names a loaded roadmap, topics of that roadmap and concepts of those topics; no question
    is asked twice. Returns topic id → its questions, files in load order."""
    by_id = {roadmap.id: roadmap for roadmap in roadmaps}
    found: dict[str, list[QuizEntry]] = {}
    where: dict[str, tuple[Path, str]] = {}
    for path, quiz in quizzes:
        roadmap = by_id.get(quiz.roadmap)
        if roadmap is None:
            loaded = ", ".join(by_id) or "none"
            raise KnowledgeError(path, "roadmap", f"unknown roadmap id {quiz.roadmap!r} (loaded: {loaded})")
        topics = {topic.id: topic for step in roadmap.steps for topic in step.topics}
        for topic_id, questions in quiz.topics.items():
            topic = topics.get(topic_id)
            if topic is None:
                raise KnowledgeError(path, f"topics.{topic_id}", f"not a topic of roadmap {roadmap.id!r}")
            concepts = {concept.id for concept in topic.concepts}
            for number, item in enumerate(questions):
                field_path = f"topics.{topic_id}[{number}]"
                if item.concept is not None and item.concept not in concepts:
                    known = ", ".join(sorted(concepts)) or "none"
                    raise KnowledgeError(
                        path, f"{field_path}.concept", f"not a concept of topic {topic_id!r} (its concepts: {known})"
                    )
                key = quiz_key(topic_id, item.question)
                if key in where:
                    first_path, first_field = where[key]
                    raise KnowledgeError(
                        path, f"{field_path}.question", f"the same question as {first_field} in {first_path}"
                    )
                where[key] = (path, field_path)
                found.setdefault(topic_id, []).append(QuizEntry(key, topic_id, item))
    return {topic_id: tuple(entries) for topic_id, entries in found.items()}


def _check_references(
    roadmaps: list[tuple[Path, Roadmap]], prompts: list[tuple[Path, WeeklyPrompt]], notes: list[Note]
) -> set[str]:
    """Check that ids are unique and references point at real topics; return every entry's id."""
    owner: dict[str, Path] = {}

    def claim(item_id: str, path: Path, where: str) -> None:
        if item_id in owner:
            raise KnowledgeError(path, where, f"id {item_id!r} is already used in {owner[item_id]}")
        owner[item_id] = path

    roadmap_ids: set[str] = set()
    prerequisites: dict[str, list[str]] = {}
    where_topic: dict[str, tuple[Path, str]] = {}
    for path, roadmap in roadmaps:
        if roadmap.id in roadmap_ids:
            raise KnowledgeError(path, "id", f"roadmap id {roadmap.id!r} is used by another file")
        roadmap_ids.add(roadmap.id)
        claim(roadmap.id, path, "id")  # the roadmap is an entry too: questions about it as a whole
        if roadmap.next_steps_id is not None:  # and what comes after it: "is there an advanced roadmap?"
            claim(roadmap.next_steps_id, path, "next_roadmap")
        for s, step in enumerate(roadmap.steps):
            claim(step.id, path, f"steps[{s}].id")
            for t, topic in enumerate(step.topics):
                claim(topic.id, path, f"steps[{s}].topics[{t}].id")
                prerequisites[topic.id] = list(topic.prerequisites)
                where_topic[topic.id] = (path, f"steps[{s}].topics[{t}]")
                for c, concept in enumerate(topic.concepts):
                    claim(concept.id, path, f"steps[{s}].topics[{t}].concepts[{c}].id")
            for r, resource in enumerate(step.resources):
                claim(resource.id, path, f"steps[{s}].resources[{r}].id")
    for i, (path, prompt) in enumerate(prompts):
        claim(prompt.id, path, f"prompts[{i}].id")
        for key in ("topics", "prerequisites"):
            for j, topic_id in enumerate(getattr(prompt, key)):
                if topic_id not in prerequisites:
                    raise KnowledgeError(path, f"prompts[{i}].{key}[{j}]", f"unknown topic id {topic_id!r}")
    for note in notes:
        claim(note.id, note.path, "file name")
        for j, topic_id in enumerate(note.topics):
            if topic_id not in prerequisites:
                raise KnowledgeError(note.path, f"topics[{j}]", f"unknown topic id {topic_id!r}")
        if note.roadmap is not None and note.roadmap not in roadmap_ids:
            raise KnowledgeError(note.path, "roadmap", f"unknown roadmap id {note.roadmap!r}")
    for topic_id, needs in prerequisites.items():
        for j, needed in enumerate(needs):
            if needed not in prerequisites:
                path, where = where_topic[topic_id]
                raise KnowledgeError(path, f"{where}.prerequisites[{j}]", f"unknown topic id {needed!r}")
    _check_acyclic(prerequisites, where_topic)
    return set(owner)


def _check_acyclic(prerequisites: dict[str, list[str]], where_topic: dict[str, tuple[Path, str]]) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(topic_id: str, trail: list[str]) -> None:
        if state.get(topic_id) == 2:
            return
        if state.get(topic_id) == 1:
            cycle = [*trail[trail.index(topic_id) :], topic_id]
            path, where = where_topic[topic_id]
            raise KnowledgeError(path, f"{where}.prerequisites", "prerequisites form a cycle: " + " -> ".join(cycle))
        state[topic_id] = 1
        for needed in prerequisites[topic_id]:
            visit(needed, [*trail, topic_id])
        state[topic_id] = 2

    for topic_id in prerequisites:
        visit(topic_id, [])

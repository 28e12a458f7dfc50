"""Answer-quality evaluation: load a question set, run the tutor over it, score hits and abstentions."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    from bot.answering.retrieval import Mode
    from bot.config import Settings

ABSTAIN = "abstain"


# --- The question file -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Expectation(_Strict):
    """One acceptable answer: a result from `step` (any step when null) whose title or id contains a fragment,
    from `roadmap` when one is named (or when the set is run with `--roadmap`)."""

    step: int | None
    title_any: list[str] = Field(min_length=1)
    roadmap: str | None = None

    @field_validator("title_any")
    @classmethod
    def _fragments_not_blank(cls, fragments: list[str]) -> list[str]:
        if any(not fragment.strip() for fragment in fragments):
            raise ValueError("title_any fragments must not be blank")
        return fragments


class EvalItem(_Strict):
    """A question and either the results that would answer it or the word `abstain`.

    In the file `expect` is a list or the word `abstain`; in memory an abstain item holds None, so that
    pydantic validates one shape and its errors point at the file's own fields.
    """

    q: str = Field(min_length=1)
    expect: list[Expectation] | None
    # A question out of scope for the roadmap the set was written for that another roadmap teaches: roadmap id ->
    # what answers it there. Where that roadmap is loaded as well, its knowledge is the tutor's too, and the
    # question is in scope (`in_scope_where_loaded`).
    when_loaded: dict[str, list[Expectation]] = Field(default_factory=dict)

    @field_validator("expect", mode="before")
    @classmethod
    def _list_or_abstain(cls, value: Any) -> Any:
        if value == ABSTAIN:
            return None
        if not isinstance(value, list):
            raise ValueError(f"expect must be a list of {{step, title_any}} or 'abstain', got {value!r}")
        if not value:
            raise ValueError("expect must list at least one {step, title_any} or be 'abstain'")
        return value

    @model_validator(mode="after")
    def _when_loaded_out_of_scope(self) -> EvalItem:
        if self.when_loaded and self.expect is not None:
            raise ValueError("when_loaded is for a question out of scope (expect: abstain)")
        if any(not expectations for expectations in self.when_loaded.values()):
            raise ValueError("when_loaded must list at least one {step, title_any} per roadmap")
        return self

    def in_scope_where_loaded(self, loaded: Collection[str]) -> EvalItem:
        """The item as the loaded roadmaps (their ids) judge it: in scope, answered from the roadmap that teaches
        it, when one of its `when_loaded` roadmaps is loaded; else as written."""
        taught = [
            expectation.model_copy(update={"roadmap": roadmap})
            for roadmap, expectations in self.when_loaded.items()
            if roadmap in loaded
            for expectation in expectations
        ]
        return self.model_copy(update={"expect": taught, "when_loaded": {}}) if taught else self

    @property
    def abstain(self) -> bool:
        return self.expect is None

    @property
    def expectations(self) -> list[Expectation]:
        return self.expect or []


class EvalSet(_Strict):
    """The whole question file."""

    items: list[EvalItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _questions_unique(self) -> EvalSet:
        seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            key = normalise_question(item.q)
            if key in seen:
                raise ValueError(f"item {index} repeats the question of item {seen[key]}: {item.q!r}")
            seen[key] = index
        return self


class FollowUpItem(_Strict):
    """A follow-up pair: `first` is asked and answered, then `q` is asked as a follow-up of that answer.
    `expect` labels the follow-up read in context, as `EvalItem.expect`; `[]` (or `abstain`) to decline."""

    first: str = Field(min_length=1)
    q: str = Field(min_length=1)
    expect: list[Expectation] | None

    @field_validator("expect", mode="before")
    @classmethod
    def _list_or_decline(cls, value: Any) -> Any:
        if value == ABSTAIN or value == []:
            return None
        if not isinstance(value, list):
            raise ValueError(f"expect must be a list of {{step, title_any}}, [] or 'abstain', got {value!r}")
        return value

    def as_eval_item(self) -> EvalItem:
        """The follow-up as a question to score (the first question is only its context)."""
        return EvalItem(q=self.q, expect=self.expect if self.expect is not None else ABSTAIN)


class FollowUpSet(_Strict):
    """The whole follow-up pair file."""

    items: list[FollowUpItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _pairs_unique(self) -> FollowUpSet:
        seen: dict[tuple[str, str], int] = {}
        for index, item in enumerate(self.items):
            key = (normalise_question(item.first), normalise_question(item.q))
            if key in seen:
                raise ValueError(f"item {index} repeats the pair of item {seen[key]}: {item.first!r} / {item.q!r}")
            seen[key] = index
        return self


class EvalFileError(ValueError):
    """A question file that cannot be read or does not match the schema."""


def normalise_question(text: str) -> str:
    """Case, punctuation and spacing folded away, for spotting the same question written twice."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _describe(error: Any, items: Any) -> str:
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        index = loc[1]
        where = f"item {index}"
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            question = items[index].get("q")
            if isinstance(question, str):
                where += f" ({question[:50]!r})"
        loc = loc[2:]
    path = ".".join(str(part) for part in loc) or "items"
    return f"{where + ', ' if where else ''}field {path}: {error['msg']}"


def _read_question_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EvalFileError(f"{path}: cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise EvalFileError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise EvalFileError(f"{path}: expected a mapping with an `items` list, got {type(raw).__name__}")
    return raw


def _is_follow_up_file(raw: dict[str, Any]) -> bool:
    """Whether a question file holds follow-up pairs: its items have a `first` question."""
    items = raw.get("items")
    return isinstance(items, list) and bool(items) and isinstance(items[0], dict) and "first" in items[0]


def _validated(path: Path, raw: dict[str, Any], model: type[EvalSet] | type[FollowUpSet]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        items = raw.get("items")
        problems = "; ".join(_describe(e, items) for e in error.errors())
        raise EvalFileError(f"{path}: {problems}") from error


def load_eval_set(path: str | Path) -> list[EvalItem]:
    """Read and validate a question file; any problem raises EvalFileError naming file, item and field."""
    path = Path(path)
    raw = _read_question_file(path)
    if _is_follow_up_file(raw):
        raise EvalFileError(f"{path}: holds follow-up pairs (items with `first`): only `roadmap-tutor eval` reads it")
    return list(_validated(path, raw, EvalSet).items)


def load_follow_up_set(path: str | Path) -> list[FollowUpItem]:
    """Read and validate a follow-up pair file, with errors as `load_eval_set` gives them."""
    path = Path(path)
    return list(_validated(path, _read_question_file(path), FollowUpSet).items)


# --- What the tutor returns --------------------------------------------------------------------


class ResultLike(Protocol):
    """One ranked search result, as the tutor's answers carry them."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def step(self) -> int | None: ...
    @property
    def score(self) -> float: ...
    @property
    def roadmap(self) -> str | None: ...


class AnswerLike(Protocol):
    """An answer: whether the tutor declined, and its results best first."""

    @property
    def abstained(self) -> bool: ...
    @property
    def results(self) -> Sequence[ResultLike]: ...


def is_hit(result: ResultLike, expectation: Expectation, roadmap: str | None = None) -> bool:
    """A result answers an expectation when the step agrees and a fragment occurs in its title or id (or its
    words run in the title's or id's words, `_names_words`), and it is of the expectation's roadmap (or
    `roadmap`, the one the set is run for) when one is named."""
    if expectation.step is not None and result.step != expectation.step:
        return False
    wanted = expectation.roadmap or roadmap
    if wanted is not None and result.roadmap != wanted:
        return False
    title, rid = result.title.casefold(), result.id.casefold()
    if any(f.casefold() in title or f.casefold() in rid for f in expectation.title_any):
        return True
    named = (_words(title), _words(rid))
    return any(_names_words(fragment, named) for fragment in expectation.title_any)


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[0-9a-z]+", text.casefold()))


def _names_words(fragment: str, named: tuple[tuple[str, ...], ...]) -> bool:
    """Whether a fragment's words run in a title's or an id's words, punctuation aside ("azure ml" names the
    id `azure-ml`) and its last word singular or plural alike ("lstms" names "(LSTM) Networks")."""
    words = _words(fragment)
    if not words:
        return False
    last = words[-1]
    forms = {words}
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
        forms.add((*words[:-1], last[:-1]))
    return any(
        form == target[start : start + len(form)]
        for form in forms
        for target in named
        for start in range(len(target) - len(form) + 1)
    )


def first_hit_rank(item: EvalItem, results: Sequence[ResultLike], k: int, roadmap: str | None = None) -> int | None:
    """1-based rank of the first result among the top k that meets any of the item's expectations."""
    for rank, result in enumerate(results[:k], start=1):
        if any(is_hit(result, expectation, roadmap) for expectation in item.expectations):
            return rank
    return None


# --- The report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownResult:
    id: str
    title: str
    step: int | None
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "step": self.step, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Miss:
    """An item the tutor got wrong: in-scope with no hit at rank 1, a wrong abstention, or a wrong answer."""

    index: int
    question: str
    reason: str
    top: list[ShownResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "question": self.question,
            "reason": self.reason,
            "top": [r.to_json() for r in self.top],
        }


@dataclass(frozen=True)
class EvalReport:
    """Metrics over one question set; a rate is None when its item group is empty."""

    k: int
    in_scope: int
    out_of_scope: int
    hit_at_1: float | None
    hit_at_3: float | None
    mrr: float | None
    false_abstain_rate: float | None
    abstain_recall: float | None
    misses: list[Miss] = field(default_factory=list)
    # How many of the questions the knowledge holds as asked questions: figures on those measure how
    # well the tutor recalls what it was taught, not how it meets questions it has never seen.
    taught: int = 0
    # How many questions out of scope for the set's roadmap another loaded roadmap teaches (`EvalItem.when_loaded`):
    # they are counted in scope, answered from that roadmap.
    taught_elsewhere: int = 0

    @property
    def total(self) -> int:
        return self.in_scope + self.out_of_scope

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "items": self.total,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "hit_at_1": self.hit_at_1,
            "hit_at_3": self.hit_at_3,
            f"mrr_at_{self.k}": self.mrr,
            "false_abstain_rate": self.false_abstain_rate,
            "abstain_recall": self.abstain_recall,
            "taught": self.taught,
            "taught_elsewhere": self.taught_elsewhere,
            "misses": [m.to_json() for m in self.misses],
        }


def _rate(count: float, total: int) -> float | None:
    return count / total if total else None


def _top(results: Sequence[ResultLike], count: int = 3) -> list[ShownResult]:
    return [ShownResult(r.id, r.title, r.step, float(r.score)) for r in results[:count]]


def evaluate(
    items: Sequence[EvalItem],
    answer_batch: Callable[[list[str]], Sequence[AnswerLike]],
    k: int = 5,
    roadmap: str | None = None,
) -> EvalReport:
    """Ask every question in one batch and score the answers.

    In-scope items give hit@1, hit@3 and MRR@k; an abstention on one counts as a miss (reciprocal rank
    0) and towards the false-abstain rate. Out-of-scope items give abstain recall.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    answers = list(answer_batch([item.q for item in items]))
    if len(answers) != len(items):
        raise ValueError(f"answer_batch returned {len(answers)} answers for {len(items)} questions")

    in_scope = out_of_scope = 0
    hits_1 = hits_3 = false_abstains = abstained_out = 0
    reciprocal = 0.0
    misses: list[Miss] = []
    for index, (item, answer) in enumerate(zip(items, answers, strict=True)):
        results = list(answer.results)
        if item.abstain:
            out_of_scope += 1
            if answer.abstained:
                abstained_out += 1
            else:
                misses.append(Miss(index, item.q, "answered an out-of-scope question", _top(results)))
            continue
        in_scope += 1
        if answer.abstained:
            false_abstains += 1
            misses.append(Miss(index, item.q, "abstained on an in-scope question", _top(results)))
            continue
        rank = first_hit_rank(item, results, k, roadmap)
        if rank is not None:
            reciprocal += 1 / rank
            hits_1 += rank == 1
            hits_3 += rank <= 3
        if rank != 1:
            reason = f"no hit in the top {k}" if rank is None else f"first hit at rank {rank}"
            misses.append(Miss(index, item.q, reason, _top(results)))

    return EvalReport(
        k=k,
        in_scope=in_scope,
        out_of_scope=out_of_scope,
        hit_at_1=_rate(hits_1, in_scope),
        hit_at_3=_rate(hits_3, in_scope),
        mrr=_rate(reciprocal, in_scope),
        false_abstain_rate=_rate(false_abstains, in_scope),
        abstain_recall=_rate(abstained_out, out_of_scope),
        misses=misses,
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _metric_rows(report: EvalReport) -> list[tuple[str, str]]:
    return [
        ("items", str(report.total)),
        ("in scope", str(report.in_scope)),
        ("out of scope", str(report.out_of_scope)),
        ("hit@1", _fmt(report.hit_at_1)),
        ("hit@3", _fmt(report.hit_at_3)),
        (f"MRR@{report.k}", _fmt(report.mrr)),
        ("false-abstain rate", _fmt(report.false_abstain_rate)),
        ("abstain recall", _fmt(report.abstain_recall)),
    ]


def _miss_lines(title: str, misses: list[Miss]) -> list[str]:
    lines = [f"{title} ({len(misses)})" if misses else f"no {title}"]
    for miss in misses:
        lines.append(f"[{miss.index}] {miss.question}  -- {miss.reason}")
        if not miss.top:
            lines.append("      (no results)")
        for rank, shown in enumerate(miss.top, start=1):
            step = "-" if shown.step is None else str(shown.step)
            lines.append(f"    {rank}. {shown.score:.3f}  step {step}  {shown.id}  {shown.title}")
    return lines


def format_report(report: EvalReport) -> str:
    """The metrics as a small table, then every miss with the top three results."""
    rows = _metric_rows(report)
    if report.taught:
        rows.append(("asked questions", f"{report.taught} (in the knowledge: not held out)"))
    if report.taught_elsewhere:
        rows.append(
            ("taught by a roadmap beside", f"{report.taught_elsewhere} (out of scope as written: counted in scope)")
        )
    width = max(len(name) for name, _ in rows)
    lines = [f"{'metric'.ljust(width)}  value", f"{'-' * width}  -----"]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    lines.append("")
    return "\n".join(lines + _miss_lines("misses", report.misses))


# --- Follow-up pairs ---------------------------------------------------------------------------


class AnswerWithContext(AnswerLike, Protocol):
    """An answer that carries what a follow-up of it leans on."""

    @property
    def context(self) -> Any: ...


@dataclass(frozen=True)
class FollowUpReport:
    """The follow-ups of a pair set scored twice: read as follow-ups of their first question's answer, and
    read alone."""

    with_context: EvalReport
    without_context: EvalReport

    def to_json(self) -> dict[str, Any]:
        return {"with_context": self.with_context.to_json(), "without_context": self.without_context.to_json()}


def evaluate_follow_ups(
    items: Sequence[FollowUpItem],
    answer_batch: Callable[[list[str], list[Any] | None], Sequence[AnswerWithContext]],
    k: int = 5,
    roadmap: str | None = None,
) -> FollowUpReport:
    """Answer every first question, then every follow-up with the context of its first question's answer
    and without it; misses name the first question before the follow-up."""
    firsts = list(answer_batch([item.first for item in items], None))
    contexts = [answer.context for answer in firsts]
    questions = [item.as_eval_item() for item in items]

    def scored(with_contexts: list[Any] | None) -> EvalReport:
        report = evaluate(questions, lambda asked: answer_batch(asked, with_contexts), k, roadmap)
        misses = [replace(m, question=f"{items[m.index].first} → {m.question}") for m in report.misses]
        return replace(report, misses=misses)

    return FollowUpReport(with_context=scored(contexts), without_context=scored(None))


def format_follow_up_report(report: FollowUpReport) -> str:
    """The metrics with and without context side by side, then the misses with context, then without."""
    rows = zip(_metric_rows(report.with_context), _metric_rows(report.without_context), strict=True)
    table = [(name, with_value, without_value) for (name, with_value), (_, without_value) in rows]
    width = max(len(name) for name, _, _ in table)
    lines = [f"{'metric'.ljust(width)}  with context  without context", f"{'-' * width}  ------------  ---------------"]
    lines += [
        f"{name.ljust(width)}  {with_value.ljust(12)}  {without_value}" for name, with_value, without_value in table
    ]
    lines.append("")
    lines += _miss_lines("misses with context", report.with_context.misses)
    lines.append("")
    lines += _miss_lines("misses without context", report.without_context.misses)
    return "\n".join(lines)


# --- The command -------------------------------------------------------------------------------


def run_eval_command(
    settings: Settings, path: str | Path, as_json: bool = False, mode: str = "hybrid", roadmap: str | None = None
) -> int:
    """`roadmap-tutor eval FILE`: score the tutor on a question file and print the report. A file of follow-up
    pairs (items with `first`) is scored with and without the context of the first answer, side by side.

    `mode` ranks with both signals (what the tutor serves) or with dense similarity or BM25 alone, to
    show what each adds. A broken question file raises EvalFileError, which the command line reports
    with exit code 2, before any model loads.
    """
    from bot.answering.retrieval import MODES
    from bot.serving import open_answerer

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    path = Path(path)
    pairs = _is_follow_up_file(_read_question_file(path))
    items = load_follow_up_set(path) if pairs else load_eval_set(path)
    answerer = open_answerer(settings)
    answerer.retrieval_mode = cast("Mode", mode)  # checked against MODES above
    answerer.kb.check_roadmap(roadmap)
    if pairs:
        follow_ups = evaluate_follow_ups(
            cast("list[FollowUpItem]", items),
            lambda questions, contexts: answerer.answer_batch(questions, roadmap=roadmap, contexts=contexts),
            k=answerer.top_k,
            roadmap=roadmap,
        )
        shown = follow_ups.to_json() if as_json else None
        print(json.dumps(shown, indent=2, ensure_ascii=False) if shown else format_follow_up_report(follow_ups))
        return 0
    loaded = [r.id for r in answerer.kb.roadmaps]
    written = cast("list[EvalItem]", items)
    items = [item.in_scope_where_loaded(loaded) for item in written]
    report = evaluate(items, partial(answerer.answer_batch, roadmap=roadmap), k=answerer.top_k, roadmap=roadmap)
    asked = {normalise_question(question.q) for question in answerer.kb.asked}
    report = replace(
        report,
        taught=sum(normalise_question(item.q) in asked for item in items),
        taught_elsewhere=sum(item is not as_written for item, as_written in zip(items, written, strict=True)),
    )
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if as_json else format_report(report))
    return 0


# --- Asked questions from question sets ----------------------------------------------------------
# An item that this many documents or more would hit names too broad a fragment ("loss") to teach which
# entry answers it.
ASKED_MOST_ANSWERS = 12


def asked_questions(items: Sequence[EvalItem], documents: Sequence[ResultLike]) -> list[dict[str, Any]]:
    """The in-scope items as asked-question knowledge (`knowledge.schema.AskedSet`): each question with the
    ids of the documents that would hit it, in the documents' order. Items that no document or too many
    documents hit are left out, and so is a question asked twice (as `normalise_question` compares)."""
    asked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        key = normalise_question(item.q)
        if item.abstain or key in seen:
            continue
        answers = [d.id for d in documents if any(is_hit(d, e) for e in item.expectations)]
        if 0 < len(answers) <= ASKED_MOST_ANSWERS:
            seen.add(key)
            asked.append({"q": item.q, "answers": answers})
    return asked


def declined_questions(items: Sequence[EvalItem]) -> list[dict[str, Any]]:
    """The out-of-scope items as declined-question knowledge (`knowledge.schema.DeclinedQuestion`), each
    question once (as `normalise_question` compares)."""
    declined: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        key = normalise_question(item.q)
        if item.abstain and key not in seen:
            seen.add(key)
            declined.append({"q": item.q})
    return declined


def run_asked_command(settings: Settings, paths: Sequence[Path], out: Path | None) -> int:
    """`roadmap-tutor asked FILE...`: write question sets as asked-question knowledge (YAML) to `out` or
    stdout. The answers are found in the knowledge the settings name, with the eval command's hit rule."""
    from bot.serving import load_settings_knowledge
    from indexer.documents import build_documents

    documents = build_documents(load_settings_knowledge(settings))
    items = [item for path in paths for item in load_eval_set(path)]
    unique = asked_questions(items, documents)
    declined = declined_questions(items)
    header = "# Asked questions, made by `roadmap-tutor asked` from: " + ", ".join(p.name for p in paths) + "\n"
    # One line per question and per list of answers.
    body = yaml.safe_dump(
        {"asked": unique, "declined": declined} if declined else {"asked": unique},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
        default_flow_style=None,
    )
    text = header + body
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise EvalFileError(f"{out}: cannot write: {error.strerror or error}") from error
    print(f"{len(unique)} asked and {len(declined)} declined questions written to {out}", file=sys.stderr)
    return 0

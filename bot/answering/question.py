"""A learner's question read once: its words, what it asks for, and the names it contains.

Ranking and composing both take a `Question`; nothing downstream re-tokenises or re-matches the text. The
requests read here are general English ("what's next", "a book for ...", "X vs Y"): what names a subject
lives in the knowledge (names, aliases, shorthand, `beyond`), never in this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from indexer.search import (
    STOPWORDS,
    NameMatch,
    NameMatcher,
    SearchIndex,
    name_words,
    plain,
    stems,
    tokenize,
    topic_words,
    word_spans,
)

# --- Requests, as general English ---------------------------------------------------------------------
_MATERIAL = re.compile(
    r"\b(books?|course|courses|coursera|videos?|youtube|playlist|lectures?|tutorials?|resources?|materials?|"
    r"docs|documentation|link|links|read|reading|guides?|articles?|textbook|chapters?|pages?|websites?|"
    r"where (can|do|should) i (learn|study)|(places?|where) to (learn|study)|learn from|study from)\b"
)
# The kind of material asked for, by the words learners use for each resource kind.
_MATERIAL_KINDS = {
    "book": re.compile(r"\b(books?|textbooks?)\b"),
    "course": re.compile(r"\b(course|courses|coursera|mooc)\b"),
    "video": re.compile(r"\b(videos?|youtube|playlist|lectures?)\b"),
    "docs": re.compile(r"\b(docs|documentation|api reference)\b"),
    "tutorial": re.compile(r"\b(tutorials?|walkthrough)\b"),
}
_PROJECT = re.compile(
    r"\b(projects?|challenges?|weekly|prompts?|(?<!in )practi[cs]e|exercises?|portfolio|ideas?|"
    r"experiments?|hands[- ]on|something to (build|make|try))\b"
)
# "I finished X, what next?": the learner wants what comes after X, not X again. Finishing alone is not
# asking ("finished the CNN tutorial, how do I make it a portfolio project"), and "what now" alone is as
# often "what do I do about this problem": they count together.
_NEXT = re.compile(
    r"\b(what next|what('?s| is) next|next step|next thing|next topic|comes (after|next)|after step|what after|"
    r"what('?s| is) left|what remains|(study|learn|do|read|go|tackle) (next|after)|(topic|one) (is )?next|"
    r"next what|what('?s| is) after|next one)\b(?!\()"  # "what is next()" asks about a function
    r"|\bnext( is| up| one| pls| please)?\W*$"  # "k-means done, next?", "finished the projects step, next is?"
)
# "How does it decide which point to try next?", "how does netflix know what I want to watch next": how something
# chooses its next move is asked about, no next step for the learner.
_HOW_IT_CHOOSES = re.compile(
    r"\bhow (does|do|did|can|could|would|will) (?!i\b|we\b)[^.?!]*?\b(decides?|knows?|chooses?|picks?|learns?)\b"
    r"[^.?!]*\bnext\b"
)
_FINISHED = re.compile(
    r"\b(finished|finishing|finish|completed|done with|i'?m done|through with|wrapped up|got through|"
    # Alone, "done" and "did" are no report of finishing ("how is it done?"); beside "now what" they are.
    r"done|did all|i did)\b"
)
_AFTER_FINISHING = re.compile(
    r"\b(what now|now what|then what|(study|learn|read|tackle) now|"
    r"what (do|should|can|shall) i (do|learn|study|read)( now| then| after (that|it|this))?(?=\W*$)|"
    r"where (do|should|can) i (start|begin|go)|where to (start|begin|go|now|next)|"
    r"moving on|move on|move to|what'?s (in )?step \d|next is|is next)\b"
    r"|(^|[,.;]\s*)(and |so )?now\W*$"  # "finished calculus, now?"
)
_COMPARISON = re.compile(r"\b(vs\.?|versus|or|compared?|comparing|comparison|differen\w*|differ|better|instead)\b")
# "I finished the beginner roadmap": a whole roadmap done, unlike "what's next on the roadmap".
_ROADMAP_DONE = re.compile(r"\b(finished|finish|completed|done with)\s+(\w+\s+){0,3}roadmaps?\b")
# "Finished everything", "did all 5 steps": the whole of the roadmap the learner follows, though unnamed.
_ALL_DONE = re.compile(
    r"\b(finished|finishing|finish|completed|completing|complete|done( with)?|did|through|wrapped up)\s+(with\s+)?"
    r"(everything|all (of )?(the |my )?(\w+ )?steps?|all of (it|them)|every step|the whole (thing|course|path)|"
    r"all (of )?this(?!\s+[a-z]))\b"  # "after finishing all this?", not "finished all this training"
)
# The roadmap as a whole: its goals, what it builds on, how long it takes, what comes after it.
_ABOUT_ROADMAP = re.compile(
    r"\b((this|the|whole|entire|full|intermediate|beginner|advanced) roadmap|roadmaps?\b.{0,40}\b(goals?|for|cover|"
    r"take|long|after|before|order|steps|enough|end)|(goals?|end|after|before|finish\w*|prerequisites?|"
    r"cover|overview)\b.{0,40}\broadmap|whole thing|entire thing|order of (the |all (the )?)?steps|"
    # "Is RL anywhere in here?", "is azure covered here": in the roadmap followed.
    r"(anywhere|somewhere|covered|taught|included)( anywhere)? (in )?here|in here or|jump in here|"
    # "What will I be able to do after I finish this?", "any background needed to start this?": "this", ending
    # the question, is the roadmap it is asked in.
    r"(start|starting|begin|beginning|finish|finishing|complete|completing|done with) this(?=\W*$))\b"
)
# The roadmap's steps together, not one of them: "how many steps are there", "tl;dr of all the steps". Not the
# steps of a task ("steps to deploy a model").
_STEPS_AS_A_WHOLE = re.compile(
    r"\b(how many|what are( all)?( the)?|all( of)?( the)?|list( of)?( the)?|"
    r"(overview|summary|outline) of( all)?( the)?|summari[sz]e( all)?( the)?|tl;?dr( of)?( all)?( the)?|each of the|"
    r"(the|these|those) (\d+|three|four|five|six|seven))\s+(main\s+|big\s+)?steps\b(?!\s+(to|for|of)\b)"
)
# "This roadmap", "the whole roadmap": the roadmap followed, not a roadmap for a road trip.
_THIS_ROADMAP = re.compile(r"\b(this|the|whole|entire|full|my) roadmap\b")
# "After finishing this roadmap", "once I complete the whole roadmap": past the end of the roadmap followed, not
# an earlier one ("finished the beginner roadmap" names which).
_PAST_THIS_ROADMAP = re.compile(
    r"\b(finish\w*|complet\w*|done with|after|once i (do|did|have done))\s+(this|the|the whole|the entire|"
    r"this whole|this entire|whole|entire|my)\s+roadmap\b"
)
# "Did all 5 steps", "finished every step": the roadmap's end reached, though unnamed, whatever else is named on
# the way ("did all 5 steps and deployed with fastapi, what now"); "everything in step 5" is one step.
_ALL_STEPS_DONE = re.compile(
    r"\b(finished|finish|completed|complete|done( with)?|did|through|wrapped up)\s+(with\s+)?"
    r"(all (of )?(the |my )?(\w+ )?steps|every step|the whole (thing|course|path))\b"
)
# What a roadmap will have taught: "what will I be able to do after it", "is it enough for a job".
_GOALS = re.compile(
    r"\b(goals?|able to|outcomes?|what (will|would|do|can) (i|we) (know|learn|gain|get|have)|"
    r"(get|land|find) (a |an )?(\w+ )?(job|role|position)|job[- ]ready|enough (for|to get) (a |an )?(\w+ )?job|hired)\b"
)
# Whether a learner can take the roadmap on: "is it ok for somebody who only used excel", "can I start this",
# "what do I need before starting". What it builds on answers, not what comes after it.
_READINESS = re.compile(
    r"\b((ok|okay|enough|suitable|good|right) for (me|someone|somebody|a beginner|beginners|people)|"
    r"can i (really |still |even )?(start|do|begin|follow)|before (starting|i start|beginning)|prerequisites?|"
    r"zero (programming|coding|experience)|no (programming|coding) (experience|background)|"
    r"(need|needs|require[sd]?) (any |much |some |a lot of )?(\w+ ){0,3}"  # "need any math or coding background"
    r"(experience|background|knowledge|skills?)( \w+)? (to|before|for) (start|begin|this)|"
    r"how much (\w+ ){1,2}(do|should) i (really |actually )?(need|know)( \w+)? (to start|before|for this))\b"
)
# "I finished the projects part": a part of the roadmap, not one topic, was finished.
_WHOLE_PART = re.compile(r"\b(roadmaps?|steps?|parts?|sections?|stages?|projects|everything|all)\b")
# "What's left in step 1?", "the next thing to learn in step 1": the step named is where to look.
_WITHIN_STEP = re.compile(
    r"\b(left|remains|next|learn|study|do)\b[^.?!]{0,30}\b(in|within|inside|of)\s+(this\s+|the\s+)?step\b"
)
# "Any alternative?", "something else instead?": something other than what was just answered ("anything else I
# should know?" asks for more of the same).
_ALTERNATIVE = re.compile(
    r"\b(alternatives?|instead|other (options?|ways?|ones?|methods?|choices?|tools?)|something else|"
    r"replacement|substitute)\b"
)
# "Which of the 4 projects first?", "which project looks best in a portfolio?": a choice among the projects,
# which the step that lists them answers, not one project of them.
_PROJECT_CHOICE = re.compile(
    r"\bwhich\b(\s+[\w-]+){0,4}?\s+projects?\b|\b(of|among|between)\s+(the\s+|these\s+|those\s+|all\s+)?"
    r"([\w-]+\s+){0,2}projects\b"
)
# Planning a way through the roadmap: skipping, order, readiness, where to start from. The roadmap's own
# structure answers (its steps, and the roadmap as a whole), not the topics the question names on the way.
_PLANNING = re.compile(
    r"\b(skip(ping|ped)?(?![- ](connections?|grams?|layers?))|jump (straight )?(in)?to|go(ing)? straight (in)?to|"
    r"(am i|i am|i'?m|im|are we) (\w+ )?ready|ready for (step|the next)|which step|what step|start(ing)? (from|at)|"
    r"in (what|which) order|what order|the other way( a?round)?|last step)\b"
)
# "Where do I start?": the first step, unless the question names what it wants to start with.
_START = re.compile(r"\b(where (do|should|can) i (start|begin)|where to (start|begin)|first step)\b")
# "Where do I start" with this many topic words besides is about a subject: that subject, not step 1.
START_SUBJECT_WORDS = 3
# A model's name with its version glued on ("yolov8", "llama3", "gpt4") is that name, for matching subjects
# beyond the roadmaps.
_VERSIONED = re.compile(r"\b([a-z]{2,}?)v?\d+(\.\d+)?\b", re.I)


@dataclass(frozen=True)
class Intents:
    """What the question asks for besides its subject."""

    material: bool = False  # a book, course, video, docs ...
    material_kinds: frozenset[str] = frozenset()  # which kinds of material it names
    project: bool = False  # a project, exercise or idea to build
    what_next: bool = False  # "I finished X, what next?"
    comparison: bool = False  # "X vs Y", "which is better"
    roadmap_done: bool = False  # "I finished the beginner roadmap"
    about_roadmap: bool = False  # "what will I be able to do after this roadmap", "how long is the whole thing"
    past_this_roadmap: bool = False  # "after finishing this roadmap, can I get a job?": past its end
    this_roadmap: bool = False  # "is this roadmap ok with zero programming?": names the roadmap followed
    goals: bool = False  # "what will I be able to do after it?": what a roadmap will have taught
    readiness: bool = False  # "is this roadmap ok for someone who only used excel?": can the learner take it on
    whole_part: bool = False  # "I finished the projects part"
    all_steps: bool = False  # "how many steps are there?": the roadmap's steps together
    within_step: bool = False  # "what's left in step 1"
    alternative: bool = False  # "any alternative?": something other than the answer it follows
    project_choice: bool = False  # "which of the 4 projects first?": a choice among the projects
    planning: bool = False  # "can I skip step 1?", "ready for step 3?": a way through the roadmap
    what_now: bool = False  # "what do I do now?": what next, if something was just said to be finished
    finished: bool = False  # "I finished step 2": says something was finished (asking nothing yet)
    start: bool = False  # "where do I start?" with no subject of its own


# Where one sentence of a question ends and the next begins, and the words a sentence needs to count as one.
_CLAUSE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")
MIN_CLAUSE_WORDS = 3


@dataclass(frozen=True)
class Question:
    """A question as every signal reads it."""

    text: str  # shorthand spelled out, typos corrected: what the encoder and BM25 read
    tokens: tuple[str, ...]  # topic words, stemmed (BM25, matching a described problem)
    words: tuple[str, ...]  # topic words as typed (how much of it the knowledge uses)
    names: tuple[NameMatch, ...]  # the documents it names (titles and aliases, typos forgiven)
    beyond: tuple[NameMatch, ...]  # subjects beyond the roadmaps it names (targets: 0)
    typed: tuple[str, ...] = field(default=())  # every word as typed, stop words too (what `names` index)
    intents: Intents = field(default_factory=Intents)

    @cached_property
    def context_words(self) -> tuple[str, ...]:
        """The topic words outside the names it matched: what surrounds "lasso" in "throw a lasso like a
        cowboy"."""
        named = {i for m in self.names for i in range(m.start, m.end)}
        return tuple(topic_words([w for i, w in enumerate(self.typed) if i not in named]))

    @cached_property
    def clauses(self) -> tuple[str, ...]:
        """Its sentences as read, when it has several of `MIN_CLAUSE_WORDS` words or more; else (). A story
        around a question ("pharmacist from Turkey. i want to predict which patient comes back for a refill.")
        reads less like the knowledge as a whole than the sentence that asks does."""
        parts = [part.strip() for part in _CLAUSE_BREAK.split(self.text)]
        clauses = tuple(part for part in parts if len(part.split()) >= MIN_CLAUSE_WORDS)
        return clauses if len(clauses) > 1 else ()

    @cached_property
    def subject_start(self) -> int:
        """Where the subject starts: the first topic word (see `name_weights`)."""
        return next((i for i, word in enumerate(self.typed) if word not in STOPWORDS), len(self.typed))


def _outside_names(pattern: re.Pattern[str], text: str, named: list[tuple[int, int]]) -> bool:
    """Whether `pattern` matches `text` outside every named span: "Hands-On ML" names a book, "prompt
    engineering" a subject; neither asks for a project."""
    return any(not any(s <= m.start() < e for s, e in named) for m in pattern.finditer(text))


def _outside_requests(names: list[NameMatch], text: str) -> list[NameMatch]:
    """The names that are not words of a request: the "next" of "what next" names no `next()` function."""
    requests = [m.span() for pattern in (_NEXT, _AFTER_FINISHING) for m in pattern.finditer(text)]
    if not requests:
        return names
    spans = word_spans(text)
    return [
        m
        for m in names
        if m.end > len(spans) or not any(s <= spans[m.start][0] and spans[m.end - 1][1] <= e for s, e in requests)
    ]


def _only_finished(text: str, names: list[NameMatch] | tuple[NameMatch, ...]) -> bool:
    """Whether the question only says something named was finished ("finished loss functions"): the learner
    reports where they are, which asks what comes next."""
    finished = _FINISHED.match(text.strip())
    if finished is None or not names:
        return False
    spans = word_spans(text)
    named = {i for m in names for i in range(m.start, m.end)}
    rest = [text[s:e] for i, (s, e) in enumerate(spans) if i not in named and s >= finished.end()]
    return not topic_words(rest)


def read_intents(
    text: str, names: list[NameMatch] | tuple[NameMatch, ...] = (), material_names: frozenset[int] = frozenset()
) -> Intents:
    """The requests of a question (plain text), with words inside names of several words not counted. A name of
    material (`material_names`: the documents that are books, courses, videos ...) asks for material in its
    own words: "where in the sklearn docs is ..." asks about the docs it names."""
    spans = word_spans(text)
    several = [m for m in names if m.end - m.start > 1 and m.end <= len(spans)]
    named = [(spans[m.start][0], spans[m.end - 1][1]) for m in several]
    not_material = [span for span, m in zip(named, several, strict=True) if m.document not in material_names]
    material = _outside_names(_MATERIAL, text, not_material)
    asked_next = bool(_NEXT.search(text)) and not _HOW_IT_CHOOSES.search(text)
    what_next = bool(
        asked_next or (_FINISHED.search(text) and _AFTER_FINISHING.search(text)) or _only_finished(text, names)
    )
    start = bool(_START.search(text)) and len(tokenize(_START.sub(" ", text))) < START_SUBJECT_WORDS
    all_steps = bool(_STEPS_AS_A_WHOLE.search(text))
    return Intents(
        material=material,
        material_kinds=frozenset(k for k, p in _MATERIAL_KINDS.items() if material and p.search(text)),
        project=_outside_names(_PROJECT, text, named),
        what_next=what_next,
        comparison=bool(_COMPARISON.search(text)),
        roadmap_done=bool(_ROADMAP_DONE.search(text)),
        about_roadmap=all_steps or bool(_ABOUT_ROADMAP.search(text) or _ALL_DONE.search(text)),
        past_this_roadmap=bool(_PAST_THIS_ROADMAP.search(text) or _ALL_STEPS_DONE.search(text)),
        this_roadmap=bool(_THIS_ROADMAP.search(text)),
        goals=bool(_GOALS.search(text)),
        readiness=bool(_READINESS.search(text)),
        whole_part=bool(_WHOLE_PART.search(text)),
        all_steps=all_steps,
        within_step=bool(_WITHIN_STEP.search(text)),
        alternative=bool(_ALTERNATIVE.search(text)),
        project_choice=bool(_PROJECT_CHOICE.search(text)),
        planning=bool(_PLANNING.search(text)),
        what_now=bool(_AFTER_FINISHING.search(text)),
        finished=bool(_FINISHED.search(text)),
        start=start,
    )


def _material(names: tuple[NameMatch, ...], index: SearchIndex | None) -> frozenset[int]:
    """The documents among those named that are material (the roadmaps' resources)."""
    if index is None:
        return frozenset()
    return frozenset(m.document for m in names if index.documents[m.document].kind == "resource")


def read_question(text: str, index: SearchIndex | None = None, beyond: NameMatcher | None = None) -> Question:
    """Read a question once: spell out shorthand and correct typos against the index's words, then find
    its words, the names it contains and what it asks for. Without an index the text is read as typed."""
    if index is not None:
        text = index.correct(index.spell_out(text))
    folded = plain(text)
    typed = name_words(text)
    topic = topic_words(typed)
    names = tuple(_outside_requests(index.name_matches(text), folded)) if index is not None else ()
    subjects = tuple(beyond.matches(_VERSIONED.sub(r"\1", folded))) if beyond is not None else ()
    return Question(
        text=text,
        tokens=tuple(stems(topic)),
        words=tuple(topic),
        names=names,
        beyond=subjects,
        typed=tuple(typed),
        intents=read_intents(folded, [*names, *subjects], _material(names, index)),
    )

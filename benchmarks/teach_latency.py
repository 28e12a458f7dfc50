"""Teach latency: from an admin's teach (`Tutor.teach`, what /admin teach runs) to the next answer that uses it.

In process, with the bundled model on the served backend: each of 20 questions the tutor declines or answers with
another entry is taught in one server, then asked again there; the clock runs from the teach call to that answer,
which must lead with the taught entry. The taught set grows by one each time, as it does on a server. The taught
file lives in the workspace, apart from the index the other benchmarks use.
"""

from __future__ import annotations

import asyncio
import logging
import time

from benchmarks.measure import JSON, Workspace, encoder_backend, ms, percentile, target
from bot.storage import MEMORY, SqliteStore
from bot.teaching import Teacher
from bot.tutor import Member, Tutor

log = logging.getLogger(__name__)

GUILD = 4242
P50_LIMIT_SECONDS = 1.0
# Questions as members might ask them, each with an entry an admin would teach for it; most are declined or
# answered with another entry before teaching (`taught_entry_first_before_teaching` counts those that are not).
TEACHES = [
    ("where can i rent a gpu cheaply", "aws-sagemaker"),
    ("is there a study group on fridays", "real-world-projects"),
    ("who painted the Mona Lisa?", "keras"),
    ("what laptop do i need for this roadmap", "cloud-platforms"),
    ("is colab good enough for the projects", "google-ai-platform"),
    ("how do I book the community gpu server", "docker"),
    ("can i get a certificate when i finish", "intermediate"),
    ("which channel do i post my project in", "project-image-classification"),
    ("how long should i spend per week", "deepen-ml"),
    ("what is the best pizza in town", "ensemble-methods"),
    ("where do i share my kaggle notebook", "kaggle-intermediate-ml"),
    ("do i need to know calculus first", "backpropagation"),
    ("can i skip the tensorflow part", "pytorch"),
    ("who runs this server", "tabular-tuning-and-ensembles"),
    ("is there a discount for the coursera course", "coursera-advanced-ml"),
    ("what should my github portfolio look like", "real-world-projects"),
    ("how do i get feedback on my code", "fastapi-docker-deployment"),
    ("is it too late to start at 40", "feedforward-networks"),
    ("what music helps you study", "optimization-algorithms"),
    ("can the bot remind me to study", "hyperparameter-tuning"),
]
QUICK = 5


def run(workspace: Workspace, quick: bool) -> JSON:
    answerer = workspace.answerer_with("auto")  # its own: what is taught here reaches no other benchmark
    teaches = TEACHES[:QUICK] if quick else TEACHES
    teacher = Teacher(workspace.root / "teach-latency" / "taught.yaml", lambda: answerer.kb, answerer)
    teacher.load()
    return asyncio.run(_measure(Tutor(answerer, SqliteStore(MEMORY), teacher=teacher), teaches)) | {
        "encoder_backend": encoder_backend(answerer.encoder),
        "model": answerer.encoder.name,
    }


async def _measure(tutor: Tutor, teaches: list[tuple[str, str]]) -> JSON:
    await tutor.store.open()
    try:
        await tutor.ask(Member(GUILD, 1), "what is regularization")  # warm-up: the first encode is slower
        totals, teaching, answering, before_first = [], [], [], 0
        for number, (question, entry) in enumerate(teaches):
            member = Member(GUILD, 100 + number)
            before = await tutor.ask(member, question)
            before_first += bool(before.results) and before.results[0].id == entry
            started = time.perf_counter()
            await tutor.teach(GUILD, question, entry)
            taught = time.perf_counter()
            answer = await tutor.ask(member, question)
            answered = time.perf_counter()
            if answer.abstained or answer.results[0].id != entry:
                raise RuntimeError(f"{question!r} was not answered with the taught {entry!r}")
            totals.append(answered - started)
            teaching.append(taught - started)
            answering.append(answered - taught)
    finally:
        await tutor.store.close()
        tutor.close()
    log.info("teach latency: %d teaches, p50 %.0f ms", len(totals), percentile(totals, 50) * 1000)

    def figures(values: list[float]) -> JSON:
        return {"p50": ms(percentile(values, 50)), "p95": ms(percentile(values, 95)), "max": ms(max(values))}

    return {
        "teaches": len(totals),
        "taught_entry_first_before_teaching": before_first,
        "teach_to_answer_ms": figures(totals),
        "teach_ms": figures(teaching),
        "answer_ms": figures(answering),
        "targets": {
            "teach_to_answer_p50": target(ms(percentile(totals, 50)), P50_LIMIT_SECONDS * 1000, "ms", strict=True)
        },
    }

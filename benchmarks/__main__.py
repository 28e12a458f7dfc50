"""`python -m benchmarks`: run the benchmarks, print one JSON summary on stdout (progress goes to stderr).

Not a test: a missed target is reported in the JSON (`targets_missed`), never as a failure. The exit
status is 1 only when a benchmark could not run at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks import (
    answering,
    cold_start,
    discord_load,
    faiss_scale,
    index_build,
    quiz_load,
    store_ops,
    teach_latency,
)
from benchmarks.machine import machine_info
from benchmarks.measure import JSON, ROOT, Workspace, run_child

log = logging.getLogger("benchmarks")

# In the order they run: the index build comes first, because the others need the index it makes.
BENCHMARKS: dict[str, Callable[[Workspace, bool], JSON]] = {
    "index_build": index_build.run,
    "answering": answering.run,
    "discord_load": discord_load.run,
    "quiz_load": quiz_load.run,
    "cold_start": cold_start.run,
    "faiss_scale": lambda _workspace, quick: faiss_scale.run(quick),
    "teach_latency": teach_latency.run,
    "store_ops": store_ops.run,
}
ENCODER_BACKENDS = ROOT / "benchmarks" / "encoder_backends.py"


def encoder_backends(_workspace: Workspace, _quick: bool) -> JSON:
    """The encoder backends compared in their own processes (benchmarks/encoder_backends.py), when present."""
    if not ENCODER_BACKENDS.exists():
        return {"skipped": "benchmarks/encoder_backends.py is not there"}
    result: JSON = json.loads(run_child([sys.executable, str(ENCODER_BACKENDS)]).check().stdout)
    return result


# Run on request only (`--only encoder_backends`): it exports the model to ONNX first, which takes a while.
OPTIONAL: dict[str, Callable[[Workspace, bool], JSON]] = {"encoder_backends": encoder_backends}
EVERY = {**BENCHMARKS, **OPTIONAL}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure Roadmap Tutor's speed and memory; prints JSON."
    )
    parser.add_argument("--quick", action="store_true", help="fewer questions and smaller sets, for a fast look")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(EVERY),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(EVERY)}",
    )
    return parser


def _missed(results: dict[str, Any]) -> list[str]:
    return [
        f"{name}.{figure}"
        for name, result in results.items()
        for figure, check in result.get("targets", {}).items()
        if check["met"] is False
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    chosen = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    summary: JSON = {"machine": machine_info(), "quick": args.quick}
    results: dict[str, Any] = {}
    workspace = Workspace.create()
    failed = False
    try:
        for name in [n for n in EVERY if n in chosen]:
            log.info("running %s", name)
            began = time.perf_counter()
            try:
                results[name] = EVERY[name](workspace, args.quick)
            except Exception as exc:
                failed = True
                traceback.print_exc()
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            results[name]["benchmark_seconds"] = round(time.perf_counter() - began, 1)
    finally:
        workspace.remove()
    summary["benchmarks"] = results
    summary["targets_missed"] = _missed(results)
    summary["total_seconds"] = round(time.perf_counter() - started, 1)
    summary["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark shares: percentiles, targets, child processes with their peak memory, a workspace."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.answering import Answerer
from bot.config import Settings
from indexer.encoders import Encoder

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
JSON = dict[str, Any]


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: a value that was actually observed, no interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def mb(kib: float) -> float:
    return round(kib / 1024, 1)


def target(value: float | None, limit: float, unit: str, *, strict: bool = False) -> JSON:
    """A figure beside its target: `value <= limit` (or `<` when strict); `met` is None when not measured."""
    met = None if value is None else (value < limit if strict else value <= limit)
    return {"value": value, "target": f"{'<' if strict else '<='} {limit:g} {unit}", "met": met}


def encoder_backend(encoder: Encoder) -> str:
    """The backend behind an encoder, in the settings' words (model.backend)."""
    kind = type(encoder).__name__
    return {"OnnxEncoder": "onnx", "SentenceTransformerEncoder": "sentence-transformers"}.get(kind, kind)


def roadmap_tutor() -> list[str]:
    """The installed `roadmap-tutor` command beside this interpreter, else the same CLI through `python -m bot`."""
    script = Path(sys.executable).with_name("roadmap-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: how long it took, when it first wrote to stdout, its peak resident memory."""

    returncode: int
    seconds: float
    cpu_seconds: float
    first_output_seconds: float | None
    peak_rss_mb: float
    stdout: str
    stderr: str

    def check(self) -> ChildRun:
        if self.returncode != 0:
            raise RuntimeError(f"child exited with {self.returncode}: {self.stderr.strip()[-2000:]}")
        return self


# A child's ru_maxrss starts from the RSS of the process it was forked from (Linux carries the high-water
# mark across fork and exec), so a command forked straight from this large process would report this
# process's memory. A tiny interpreter in between forks it instead and reports its usage to a file.
_USAGE_WRAPPER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as report:
    json.dump({"maxrss_kib": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime}, report)
sys.exit(code)
"""


def run_child(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> ChildRun:
    """Run `argv` from the repository root, timing it and measuring its peak RSS and CPU time."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r", suffix=".json") as usage_file:
        wrapped = [sys.executable, "-I", "-S", "-c", _USAGE_WRAPPER, usage_file.name, *argv]
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped, stdout=subprocess.PIPE, stderr=errors, env=env, cwd=ROOT, start_new_session=True
        )
        stdout = process.stdout
        assert stdout is not None
        killer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        try:
            first = stdout.read(1)
            first_at = time.perf_counter() - started if first else None
            output = first + stdout.read()
            process.wait()
            seconds = time.perf_counter() - started
        finally:
            killer.cancel()
            stdout.close()
        usage = json.loads(usage_file.read() or "{}")
        errors.seek(0)
        return ChildRun(
            returncode=process.returncode,
            seconds=seconds,
            # Unlike wall time, hardly changed by other work on the machine.
            cpu_seconds=round(usage.get("cpu_seconds", math.nan), 2),
            first_output_seconds=first_at,
            peak_rss_mb=mb(usage.get("maxrss_kib", math.nan)),
            stdout=output.decode("utf-8", "replace"),
            stderr=errors.read().decode("utf-8", "replace"),
        )


def stop_child(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """Interrupt a long-running child as Ctrl-C would, kill it if it lingers; returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for an error message (the workspace is deleted after the run)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def proc_status_kib(pid: int, key: str) -> int | None:
    """A `/proc/<pid>/status` memory line in KiB (VmHWM is the peak resident set so far, VmRSS the current)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Workspace:
    """A throwaway data directory and config file, so a run never touches ./data or ./config.yaml."""

    root: Path
    _answerer: Answerer | None = field(default=None, repr=False)

    @classmethod
    def create(cls) -> Workspace:
        return cls(Path(tempfile.mkdtemp(prefix="roadmap-tutor-bench-")))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def write_config(self, name: str = "config.yaml", data_dir: Path | None = None, **sections: Any) -> Path:
        """A settings file for child processes: this workspace's data directory (or `data_dir`) plus `sections`."""
        path = self.root / name
        data = {"data_dir": str(data_dir or self.data_dir), "log_level": "INFO", **sections}
        path.write_text(yaml.safe_dump(data))
        return path

    def settings(self, **sections: Any) -> Settings:
        """Settings for this process: this data directory plus `sections`."""
        return Settings.model_validate({"data_dir": str(self.data_dir), **sections})

    def answerer(self) -> Answerer:
        """The product's answerer over this workspace's index (built if missing), loaded once per run."""
        if self._answerer is None:
            self._answerer = self.answerer_with("auto")
        return self._answerer

    def answerer_with(self, backend: str) -> Answerer:
        """A new answerer whose questions are embedded by `backend` (auto, onnx, sentence-transformers)."""
        from bot.serving import open_answerer

        self.ensure_index()
        log.info("loading the answerer (model and index) with the %s backend", backend)
        return open_answerer(self.settings(model={"backend": backend}))

    def ensure_index(self) -> None:
        """Build the index of the shipped knowledge unless this workspace already has a current one."""
        from bot.serving import LazyEncoder, build, load_settings_knowledge

        settings = self.settings()
        report = build(settings, load_settings_knowledge(settings), LazyEncoder(settings))
        if not report.reused:
            log.info("built the index for the benchmarks in %.1f s", report.seconds)

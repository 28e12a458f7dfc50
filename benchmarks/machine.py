"""The machine a benchmark ran on: CPU, cores, memory, load, Python and library versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

from benchmarks.measure import JSON

LIBRARIES = (
    "torch", "faiss-cpu", "sentence-transformers", "transformers", "onnxruntime", "numpy", "discord.py",
    "roadmap-tutor",
)  # fmt: skip


def _cpuinfo(key: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        return None
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> JSON:
    return {
        "cpu_model": _cpuinfo("model name") or platform.processor() or None,
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": len(os.sched_getaffinity(0)),
        "ram_gib": _memory_gib(),
        # Other work on the machine slows every figure; the load says how busy it was.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {package: _version(package) for package in LIBRARIES},
    }

"""Compare the query encoder backends: start-up to first embedding, peak memory, per-question latency.

    python benchmarks/encoder_backends.py [--export-dir DIR]

Each backend runs in its own fresh process, so start-up and peak RSS are its alone. The ONNX export is
made first (into a temporary directory unless --export-dir holds one). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("onnx", "sentence-transformers")
SUBJECTS = [
    "gradient descent", "attention", "embeddings", "a vector database", "overfitting", "cross-validation",
    "tokenization", "fine-tuning", "RAG", "prompt engineering", "batch normalisation", "dropout",
    "transformers", "LoRA", "quantization", "evaluation metrics", "feature scaling", "random forests",
    "backpropagation", "the bias-variance trade-off",
]  # fmt: skip
TEMPLATES = [
    "what is {}?", "how does {} work?", "explain {} simply", "when should I use {}?", "why does {} matter?",
    "{} vs the alternatives?", "give me an example of {}", "common mistakes with {}", "is {} hard to learn?",
    "where do I start with {}",
]  # fmt: skip


def questions() -> list[str]:
    return [template.format(subject) for subject in SUBJECTS for template in TEMPLATES][:200]


def _peak_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def measure(backend: str, export_dir: Path) -> dict[str, object]:
    """In the child: load, embed once, then time 200 questions one by one."""
    sys.path.insert(0, str(ROOT))
    if backend == "onnx":
        from indexer.onnx_encoder import OnnxEncoder

        encoder = OnnxEncoder(export_dir)
    else:
        from indexer.encoders import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder("bundled")
    encoder.encode(["how do I get started?"])
    first_embedding_at = time.time()
    latencies = []
    for question in questions():
        started = time.perf_counter()
        encoder.encode([question])
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "first_embedding_at": first_embedding_at,
        # VmHWM belongs to this address space; ru_maxrss would carry the forking parent's high-water mark.
        "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
        "encode_ms_median": round(statistics.median(latencies), 2),
        "encode_ms_p95": round(latencies[int(len(latencies) * 0.95)], 2),
        "questions": len(latencies),
        "torch_imported": "torch" in sys.modules,
    }


def run(backend: str, export_dir: Path) -> dict[str, object]:
    launched = time.time()
    child = subprocess.run(
        [sys.executable, __file__, "--child", backend, "--export-dir", str(export_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result["start_to_first_embedding_s"] = round(result.pop("first_embedding_at") - launched, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-dir", type=Path, help="an existing ONNX export (made if missing)")
    parser.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.export_dir)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        export_dir = args.export_dir or Path(scratch) / "query-encoder"
        if not (export_dir / "export.json").is_file():
            sys.path.insert(0, str(ROOT))
            from indexer.onnx_export import export_onnx

            export_onnx("bundled", export_dir)
        report = {backend: run(backend, export_dir) for backend in BACKENDS}
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""Detoxify scoring on CPU: throughput, int8 agreement and memory. `python -m bench.scoring`.

The checkpoints are random weights in the exact shapes of the published models (bench/shapes.py),
in Detoxify's checkpoint layout, built once into var/bench/: the same compute and memory as the
real models, not their scores. `--checkpoint/--config` time a real checkpoint instead.

Side by side, on the same comments:
  a. plain Detoxify: its `predict`, one comment at a time, fp32, torch's default threads;
  b. our Scorer as the workers run it: int8, one thread per process, one process per core;
plus the steps in between, int8-vs-fp32 agreement, and RSS per worker for each shape.
Every setup is loaded once and the comments are timed in rounds, each round running every
setup in turn, so load from other programs on the machine hits them all alike.

Then Hugging Face models as a registry loads them (bench/architectures.py): int8 against fp32
per architecture (BERT-base, ELECTRA-base, XLM-R base), and the memory of a worker child
holding `unbiased` and a BERT-base Korean model. `--part` runs one half alone; `--tiny` runs
the second at toy sizes, a smoke test whose figures mean nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import architectures
from bench.comments import SENTENCES, comments
from bench.shapes import INIT_STD, SHAPES
from service.comments.intake import MAX_BATCH

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
DOCS = REPO / "docs" / "scoring.md"
DOCS_START = "<!-- bench/scoring.py results: start -->"
DOCS_END = "<!-- bench/scoring.py results: end -->"
WARMUP = 8
MEMORY_COMMENTS = 20
PARTS = ("all", "detoxify", "architectures")


@dataclass(frozen=True)
class Setup:
    name: str
    processes: int
    quantize: str = "int8"
    per_call: int = 1
    """Comments per `score` call: 1 as in quiet times, a task's worth under a backlog."""
    plain: bool = False
    per_tensor: bool = False
    """torch.ao's per-tensor dynamic int8, the fallback where the CPU can't run row-wise int8."""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer comments (~2 minutes)")
    parser.add_argument("--checkpoint", type=Path, help="a real Detoxify checkpoint to time")
    parser.add_argument("--config", type=Path, help="its transformers config/tokenizer dir")
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite results in {DOCS}")
    parser.add_argument(
        "--part",
        choices=PARTS,
        default="all",
        help="detoxify: the Detoxify scorer's setups; architectures: Hugging Face models per "
        "architecture and a worker child's memory with two models; all: both (default)",
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="with --part architectures: toy model sizes and a few comments (a smoke test, "
        "~15 s; the figures mean nothing and nothing is written)",
    )
    args = parser.parse_args(argv)
    if args.checkpoint and not args.config:
        parser.error("--checkpoint needs --config")
    if args.tiny and args.part != "architectures":
        parser.error("--tiny goes with --part architectures")
    if args.part != "architectures":
        _detoxify(args)
    if args.part != "detoxify":
        _architectures(args)


def _architectures(args: argparse.Namespace) -> None:
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    if args.tiny:
        options = architectures.Options(rounds=2, per_round=8, memory_comments=8, tiny=True)
    elif args.quick:
        options = architectures.Options(rounds=2, per_round=32, memory_comments=32)
    else:
        options = architectures.Options(rounds=6, per_round=32, memory_comments=64)
    texts = comments(options.rounds * options.per_round)
    spawn = multiprocessing.get_context("spawn")
    print(f"timing Hugging Face architectures on {len(texts)} comments", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-unbiased-") as scratch:
        if args.tiny:
            from workers.scoring.synthetic import build_checkpoint

            built = build_checkpoint(Path(scratch), "unbiased", corpus=SENTENCES)
            unbiased = (str(built.checkpoint), str(built.config_dir))
            built = build_checkpoint(Path(scratch), "original", corpus=SENTENCES)
            original = (str(built.checkpoint), str(built.config_dir))
        else:
            unbiased, original = build_variant("unbiased"), build_variant("original")
        results = architectures.run(spawn, texts, options, unbiased, original)
    import torch
    import transformers

    flags = " --part architectures" + (" --tiny" if args.tiny else " --quick" if args.quick else "")
    report = "\n".join(
        [
            f"Measured {datetime.now(UTC):%Y-%m-%d} by `python -m bench.scoring{flags}` in "
            f"{(time.monotonic() - started) / 60:.1f} min on {_cpu()}, {os.cpu_count()} cores "
            f"(1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after); "
            f"torch {torch.__version__}, transformers {transformers.__version__}.",
            "",
            *architectures.report(results),
        ]
    )
    print("\n" + report)
    if not args.tiny:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        (BENCH_DIR / "architectures.md").write_text(report + "\n", encoding="utf-8")


def _detoxify(args: argparse.Namespace) -> None:
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    rounds, per_round = (2, 32) if args.quick else (8, 40)
    texts = comments(rounds * per_round)
    cores = os.cpu_count() or 1
    spawn = multiprocessing.get_context("spawn")  # clean children: their RSS is theirs alone

    checkpoints = {variant: build_variant(variant) for variant in SHAPES}
    if args.checkpoint:
        timed = (str(args.checkpoint), str(args.config))
        model = f"`{args.checkpoint.name}` (real weights)"
    else:
        timed = checkpoints["original"]
        model = _shape_text("original")
    setups = [
        Setup("a. plain Detoxify `predict`, fp32", 1, quantize="none", plain=True),
        Setup("our Scorer, fp32, one at a time", cores, quantize="none"),
        Setup("our Scorer, int8, one at a time, one process", 1),
        Setup("our Scorer, int8, one at a time (a quiet queue)", cores),
        Setup(
            f"b. our Scorer as configured, under a backlog: int8, {MAX_BATCH} comments a task",
            cores,
            per_call=MAX_BATCH,
        ),
        Setup("per-tensor int8 (the fallback), one at a time", cores, per_tensor=True),
    ]
    print(f"timing {len(texts)} comments in {rounds} rounds on {model}", flush=True)
    pools = [ScoringPool(spawn, setup, *timed) for setup in setups]
    try:
        for pool in pools:
            pool.wait_until_loaded()
        for number in range(rounds):
            batch = texts[number * per_round : (number + 1) * per_round]
            for pool in pools:
                pool.run(batch)
            print(f"  round {number + 1}/{rounds} done", flush=True)
    finally:
        for pool in pools:
            pool.stop()
    memory = {}
    kernels = [(variant, "auto") for variant in checkpoints]
    # The fallback's memory, where the CPU can't run row-wise int8: the first variant's.
    kernels.append((next(iter(checkpoints)), "per_tensor"))
    for variant, kernel in kernels:
        checkpoint, config = checkpoints[variant]
        label = variant if kernel == "auto" else f"{variant}, per-tensor int8"
        memory[label] = _in_child(
            spawn, _memory, checkpoint, config, kernel, texts[:MEMORY_COMMENTS]
        )
        memory[label]["shape"] = SHAPES[variant].name
        memory[label]["checkpoint_mb"] = Path(checkpoint).stat().st_size / 2**20
        print(f"  memory {label}: {memory[label]['rss_mb']:.0f} MB", flush=True)

    report = _report(
        model=model,
        texts=texts,
        rounds=rounds,
        pools=pools,
        memory=memory,
        minutes=(time.monotonic() - started) / 60,
        load=(load_before, os.getloadavg()[0]),
        quick=args.quick,
    )
    print("\n" + report)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "scoring.md").write_text(report + "\n", encoding="utf-8")
    if args.update_docs:
        _update_docs(report)


class ScoringPool:
    """A setup's worker processes, loaded once, timed round after round."""

    def __init__(self, context: Any, setup: Setup, checkpoint: str, config: str) -> None:
        self.setup = setup
        self.seconds = 0.0
        self.scores: list[dict[str, float]] = []
        self._results = context.Queue()
        # Kept on self: the children unpickle it after start() returns, and a collected
        # barrier's semaphores are gone by then.
        self._barrier = context.Barrier(setup.processes)
        self._commands = [context.Queue() for _ in range(setup.processes)]
        self._processes = [
            context.Process(
                target=_timing_worker,
                args=(setup, checkpoint, config, self._barrier, commands, self._results),
            )
            for commands in self._commands
        ]
        for process in self._processes:
            process.start()
        self.ready: dict[str, Any] = {}

    def wait_until_loaded(self) -> None:
        self.ready = [self._results.get() for _ in self._processes][-1]

    def run(self, texts: list[str]) -> None:
        count = self.setup.processes
        for index, commands in enumerate(self._commands):
            commands.put((index, texts[index::count]))
        results = [self._results.get() for _ in self._processes]
        self.seconds += max(r["end"] for r in results) - min(r["start"] for r in results)
        scores: list[dict[str, float]] = [{} for _ in texts]
        for result in results:
            scores[result["index"] :: count] = result["scores"]
        self.scores += scores

    def stop(self) -> None:
        for commands in self._commands:
            commands.put(None)
        for process in self._processes:
            process.join()


def _timing_worker(
    setup: Setup, checkpoint: str, config: str, barrier: Any, commands: Any, results: Any
) -> None:
    import torch

    if setup.plain:
        score, ready = _plain_detoxify(checkpoint, config)
    else:
        score, ready = _our_scorer(checkpoint, config, setup)
    for text in SENTENCES[:WARMUP]:
        score([text])
    results.put({**ready, "threads": torch.get_num_threads(), **_memory_figures()})
    while (command := commands.get()) is not None:
        index, texts = command
        barrier.wait()
        start = time.perf_counter()
        scores = score(texts)
        results.put({"index": index, "start": start, "end": time.perf_counter(), "scores": scores})


def _plain_detoxify(checkpoint: str, config: str) -> tuple[Any, dict[str, Any]]:
    import statistics

    import torch
    import transformers
    from detoxify.detoxify import Detoxify, get_model_and_tokenizer

    transformers.utils.logging.disable_progress_bar()
    # Detoxify(checkpoint=..., huggingface_config_path=...) asks the hub for the config of
    # `model_type` anyway, so it can't load offline: this is its load_checkpoint with the local
    # directory as model_type, then its own predict, one comment per call.
    loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    renames = {"toxic": "toxicity", "identity_hate": "identity_attack"}
    renames["severe_toxic"] = "severe_toxicity"
    detox = Detoxify.__new__(Detoxify)
    detox.class_names = [renames.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
    arch = dict(loaded["config"]["arch"]["args"], model_type=config)
    detox.model, detox.tokenizer = get_model_and_tokenizer(**arch, state_dict=loaded["state_dict"])
    detox.device = "cpu"
    del loaded
    tokens = statistics.mean(len(detox.tokenizer(t)["input_ids"]) for t in comments(200))

    def score(texts: list[str]) -> list[dict[str, float]]:
        return [detox.predict(text) for text in texts]

    return score, {"tokens": tokens}


def _our_scorer(checkpoint: str, config: str, setup: Setup) -> tuple[Any, dict[str, Any]]:
    from service.settings import Settings
    from workers.scoring.scorer import load_scorer

    scorer = load_scorer(
        Settings(
            model=checkpoint,
            model_config_dir=config,
            quantize=setup.quantize,
            # As on a CPU without VNNI or AMX; "auto" elsewhere, as the workers run.
            int8_kernel="per_tensor" if setup.per_tensor else "auto",
        )
    )

    def score(texts: list[str]) -> list[dict[str, float]]:
        # As the worker calls it: one call per task, forward passes of the configured size.
        step = setup.per_call
        calls = (texts[at : at + step] for at in range(0, len(texts), step))
        return [row for call in calls for row in scorer.score(call)]

    return score, {"model_id": scorer.model_id}


def _in_child(context: Any, target: Any, *args: Any) -> dict[str, Any]:
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def _memory(checkpoint: str, config: str, kernel: str, texts: list[str], queue: Any) -> None:
    from service.settings import Settings
    from workers.scoring.scorer import load_scorer

    scorer = load_scorer(Settings(model=checkpoint, model_config_dir=config, int8_kernel=kernel))
    for text in texts:
        scorer.score([text])
    queue.put({"model_id": scorer.model_id, **_memory_figures()})


def _memory_figures() -> dict[str, float]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "peak_mb": int(status["VmHWM"].split()[0]) / 1024,
    }


def build_variant(variant: str) -> tuple[str, str]:
    from workers.scoring.synthetic import build_checkpoint

    built = build_checkpoint(
        BENCH_DIR / "checkpoints", variant, shape=SHAPES[variant], corpus=SENTENCES
    )
    return str(built.checkpoint), str(built.config_dir)


def _shape_text(variant: str) -> str:
    shape = SHAPES[variant]
    return (
        f"random weights (std {INIT_STD}) in the shape of Detoxify `{variant}` ({shape.name}: "
        f"{shape.layers} layers, hidden {shape.hidden}, {shape.heads} heads, "
        f"vocabulary {shape.vocab_size:,}, 6 labels): the same compute as the real model"
    )


def _differences(
    reference: list[dict[str, float]], other: list[dict[str, float]]
) -> dict[str, tuple[float, float]]:
    """Per label: (max, p99) of the absolute score difference."""
    result = {}
    for label in reference[0]:
        diffs = sorted(abs(a[label] - b[label]) for a, b in zip(reference, other, strict=True))
        result[label] = (diffs[-1], diffs[min(len(diffs) - 1, int(0.99 * len(diffs)))])
    return result


def _report(
    *,
    model: str,
    texts: list[str],
    rounds: int,
    pools: list[ScoringPool],
    memory: dict[str, dict[str, Any]],
    minutes: float,
    load: tuple[float, float],
    quick: bool,
) -> str:
    import torch
    import transformers

    plain, fp32, _, solo, default, _ = pools
    count = len(texts)
    base = count / plain.seconds
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `python -m bench.scoring"
        f"{' --quick' if quick else ''}` in {minutes:.1f} min on {_cpu()}, "
        f"{os.cpu_count()} cores (1-minute load average {load[0]:.1f} before, {load[1]:.1f} "
        f"after); torch {torch.__version__}, transformers {transformers.__version__}.",
        "",
        f"Model: {model}.",
        f"Comments: {count} in {rounds} interleaved rounds, {min(map(len, texts))}-"
        f"{max(map(len, texts))} characters (mean {statistics.mean(map(len, texts)):.0f}, "
        f"{plain.ready['tokens']:.0f} tokens).",
        "",
        "| setup | processes x threads | comments/s | vs plain Detoxify |",
        "| --- | --- | ---: | ---: |",
    ]
    for pool in pools:
        rate = count / pool.seconds
        lines.append(
            f"| {pool.setup.name} | {pool.setup.processes} x {pool.ready['threads']} | "
            f"{rate:.1f} | {rate / base:.1f}x |"
        )
    agreement = _differences(plain.scores, default.scores)
    coupling = _differences(solo.scores, default.scores)
    fp32_scores = [s for scores in plain.scores for s in scores.values()]
    lines += [
        "",
        f"int8 (`{default.ready['model_id']}`) against fp32 plain Detoxify on the same "
        f"{count} comments; the fp32 scores span {min(fp32_scores):.3f}-{max(fp32_scores):.3f} "
        f"(stdev {statistics.pstdev(fp32_scores):.3f}). Last column: the int8 model on a "
        f"comment alone vs among the {MAX_BATCH} of a task (0 means the same scores).",
        "",
        "| label | max abs diff | p99 abs diff | batched vs alone, max |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (worst, p99) in agreement.items():
        lines.append(f"| {label} | {worst:.4f} | {p99:.4f} | {coupling[label][0]:.4f} |")
    fp32_identical = max(w for w, _ in _differences(plain.scores, fp32.scores).values())
    lines += [
        "",
        f"Our fp32 Scorer against plain Detoxify: max abs diff {fp32_identical:.6f}.",
        "",
        f"Memory of one worker process after loading and scoring {MEMORY_COMMENTS} comments "
        f"(int8; RSS from /proc/self/status). Plain Detoxify fp32 `original`: "
        f"{plain.ready['rss_mb']:.0f} MB steady, {plain.ready['peak_mb']:.0f} MB peak.",
        "",
        "| variant | shape | checkpoint MB | steady RSS MB | peak RSS MB |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for label, figures in memory.items():
        lines.append(
            f"| {label} | {figures['shape']} | {figures['checkpoint_mb']:.0f} | "
            f"{figures['rss_mb']:.0f} | {figures['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _update_docs(report: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    head, _, rest = text.partition(DOCS_START)
    _, _, tail = rest.partition(DOCS_END)
    DOCS.write_text(f"{head}{DOCS_START}\n{report}\n{DOCS_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()

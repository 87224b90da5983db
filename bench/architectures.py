"""Hugging Face models in a worker: speed per architecture, and a worker child's memory.

Part of `python -m bench.scoring` (`--part architectures` runs only this). The checkpoints are
random weights in the sizes of published ones (bench/hf_shapes.py), written to a temporary
`MODERATION_MODELS_DIR` by transformers' `save_pretrained` and loaded as the workers load a
registry model (`workers.scoring.hf_scorer.load_hf_scorer`): the same compute and memory as
the real models, not their scores.

1. Per architecture (BERT-base, ELECTRA-base, XLM-R base), one process holds the model twice,
   int8 and fp32, and scores the same comments with both, round after round, a task's worth
   (`MAX_BATCH`) a call as under a backlog, alternating which goes first: load from elsewhere
   on the host hits both alike, so the ratio holds when the absolute figures wobble. Reported:
   comments/s, the process's CPU per comment, and how far int8 moves the scores.
2. A worker child's memory: a fresh process holding what a child holds with a Korean desk's
   registry, `unbiased` (Detoxify, random weights of its shape) and a BERT-base Korean model,
   plus the language detector and the worker's modules, scoring English and Korean comments;
   RSS from /proc/self/status once steady, and what each model added while loading.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.comments import KOREAN_SENTENCES, SENTENCES
from bench.hf_shapes import HF_SHAPES, KOREAN_BERT, HFShape, build_hf_checkpoint, tiny
from bench.shapes import SHAPES
from service.comments.intake import MAX_BATCH

PRECISIONS = ("int8", "fp32")
DETOXIFY = "detoxify"
WARMUP = 8
Job = tuple[Callable[..., None], tuple[Any, ...]]
"""A function to run in a spawned process, and its arguments but the result queue."""
MEMORY_TARGET_MB = 1300
"""The steady RSS a worker child holding `unbiased` and a BERT-base Korean model should stay
under (issue 21)."""


@dataclass(frozen=True)
class Options:
    rounds: int
    per_round: int
    memory_comments: int
    tiny: bool = False


def run(
    context: Any,
    texts: Sequence[str],
    options: Options,
    unbiased: tuple[str, str],
    original: tuple[str, str],
) -> dict[str, Any]:
    """Both figures, each measured in its own spawned process. `unbiased` and `original`:
    (checkpoint, config dir) of Detoxify checkpoints of those shapes, the first for the memory
    figure's child, the second timed beside the registry's BERT-base (the same compute)."""
    shapes = list(HF_SHAPES.values())
    korean = KOREAN_BERT
    if options.tiny:
        shapes, korean = [tiny(shape) for shape in shapes], tiny(korean)
    rounds = [
        list(texts[number * options.per_round : (number + 1) * options.per_round])
        for number in range(options.rounds)
    ]
    with tempfile.TemporaryDirectory(prefix="bench-models-") as scratch:
        models_dir = Path(scratch)
        built = {}
        for shape in [*shapes, korean]:
            started = time.monotonic()
            built[shape.name] = build_hf_checkpoint(models_dir, shape)
            print(
                f"  built {shape.name} ({built[shape.name].mb:.0f} MB safetensors) in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
        english = [*SENTENCES, *texts][: options.memory_comments]
        korean_texts = [
            KOREAN_SENTENCES[i % len(KOREAN_SENTENCES)] for i in range(options.memory_comments)
        ]
        memory_job = (
            _worker_memory,
            (*unbiased, str(models_dir), korean.name, english, korean_texts),
        )
        # A process per architecture, one after the other, so that each one's figures are its
        # own. At toy sizes, one for all, beside the memory's: the smoke test stays short.
        groups = [shapes] if options.tiny else [[shape] for shape in shapes]
        jobs: list[Job] = [
            (_time_architectures, (str(models_dir), group, rounds, original)) for group in groups
        ]
        jobs.append(memory_job)
        if options.tiny:
            results = _in_children(context, jobs)
        else:
            results = [_in_children(context, [job])[0] for job in jobs]
        speed = []
        for group, timed in zip(groups, results, strict=False):
            for shape, result in zip(group, timed["results"], strict=True):
                result |= {"shape": shape, "checkpoint_mb": built[shape.name].mb}
                rates = [result[p]["comments"] / result[p]["seconds"] for p in PRECISIONS]
                print(f"  {shape.name}: int8 {rates[0]:.1f}/s, fp32 {rates[1]:.1f}/s", flush=True)
                speed.append(result)
        memory = results[-1] | {"korean": korean, "korean_checkpoint_mb": built[korean.name].mb}
        print(f"  worker child memory: {memory['rss_mb']:.0f} MB steady", flush=True)
    return {"speed": speed, "memory": memory, "options": options}


def _in_children(context: Any, jobs: Sequence[tuple[Any, tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """Each job's (target, args) in a spawned process, all at once; their results in order."""
    started = []
    for target, args in jobs:
        queue = context.Queue()
        process = context.Process(target=target, args=(*args, queue))
        process.start()
        started.append((target, process, queue))
    results = []
    for target, process, queue in started:
        result: dict[str, Any] = queue.get()
        process.join()
        if "error" in result:
            raise SystemExit(f"{target.__name__} failed: {result['error']}")
        results.append(result)
    return results


def _registry_settings(models_dir: str, name: str, **fields: Any) -> Any:
    """Settings with `name` registered as a checkpoint directory of `models_dir`, as
    `MODERATION_MODELS='{"NAME": "NAME"}' MODERATION_MODELS_DIR=...` configures it."""
    from service.settings import Settings

    return Settings(models=json.dumps({name: name}), models_dir=Path(models_dir), **fields)


def _load_hf(models_dir: str, name: str, precision: str) -> Any:
    """The model as a worker child loads a registry id (its checks included)."""
    from service.models.registry import model_registry
    from workers.scoring.scorer import load_scorer

    quantize = "int8" if precision == "int8" else "none"
    settings = _registry_settings(models_dir, name, quantize=quantize)
    return load_scorer(settings, model_registry(settings)[name])


def _time_architectures(
    models_dir: str,
    shapes: list[HFShape],
    rounds: list[list[str]],
    original: tuple[str, str],
    queue: Any,
) -> None:
    try:
        _quiet()
        results = [
            _timed(models_dir, shape, rounds, original if shape.arch == "bert" else None)
            for shape in shapes
        ]
        queue.put({"results": results})
    except BaseException as exc:  # reported to the parent, which stops the run
        queue.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def _quiet() -> None:
    """Warnings and errors only from the service's loggers (no debug line per model loaded)."""
    from service.logging import configure_logging

    configure_logging("WARNING", json=False)


def _timed(
    models_dir: str,
    shape: HFShape,
    rounds: list[list[str]],
    original: tuple[str, str] | None,
) -> dict[str, Any]:
    """int8 and fp32 side by side; with `original`, Detoxify's BERT-base int8 too (as
    `MODERATION_MODEL` loads it), the check that a registry model runs as fast."""
    import torch

    import workers.scoring.detoxify_scorer
    import workers.scoring.hf_scorer  # noqa: F401 - imported before RSS growth is measured
    from service.settings import Settings
    from workers.memory import return_freed_memory
    from workers.scoring.scorer import load_scorer

    scorers: dict[str, Any] = {}
    figures: dict[str, dict[str, Any]] = {}
    for precision in (*PRECISIONS, DETOXIFY) if original else PRECISIONS:
        before = _memory_figures()["rss_mb"]
        started = time.perf_counter()
        if precision == DETOXIFY:
            assert original is not None
            checkpoint, config = original
            scorer = load_scorer(Settings(model=checkpoint, model_config_dir=config))
        else:
            scorer = _load_hf(models_dir, shape.name, precision)
        return_freed_memory()  # as the worker does after each model it loads
        scorers[precision] = scorer
        figures[precision] = {
            "model_id": scorer.model_id,
            "load_seconds": time.perf_counter() - started,
            "rss_growth_mb": _memory_figures()["rss_mb"] - before,
            "mapped_mb": _mapped_safetensors_mb(),
            "seconds": 0.0,
            "cpu_seconds": 0.0,
            "comments": 0,
            "scores": [],
        }
        scorer.score(list(SENTENCES[:WARMUP]))
    tokens = _mean_tokens(scorers["int8"], [text for batch in rounds for text in batch])
    for number, texts in enumerate(rounds):
        order = list(scorers) if number % 2 == 0 else list(scorers)[::-1]
        for precision in order:
            figure = figures[precision]
            wall, cpu = time.perf_counter(), time.process_time()
            for at in range(0, len(texts), MAX_BATCH):
                figure["scores"] += scorers[precision].score(texts[at : at + MAX_BATCH])
            figure["seconds"] += time.perf_counter() - wall
            figure["cpu_seconds"] += time.process_time() - cpu
            figure["comments"] += len(texts)
    differences = [
        abs(a - b)
        for left, right in zip(figures["int8"]["scores"], figures["fp32"]["scores"], strict=True)
        for a, b in zip(_probabilities(shape, left), _probabilities(shape, right), strict=True)
    ]
    for figure in figures.values():
        del figure["scores"]
    return {
        **figures,
        "threads": torch.get_num_threads(),
        "tokens": tokens,
        "max_diff": max(differences),
        "p99_diff": sorted(differences)[int(0.99 * (len(differences) - 1))],
    }


def _mean_tokens(scorer: Any, texts: list[str]) -> float:
    tokenizer = getattr(scorer, "tokenizer", None)
    if tokenizer is None:
        return math.nan
    return statistics.mean(len(tokenizer(text)["input_ids"]) for text in texts)


def _probabilities(shape: HFShape, outputs: dict[str, float]) -> list[float]:
    """The scorer answers raw logits by label; the policy applies the activation."""
    logits = [outputs[label] for label in shape.labels]
    if not shape.softmax:
        return [1 / (1 + math.exp(-value)) for value in logits]
    top = max(logits)
    exps = [math.exp(value - top) for value in logits]
    return [value / sum(exps) for value in exps]


def _worker_memory(
    checkpoint: str,
    config: str,
    models_dir: str,
    korean: str,
    english: list[str],
    korean_texts: list[str],
    queue: Any,
) -> None:
    try:
        _quiet()
        queue.put(_child_memory(checkpoint, config, models_dir, korean, english, korean_texts))
    except BaseException as exc:
        queue.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def _child_memory(
    checkpoint: str,
    config: str,
    models_dir: str,
    korean: str,
    english: list[str],
    korean_texts: list[str],
) -> dict[str, Any]:
    # What a worker child has imported before it loads a model (its parent imported it all).
    import workers.celery_app
    import workers.tasks
    from policy import preload_language_detector
    from service.models.registry import model_registry
    from workers.memory import return_freed_memory, trim_heap
    from workers.scoring.scorer import load_scorer

    # `default` is the `unbiased` checkpoint (MODERATION_MODEL), the Korean model a registry id.
    settings = _registry_settings(models_dir, korean, model=checkpoint, model_config_dir=config)
    entries = model_registry(settings)
    steps: dict[str, float] = {"modules": _memory_figures()["rss_mb"]}
    import workers.scoring.detoxify_scorer
    import workers.scoring.hf_scorer  # noqa: F401 - torch, transformers and detoxify

    steps["torch"] = _memory_figures()["rss_mb"]
    unbiased = load_scorer(settings, entries["default"])
    return_freed_memory()  # as the worker does after each model it loads
    steps["unbiased"] = _memory_figures()["rss_mb"]
    hangul = load_scorer(settings, entries[korean])
    return_freed_memory()
    steps["korean"] = _memory_figures()["rss_mb"]
    preload_language_detector()
    return_freed_memory()
    steps["detector"] = _memory_figures()["rss_mb"]
    for at in range(0, max(len(english), len(korean_texts)), MAX_BATCH):
        unbiased.score(english[at : at + MAX_BATCH])
        hangul.score(korean_texts[at : at + MAX_BATCH])
        trim_heap()  # as the worker does after its batches (at most every few seconds)
    figures = _memory_figures()
    return {
        **figures,
        "mapped_mb": _mapped_safetensors_mb(),
        "steps": steps,
        "comments": len(english) + len(korean_texts),
        "models": {"unbiased": unbiased.model_id, korean: hangul.model_id},
    }


def _memory_figures() -> dict[str, float]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "peak_mb": int(status["VmHWM"].split()[0]) / 1024,
    }


def _mapped_safetensors_mb() -> float:
    """The resident part of safetensors files still mapped into this process: the file's pages
    count in RSS for as long as any tensor of the model is a view into its mapping."""
    total_kb, mapping = 0, ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):  # a mapping's header: address range ... pathname
            mapping = fields[5] if len(fields) > 5 else ""
        elif fields[0] == "Rss:" and mapping.endswith(".safetensors"):
            total_kb += int(fields[1])
    return total_kb / 1024


def report(results: dict[str, Any]) -> list[str]:
    """The figures as Markdown lines (after bench/scoring.py's heading line)."""
    options: Options = results["options"]
    speed = results["speed"]
    memory = results["memory"]
    comments = speed[0]["int8"]["comments"]
    lines = [
        f"Per architecture: one process, {speed[0]['threads']} torch thread, the model loaded "
        f"twice (int8 and fp32) from a `MODERATION_MODELS_DIR` checkpoint of random weights; "
        f"the same {comments} comments through both in {options.rounds} alternating rounds, "
        f"{MAX_BATCH} a `score` call (a task's worth, as under a backlog). CPU is the process's "
        "(user + system) per comment.",
        "",
        "| architecture | shape | tokens a comment | int8 comments/s | fp32 comments/s | "
        "int8 / fp32 | int8 CPU ms a comment | fp32 CPU ms a comment | int8 vs fp32, "
        "max / p99 abs diff | int8 load: RSS growth MB (safetensors file still mapped) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in speed:
        shape: HFShape = result["shape"]
        int8, fp32 = result["int8"], result["fp32"]
        rate8 = int8["comments"] / int8["seconds"]
        rate32 = fp32["comments"] / fp32["seconds"]
        lines.append(
            f"| {shape.name} | {shape.describe()} | {result['tokens']:.0f} | {rate8:.1f} | "
            f"{rate32:.1f} | **{rate8 / rate32:.1f}x** | "
            f"{1000 * int8['cpu_seconds'] / int8['comments']:.1f} | "
            f"{1000 * fp32['cpu_seconds'] / fp32['comments']:.1f} | "
            f"{result['max_diff']:.4f} / {result['p99_diff']:.4f} | "
            f"{int8['rss_growth_mb']:.0f} ({int8['mapped_mb']:.0f}) |"
        )
    for result in speed:
        if DETOXIFY not in result:
            continue
        detoxify, int8 = result[DETOXIFY], result["int8"]
        lines += [
            "",
            f"Detoxify's `original` (BERT-base too; `{detoxify['model_id']}`), int8, in the same "
            f"process and rounds as {result['shape'].name}: "
            f"{detoxify['comments'] / detoxify['seconds']:.1f} comments/s, "
            f"{1000 * detoxify['cpu_seconds'] / detoxify['comments']:.1f} ms CPU a comment, "
            f"against {int8['comments'] / int8['seconds']:.1f} and "
            f"{1000 * int8['cpu_seconds'] / int8['comments']:.1f} for the registry model.",
        ]
    model_ids = ", ".join(f"`{result['int8']['model_id']}`" for result in speed)
    korean: HFShape = memory["korean"]
    steps = memory["steps"]
    verdict = "within" if memory["rss_mb"] <= MEMORY_TARGET_MB else "OVER"
    unbiased_shape = "toy sizes" if options.tiny else SHAPES["unbiased"].name
    lines += [
        "",
        f"int8 model ids: {model_ids}. The differences are between int8 and fp32 "
        "probabilities (sigmoid or softmax of the logits), over every label of every comment. "
        "The last column is the process's RSS growth while the int8 model loaded, and in "
        "brackets how much of it is the checkpoint's file, still mapped.",
        "",
        f"A worker child with `unbiased` (Detoxify, {unbiased_shape}, random weights) and "
        f"`{korean.name}` ({korean.describe()}), both int8, the language detector and the "
        f"worker's modules, after scoring {memory['comments']} comments (English to `unbiased`, "
        f"Korean to `{korean.name}`, {MAX_BATCH} a call): **{memory['rss_mb']:.0f} MB steady "
        f"RSS**, {verdict} the {MEMORY_TARGET_MB} MB target; {memory['peak_mb']:.0f} MB peak "
        f"(while a model loads). Of the steady RSS, {memory['mapped_mb']:.0f} MB is the "
        "Hugging Face model's safetensors file, still mapped because some of the model's "
        "tensors are views into it (0 when every tensor the int8 model keeps is its own copy).",
        "",
        "| step | RSS MB | added MB |",
        "| --- | ---: | ---: |",
    ]
    previous = 0.0
    names = {
        "modules": "the worker's modules imported",
        "torch": "torch, transformers and detoxify imported",
        "unbiased": "`unbiased` loaded (int8)",
        "korean": f"`{korean.name}` loaded (int8; {memory['korean_checkpoint_mb']:.0f} MB "
        "safetensors)",
        "detector": "language detector loaded",
    }
    for step, rss in steps.items():
        lines.append(f"| {names[step]} | {rss:.0f} | {rss - previous:+.0f} |")
        previous = rss
    lines.append(
        f"| after scoring {memory['comments']} comments (steady) | {memory['rss_mb']:.0f} | "
        f"{memory['rss_mb'] - previous:+.0f} |"
    )
    return lines

"""The Korean term lists against a labelled evaluation set, and what the Korean analyser costs.
`python -m bench.ko_terms`.

1. Precision, recall and F1 of ko-banned + ko-suspect on tests/data/ko-terms-eval.tsv: for
   each entry matched plainly and with the analyser (`[analysed]`, the better one is what the
   list file should mark), and overall: the lists as shipped against the same lists with the
   analyser off. `--terms DIR` reads ko-banned.txt and ko-suspect.txt from DIR instead (an
   earlier version, say: `git show REV:policy/terms/ko-banned.txt > DIR/ko-banned.txt`).
2. Each exception's use: the sentences it still clears with the lists as shipped. None means
   the analyser (or the set) leaves it nothing to do: a candidate to drop.
3. Cost: p50/p99 of the shipped policy's `evaluate` over the set's sentences with the analyser
   loaded (each sentence timed once a round, so its analysis is never a cached one), and the
   memory the analyser adds to a worker child, measured in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policy import Comment, Context, load_policy, parse_policy, preload_language_detector
from policy.normalize import fold
from policy.termlists import ANALYSED, TermList, build_term_list, entry_problem

REPO = Path(__file__).resolve().parents[1]
EVAL_SET = REPO / "tests" / "data" / "ko-terms-eval.tsv"
POLICY = REPO / "policy" / "standards-board.yaml"
LISTS = (("ko-banned", "banned"), ("ko-suspect", "suspect"))
ROUNDS = 5


@dataclass(frozen=True)
class Sample:
    expected: frozenset[str]
    text: str


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def add(self, other: Counts) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives


def read_eval_set(path: Path = EVAL_SET) -> list[Sample]:
    """`entries<TAB>sentence` lines (`-`: no entry should fire); `#` lines are comments."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        labels, text = line.split("\t")
        expected = frozenset() if labels == "-" else frozenset(labels.split(","))
        samples.append(Sample(expected, text))
    return samples


def ko_lists(terms_dir: Path | None = None) -> tuple[TermList, ...]:
    """ko-banned and ko-suspect, read by the policy loader (shipped, or from `terms_dir`)."""
    source = "file" if terms_dir else "builtin"
    items = "".join(
        f"    - {{id: {name}, language: ko, severity: {severity}, "
        f"{source}: {name}{'.txt' if terms_dir else ''}}}\n"
        for name, severity in LISTS
    )
    raw = f"terms:\n  lists:\n{items}".encode()
    policy = parse_policy(raw, source="bench", base_dir=terms_dir or Path())
    return policy.terms.lists


def can_be_analysed(entry: str) -> bool:
    return entry_problem(f"{entry} {ANALYSED}") is None


def with_analysed(term_list: TermList, analysed: Collection[str]) -> TermList:
    """The same list with exactly the entries in `analysed` matched with the analyser."""
    return build_term_list(
        id=term_list.id,
        language=term_list.language,
        severity=term_list.severity,
        entries=tuple(
            f"{entry} {ANALYSED}" if entry in analysed else entry for entry in term_list.entries
        ),
        patterns=tuple(pattern for pattern, _ in term_list.patterns),
        exceptions=term_list.exceptions,
    )


def fired(lists: Iterable[TermList], text: str) -> set[str]:
    folded = fold(text)
    return {hit.entry for term_list in lists for hit in term_list.find(folded)}


def score(lists: Sequence[TermList], samples: Iterable[Sample]) -> dict[str, Counts]:
    """Counts per entry: a sentence is one trial for every entry labelled or fired in it."""
    counts = {entry: Counts() for term_list in lists for entry in term_list.entries}
    for sample in samples:
        found = fired(lists, sample.text)
        for entry in found | sample.expected:
            entry_counts = counts.setdefault(entry, Counts())
            if entry in found and entry in sample.expected:
                entry_counts.true_positives += 1
            elif entry in found:
                entry_counts.false_positives += 1
            else:
                entry_counts.false_negatives += 1
    return counts


def overall(counts: dict[str, Counts]) -> Counts:
    total = Counts()
    for entry_counts in counts.values():
        total.add(entry_counts)
    return total


def exception_uses(lists: Sequence[TermList], samples: Iterable[Sample]) -> dict[str, int]:
    """Per exception, the sentences whose fired entries change when it alone is dropped."""
    samples = list(samples)
    uses = {}
    for index, term_list in enumerate(lists):
        for exception in term_list.exceptions:
            without = build_term_list(
                id=term_list.id,
                language=term_list.language,
                severity=term_list.severity,
                entries=tuple(
                    f"{entry} {ANALYSED}" if entry in term_list.analysed else entry
                    for entry in term_list.entries
                ),
                exceptions=tuple(other for other in term_list.exceptions if other != exception),
            )
            changed = [*lists[:index], without, *lists[index + 1 :]]
            uses[exception] = sum(
                fired(lists, sample.text) != fired(changed, sample.text) for sample in samples
            )
    return uses


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ko_terms", description=__doc__)
    parser.add_argument("--terms", type=Path, help="read ko-banned/ko-suspect.txt from here")
    parser.add_argument("--eval-set", type=Path, default=EVAL_SET)
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        print(json.dumps(_worker_child_memory()))
        return
    samples = read_eval_set(args.eval_set)
    shipped = ko_lists(args.terms)
    _evaluation(shipped, samples)
    if args.terms is None:
        _cost(samples)


def _evaluation(shipped: tuple[TermList, ...], samples: list[Sample]) -> None:
    plain = [with_analysed(term_list, ()) for term_list in shipped]
    analysed = [
        with_analysed(term_list, [e for e in term_list.entries if can_be_analysed(e)])
        for term_list in shipped
    ]
    by_plain, by_analysed, as_shipped = (
        score(lists, samples) for lists in (plain, analysed, shipped)
    )
    print(f"{len(samples)} sentences ({sum(not s.expected for s in samples)} innocent)\n")
    print(f"{'entry':14}{'support':>8}{'plain P/R/F1':>20}{'analysed P/R/F1':>20}  marked  best")
    for term_list in shipped:
        for entry in term_list.entries:
            before, after = by_plain[entry], by_analysed[entry]
            support = before.true_positives + before.false_negatives
            marked = "yes" if entry in term_list.analysed else "-"
            if not can_be_analysed(entry):
                best = "n/a"
            else:
                best = "analysed" if after.f1 > before.f1 else "plain"
            print(f"{entry:14}{support:>8}{_prf(before):>20}{_prf(after):>20}  {marked:6}  {best}")
    print()
    for name, counts in (
        ("analyser off", by_plain),
        ("analyser on every entry", by_analysed),
        ("as shipped", as_shipped),
    ):
        total = overall(counts)
        print(
            f"{name:26} precision {total.precision:.3f}  recall {total.recall:.3f}  "
            f"F1 {total.f1:.3f}  (TP {total.true_positives}, FP {total.false_positives}, "
            f"FN {total.false_negatives})"
        )
    uses = exception_uses(shipped, samples)
    unused = [exception for exception, count in uses.items() if not count]
    print(f"\nexceptions in use on the set: {len(uses) - len(unused)} of {len(uses)}")
    if unused:
        print("  unused (the analyser or the set leaves them nothing): " + ", ".join(unused))


def _cost(samples: list[Sample]) -> None:
    policy = load_policy(POLICY)
    preload_language_detector()
    cases = [
        (Comment(sample.text, "author", "article"), {"toxicity": 0.05}, Context(language="ko"))
        for sample in samples
    ]
    for case in cases:  # warm: the analyser loads on the first sentence that needs it
        policy.evaluate(*case)
    # Rounds over the whole set rather than repeats of one sentence: the analysis cache holds
    # far fewer windows than the set has, so no timing is of a cached analysis.
    rounds = []
    for _ in range(ROUNDS):
        rounds.append([_micros(policy.evaluate, case) for case in cases])
    single = sorted(timing for timings in rounds for timing in timings)
    best = sorted(map(min, zip(*rounds, strict=True)))
    memory = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.ko_terms", "--rss-child"],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        ).stdout
    )
    print(
        f"\npolicy {policy.version}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}"
    )
    print(f"analyser loaded by the first match that needs it: {memory['load_s']:.1f} s")
    print(f"evaluate over the set ({len(cases)} sentences){'p50 µs':>12}{'p99 µs':>9}{'max µs':>9}")
    for name, timings in (("every timing", single), (f"best of {ROUNDS} per sentence", best)):
        p50, p99 = (timings[int(len(timings) * q)] for q in (0.5, 0.99))
        print(f"  {name:42}{p50:>9.0f}{p99:>9.0f}{timings[-1]:>9.0f}")
    print(
        f"worker child RSS: {memory['before_mb']:.0f} MB with the policy loaded, "
        f"{memory['after_mb']:.0f} MB once the analyser is (+{memory['added_mb']:.0f} MB)"
    )


def _worker_child_memory() -> dict[str, float]:
    """What a worker child holds before and after its first comment that needs the analyser."""
    policy = load_policy(POLICY)
    preload_language_detector()
    context = Context(language="ko")
    policy.evaluate(Comment("좋은 기사 잘 읽었습니다", "a", "b"), {"toxicity": 0.0}, context)
    before = _rss_mb()
    started = time.perf_counter()
    policy.evaluate(Comment("김씨발언이 논란이 됐다", "a", "b"), {"toxicity": 0.0}, context)
    load_s = time.perf_counter() - started
    after = _rss_mb()
    return {"before_mb": before, "after_mb": after, "added_mb": after - before, "load_s": load_s}


def _micros(evaluate: Callable[..., object], case: tuple[object, ...]) -> float:
    began = time.perf_counter_ns()
    evaluate(*case)
    return (time.perf_counter_ns() - began) / 1000


def _rss_mb() -> float:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024


def _prf(counts: Counts) -> str:
    return f"{counts.precision:.2f}/{counts.recall:.2f}/{counts.f1:.2f}"


if __name__ == "__main__":
    main()

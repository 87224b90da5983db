"""Two policies' decisions on the same comments, side by side, judged against moderators.

Replay (a candidate file over stored history) and the shadow report (a second policy on live
traffic) ask the same questions, so they share this: which decisions change and because of
which rules, and, where a person judged the comment, how many harmful comments each policy
would publish (misses) and how many fine ones it would hold (extra moderator work).
Pure: the callers load the rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from service.tuning.evidence import Outcome

ACTIONS = ("approve", "hold")
EXCERPT_CHARS = 60
DEFAULT_EXAMPLES = 5


@dataclass(frozen=True)
class Verdict:
    action: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pair:
    comment_id: str
    excerpt: str | None
    current: Verdict
    candidate: Verdict
    outcome: Outcome | None = None


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """One line, at most `limit` characters: enough to recognise a comment, not to quote it."""
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass
class _Examples:
    """The first few of a kind, those where the two policies disagree listed first."""

    limit: int
    differing: list[dict[str, Any]] = field(default_factory=list)
    agreeing: list[dict[str, Any]] = field(default_factory=list)

    def add(self, example: dict[str, Any], *, differs: bool) -> None:
        bucket = self.differing if differs else self.agreeing
        if len(bucket) < self.limit:
            bucket.append(example)

    def first(self) -> list[dict[str, Any]]:
        return (self.differing + self.agreeing)[: self.limit]


class Comparison:
    """Fed one pair at a time (replays stream), then `report()`.

    `names` label the two sides in the report: ("current", "candidate") for a replay,
    ("real", "shadow") for the shadow policy. Changes read from the first to the second.
    """

    def __init__(
        self, *, names: tuple[str, str] = ("current", "candidate"), examples: int = DEFAULT_EXAMPLES
    ) -> None:
        self.names = names
        self.compared = 0
        self.confusion: Counter[tuple[str, str]] = Counter()
        self.fired: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        self.changed_by_rule: dict[str, Counter[str]] = {
            "approve_to_hold": Counter(),
            "hold_to_approve": Counter(),
        }
        self.outcomes: Counter[str] = Counter()
        self.misses = [0, 0]
        self.extra_work = [0, 0]
        self._examples = {
            name: _Examples(examples)
            for name in ("approve_to_hold", "hold_to_approve", "misses", "extra_work")
        }

    def add(self, pair: Pair) -> None:
        current, candidate = pair.current, pair.candidate
        self.compared += 1
        self.confusion[current.action, candidate.action] += 1
        self.fired[0].update(set(current.rules))
        self.fired[1].update(set(candidate.rules))
        change = _change(current.action, candidate.action)
        if change is not None:
            rules = candidate.rules if change == "approve_to_hold" else current.rules
            self.changed_by_rule[change].update(set(rules))
            self._examples[change].add(self._example(pair, rules), differs=True)
        if pair.outcome is None:
            return
        self.outcomes[pair.outcome] += 1
        differs = change is not None
        if pair.outcome == "rejected":
            for side, verdict in enumerate((current, candidate)):
                self.misses[side] += verdict.action == "approve"
            if candidate.action == "approve":
                self._examples["misses"].add(self._example(pair, current.rules), differs=differs)
        else:
            for side, verdict in enumerate((current, candidate)):
                self.extra_work[side] += verdict.action == "hold"
            if candidate.action == "hold":
                example = self._example(pair, candidate.rules)
                self._examples["extra_work"].add(example, differs=differs)

    def _example(self, pair: Pair, rules: tuple[str, ...]) -> dict[str, Any]:
        first, second = self.names
        return {
            "comment_id": pair.comment_id,
            "excerpt": pair.excerpt,
            first: pair.current.action,
            second: pair.candidate.action,
            "rules": list(dict.fromkeys(rules)),
            "outcome": pair.outcome,
        }

    def report(self) -> dict[str, Any]:
        agreed = sum(self.confusion[action, action] for action in ACTIONS)
        approve_to_hold = self.confusion["approve", "hold"]
        hold_to_approve = self.confusion["hold", "approve"]
        first, second = self.names
        rules = set(self.fired[0]) | set(self.fired[1])
        by_rule: list[dict[str, Any]] = [
            {
                "rule": rule,
                first: self.fired[0][rule],
                second: self.fired[1][rule],
                "approve_to_hold": self.changed_by_rule["approve_to_hold"][rule],
                "hold_to_approve": self.changed_by_rule["hold_to_approve"][rule],
            }
            for rule in rules
        ]
        by_rule.sort(
            key=lambda row: (
                -(row["approve_to_hold"] + row["hold_to_approve"]),
                -max(row[first], row[second]),
                row["rule"],
            )
        )
        return {
            "compared": self.compared,
            "agreement": {
                "count": agreed,
                "rate": agreed / self.compared if self.compared else None,
            },
            "confusion": {
                current: {candidate: self.confusion[current, candidate] for candidate in ACTIONS}
                for current in ACTIONS
            },
            "changes": {
                "total": approve_to_hold + hold_to_approve,
                "approve_to_hold": approve_to_hold,
                "hold_to_approve": hold_to_approve,
            },
            "by_rule": by_rule,
            "outcomes": {
                "labelled": self.outcomes.total(),
                "rejected": self.outcomes["rejected"],
                "approved": self.outcomes["approved"],
                "misses": dict(zip(self.names, self.misses, strict=True)),
                "extra_work": dict(zip(self.names, self.extra_work, strict=True)),
            },
            "examples": {name: found.first() for name, found in self._examples.items()},
        }


def _change(current: str, candidate: str) -> str | None:
    if current == candidate:
        return None
    return "approve_to_hold" if candidate == "hold" else "hold_to_approve"

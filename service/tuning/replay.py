"""Replay: what a candidate policy would have decided on the comments already decided.

Each comment is re-evaluated with the scores and context stored with its automated decision,
never re-scored, so a replay takes seconds per thousand comments, needs no model, and shows
the effect of the policy change alone. Context the candidate would have gathered differently
(a longer repeat or flood window) is not re-gathered: the stored context is what it sees.

The author rules that read an author's decided counts (new commenter, recent rejections,
auto-trust) need the figures the worker stores with each decision. Decisions stored before it
did, or whose recent figures were counted over another window than the candidate's, can't be
judged under a candidate that has those rules on: they are counted as not evaluable and left
out of the comparison, rather than guessed.

Scores are the scoring model's: a decision whose language the candidate routes to another
model than the one that scored it (a candidate that sends Korean to a Korean model, replayed
over comments the default model scored) would need scoring again, so it is not evaluable
either. Decisions stored before models had ids recorded a variant name; they count as scored
by `default`. The label maps are the candidate's too: stored scores are judged as they were
mapped when decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import policy
from service.comments.resources import isoformat
from service.db.engine import Database
from service.store.tuning import count_policy_decisions_since, list_policy_decisions_after
from service.tuning.comparison import Comparison, Pair, Verdict, excerpt
from service.tuning.judgements import collect_judgements

REPLAY_BATCH = 500


@dataclass(frozen=True)
class ReplayReport:
    since: datetime
    candidate_version: str
    current_versions: dict[str, int]
    considered: int
    skipped_purged: int
    comparison: dict[str, Any]
    not_evaluable: int = 0
    # Of `not_evaluable`: the author figures missing, or the language routed to another model.
    not_evaluable_author_figures: int = 0
    not_evaluable_other_model: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": isoformat(self.since),
            "candidate_version": self.candidate_version,
            "current_versions": self.current_versions,
            "considered": self.considered,
            "skipped_purged": self.skipped_purged,
            "not_evaluable": self.not_evaluable,
            "not_evaluable_reasons": {
                "author_figures": self.not_evaluable_author_figures,
                "other_model": self.not_evaluable_other_model,
            },
            **self.comparison,
        }


def count_replayable(db: Database, *, since: datetime) -> int:
    with db.session() as session:
        return count_policy_decisions_since(session, since=since)


def replay_policy(
    db: Database,
    *,
    candidate: policy.Policy,
    since: datetime,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Compare `candidate` with the stored automated decisions made since `since`.

    Comments whose text was purged can't be re-evaluated; they are counted and skipped, as
    are those whose stored context lacks the author figures the candidate's rules read, or
    whose language the candidate routes to another model than the one that scored them
    (`not_evaluable`).
    """
    with db.session() as session:
        labels = collect_judgements(session, since=since)
    comparison = Comparison()
    versions: Counter[str] = Counter()
    considered = skipped = 0
    unevaluable: Counter[str] = Counter()
    after_id = 0
    while True:
        with db.session() as session:
            page = list_policy_decisions_after(
                session, since=since, after_id=after_id, limit=REPLAY_BATCH
            )
        if not page:
            break
        for decision, comment in page:
            after_id = decision.id
            considered += 1
            versions[decision.policy_version or "unknown"] += 1
            if comment.text is None:
                skipped += 1
                continue
            context = policy.Context.from_dict(decision.context or {})
            if not candidate.scores_evaluable(context):
                unevaluable["other_model"] += 1
                continue
            if not candidate.author_rules_evaluable(context):
                unevaluable["author_figures"] += 1
                continue
            replayed = candidate.evaluate(
                policy.Comment(
                    text=comment.text, author_id=comment.author_id, article_id=comment.article_id
                ),
                decision.scores or {},
                context,
            )
            label = labels.get(comment.id)
            comparison.add(
                Pair(
                    comment_id=comment.id,
                    excerpt=excerpt(comment.text),
                    current=Verdict(decision.action, rules_of(decision.reasons)),
                    candidate=Verdict(
                        replayed.action, tuple(reason.rule for reason in replayed.reasons)
                    ),
                    outcome=None if label is None else label.outcome,
                )
            )
        if on_progress is not None:
            on_progress(len(page))
    return ReplayReport(
        since=since,
        candidate_version=candidate.version,
        current_versions=dict(versions.most_common()),
        considered=considered,
        skipped_purged=skipped,
        comparison=comparison.report(),
        not_evaluable=unevaluable.total(),
        not_evaluable_author_figures=unevaluable["author_figures"],
        not_evaluable_other_model=unevaluable["other_model"],
    )


def rules_of(reasons: Sequence[dict[str, Any]] | None) -> tuple[str, ...]:
    """The rule ids of stored reasons (reasons are stored as `Reason.to_dict()`)."""
    return tuple(str(reason["rule"]) for reason in reasons or () if "rule" in reason)

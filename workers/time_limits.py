"""How long each task may run: a soft limit, raised inside the task (SoftTimeLimitExceeded),
then a hard one, at which the pool kills the child and Celery reports TimeLimitExceeded.

Without them a task stuck on a hung connection or a pathological input holds its child for
ever, and the sweeper keeps re-sending its comments into more of the same. The gap between the
two lets a task that catches the soft limit note what it was doing (a `moderate` batch counts
a kill for each of its comments: workers/killed.py) before the child would be killed.

The `moderate` limit is sized for a full batch (32 comments) on a slow CPU: 75 ms of model CPU
a comment on a CPU with AVX2 only (docs/performance.md), about ten times that for 512-token
comments, doubled for a niced child sharing its core: under a minute. The soft limit leaves
twice that, and a policy reload that loads a model inside the task (workers/models.py) some
more. A batch that still runs into it is re-sent one comment per message, each of which takes
a thirty-second of the time.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.broker.contract import (
    ANALYZE_TASK,
    COUNT_KILLS_TASK,
    DELIVER_WEBHOOK_TASK,
    MODERATE_TASK,
    PURGE_TASK,
    RELAY_OUTBOX_TASK,
    SCORE_FEEDBACK_TASK,
    SWEEP_TASK,
)


@dataclass(frozen=True)
class TimeLimit:
    soft: float
    """Seconds until SoftTimeLimitExceeded is raised in the task."""
    hard: float
    """Seconds until the child running it is killed."""

    def __post_init__(self) -> None:
        if not 0 < self.soft < self.hard:
            raise ValueError(f"a soft limit comes before the hard one: {self}")


TIME_LIMITS = {
    MODERATE_TASK: TimeLimit(soft=120, hard=150),
    # One comment, while its caller waits (MODERATION_ANALYZE_TIMEOUT_SECONDS): by the soft
    # limit nobody is waiting any more.
    ANALYZE_TASK: TimeLimit(soft=30, hard=45),
    # One suggestion's text, scored once.
    SCORE_FEEDBACK_TASK: TimeLimit(soft=60, hard=90),
    # One HTTP request, bounded by MODERATION_WEBHOOK_TIMEOUT_SECONDS per phase.
    DELIVER_WEBHOOK_TASK: TimeLimit(soft=60, hard=90),
    # Reads at most 10,000 messages and re-sends at most 1,000 comments; beat runs it again.
    SWEEP_TASK: TimeLimit(soft=120, hard=150),
    RELAY_OUTBOX_TASK: TimeLimit(soft=120, hard=150),
    # Deletes in one pass whatever expired since the last: the longest, and the least urgent.
    PURGE_TASK: TimeLimit(soft=600, hard=660),
    # One UPDATE per comment of a batch.
    COUNT_KILLS_TASK: TimeLimit(soft=30, hard=45),
}
"""By task name; a task's legacy alias has the same limits."""
DEFAULT_TIME_LIMIT = TimeLimit(soft=600, hard=660)
"""The app's own, for any task registered without limits of its own (Celery's built-ins)."""

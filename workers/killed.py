"""A `moderate` batch killed while scoring: each comment it named counts a kill.

A batch dies with its child when the child is killed (the hard time limit, the OOM killer, a
signal) and is given up when it reaches its soft time limit. One comment can be the cause (a
text that makes the model run out of memory or time), but which one can't be told, and sent
again in the same batch it would take its neighbours down with it again. So the killed
task's message is acknowledged, not put back (`reject_on_worker_lost` is off for `moderate`),
and each comment it named counts a kill (`comments.kill_count`). The sweeper then finds them
missing and re-sends each alone, as it always does (workers/sweeper.py); a worker never
scores one that has been killed in a batch of several (workers/decide.py), so the others are
decided and the culprit alone is killed again. At MAX_KILLS a worker holds the comment
without scoring it, with a reason of kind `error` (rule `worker_killed`): a person must look.

Celery reports a lost child or a hard time limit in the worker's parent process
(`task_failure`, with WorkerLostError or TimeLimitExceeded), which has no runtime and must not
open the database (ParentKillCounter): it sends a `moderation.count_kills` task, which a child
runs. The soft limit is raised inside the task, in the child, which counts at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import structlog
from celery.exceptions import SoftTimeLimitExceeded

from policy import Decision, Reason
from service.broker.contract import parse_moderate_item
from service.db.engine import Database
from service.store.kills import add_kills

log = structlog.get_logger(__name__)

MAX_KILLS = 3
"""Kills after which a comment is held for a person instead of scored again."""
WORKER_KILLED_RULE = "worker_killed"

# The parent notes the tasks it counted: a hard time limit is reported as the timeout and
# again as the child's death.
_REMEMBERED_TASKS = 1000


def count_kills(db: Database, items: Sequence[str], *, cause: str) -> dict[str, int]:
    """One kill for each comment the batch's `items` name (`moderate_item`s or bare ids)
    still pending at that revision; their kill counts, by id."""
    with db.session() as session:
        counts = add_kills(session, named=[parse_moderate_item(item) for item in items])
    log.warning(
        "moderation.batch_killed",
        cause=cause,
        comment_ids=sorted(counts),
        kills=max(counts.values(), default=0),
    )
    return counts


def out_of_time(exc: BaseException) -> bool:
    """Whether `exc` is the soft time limit, or was raised while handling it: the limit
    interrupts whatever the task was doing, and a database driver interrupted mid-query
    raises its own error as the session rolls back."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, SoftTimeLimitExceeded):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def killed_decision(kills: int, *, policy_version: str) -> Decision:
    """The hold of a comment whose scoring was killed `kills` times."""
    reason = Reason.of("error", WORKER_KILLED_RULE, {"kills": kills})
    return Decision("hold", (reason,), policy_version=policy_version)


class ParentKillCounter:
    """In the worker's parent process: has each killed task's kills counted, once.

    The parent never touches the database: it forks a replacement child whenever one dies,
    and a child forked while the parent held SQLite's lock would inherit SQLite's note of it
    and never write again; and Celery reports a hard time limit from the event loop that hands
    every task to the children, which a slow database would stall. So it sends the count as a
    task (`moderation.count_kills`, on the `moderate` queue) for a child to run."""

    def __init__(self, send: Callable[[list[str], str], object]) -> None:
        self._send = send
        self._counted: OrderedDict[str, None] = OrderedDict()

    def killed(self, task_id: str, items: Sequence[str], *, cause: str) -> None:
        if task_id in self._counted:
            return
        self._counted[task_id] = None
        if len(self._counted) > _REMEMBERED_TASKS:
            self._counted.popitem(last=False)
        try:
            self._send(list(items), cause)
        except Exception as exc:
            # Uncounted, the comments are still re-sent by the sweeper; only the count is lost.
            log.error("moderation.kill_uncounted", error=type(exc).__name__, task_id=task_id)

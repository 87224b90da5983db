"""The models a worker child holds, by registry id (service/models/registry.py).

A child loads, after fork, `default` and every model the policy in force routes a language
to, logging `worker.model_loaded` for each with the growth of its resident memory while that
model loaded. A policy reload that routes to a model the child lacks loads it before the new
policy is put in force (`PolicyHolder.before_swap`); a model that fails to load rejects the
reload (`policy.reload_rejected`, naming the model) and the old policy stays.

Loading a model briefly takes about twice its final size (the fp32 weights, then the int8
copy), so on a reload the children of a host load one at a time: each holds an exclusive
`fcntl.flock` on `MODERATION_VAR_DIR/model-load.lock` while it loads. At start they load side
by side, as they always have: the host's memory must hold them all anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import structlog

import policy
from service.models.registry import DEFAULT_ID, ModelEntry
from service.process_metrics import resident_bytes
from service.settings import Settings
from workers.memory import return_freed_memory
from workers.scoring.scorer import Scorer

log = structlog.get_logger(__name__)

LOCK_NAME = "model-load.lock"

DEFAULT_MODEL_ID = DEFAULT_ID
"""The registry's id of the model `MODERATION_MODEL` names: what a comment is scored by when
no route names its language, and what analyze and feedback score with by default."""


class ModelUnloadable(Exception):
    """A model a policy routes to can't be loaded in this child; the message names it."""


@contextlib.contextmanager
def one_child_at_a_time(var_dir: Path) -> Iterator[None]:
    """Held by one process of the host at a time (the lock file lives in the var dir)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(var_dir / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


class ChildModels:
    """Loads registry models into `scorers` (the runtime's dict, shared)."""

    def __init__(
        self, settings: Settings, entries: Mapping[str, ModelEntry], scorers: dict[str, Scorer]
    ) -> None:
        self.settings = settings
        self.entries = entries
        self.scorers = scorers

    def missing(self, current: policy.Policy) -> list[str]:
        """The ids `current` needs (`default`, and every id it routes to) not loaded here."""
        wanted = {DEFAULT_MODEL_ID, *current.routes.values()}
        return sorted(wanted - set(self.scorers), key=lambda i: (i != DEFAULT_MODEL_ID, i))

    def load(self, model_id: str) -> Scorer:
        """Load one model (if not loaded yet); raises what loading raised (ModelUnloadable
        for an id the registry lacks)."""
        if model_id in self.scorers:
            return self.scorers[model_id]
        entry = self.entries.get(model_id)
        if entry is None:
            raise ModelUnloadable(f"model {model_id!r} is not in the registry (MODERATION_MODELS)")
        from workers.scoring.scorer import load_scorer

        # Measured from a trimmed heap, so the growth is the model's, not earlier garbage's.
        return_freed_memory()
        before = resident_bytes()
        scorer = load_scorer(self.settings, entry)
        return_freed_memory()
        after = resident_bytes()
        log.info(
            "worker.model_loaded",
            id=model_id,
            model_id=scorer.model_id,
            model=scorer.model_id,
            rss_mb=round((after - before) / 2**20, 1),
            rss_total_mb=round(after / 2**20, 1),
            pid=os.getpid(),
        )
        self.scorers[model_id] = scorer
        return scorer

    def load_for(self, current: policy.Policy) -> None:
        """Every model `current` needs that this child lacks (PolicyHolder.before_swap at
        start); ModelUnloadable names the first that can't be loaded."""
        for model_id in self.missing(current):
            try:
                self.load(model_id)
            except ModelUnloadable:
                raise
            except Exception as exc:
                raise ModelUnloadable(f"model {model_id!r} could not be loaded: {exc}") from exc

    def load_for_reload(self, current: policy.Policy) -> None:
        """As `load_for`, one child of the host at a time (PolicyHolder.before_swap on reload).
        A policy that needs nothing new takes no lock."""
        if not self.missing(current):
            return
        with one_child_at_a_time(self.settings.var_dir):
            self.load_for(current)

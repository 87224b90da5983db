"""The worker's parent process: what it imports before it forks, and how long a child may load."""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery.app.defaults import DEFAULTS

from service.broker.contract import ANALYZE_TASK, LEGACY_TASKS, MODERATE_TASK, TASKS
from tests.support.processes import clean_env, run_python

# Everything the parent of the prefork children runs before `worker_main` forks them.
PARENT_SCRIPT = """
import json, sys
import workers.celery_app, workers.main, workers.tasks
from service.settings import Settings
from workers.celery_app import create_celery_app

app = create_celery_app(Settings())
app.loader.import_default_modules()
heavy = ("torch", "transformers", "detoxify", "tokenizers")
print(json.dumps({
    "imported": sorted(name for name in heavy if name in sys.modules),
    "tasks": sorted(workers.celery_app.app.tasks),
    "limits": {
        name: [task.soft_time_limit, task.time_limit, task.reject_on_worker_lost, task.run.__name__]
        for name, task in workers.celery_app.app.tasks.items()
    },
    "proc_alive_timeout": app.conf.worker_proc_alive_timeout,
}))
"""


@pytest.fixture(scope="module")
def parent() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_python(PARENT_SCRIPT, clean_env()).splitlines()[-1])
    return result


def test_the_parent_never_imports_torch_or_the_model_libraries(parent: dict[str, Any]) -> None:
    # Each child loads its own model after fork; torch in the parent would be copied into
    # every child, its thread pool broken by the fork (and CUDA can't be forked at all).
    assert {MODERATE_TASK, ANALYZE_TASK} <= set(parent["tasks"]), "the tasks weren't imported"
    assert parent["imported"] == []


def test_a_slow_model_load_does_not_trip_celerys_alive_timeout(parent: dict[str, Any]) -> None:
    # The name Celery's prefork pool reads (celery/concurrency/prefork.py): a misspelt key
    # would be kept in the config and ignored.
    default = DEFAULTS["worker_proc_alive_timeout"]
    assert default == 4.0
    # A child reports itself alive only after the model loads: a cold 1 GB multilingual
    # checkpoint from a network disk, unpickled and quantized, takes minutes, not seconds.
    assert parent["proc_alive_timeout"] >= 300


def test_every_task_has_a_soft_limit_before_its_hard_one(parent: dict[str, Any]) -> None:
    """Ours and Celery's built-ins alike: nothing a worker runs may hold a child for ever."""
    limits = parent["limits"]
    assert set(TASKS) <= set(limits)
    for name, (soft, hard, _, _) in limits.items():
        assert soft is not None and hard is not None and 0 < soft < hard, name


def test_the_legacy_names_run_the_same_functions_with_the_same_limits(
    parent: dict[str, Any],
) -> None:
    """For this release: what an API or beat of the previous release queued is still done."""
    limits = parent["limits"]
    for name, legacy in LEGACY_TASKS.items():
        assert name.startswith("moderation.") and not legacy.startswith("moderation.")
        assert limits[legacy] == limits[name], legacy
    # A killed batch is acknowledged, not put back for the next child to die on.
    assert limits[MODERATE_TASK][2] is False
    assert limits[ANALYZE_TASK][2] is True

"""The worker's parent process: what it imports before it forks, and how long a child may load."""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery.app.defaults import DEFAULTS

from service.broker.contract import ANALYZE_TASK, MODERATE_TASK
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

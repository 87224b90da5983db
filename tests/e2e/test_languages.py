"""Korean comments scored by a Korean model, through a real Celery worker: a registry naming a
tiny Hugging Face checkpoint (tests/support/hf_checkpoints.py: one Korean text scores high,
another low), a policy routing `ko` to it, reloads that load a model or are rejected, and a
pickle-only checkpoint refused at start."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.db.engine import Database
from service.store.decisions import list_decisions
from tests.support.databases import BACKENDS
from tests.support.hf_checkpoints import (
    APPROVED_KO,
    HELD_KO,
    TOXIC_WORDS,
    pickle_only_checkpoint,
    tiny_hf_checkpoint,
)
from tests.support.stack import Stack, wait_for

KO_ID = "ko-tiny"
BROKEN_ID = "ko-broken"
ROUTES = """\
schema: 1
language:
  routes:
    ko: {model}
models:
  {model}:
    activation: sigmoid
    labels:
      toxicity: toxicity
      insult: insult
      threat: threat
"""
NO_ROUTES = "schema: 1\n"


@pytest.fixture(scope="session")
def ko_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hf") / KO_ID
    tiny_hf_checkpoint(directory, triggers={"toxicity": TOXIC_WORDS})
    return directory


def korean_stack(
    make_stack: Callable[..., Stack],
    backend: str,
    tmp_path: Path,
    ko_checkpoint: Path,
    *,
    policy: str,
    extra: tuple[str, ...] = (),
) -> Stack:
    """A stack whose registry holds the Korean checkpoint (and copies of it under `extra`)."""
    models = tmp_path / "models"
    for model_id in (KO_ID, *extra):
        shutil.copytree(ko_checkpoint, models / model_id)
    stack = make_stack(
        backend,
        webhook_url=None,
        webhook_secret=None,
        models=json.dumps({model_id: model_id for model_id in (KO_ID, *extra)}),
        models_dir=models,
    )
    stack.settings.policy.write_text(policy)
    return stack


def post(stack: Stack, text: str) -> dict[str, Any]:
    with stack.client() as client:
        response = client.post(
            "/v1/comments",
            json={"article_id": "a", "text": text},
            headers={**stack.auth(), "Prefer": "wait=20"},
        )
    assert response.status_code in (200, 202), response.text
    comment: dict[str, Any] = response.json()
    assert comment["status"] != "pending", comment
    return comment


def decision_row(stack: Stack, comment_id: str) -> Any:
    database = Database(stack.settings.effective_database_url)
    try:
        with database.session() as session:
            (decision,) = list_decisions(session, comment_id=comment_id)
            session.expunge(decision)
            return decision
    finally:
        database.dispose()


def log_lines(stack: Stack, event: str) -> list[dict[str, Any]]:
    found = []
    for line in stack.log("worker").splitlines():
        if f'"{event}"' in line:
            found.append(json.loads(line))
    return found


@pytest.mark.parametrize("backend", BACKENDS)
def test_korean_comments_are_scored_by_the_korean_model_after_a_reload(
    make_stack: Callable[..., Stack], backend: str, tmp_path: Path, ko_checkpoint: Path
) -> None:
    stack = korean_stack(
        make_stack, backend, tmp_path, ko_checkpoint, policy=NO_ROUTES, extra=(BROKEN_ID,)
    )
    stack.start_worker()
    assert [line["id"] for line in log_lines(stack, "worker.model_loaded")] == ["default"]
    # No route for Korean: held for a person, as before the registry.
    before = post(stack, "좋은 기사 감사합니다. 사진이 정말 인상적이네요!")
    assert before["status"] == "held"
    assert [r["kind"] for r in before["decision"]["reasons"]] == ["language"]

    # A reload that routes Korean to the Korean model loads it in the child first.
    stack.settings.policy.write_text(ROUTES.format(model=KO_ID))
    approved, held = post(stack, APPROVED_KO), post(stack, HELD_KO)
    loaded = log_lines(stack, "worker.model_loaded")
    assert [line["id"] for line in loaded] == ["default", KO_ID]
    assert loaded[1]["model_id"].startswith(f"hf:{KO_ID}@") and loaded[1]["rss_total_mb"] > 0
    assert approved["status"] == "approved", approved
    assert held["status"] == "held", held
    assert [r["rule"] for r in held["decision"]["reasons"]] == ["toxicity.toxicity"]
    for comment in (approved, held):
        row = decision_row(stack, comment["id"])
        assert row.model == loaded[1]["model_id"] == comment["decision"]["model"]
        assert (row.context["model"], row.context["language"]) == (KO_ID, "ko")
        assert "language" not in {reason["kind"] for reason in row.reasons}
    routed_version = approved["decision"]["policy_version"]

    # A reload routing Korean to a model that can't load (its weights went bad after the
    # worker started) is rejected, naming the model; the policy in force stays.
    (tmp_path / "models" / BROKEN_ID / "model.safetensors").write_bytes(b"not safetensors")
    stack.settings.policy.write_text(ROUTES.format(model=BROKEN_ID))
    after = post(stack, HELD_KO)
    (rejected,) = log_lines(stack, "policy.reload_rejected")
    assert BROKEN_ID in rejected["error"]
    assert rejected["version_in_force"] == routed_version
    assert after["decision"]["policy_version"] == routed_version
    assert decision_row(stack, after["id"]).context["model"] == KO_ID


def test_a_worker_loads_every_routed_model_at_start(
    make_stack: Callable[..., Stack], tmp_path: Path, ko_checkpoint: Path
) -> None:
    stack = korean_stack(
        make_stack, "sqlite", tmp_path, ko_checkpoint, policy=ROUTES.format(model=KO_ID)
    )
    stack.start_worker()
    loaded = wait_for(
        lambda: (
            len(log_lines(stack, "worker.model_loaded")) == 2
            and log_lines(stack, "worker.model_loaded")
        ),
        what="both models loaded",
    )
    assert [line["id"] for line in loaded] == ["default", KO_ID]
    assert all(line["rss_mb"] > 0 for line in loaded)
    assert post(stack, HELD_KO)["status"] == "held"
    assert post(stack, "Thanks for the clear reporting on the budget.")["status"] == "approved"


def test_a_pickle_only_checkpoint_is_refused_at_start(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    pickle_only_checkpoint(tmp_path / "models" / KO_ID)
    stack = make_stack(
        "sqlite",
        webhook_url=None,
        webhook_secret=None,
        models=json.dumps({KO_ID: KO_ID}),
        models_dir=tmp_path / "models",
    )
    worker = stack.start("worker", "--concurrency", "1", name="worker")
    assert worker.wait(timeout=120) == 3
    assert "pytorch_model.bin" in stack.log("worker")
    assert KO_ID in stack.log("worker")

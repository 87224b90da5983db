"""Routing comments to models by language, in-process, with real tiny checkpoints: a Detoxify
`default` and a Korean Hugging Face checkpoint (tests/support/hf_checkpoints.py) loaded by the
worker's own code (`build_runtime`), and a reload that loads a model, or is rejected.

The whole path through a real Celery worker is tests/e2e/test_languages.py."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import policy
from service.errors import ConfigurationError
from service.store.decisions import list_decisions
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from tests.support.hf_checkpoints import (
    APPROVED_KO,
    HELD_KO,
    TOXIC_WORDS,
    pickle_only_checkpoint,
    tiny_hf_checkpoint,
)
from workers.celery_app import build_runtime
from workers.decide import decide_comments
from workers.models import LOCK_NAME, one_child_at_a_time
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer
from workers.shadow import ShadowCase, ShadowPolicy, record_shadow_decisions

KO_ID = "ko-tiny"
NO_ROUTES = "schema: 1\n"
ROUTES_KO = f"""\
schema: 1
language:
  routes:
    ko: {KO_ID}
models:
  {KO_ID}:
    activation: sigmoid
    labels:
      toxicity: toxicity
      insult: insult
      threat: threat
"""
ENGLISH = "Thanks for the clear reporting on the council budget."
# Japanese: no Detoxify model reads it and no route names it.
JAPANESE = "記事をありがとうございます。とても分かりやすい説明でした。"


@pytest.fixture(scope="session")
def ko_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: scores the toxic words high on `toxicity`, anything else low."""
    directory = tmp_path_factory.mktemp("hf") / KO_ID
    tiny_hf_checkpoint(directory, triggers={"toxicity": TOXIC_WORDS})
    return directory


@pytest.fixture
def models_dir(tmp_path: Path, ko_checkpoint: Path) -> Path:
    """A models dir of this test's own (a test may break its checkpoint)."""
    shutil.copytree(ko_checkpoint, tmp_path / "models" / KO_ID)
    return tmp_path / "models"


@pytest.fixture
def make_runtime(
    database_url: str,
    tmp_path: Path,
    models_dir: Path,
    tiny_checkpoint: Callable[..., TinyCheckpoint],
) -> Iterator[Callable[..., WorkerRuntime]]:
    made: list[WorkerRuntime] = []
    default = tiny_checkpoint("original", bias=CLEAN)

    def make(policy_text: str = ROUTES_KO, **overrides: Any) -> WorkerRuntime:
        path = tmp_path / "standards-board.yaml"
        if not path.exists() or not overrides.pop("keep_policy", False):
            path.write_text(policy_text)
        settings = default.settings(
            database_url=database_url,
            policy=path,
            var_dir=tmp_path / "var",
            models=f'{{"{KO_ID}": "{KO_ID}"}}',
            models_dir=models_dir,
            **overrides,
        )
        rt = build_runtime(settings, load_model=True)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.producer.app.close()
        rt.db.dispose()


class CountingScorer:
    """A scorer that counts its calls and the texts of each."""

    def __init__(self, inner: Scorer) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.labels = inner.labels
        self.outputs_are = inner.outputs_are
        self.calls: list[int] = []

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls.append(len(texts))
        return self.inner.score(texts)


def post(rt: WorkerRuntime, *texts: str) -> list[str]:
    with rt.db.session() as session:
        return [stored_comment(session, text=text).id for text in texts]


def decision_of(rt: WorkerRuntime, comment_id: str) -> Any:
    with rt.db.session() as session:
        (decision,) = list_decisions(session, comment_id=comment_id)
        session.expunge(decision)
        return decision


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_each_comment_is_scored_by_the_model_its_language_routes_to(
    make_runtime: Callable[..., WorkerRuntime],
) -> None:
    with capture_logs() as logs:
        rt = make_runtime()
    loaded = [line for line in logs if line["event"] == "worker.model_loaded"]
    assert [line["id"] for line in loaded] == ["default", KO_ID]
    # The growth while loading (a second load in a process that held these weights before
    # may reuse freed memory: it can be about nothing), and the child's size after.
    assert all(isinstance(line["rss_mb"], float) and line["rss_total_mb"] > 0 for line in loaded)
    korean = rt.scorers[KO_ID]
    assert korean.model_id.startswith(f"hf:{KO_ID}@")
    counting = {model_id: CountingScorer(scorer) for model_id, scorer in rt.scorers.items()}
    rt.scorers.update(counting)

    ids = post(rt, APPROVED_KO, ENGLISH, HELD_KO, JAPANESE)
    actions = decide_comments(rt, ids)

    # One call per model, each with its own group of the batch.
    assert counting[KO_ID].calls == [2]
    assert counting["default"].calls == [2]
    approved_ko, english, held_ko, japanese = (decision_of(rt, i) for i in ids)
    assert actions == ["approve", "approve", "hold", "hold"]
    for decision in (approved_ko, held_ko):
        assert decision.model == korean.model_id
        assert decision.context["model"] == KO_ID
        assert decision.context["language"] == "ko"
        assert "language" not in {reason["kind"] for reason in decision.reasons}
    assert set(approved_ko.scores) == {"toxicity", "insult", "threat"}
    assert approved_ko.scores["toxicity"] < 0.01
    assert held_ko.scores["toxicity"] > 0.99
    assert [reason["rule"] for reason in held_ko.reasons] == ["toxicity.toxicity"]
    assert held_ko.reasons[0]["score"] == held_ko.scores["toxicity"]
    for decision in (english, japanese):
        assert decision.model == rt.scorers["default"].model_id
        assert decision.context["model"] == "default"
    assert english.context["language"] == "en"
    # A language no model reads: `default` scores it, and a person reads it.
    assert japanese.context["language"] == "ja"
    assert [reason["kind"] for reason in japanese.reasons] == ["language"]


def test_a_reload_that_routes_to_a_new_model_loads_it_first(
    make_runtime: Callable[..., WorkerRuntime], tmp_path: Path
) -> None:
    rt = make_runtime(NO_ROUTES)
    assert set(rt.scorers) == {"default"}
    (held_for_language,) = post(rt, HELD_KO)
    assert decide_comments(rt, [held_for_language]) == ["hold"]
    assert [r["kind"] for r in decision_of(rt, held_for_language).reasons] == ["language"]

    rt.settings.policy.write_text(ROUTES_KO)
    (approved,) = post(rt, APPROVED_KO)
    with capture_logs() as logs:
        assert decide_comments(rt, [approved]) == ["approve"]

    events = [line["event"] for line in logs]
    assert events.index("worker.model_loaded") < events.index("policy.reloaded")
    (loaded,) = [line for line in logs if line["event"] == "worker.model_loaded"]
    assert loaded["id"] == KO_ID
    assert set(rt.scorers) == {"default", KO_ID}
    assert decision_of(rt, approved).model == rt.scorers[KO_ID].model_id
    # The children of a host load one at a time, through a lock file in the var dir.
    assert (tmp_path / "var" / LOCK_NAME).exists()


def test_a_reload_whose_model_cannot_load_is_rejected_and_the_old_policy_kept(
    make_runtime: Callable[..., WorkerRuntime], models_dir: Path
) -> None:
    rt = make_runtime(NO_ROUTES)
    version = rt.policies.current().version
    # The checkpoint turns into pickle weights after the worker started.
    shutil.rmtree(models_dir / KO_ID)
    pickle_only_checkpoint(models_dir / KO_ID)

    rt.settings.policy.write_text(ROUTES_KO)
    (comment_id,) = post(rt, APPROVED_KO)
    with capture_logs() as logs:
        assert decide_comments(rt, [comment_id]) == ["hold"]

    (rejected,) = [line for line in logs if line["event"] == "policy.reload_rejected"]
    assert KO_ID in rejected["error"] and "pytorch_model.bin" in rejected["error"]
    assert rejected["version_in_force"] == version
    assert rt.policies.current().version == version
    assert set(rt.scorers) == {"default"}
    decision = decision_of(rt, comment_id)
    assert (decision.policy_version, decision.context["model"]) == (version, "default")
    assert [reason["kind"] for reason in decision.reasons] == ["language"]


def test_a_new_child_keeps_the_last_good_policy_when_a_routed_model_cannot_load(
    make_runtime: Callable[..., WorkerRuntime], models_dir: Path
) -> None:
    first = make_runtime(NO_ROUTES)
    version = first.policies.current().version
    shutil.rmtree(models_dir / KO_ID)
    pickle_only_checkpoint(models_dir / KO_ID)
    first.settings.policy.write_text(ROUTES_KO)
    with pytest.raises(ConfigurationError, match=r"pytorch_model\.bin"):
        # The registry is checked at start: a pickle-only directory is refused outright.
        make_runtime(keep_policy=True)
    # A model that disappears while the registry still holds: the last good policy.
    shutil.rmtree(models_dir / KO_ID)
    tiny_hf_checkpoint(models_dir / KO_ID)
    (models_dir / KO_ID / "model.safetensors").write_bytes(b"not safetensors")
    with capture_logs() as logs:
        second = make_runtime(keep_policy=True)
    assert second.policies.current().version == version
    assert set(second.scorers) == {"default"}
    (fallback,) = [line for line in logs if line["event"] == "policy.last_good_used"]
    assert f"model {KO_ID!r} could not be loaded" in fallback["error"]


def test_children_load_models_one_at_a_time(tmp_path: Path) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def load() -> None:
        with one_child_at_a_time(tmp_path / "var"):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_a_shadow_policy_that_routes_elsewhere_is_not_compared(
    make_runtime: Callable[..., WorkerRuntime], tmp_path: Path
) -> None:
    rt = make_runtime()
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(NO_ROUTES)
    registry = {
        "default": policy.RegisteredModel(outputs=rt.scorers["default"].labels, variant=None),
        KO_ID: policy.RegisteredModel(outputs=rt.scorers[KO_ID].labels, variant=None),
    }
    rt.shadow = ShadowPolicy(shadow, registry=registry)
    korean, english = post(rt, APPROVED_KO, ENGLISH)
    scores = {"toxicity": 0.001, "insult": 0.001, "threat": 0.001}
    cases = [
        ShadowCase(
            comment_id,
            policy.Comment(text, "r-1", "a-1"),
            scores,
            policy.Context(language=language, model=model),
            "approve",
            revision=1,
        )
        for comment_id, text, language, model in (
            (korean, APPROVED_KO, "ko", KO_ID),
            (english, ENGLISH, "en", "default"),
        )
    ]
    with capture_logs() as logs:
        assert record_shadow_decisions(rt, cases) == [None, "approve"]
    (skipped,) = [line for line in logs if line["event"] == "shadow.not_comparable"]
    assert (skipped["model"], skipped["shadow_model"]) == (KO_ID, "default")

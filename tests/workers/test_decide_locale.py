"""The worker stores reasons, and sends the webhook payload, in MODERATION_DEFAULT_LOCALE."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db.engine import Database
from service.db.tables import Decision, WebhookEvent
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY, Settings
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS
from tests.support.processes import clean_env
from workers.decide import decide_comments
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer, load_scorer

TEXT = "Write to me at someone@example.org about the council budget."
EMAIL = {
    "en": "Contains what looks like an e-mail address; readers' personal details are not "
    "published.",
    "ko": "이메일 주소로 보이는 내용이 있습니다. 독자의 개인 정보는 게시하지 않습니다.",
}


class RecordingProducer:
    """Stands in for the broker (a reason: the outbox row, not the delivery task, holds the
    payload this test reads): the webhook deliveries the worker sends are only counted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def send(self, task: str, *args: Any, countdown: float | None = None) -> bool:
        self.sent.append((task, args))
        return True


@pytest.fixture(scope="module")
def clean(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> tuple[TinyCheckpoint, Scorer]:
    checkpoint = tiny_checkpoint("original", bias=CLEAN)
    return checkpoint, load_scorer(checkpoint.settings())


def runtime(clean: tuple[TinyCheckpoint, Scorer], database_url: str, locale: str) -> WorkerRuntime:
    checkpoint, scorer = clean
    return WorkerRuntime(
        settings=checkpoint.settings(
            database_url=database_url,
            webhook_url="http://127.0.0.1:9/hook",
            default_locale=locale,
        ),
        db=Database(database_url),
        redis=None,
        producer=RecordingProducer(),  # type: ignore[arg-type]
        policies=PolicyHolder(DEFAULT_POLICY),
        scorers={"default": scorer},
    )


@pytest.fixture(params=["en", "ko"])
def rt(
    request: pytest.FixtureRequest, clean: tuple[TinyCheckpoint, Scorer], database_url: str
) -> Iterator[WorkerRuntime]:
    made = runtime(clean, database_url, request.param)
    yield made
    made.db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_reasons_are_stored_and_announced_in_the_default_locale(rt: WorkerRuntime) -> None:
    with rt.db.session() as session:
        comment_id = stored_comment(session, text=TEXT).id

    assert decide_comments(rt, [comment_id]) == ["hold"]

    with rt.db.session() as session:
        [stored] = session.scalars(select(Decision.reasons).where(Decision.by == "policy"))
        [payload] = session.scalars(
            select(WebhookEvent.payload).where(WebhookEvent.comment_id == comment_id)
        )
    [reason] = stored
    assert reason["rule"] == "personal_info.email"
    assert reason["message"] == EMAIL[rt.settings.default_locale]
    assert reason["spans"] == [{"start": 15, "end": 34}]
    assert payload["data"]["decision"]["reasons"] == [reason]


def test_a_locale_without_a_catalogue_is_a_settings_error() -> None:
    assert Settings(default_locale="KO").default_locale == "ko"
    with pytest.raises(ValueError, match=r"MODERATION_DEFAULT_LOCALE must be one of en, ko"):
        Settings(default_locale="fr")


def test_the_api_refuses_to_start_with_a_locale_without_a_catalogue(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("moderation")), "api"],
        env=clean_env(MODERATION_DEFAULT_LOCALE="ko-KR", MODERATION_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 3
    [line] = completed.stderr.splitlines()
    assert line.startswith("moderation: MODERATION_DEFAULT_LOCALE must be one of en, ko")
    assert "MODERATION_DEFAULT_LOCALE must be one of en, ko" in line and "'ko-KR'" in line

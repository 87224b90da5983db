"""Scoring one `comments:analyze` request: the model's raw scores, back to the waiting API.

Nothing is stored: the text arrives in the task, the scores go to a Redis list that the API
pops (and that expires on its own), and no log line carries the text.

The model reads `MODERATION_MAX_TOKENS` tokens (256 by default, about 1,000 characters of
English), while Perspective takes up to 20 KB. A longer text is scored in pieces of whole
sentences, up to `PIECE_CHARS` each, and each label takes its highest piece's score, so an
insult at the end of a long comment still counts. Spans, when asked for, score each sentence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import redis
import structlog
from prometheus_client import Histogram

import policy
from service.broker.contract import ANALYZE_RESULT_PREFIX
from service.model_catalogue import variant_of
from service.perspective.analysis import RESULT_TTL_SECONDS
from service.perspective.text import piece_spans, segment_spans
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer

log = structlog.get_logger(__name__)

PIECE_CHARS = 400

ANALYZE_SECONDS = Histogram(
    "moderation_analyze_seconds",
    "Worker time per analyze request, every piece and span included",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)


class _Expired(Exception):
    """The caller's deadline passed: nobody is waiting for the rest."""


def analyze_request(rt: WorkerRuntime, payload: Mapping[str, Any]) -> str:
    """ "answered", "expired" or "failed"; the answer itself goes to Redis."""
    assert rt.scorer is not None, "analyze tasks run only where the model is loaded"
    request_id = str(payload["request_id"])
    deadline = float(payload["deadline"])
    started = time.perf_counter()
    try:
        result = analyze_text(
            rt.scorer,
            str(payload["text"]),
            spans=bool(payload.get("spans")),
            deadline=deadline,
            covered=rt.policies.current().language.covered(
                variant_of(rt.settings.model) or "custom"
            ),
        )
        outcome = "answered"
    except _Expired:
        log.info("perspective.analyze_expired", request_id=request_id)
        return "expired"
    except Exception:
        log.exception("perspective.analyze_failed", request_id=request_id)
        result, outcome = {"error": "scoring_failed"}, "failed"
    elapsed = time.perf_counter() - started
    ANALYZE_SECONDS.observe(elapsed)
    _push(rt.redis, request_id, result)
    log.info(
        "perspective.analyze_done",
        request_id=request_id,
        outcome=outcome,
        ms=round(elapsed * 1000, 1),
    )
    return outcome


def analyze_text(
    scorer: Scorer, text: str, *, spans: bool, deadline: float, covered: frozenset[str]
) -> dict[str, Any]:
    """Every label's summary score (and each sentence's, with `spans`), the detected
    language and the languages the model reads. Offsets are code points."""
    scored: dict[str, dict[str, float]] = {}

    def score(piece: str) -> dict[str, float]:
        if piece not in scored:
            if time.time() > deadline:
                raise _Expired
            scored[piece] = scorer.score([piece])[0]
        return scored[piece]

    segments = segment_spans(text, max_chars=PIECE_CHARS)
    if len(text) <= PIECE_CHARS or not segments:
        pieces = [text]
    else:
        pieces = [text[begin:end] for begin, end in piece_spans(segments, max_chars=PIECE_CHARS)]
    rows = [score(piece) for piece in pieces]
    summary = {label: max(row[label] for row in rows) for label in scorer.labels}
    span_scores = (
        [[begin, end, score(text[begin:end])] for begin, end in segments] if spans else None
    )
    return {
        "model": scorer.model_id,
        "labels": list(scorer.labels),
        "summary": summary,
        "spans": span_scores,
        "detected": policy.detect_language(text),
        "covered": sorted(covered),
    }


def _push(client: redis.Redis | None, request_id: str, result: dict[str, Any]) -> None:
    if client is None:
        log.warning("perspective.no_redis", request_id=request_id)
        return
    key = ANALYZE_RESULT_PREFIX + request_id
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps(result))
            pipe.expire(key, RESULT_TTL_SECONDS)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("perspective.result_lost", request_id=request_id, error=type(exc).__name__)

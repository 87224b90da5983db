"""Scoring one `comments:analyze` request: the model's raw scores, back to the waiting API.

Nothing is stored: the text arrives in the task, the scores go to a Redis list that the API
pops (and that expires on its own), and no log line carries the text.

The model reads `MODERATION_MAX_TOKENS` tokens (256 by default, about 1,000 characters of
English), while Perspective takes up to 20 KB. A longer text is scored in pieces of whole
sentences, up to `PIECE_CHARS` each, and each label takes its highest piece's score, so an
insult at the end of a long comment still counts. Spans, when asked for, score each sentence.

The model is the one the policy routes the request's language to (service/perspective/
routing.py): named in the task when the request's languages chose it, else routed here from
the detected language, as a comment is. Its outputs become the service's labels as the policy
says (`Policy.model_scores`: the activation, then the label map), piece by piece.
"""

from __future__ import annotations

import enum
import functools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
import structlog
from prometheus_client import Histogram

import policy
from service.broker.contract import ANALYZE_RESULT_PREFIX
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


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def analyze_request(rt: WorkerRuntime, payload: Mapping[str, Any]) -> str:
    """ "answered", "expired" or "failed"; the answer itself goes to Redis."""
    request_id = str(payload["request_id"])
    deadline = float(payload["deadline"])
    started = time.perf_counter()
    model_id: str | None = None
    try:
        current = rt.policies.current()
        text = str(payload["text"])
        detected = policy.detect_language(text)
        model_id = route_analysis(current, payload, detected)
        if model_id is None:
            result: dict[str, Any] = {"routed": None, "detected": detected}
        else:
            scorer = rt.scorers.get(model_id)
            if scorer is None:
                # The holder puts a policy in force only once its models are loaded here, so
                # this is an API whose policy routes to a model this worker's policy doesn't.
                raise LookupError(f"model {model_id!r} is not loaded in this worker")
            result = analyze_text(
                scorer,
                text,
                spans=bool(payload.get("spans")),
                deadline=deadline,
                convert=functools.partial(
                    current.model_scores, model_id, logits=scorer.outputs_are == "logits"
                ),
                detected=detected,
            )
            result["routed"] = model_id
        outcome = "answered"
    except _Expired:
        log.info("perspective.analyze_expired", request_id=request_id, model_id=model_id)
        return "expired"
    except Exception:
        log.exception("perspective.analyze_failed", request_id=request_id, model_id=model_id)
        result, outcome = {"error": "scoring_failed"}, "failed"
    elapsed = time.perf_counter() - started
    ANALYZE_SECONDS.observe(elapsed)
    _push(rt.redis, request_id, result)
    log.info(
        "perspective.analyze_done",
        request_id=request_id,
        outcome=outcome,
        model_id=model_id,
        ms=round(elapsed * 1000, 1),
    )
    return outcome


def route_analysis(
    current: policy.Policy, payload: Mapping[str, Any], detected: str | None
) -> str | None:
    """The model the request is scored with: the one the API chose from its languages; for a
    request that names none, the one its detected language routes to, as a comment's does
    (None: no model reads it); None too when the API found no model for its languages."""
    if not payload.get("score", True):
        return None
    chosen = payload.get("model")
    if chosen is not None:
        return str(chosen)
    return current.route(detected)


def analyze_text(
    scorer: Scorer,
    text: str,
    *,
    spans: bool,
    deadline: float,
    convert: Callable[[Mapping[str, float]], dict[str, float]] | None = None,
    detected: str | _Unset | None = _UNSET,
) -> dict[str, Any]:
    """Every label's summary score (and each sentence's, with `spans`), and the detected
    language (detected here unless given). `convert` turns a piece's raw outputs into the
    service's labels (the policy's `model_scores` for the model); the outputs as they are
    without it. Offsets are code points."""
    scored: dict[str, dict[str, float]] = {}

    def score(piece: str) -> dict[str, float]:
        if piece not in scored:
            if time.time() > deadline:
                raise _Expired
            outputs = scorer.score([piece])[0]
            scored[piece] = convert(outputs) if convert is not None else outputs
        return scored[piece]

    segments = segment_spans(text, max_chars=PIECE_CHARS)
    if len(text) <= PIECE_CHARS or not segments:
        pieces = [text]
    else:
        pieces = [text[begin:end] for begin, end in piece_spans(segments, max_chars=PIECE_CHARS)]
    rows = [score(piece) for piece in pieces]
    # Each label's highest piece, after the activation and label map: a softmax is per piece.
    summary = {label: max(row[label] for row in rows) for label in rows[0]}
    span_scores = (
        [[begin, end, score(text[begin:end])] for begin, end in segments] if spans else None
    )
    return {
        "model": scorer.model_id,
        "labels": list(summary),
        "summary": summary,
        "spans": span_scores,
        "detected": policy.detect_language(text) if isinstance(detected, _Unset) else detected,
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

from __future__ import annotations

import json

from policy import Comment, Context, Decision, Policy, Reason, normalize, text_digest
from tests.support.policies import evaluate


def test_context_round_trips_through_json() -> None:
    context = Context(
        author={"approved": 3, "rejected": 1, "held": 0, "always_hold": False, "trusted": True},
        article={"premoderated": False, "closed": False},
        flood_count=4,
        recent_digests=(text_digest("one"), text_digest("two")),
        language="ko",
        model="multilingual",
    )
    assert Context.from_dict(json.loads(json.dumps(context.to_dict()))) == context


def test_the_context_keeps_digests_never_texts() -> None:
    text = "Vote for Smith on Thursday"
    context = Context(recent_digests=(text_digest(normalize(text)),))
    stored = json.dumps(context.to_dict())
    assert normalize(text) not in stored and "recent_texts" not in stored
    assert len(context.recent_digests[0]) == 16
    assert text_digest("a") != text_digest("b")


def test_a_context_recorded_with_texts_replays_as_digests(shipped: Policy) -> None:
    text = "Vote for Smith on Thursday"
    old = Context.from_dict({"recent_texts": [normalize(text), "other"]})
    assert old.recent_digests == (text_digest(normalize(text)), text_digest("other"))
    (reason,) = evaluate(shipped, text, recent_digests=old.recent_digests).reasons
    assert reason.kind == "repeat"


def test_context_from_an_old_record_gets_defaults() -> None:
    assert Context.from_dict({}) == Context()
    assert Context.from_dict({"author": None, "flood_count": None, "language": None}) == Context()
    assert Context().model == "default"


def test_replay_of_a_stored_decision_is_identical(shipped: Policy) -> None:
    comment = Comment("f4ck, spam.biz, 010-1234-5678", "author-1", "article-1")
    context = Context(
        author={"trusted": False},
        flood_count=7,
        recent_digests=(text_digest(normalize("f4ck, spam.biz, 010-1234-5678")),),
        language="ko",
    )
    scores = {"threat": 0.7, "muslim": 0.8}
    first = shipped.evaluate(comment, scores, context)
    stored = json.dumps({"context": context.to_dict(), "decision": first.to_dict()})
    replayed = shipped.evaluate(comment, scores, Context.from_dict(json.loads(stored)["context"]))
    assert replayed == first
    assert json.loads(stored)["decision"] == replayed.to_dict()


def test_reason_to_dict_flattens_evidence() -> None:
    reason = Reason(kind="flood", rule="flood", message="m", evidence={"count": 3})
    assert reason.to_dict() == {"kind": "flood", "rule": "flood", "message": "m", "count": 3}


def test_decision_without_reasons_approves() -> None:
    decision = Decision.from_reasons((), policy_version="sha256:0")
    assert decision.to_dict() == {"action": "approve", "reasons": [], "policy_version": "sha256:0"}


def test_clean_comment_is_approved(shipped: Policy) -> None:
    decision = evaluate(shipped, "Thanks for the thoughtful reporting on the council vote.")
    assert decision.action == "approve"
    assert decision.reasons == ()

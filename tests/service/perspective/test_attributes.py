"""Attribute names with a model version (`TOXICITY@6`): read, scored as the attribute, and
answered under the name asked. (Through the routes and a worker: tests/service/perspective/
test_routes.py and tests/e2e/test_perspective_clients.py.)"""

from __future__ import annotations

import pytest

from service.perspective.analyze import parse_analyze_request, render_analysis
from service.perspective.errors import PerspectiveError

SUMMARY = {"toxicity": 0.9, "insult": 0.2, "obscene": 0.1}


def test_a_versioned_attribute_is_answered_under_the_name_asked() -> None:
    request = parse_analyze_request(
        {
            "comment": {"text": "you clown"},
            "requestedAttributes": {"TOXICITY@6": {}, "INSULT": {}, "PROFANITY@2": {}},
        },
        labels=frozenset(SUMMARY),
    )
    answer = render_analysis(
        request, {"summary": SUMMARY, "labels": list(SUMMARY), "detected": "en"}
    )
    scores = answer["attributeScores"]
    assert list(scores) == ["TOXICITY@6", "INSULT", "PROFANITY@2"]
    assert scores["TOXICITY@6"]["summaryScore"] == {"value": 0.9, "type": "PROBABILITY"}
    assert scores["PROFANITY@2"]["summaryScore"]["value"] == 0.1


def test_a_versioned_attribute_the_model_lacks_is_unknown_under_its_name() -> None:
    with pytest.raises(PerspectiveError) as raised:
        parse_analyze_request(
            {"comment": {"text": "hi"}, "requestedAttributes": {"THREAT@3": {}}},
            labels=frozenset(SUMMARY),
        )
    assert raised.value.message == "Unknown requested attribute: THREAT@3"
    request = parse_analyze_request(
        {"comment": {"text": "hi"}, "requestedAttributes": {"THREAT@3": {}}}
    )
    with pytest.raises(PerspectiveError) as raised:
        render_analysis(request, {"summary": SUMMARY, "labels": list(SUMMARY)})
    assert raised.value.message == "Unknown requested attribute: THREAT@3"

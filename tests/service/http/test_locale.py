"""Accept-Language against the catalogued locales, and reasons rendered in the chosen one."""

from __future__ import annotations

from typing import Any

import pytest

from service.http.locale import localise_reasons, negotiate


@pytest.mark.parametrize(
    ("header", "default", "chosen"),
    [
        (None, "en", "en"),
        ("", "ko", "ko"),
        ("ko", "en", "ko"),
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "en", "ko"),
        ("en-GB, ko;q=0.5", "ko", "en"),
        # q-values decide, not the order written.
        ("en;q=0.4, ko;q=0.8", "en", "ko"),
        ("ko;q=0.4, EN;q=0.8", "ko", "en"),
        # Equal q: the first written.
        ("en, ko", "ko", "en"),
        # Unsupported languages fall to the default; so does q=0 (not acceptable).
        ("fr-FR, de;q=0.9", "ko", "ko"),
        ("fr, ko;q=0", "en", "en"),
        ("fr, *;q=0.1", "ko", "ko"),
        ("*", "en", "en"),
        # `kok` (Konkani) is not Korean; malformed q counts as 0.
        ("kok", "en", "en"),
        ("ko;q=abc, en;q=0.2", "ko", "en"),
        ("ko;q=2", "en", "en"),
        ("ko; Q=0.5 ; level=1", "en", "ko"),
        (",,;q=1", "en", "en"),
    ],
)
def test_negotiation(header: str | None, default: str, chosen: str) -> None:
    assert negotiate(header, default=default) == chosen


PREMODERATED = {"kind": "article", "rule": "article.premoderated", "message": "stored"}
OLD = {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.74"}
MODERATOR_LIKE = {"kind": "moderator", "rule": "x", "message": "Looked fine."}


def test_every_reasons_list_at_any_depth_is_rendered() -> None:
    body: dict[str, Any] = {
        "items": [
            {
                "decision": {"reasons": [PREMODERATED, OLD]},
                "parent": {"decision": {"reasons": [MODERATOR_LIKE]}},
            }
        ],
        "reasons": {"not": "a list"},
        "message": "stays",
    }
    rendered = localise_reasons(body, "ko")
    item = rendered["items"][0]
    assert item["decision"]["reasons"] == [
        {
            **PREMODERATED,
            "message": "사전 검토 대상 기사입니다. "
            "이 기사에 달린 댓글은 모두 운영자의 확인을 기다립니다.",
        },
        OLD,
    ]
    assert item["parent"]["decision"]["reasons"] == [MODERATOR_LIKE]
    assert rendered["reasons"] == {"not": "a list"}
    assert rendered["message"] == "stays"
    # The body it was given is left as it was.
    assert body["items"][0]["decision"]["reasons"][0]["message"] == "stored"


def test_reason_lists_of_other_shapes_pass_through() -> None:
    assert localise_reasons({"reasons": ["spam", 3, {"code": "spam"}]}, "ko") == {
        "reasons": ["spam", 3, {"code": "spam"}]
    }

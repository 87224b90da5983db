from __future__ import annotations

import pytest

from policy import Policy, detect_language, preload_language_detector
from tests.policy.conftest import evaluate


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The mayor should resign before the next council meeting.", "en"),
        ("I live here and it is fine, the new tram line is great", "en"),
        ("Ceci est un commentaire en français sur la politique locale.", "fr"),
        ("Esto es una vergüenza, el alcalde debe dimitir ya.", "es"),
        ("Das ist doch Unsinn, der Bürgermeister muss zurücktreten.", "de"),
        ("Это комментарий на русском языке, очень интересно.", "ru"),
        ("이 기사 정말 좋네요. 감사합니다!", "ko"),
        ("시장은 사퇴해야 합니다", "ko"),
        ("これは日本語のコメントです、ありがとう", "ja"),
        ("ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", "ko"),
    ],
)
def test_languages_are_detected(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "lol ok",
        "ok",
        "Good riddance",  # short English the detector would call Danish
        "Utter rubbish",
        "taxes taxes taxes",
        "great article, 감사합니다",  # mixed scripts
        "https://example.com/a/very/long/path/indeed @someone #hashtag me@example.com",
        "12345 !!! 👍👍👍",
        "",
    ],
)
def test_too_short_or_mixed_to_tell(text: str) -> None:
    assert detect_language(text) is None


def test_preload_is_harmless_to_repeat() -> None:
    preload_language_detector()
    preload_language_detector()
    assert detect_language("The mayor should resign before the next council meeting.") == "en"


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("lol ok", False),
        ("이 기사 정말 좋네요. 감사합니다!", True),
        ("The mayor should resign before the next council meeting.", False),
        ("Ceci est un commentaire en français sur la politique locale.", True),
    ],
)
def test_worker_flow_under_the_default_model(shipped: Policy, text: str, held: bool) -> None:
    decision = evaluate(shipped, text, language=detect_language(text))
    assert (decision.action == "hold") is held

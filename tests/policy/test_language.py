from __future__ import annotations

import pytest

from policy import Policy, RegisteredModel, detect_language, load_policy, preload_language_detector
from policy.language import (
    DETECTABLE_LANGUAGES,
    LANGUAGE_CODES,
    language_detector,
    language_identifiers,
)
from tests.support.policies import SHIPPED, evaluate

SWAHILI = (
    "Serikali inapaswa kuwekeza zaidi katika elimu ya watoto. Walimu wanastahili mishahara bora."
)
ESPERANTO = "Ĉu vi scias kie estas la stacidomo? Mi bezonas iri al la centro de la urbo."


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
        # Long text in none of the detectable languages: the restricted detector would be
        # unsure (Swahili) or wrongly sure (this Esperanto reads as Spanish to it).
        (SWAHILI, "sw"),
        (ESPERANTO, "eo"),
        ("Is maith liom an t-alt seo go mór, ba chóir don mhéara éirí as láithreach.", "ga"),
        # Long English full of slang and foreign names is still English.
        (
            "lmao this is so dumb bruh ngl fr fr no cap, the mayor is a clown and everyone knows",
            "en",
        ),
        (
            "Kwame Nkrumah and Jomo Kenyatta were named, but the article missed Julius Nyerere.",
            "en",
        ),
        ("Utter rubbish from start to finish, sack the editor", "en"),
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
        "Hii ni aibu kubwa sana",  # short Swahili: too short to trust the detector
        # Long, but not in any language: laughter reads as Sesotho, though not surely.
        "hahaha hahaha hahaha hahaha hahaha hahaha hahaha hahaha",
        "hahahahahahahahahahaha hahahahahahahaha hahahahahahaha",
        "lolololololololololololololololololololol",
        "asdfgh jklqwe rtyuio pzxcvb nmasdf ghjklq wertyu iopzxc",  # "no linguistic content"
        "xkcd bfgt wqzp lmnv hjgk xkcd bfgt wqzp lmnv hjgk",  # sure it is no language at all
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
        (SWAHILI, True),
        (ESPERANTO, True),
    ],
)
def test_worker_flow_under_the_default_model(shipped: Policy, text: str, held: bool) -> None:
    decision = evaluate(shipped, text, language=detect_language(text))
    assert (decision.action == "hold") is held


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("Mi piace molto questo articolo, il sindaco dovrebbe dimettersi subito.", False),
        ("Esto es una vergüenza, el alcalde debe dimitir ya.", False),
        (ESPERANTO, True),  # not Spanish, though the restricted detector is sure it is
        (SWAHILI, True),
        ("lol ok", False),
    ],
)
def test_worker_flow_under_the_multilingual_model(text: str, held: bool) -> None:
    shipped = load_policy(SHIPPED, registry={"default": RegisteredModel(None, "multilingual")})
    decision = evaluate(shipped, text, language=detect_language(text))
    assert (decision.action == "hold") is held


def test_every_code_the_detector_answers_with_can_be_named_in_a_policy() -> None:
    _, unrestricted = language_identifiers()
    assert set(unrestricted.nb_classes) - {"zxx"} <= LANGUAGE_CODES


# Texts of every kind the detector answers on: scripts, cases, lengths, links, nothing.
LIBRARY_CASES = [
    "The mayor should resign before the next council meeting.",
    "THE MAYOR SHOULD RESIGN BEFORE THE NEXT COUNCIL MEETING.",
    "Ceci est un commentaire en français sur la politique locale.",
    "Das ist doch Unsinn, der Bürgermeister muss zurücktreten.",
    "Это комментарий на русском языке, очень интересно.",
    "これは日本語のコメントです、ありがとう",
    "Србија је лепа земља и ово је коментар на српском",  # noqa: RUF001 - Cyrillic, on purpose
    "Το άρθρο είναι πολύ καλό και ενδιαφέρον",  # noqa: RUF001 - Greek, on purpose
    "هذا تعليق باللغة العربية عن السياسة المحلية",
    SWAHILI,
    ESPERANTO,
    "hahaha hahaha hahaha hahaha hahaha hahaha hahaha hahaha",
    "asdfgh jklqwe rtyuio pzxcvb nmasdf ghjklq wertyu iopzxc",
    "see https://example.com/x and mail me@example.com #news @editor",
    "12345 !!! 👍👍👍",
    "",
]


@pytest.mark.parametrize("text", LIBRARY_CASES)
def test_one_walk_gives_the_librarys_own_answers(text: str) -> None:
    """The detector walks a text once for both of py3langid's answers; they are the very
    numbers `rank` and the restricted identifier's `classify` give."""
    restricted, unrestricted = language_identifiers()
    features = language_detector().features(text)
    assert language_detector().restricted(features) == restricted.classify(text)
    ranked = unrestricted.rank(text)
    best, confidence, detectable = language_detector().unrestricted(features)
    assert (best, confidence) == ranked[0]
    expected = sum(share for code, share in ranked if code in DETECTABLE_LANGUAGES)
    assert detectable == pytest.approx(expected, abs=1e-6)


def test_ascii_and_other_letters_count_alike() -> None:
    # The ASCII path counts letters without looking each one up; a non-ASCII character
    # elsewhere in the text takes the other path, with the same count.
    assert detect_language("The mayor should resign now") == detect_language(
        "The mayor should resign now ✓"
    )
    assert detect_language("1234567890 !!! ???") is None


def _library_answer(text: str) -> str | None:
    """`detect_language` as first written: py3langid's own calls, each over the whole text."""
    from policy import language

    prose = language.NOT_PROSE.sub(" ", text)
    weights = language.script_weights(prose)
    total = sum(weights.values())
    if total < language.MIN_LETTER_WEIGHT:
        return None
    script, weight = weights.most_common(1)[0]
    if weight / total < language.MIN_SCRIPT_SHARE:
        return None
    if script == "HANGUL":
        return "ko"
    restricted, unrestricted = language_identifiers()
    if total >= language.LONG_TEXT_WEIGHT:
        ranked = unrestricted.rank(prose)
        detectable = sum(share for code, share in ranked if code in DETECTABLE_LANGUAGES)
        best, confidence = ranked[0]
        if (
            detectable < language.MAX_DETECTABLE_SHARE
            and confidence >= language.MIN_CONFIDENCE_ELSEWHERE
            and best != "zxx"
        ):
            return str(best)
    code, confidence = restricted.classify(prose)
    return str(code) if confidence >= language.MIN_CONFIDENCE else None


# Long texts whose likeliest language over all is a detectable one, sure and unsure: the
# shortcut answers the first kind without the restricted pass, the second kind takes it.
SHORTCUT_CASES = [
    "The council voted last night to close the library on Sundays, which nobody asked for.",
    "Der Stadtrat hat gestern beschlossen, die Bibliothek am Sonntag zu schließen.",
    "Mixing it up: the mayor est parti, el alcalde también, und niemand weiß warum.",
    "ok ok ok fine fine fine yes yes yes no no no maybe maybe",
]


@pytest.mark.parametrize("text", [*LIBRARY_CASES, *SHORTCUT_CASES])
def test_answers_are_the_ones_the_librarys_own_calls_give(text: str) -> None:
    assert detect_language(text) == _library_answer(text)


def test_the_shortcut_is_taken_and_skipped() -> None:
    taken = skipped = 0
    for text in SHORTCUT_CASES:
        features = language_detector().features(text)
        best, confidence, _ = language_detector().unrestricted(features)
        if best in DETECTABLE_LANGUAGES and confidence >= 0.8001:
            taken += 1
        else:
            skipped += 1
    assert taken and skipped

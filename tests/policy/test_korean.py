"""Korean word boundaries from the analyser, and the `[analysed]` entries that use them.

The analyser is the real Kiwi: its model loads once per test process (policy.korean keeps it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.ko_terms import (
    can_be_analysed,
    ko_lists,
    overall,
    read_eval_set,
    score,
    with_analysed,
)
from policy import PolicyError
from policy.korean import CONTEXT, crosses
from policy.normalize import fold
from policy.termlists import build_term_list, entry_problem
from tests.support.policies import evaluate, policy_from


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("도시발전 계획", "시발", True),  # 도시 + 발전
        ("김씨발언이 논란이 됐다", "씨발", True),  # 김씨 + 발언
        ("당뇨병신약 임상 결과", "병신", True),  # 당뇨병 + 신약
        ("한남충전소가 생겼다", "한남충", True),  # 한남 + 충전소
        ("시발 진짜 짜증나네", "시발", False),
        # Read as 시 + 발: boundaries inside the match don't count.
        ("진짜 시발 열받는다", "시발", False),
        ("씨발놈아 꺼져", "씨발", False),  # one word holding the match
        ("시1발 뭐하냐", "시1발", False),
        ("미친놈들 천지다", "미친놈", False),  # 미치 + ㄴ overlap inside the match
    ],
)
def test_crosses(text: str, word: str, expected: bool) -> None:
    start = text.index(word)
    assert crosses(text, start, start + len(word)) is expected


def test_crosses_reads_only_the_words_around_a_match_in_a_long_comment() -> None:
    padding = "기사 잘 읽었습니다 " * (CONTEXT // 4)
    assert len(padding) > CONTEXT
    for text, word in [
        (f"{padding}도시발전 계획 {padding}", "시발"),
        # No space to cut at: the window is cut mid-word, far from the match.
        (f"{padding.replace(' ', '')}도시발전{padding.replace(' ', '')}", "시발"),
    ]:
        start = text.index(word)
        assert crosses(text, start, start + len(word))
    spaced = f"{padding}이런 시발 {padding}"
    start = spaced.index("시발")
    assert not crosses(spaced, start, start + 2)


ANALYSED = build_term_list(
    id="ko",
    language="ko",
    severity="banned",
    entries=("시발 [analysed]", "병신"),
    exceptions=("시발점",),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("이 시발놈아", [("시발", 2, 4)]),
        ("시1발 진짜", [("시발", 0, 3)]),
        ("도시발전 계획", []),  # the analyser clears it
        ("시발점이 어디냐", []),  # the exception clears it, before the analyser runs
        ("당뇨병신약", [("병신", 2, 4)]),  # 병신 isn't [analysed]: matched anywhere
    ],
)
def test_an_analysed_entry(text: str, expected: list[tuple[str, int, int]]) -> None:
    folded = fold(text)
    hits = [(hit.entry, hit.start, hit.end) for hit in ANALYSED.find(folded)]
    assert hits == expected
    assert ANALYSED.entries == ("시발", "병신")
    assert ANALYSED.analysed == ("시발",)


@pytest.mark.parametrize(
    ("entry", "exception", "problem"),
    [
        ("시발 [analysed]", False, None),
        ("시발  [analysed]", False, None),
        ("시발", True, None),
        ("fuck [analysed]", False, "only entries written in Hangul syllables"),
        ("ㅅㅂ [analysed]", False, "only entries written in Hangul syllables"),
        ("시발점 [analysed]", True, "exceptions can't be"),
        ("[analysed]", False, "can't be matched"),
    ],
)
def test_the_analysed_marker(entry: str, exception: bool, problem: str | None) -> None:
    found = entry_problem(entry, exception=exception)
    assert found is None if problem is None else problem in (found or "")


def test_a_list_file_marks_entries_and_its_exceptions_cannot_be(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("시발 [analysed]\n!시발점\n", encoding="utf-8")
    yaml_text = (
        "terms:\n  lists:\n    - {id: mine, language: ko, severity: banned, file: mine.txt}\n"
    )
    policy = policy_from(yaml_text, tmp_path)
    reasons = evaluate(policy, "도시발전 계획, 시발 진짜").reasons
    assert [(reason.rule, reason.evidence["terms"]) for reason in reasons] == [("mine", ["시발"])]
    assert reasons[0].evidence["spans"] == [{"start": 9, "end": 11}]
    assert not evaluate(policy, "도시발전 계획").reasons

    (tmp_path / "mine.txt").write_text("시발\n!시발점 [analysed]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="exceptions can't be") as raised:
        policy_from(yaml_text, tmp_path)
    assert raised.value.line == 2


def test_words_in_the_policy_file_may_be_analysed_but_not_their_exceptions() -> None:
    words = "terms:\n  lists:\n    - {id: mine, language: ko, severity: banned, "
    policy = policy_from(words + "words: ['시발 [analysed]']}\n")
    assert not evaluate(policy, "도시발전 계획").reasons
    with pytest.raises(PolicyError, match="exceptions can't be"):
        policy_from(words + "words: ['시발'], exceptions: ['시발점 [analysed]']}\n")


# No deadline: the first example may be the one that loads the analyser.
@settings(deadline=None)
@given(before=st.text(max_size=40), after=st.text(max_size=40))
def test_analysed_matching_never_crashes(before: str, after: str) -> None:
    text = f"{before}시발{after}"
    hits = ANALYSED.find(fold(text))
    assert all(0 <= hit.start < hit.end <= len(fold(text).text) for hit in hits)


# The committed evaluation set and the choice each list file records.
SAMPLES = read_eval_set()
SHIPPED = ko_lists()


def test_the_evaluation_set_is_large_and_labelled_with_real_entries() -> None:
    entries = {entry for term_list in SHIPPED for entry in term_list.entries}
    assert len(SAMPLES) >= 300
    assert sum(not sample.expected for sample in SAMPLES) >= 100
    assert set().union(*(sample.expected for sample in SAMPLES)) <= entries


def test_each_list_marks_exactly_the_entries_the_analyser_helps() -> None:
    plain = score([with_analysed(term_list, ()) for term_list in SHIPPED], SAMPLES)
    analysed = score(
        [
            with_analysed(term_list, [e for e in term_list.entries if can_be_analysed(e)])
            for term_list in SHIPPED
        ],
        SAMPLES,
    )
    for term_list in SHIPPED:
        for entry in term_list.entries:
            helps = analysed[entry].f1 > plain[entry].f1
            assert (entry in term_list.analysed) == helps, entry


def test_the_shipped_lists_score_as_documented() -> None:
    # docs/policy.md gives these figures (python -m bench.ko_terms prints them).
    total = overall(score(SHIPPED, SAMPLES))
    assert (total.true_positives, total.false_positives, total.false_negatives) == (155, 9, 7)

# ruff: noqa: RUF001, RUF003 - look-alike letters are what some of these tests are about.
from __future__ import annotations

import pytest

from policy import Policy
from policy.detectors import find_links, host_allowed
from policy.normalize import fold
from tests.support.policies import evaluate, policy_from


def links_in(text: str) -> list[tuple[str, str]]:
    folded = fold(text)
    found = []
    for link in find_links(folded.text):
        start, end = folded.span(link.start, link.end)
        found.append((link.value, text[start:end]))
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "see https://Example.com/x?y=1#top ok",
            [("example.com", "https://Example.com/x?y=1#top")],
        ),
        ("http://user@evil.com:8080/p", [("evil.com", "http://user@evil.com:8080/p")]),
        ("ftp://files.example.org", [("files.example.org", "ftp://files.example.org")]),
        ("go to example.com/x now", [("example.com", "example.com/x")]),
        ("example.co.uk", [("example.co.uk", "example.co.uk")]),
        ("Visit www.spam.biz today", [("spam.biz", "www.spam.biz")]),
        ("youtu.be/abc", [("youtu.be", "youtu.be/abc")]),  # ambiguous TLD with a path
        ("news.bbc.co.uk/sport", [("news.bbc.co.uk", "news.bbc.co.uk/sport")]),
        ("example dot com", [("example.com", "example dot com")]),
        ("example DOT com", [("example.com", "example DOT com")]),
        ("example [dot] com", [("example.com", "example [dot] com")]),
        ("cheap-pills (dot) net", [("cheap-pills.net", "cheap-pills (dot) net")]),
        ("example[.]com", [("example.com", "example[.]com")]),
        ("shop dot example dot com", [("shop.example.com", "shop dot example dot com")]),
        ("ехаmple.com", [("example.com", "ехаmple.com")]),  # Cyrillic е and а
        ("example。com", [("example.com", "example。com")]),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", [("example.com", "ｅｘａｍｐｌｅ．ｃｏｍ")]),
        ("a https://a.com/x and b.org", [("a.com", "https://a.com/x"), ("b.org", "b.org")]),
        # Spelled out in Korean: 닷 for the dot, and the common endings in Hangul.
        ("naver 닷컴", [("naver.com", "naver 닷컴")]),
        ("NAVER닷컴에서 봤어요", [("naver.com", "NAVER닷컴")]),
        ("daum 닷넷", [("daum.net", "daum 닷넷")]),
        ("spam 닷 오알지", [("spam.org", "spam 닷 오알지")]),
        ("naver 닷 co 닷 kr", [("naver.co.kr", "naver 닷 co 닷 kr")]),
        ("shop 닷 com", [("shop.com", "shop 닷 com")]),
    ],
)
def test_links_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert links_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The end.Then we left",
        "I'll do.it later",  # ambiguous TLD without a path
        "log.in please",
        "e.g. this, i.e. that",
        "3.5 million people, up 2.4%",
        "Mr.Smith said so",
        "the dot com bubble burst",
        "a dot com millionaire",
        "mail me@example.com",  # an e-mail address is personal information, not a link
        "version 1.2.3",
        "미국의 닷컴 버블",  # the dot-com bubble: a Hangul word is not a domain name
        "IT 닷컴 기업",
        "the 닷컴 era",
        "naver 닷컴버블",
        "닷컴 시대",
        "네이버 검색",
        "",
    ],
)
def test_prose_is_not_a_link(text: str) -> None:
    assert links_in(text) == []


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("www.example.com", True),
        ("news.example.com", True),
        ("badexample.com", False),
        ("example.com.evil.net", False),
        ("example.org", False),
    ],
)
def test_allowlist_covers_subdomains_only(host: str, allowed: bool) -> None:
    assert host_allowed(host, ["example.com"]) is allowed


def test_links_reason(shipped: Policy) -> None:
    (reason,) = evaluate(shipped, "Read https://spam.biz/a and spam dot biz").reasons
    assert reason.to_dict() == {
        "kind": "links",
        "rule": "links",
        "message": "Links to spam.biz, not on the list of allowed sites.",
        "domains": ["spam.biz"],
        "spans": [{"start": 5, "end": 23}, {"start": 28, "end": 40}],
    }


def test_allowed_domains_are_published() -> None:
    policy = policy_from(
        "links:\n  allow_domains: [ournews.com, '*.wikipedia.org', Example.ORG.]\n"
    )
    assert evaluate(policy, "see https://www.ournews.com/a and en.wikipedia.org/wiki/X").action == (
        "approve"
    )
    assert evaluate(policy, "see example.org").action == "approve"
    decision = evaluate(policy, "see ournews.com.evil.net and ournews.com")
    assert decision.reasons[0].evidence["domains"] == ["ournews.com.evil.net"]


def test_links_can_be_switched_off() -> None:
    policy = policy_from("links: {enabled: false}\n")
    assert evaluate(policy, "https://spam.biz").action == "approve"

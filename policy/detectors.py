"""Finding links and personal information in folded text.

Both run on the folded form (see `policy.normalize`), so full-width digits, look-alike letters
and zero-width characters hidden inside an address or a number don't hide it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import regex

# Top-level domains that count for a bare domain (`example.com/x`). A curated list, not the
# whole root zone: the root zone includes ordinary words (`.now`, `.new`, `.live`) that would
# turn a missing space after a full stop into a link.
# fmt: off
TLDS = frozenset({
    "com", "net", "org", "info", "biz", "xyz", "top", "site", "online", "shop", "store", "app",
    "dev", "io", "ai", "co", "tv", "cc", "ly", "gl", "gg", "ws", "news", "blog", "club", "link",
    "click", "icu", "vip", "uk", "kr", "jp", "cn", "ru", "de", "fr", "es", "pt", "br",
    "nl", "pl", "se", "fi", "dk", "ch", "cz", "hu", "ro", "gr", "tr", "ua", "ca",
    "au", "nz", "za", "mx", "ar", "cl", "tw", "hk", "sg", "vn", "th", "id", "ph", "eu",
})
# Ones that are also everyday English words: a bare domain ending in one of these counts only
# when a path follows (`youtu.be/xyz`), so `do.it` or `log.in` typed without a space don't.
AMBIGUOUS_TLDS = frozenset({
    "it", "in", "is", "to", "be", "me", "us", "am", "at", "my", "so", "do", "go", "no",
})
# Words that come before "dot com" in prose (`the dot com bubble`), not in a site's name.
_PROSE_BEFORE_DOT = frozenset({
    "the", "a", "an", "this", "that", "his", "her", "their", "our", "my", "your", "its", "of",
    "in", "on", "at", "to", "from", "for", "old", "first", "early", "late", "big", "new",
    "whole", "post", "pre", "it",
})
# Korean spells a dot 닷 and the common endings in Hangul (`naver 닷컴`, `daum닷넷`).
KOREAN_TLDS = {"컴": "com", "넷": "net", "오알지": "org", "케이알": "kr"}
# Particles that attach to the word before them (`naver 닷컴에서`).
_KOREAN_PARTICLES = (
    "에서", "에게", "으로", "로", "에", "을", "를", "이", "가", "은", "는", "의", "도",
)
# fmt: on

_TLD = "|".join(sorted(TLDS | AMBIGUOUS_TLDS, key=lambda tld: (-len(tld), tld)))
# Possessive (`*+`): a label never gives characters back, which keeps the scan linear.
_LABEL = r"[\p{L}\p{N}][\p{L}\p{N}-]*+"
_SPELLED_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+)"
_AFTER_TLD = r"(?![\p{L}\p{N}-])"
_URL = regex.compile(
    r"(?:https?|ftp)://(?:[^\s/?#@]*@)?(?P<host>[^\s/?#:<>\"'()\[\]{}]+)[^\s<>\"]*"
)
_DOMAIN = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}@.-])(?P<host>(?:{_LABEL}\.)+(?P<tld>{_TLD})){_AFTER_TLD}"
    r"(?P<path>/[^\s<>\"]*)?"
)
_SPELLED = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}])(?P<name>{_LABEL})(?:{_SPELLED_DOT}{_LABEL})*?{_SPELLED_DOT}"
    rf"(?P<tld>{_TLD}){_AFTER_TLD}"
)
_SPELLED_DOT_RE = regex.compile(_SPELLED_DOT)
# Domain names are Latin, and a Hangul word before 닷컴 is prose (`미국의 닷컴 버블`).
_LATIN_LABEL = r"[a-z0-9][a-z0-9-]*+"
_KOREAN_DOT = r"\s*닷\s*"
_KOREAN_SPELLED = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}])(?P<name>{_LATIN_LABEL})(?:{_KOREAN_DOT}{_LATIN_LABEL})*"
    rf"{_KOREAN_DOT}(?:(?P<tld>{_TLD}){_AFTER_TLD}|(?P<hangul_tld>{'|'.join(KOREAN_TLDS)})"
    rf"(?=(?:{'|'.join(_KOREAN_PARTICLES)})?(?![\p{{L}}\p{{N}}-])))"
)
# What each kind of link can't do without. Most comments have none of them, and looking for
# that first is far cheaper than trying a full pattern at every word.
_DOMAIN_HINT = regex.compile(rf"\.(?:{_TLD}){_AFTER_TLD}")
_SPELLED_HINT = regex.compile(rf"{_SPELLED_DOT}(?:{_TLD}){_AFTER_TLD}")

# Not after `:` (`http://user:pass@host` is a link), except in a `mailto:` link.
_EMAIL = regex.compile(
    r"(?:(?<=mailto:)|(?<![\p{L}\p{N}._%+/:-]))"
    r"[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+\p{L}{2,}(?![\p{L}\p{N}-])"
)
# YYMMDD, then the digit that encodes sex and century, then six more digits.
_RESIDENT_NUMBER = regex.compile(r"(?<!\d)(\d{6})[-\s]?([1-8])(\d{6})(?!\d)")
# Between groups of digits: a space, or a dash or dot with up to two spaces either side
# (`010 - 1234 - 5678`).
_PHONE_GAP = r"(?:[ \t]{0,2}[-.][ \t]{0,2}|\s)"
_KOREAN_AREA = r"0(?:1[016789]|2|[3-6][1-5]|70|50\d?)"
_PHONES = (
    # Korean: mobile (010, 011, 016-019), Seoul (02), provinces (031-064), 070 and 050x; the
    # area code may sit in brackets (`(02) 123-4567`) or before one (`02)1234-5678`).
    regex.compile(
        rf"(?<![\d+(])(?:\({_KOREAN_AREA}\)\s?|{_KOREAN_AREA}(?:{_PHONE_GAP}|\))?)"
        rf"\d{{3,4}}{_PHONE_GAP}?\d{{4}}(?!\d)"
    ),
    # International, with its + or the 00 dialled instead (`+44 20 7946 0958`,
    # `0044 20 7946 0958`, `+1 (555) 123-4567`).
    regex.compile(
        r"(?<![\p{L}\p{N}+])(?:\+|00)[1-9]\d{0,2}"
        rf"(?:{_PHONE_GAP}?(?:\(\d{{1,4}}\)|\d{{1,5}})){{2,6}}(?!\d)"
    ),
    # North American without the country code (`(555) 123-4567`, `555-123-4567`).
    regex.compile(r"(?<![\d+(])(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.]\d{4}(?!\d)"),
)
_E164_DIGITS = range(8, 16)
_RESIDENT_CHECK_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Found:
    """Something found in folded text, in folded offsets."""

    start: int
    end: int
    value: str
    checksum_valid: bool | None = None


def find_emails(text: str) -> list[Found]:
    return [Found(m.start(), m.end(), m.group().lower()) for m in _EMAIL.finditer(text)]


def find_links(text: str, *, skip: Iterable[Found] = ()) -> list[Found]:
    """URLs, bare domains and spelled-out ones (`example dot com`); `value` is the host.

    Where two readings overlap (a URL contains a bare domain), the one starting first, then
    the longer, wins. Matches overlapping `skip` (e-mail addresses, which are personal
    information rather than links) are left out.
    """
    candidates: list[Found] = []
    if "://" in text:
        candidates.extend(
            Found(m.start(), m.end(), _bare_host(m.group("host"))) for m in _URL.finditer(text)
        )
    if _DOMAIN_HINT.search(text):
        candidates.extend(
            Found(m.start(), m.end(), _bare_host(m.group("host")))
            for m in _DOMAIN.finditer(text)
            if m.group("path") or m.group("tld") not in AMBIGUOUS_TLDS
        )
    if _SPELLED_HINT.search(text):
        candidates.extend(
            Found(m.start(), m.end(), _bare_host(_SPELLED_DOT_RE.sub(".", m.group())))
            for m in _SPELLED.finditer(text)
            if m.group("name") not in _PROSE_BEFORE_DOT
        )
    if "닷" in text:
        candidates.extend(
            Found(m.start(), m.end(), _korean_host(m))
            for m in _KOREAN_SPELLED.finditer(text)
            if m.group("name") not in _PROSE_BEFORE_DOT
        )
    taken = list(skip)
    found: list[Found] = []
    for link in sorted(candidates, key=lambda item: (item.start, -item.end)):
        if not _overlaps(link.start, link.end, taken):
            found.append(link)
            taken.append(link)
    return found


def host_allowed(host: str, allow_domains: Iterable[str]) -> bool:
    """True for an allowlisted domain or any subdomain of one."""
    return any(host == domain or host.endswith("." + domain) for domain in allow_domains)


def find_resident_numbers(text: str) -> list[Found]:
    """Korean resident registration numbers with a real birth date and a valid sex digit.

    The check digit is reported, not required: numbers issued since October 2020 no longer
    carry one, so requiring it would miss every young reader's number.
    """
    found: list[Found] = []
    for match in _RESIDENT_NUMBER.finditer(text):
        birth, sex, rest = match.groups()
        if not _valid_birth_date(birth, sex):
            continue
        digits = birth + sex + rest
        found.append(
            Found(match.start(), match.end(), digits, checksum_valid=_resident_check(digits))
        )
    return found


def find_phones(text: str, *, skip: Iterable[Found] = ()) -> list[Found]:
    taken = list(skip)
    found: list[Found] = []
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            digits = "".join(char for char in match.group() if char.isdigit())
            if match.group().startswith("00"):
                digits = digits[2:]
            if len(digits) not in _E164_DIGITS or _overlaps(match.start(), match.end(), taken):
                continue
            phone = Found(match.start(), match.end(), digits)
            found.append(phone)
            taken.append(phone)
    return sorted(found, key=lambda item: item.start)


def _overlaps(start: int, end: int, others: Iterable[Found]) -> bool:
    return any(start < other.end and other.start < end for other in others)


def _korean_host(match: regex.Match[str]) -> str:
    host = regex.sub(_KOREAN_DOT, ".", match.group())
    if tld := match.group("hangul_tld"):
        host = host.removesuffix(tld) + KOREAN_TLDS[tld]
    return _bare_host(host)


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")


def _valid_birth_date(birth: str, sex: str) -> bool:
    century = 1900 if sex in "1256" else 2000
    try:
        datetime.date(century + int(birth[:2]), int(birth[2:4]), int(birth[4:]))
    except ValueError:
        return False
    return True


def _resident_check(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits, _RESIDENT_CHECK_WEIGHTS, strict=False))
    return (11 - total % 11) % 10 == int(digits[-1])

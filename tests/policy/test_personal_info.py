from __future__ import annotations

import pytest

from policy import Policy
from tests.support.policies import evaluate, policy_from, rules


def found(policy: Policy, text: str, rule: str) -> list[str]:
    for reason in evaluate(policy, text).reasons:
        if reason.rule == rule:
            return [text[span["start"] : span["end"]] for span in reason.evidence["spans"]]
    return []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call 010-1234-5678 now", "010-1234-5678"),
        ("call 01012345678", "01012345678"),
        ("010 1234 5678", "010 1234 5678"),
        ("011-123-4567", "011-123-4567"),
        ("office 02-123-4567", "02-123-4567"),
        ("02)1234-5678", "02)1234-5678"),
        ("031 123 4567", "031 123 4567"),
        ("051-1234-5678", "051-1234-5678"),
        ("070-1234-5678", "070-1234-5678"),
        ("London +44 20 7946 0958", "+44 20 7946 0958"),
        ("US +1 (555) 123-4567", "+1 (555) 123-4567"),
        ("+82 10-1234-5678", "+82 10-1234-5678"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("(555) 123-4567", "(555) 123-4567"),
        ("555-123-4567", "555-123-4567"),
        ("555.123.4567", "555.123.4567"),
        ("０１０－１２３４－５６７８", "０１０－１２３４－５６７８"),  # noqa: RUF001 - full width
        ("office (02) 123-4567", "(02) 123-4567"),  # area code in brackets
        ("(031)123-4567", "(031)123-4567"),
        ("010 - 1234 - 5678", "010 - 1234 - 5678"),  # spaced dashes
        ("010 -1234- 5678", "010 -1234- 5678"),
        ("02 . 123 . 4567", "02 . 123 . 4567"),
        ("London 0044 20 7946 0958", "0044 20 7946 0958"),  # 00 dialled instead of +
        ("00821012345678", "00821012345678"),
        ("0082-10-1234-5678", "0082-10-1234-5678"),
        ("+44 - 20 - 7946 - 0958", "+44 - 20 - 7946 - 0958"),
    ],
)
def test_phone_numbers_are_found(shipped: Policy, text: str, phone: str) -> None:
    assert found(shipped, text, "personal_info.phone") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 prices rose to $1,250.",
        "₩50,000 or 1,000,000 won",
        "from 1999-2004",
        "on 2024-11-28 at 10:30",
        "score 3-1 after 90 minutes",
        "ISBN 978-3-16-148410-0",
        "+1 point",
        "+12 34",  # too few digits for a phone number
        "call 123",
        "2026.11.28",
        "pi is 3.14159265358979",
        "12345678901234567890",
        "it ended 2-1",
        "won 2 - 1 at home",
        "1,000,000 people",
        "from 1,000,000 - 2,000,000",
        "between 1999 - 2004",
        "in 2010 - 2015 - 2020",
        "0 - 2 down at half time",
        "kick-off 00:45",
        "James Bond 007",
        "0.5 - 0.25 - 0.125",
        "2024. 11. 28",
        "ISBN 0-306-40615-2",
    ],
)
def test_numbers_that_are_not_phones(shipped: Policy, text: str) -> None:
    assert evaluate(shipped, text).action == "approve"


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("mail jane.doe+news@example.co.uk", "jane.doe+news@example.co.uk"),
        ("JANE@EXAMPLE.COM", "JANE@EXAMPLE.COM"),
        ("a_b@mail-server.example.org", "a_b@mail-server.example.org"),
        ("mailto:foo@bar.com", "foo@bar.com"),
        ('<a href="mailto:Foo@Bar.com">', "Foo@Bar.com"),
    ],
)
def test_email_addresses_are_found(shipped: Policy, text: str, email: str) -> None:
    assert found(shipped, text, "personal_info.email") == [email]


@pytest.mark.parametrize(
    "text",
    [
        "@someone on twitter",
        "a@b",
        "user@localhost",
        "me @ home.com",
        "http://user:secret@evil.com/",  # a link with a password in it, not an address
    ],
)
def test_not_email_addresses(shipped: Policy, text: str) -> None:
    assert "personal_info.email" not in rules(evaluate(shipped, text))


@pytest.mark.parametrize(
    ("text", "checksum_valid"),
    [
        ("900101-1234567", False),  # shape and date are enough (see docs/policy.md)
        ("9001011234567", False),
        ("900101 1234567", False),
        ("800101-1000008", True),  # a valid check digit is reported
        ("050505-3123456", False),  # born 2005: sex digit 3
        ("000229-4123456", False),  # 29 February 2000 existed
    ],
)
def test_resident_numbers_are_found(shipped: Policy, text: str, checksum_valid: bool) -> None:
    decision = evaluate(shipped, text)
    (reason,) = decision.reasons
    assert reason.rule == "personal_info.resident_number"
    assert reason.evidence == {
        "spans": [{"start": 0, "end": len(text)}],
        "checksum_valid": [checksum_valid],
    }


@pytest.mark.parametrize(
    "text",
    [
        "991332-1234567",  # month 13
        "900132-1234567",  # day 32
        "010229-3123456",  # 29 February 2001 did not exist
        "900101-9234567",  # no such sex digit
        "900101-12345678",  # too many digits
        "1900101-1234567",
    ],
)
def test_not_resident_numbers(shipped: Policy, text: str) -> None:
    assert "personal_info.resident_number" not in rules(evaluate(shipped, text))


def test_reasons_come_in_a_fixed_order_with_offsets_only(shipped: Policy) -> None:
    text = "RRN 900101-1234567, phone 010-1234-5678, mail a@b.co"
    decision = evaluate(shipped, text)
    assert rules(decision) == [
        "personal_info.email",
        "personal_info.phone",
        "personal_info.resident_number",
    ]
    assert decision.reasons[0].to_dict() == {
        "kind": "personal_info",
        "rule": "personal_info.email",
        "message": "Contains what looks like an e-mail address; "
        "readers' personal details are not published.",
        "spans": [{"start": 46, "end": 52}],
    }
    assert "010" not in str(decision.to_dict())


def test_detect_chooses_kinds() -> None:
    policy = policy_from("personal_info:\n  detect: [resident_number, email]\n")
    assert rules(evaluate(policy, "010-1234-5678 a@b.co")) == ["personal_info.email"]


def test_personal_info_can_be_switched_off() -> None:
    policy = policy_from("personal_info: {enabled: false}\n")
    assert evaluate(policy, "010-1234-5678").action == "approve"

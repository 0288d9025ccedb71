"""Personal-data recognizers: positives per type and country; near misses must not match."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.triage.recognizers import (
    IBAN_LENGTHS,
    PersonalDataSpan,
    find_personal_data,
    iban_valid,
    luhn_valid,
)


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in find_personal_data(text)]


# --- checksums -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digits", ["4111111111111111", "79927398713", "378282246310005", "6011111111111117"]
)
def test_luhn_accepts_valid_numbers(digits: str) -> None:
    assert luhn_valid(digits)


@pytest.mark.parametrize("digits", ["4111111111111112", "79927398710", "", "4111-1111", "٤١١١"])
def test_luhn_rejects_invalid_numbers_and_non_digits(digits: str) -> None:
    assert not luhn_valid(digits)


@given(st.text(alphabet="0123456789", min_size=2, max_size=19))
def test_luhn_changing_one_digit_breaks_the_check(digits: str) -> None:
    # Luhn detects every single-digit substitution: flipping the last digit must flip validity
    # unless the result is the same digit.
    last = int(digits[-1])
    changed = digits[:-1] + str((last + 1) % 10)
    assert not (luhn_valid(digits) and luhn_valid(changed))


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "BE68539007547034",
        "gb82west12345698765432",
    ],
)
def test_iban_valid(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # check digits wrong
        "DE8937040044053201300",  # one short for DE
        "XX89370400440532013000",  # unknown country
        "GB82WEST1234569876543",  # length
    ],
)
def test_iban_invalid(iban: str) -> None:
    assert not iban_valid(iban)


def test_iban_length_table_is_plausible() -> None:
    assert all(15 <= n <= 34 for n in IBAN_LENGTHS.values())


# --- positives -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+tag@example.co.uk.", ("email", "jane.doe+tag@example.co.uk")),
        ("JOHN_SMITH@Mail.Example.ORG please", ("email", "JOHN_SMITH@Mail.Example.ORG")),
        ("my card 4111 1111 1111 1111 was charged", ("payment_card", "4111 1111 1111 1111")),
        ("card: 5500-0000-0000-0004", ("payment_card", "5500-0000-0000-0004")),
        ("amex 3782 822463 10005", ("payment_card", "3782 822463 10005")),
        ("discover 6011111111111117!", ("payment_card", "6011111111111117")),
        ("IBAN DE89 3704 0044 0532 0130 00 thanks", ("iban", "DE89 3704 0044 0532 0130 00")),
        ("pay to GB82 WEST 1234 5698 7654 32.", ("iban", "GB82 WEST 1234 5698 7654 32")),
        ("NL91ABNA0417164300", ("iban", "NL91ABNA0417164300")),
        ("my ssn is 123-45-6789", ("ssn", "123-45-6789")),
        ("server 192.168.1.20 is down", ("ip_address", "192.168.1.20")),
        ("from ip:10.0.0.1.", ("ip_address", "10.0.0.1")),
    ],
)
def test_recognizes(text: str, expected: tuple[str, str]) -> None:
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "number",
    [
        # US / CA
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "1-800-555-0199",
        "+1 415 555 2671",
        # UK
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "07700900123",
        # DE
        "+49 30 12345678",
        "030 12345678",
        "030/1234567",
        "0049 30 1234567",
        "0151 23456789",
        # FR
        "06 12 34 56 78",
        "01.23.45.67.89",
        "+33 6 12 34 56 78",
        "0612345678",
        # ES
        "612 345 678",
        "91 123 45 67",
        "+34 612 345 678",
        # IT
        "347 123 4567",
        "+39 06 1234 5678",
        # NL
        "020-123 4567",
        "+31 6 12345678",
        # BR
        "(11) 91234-5678",
        "+55 11 91234-5678",
        # IN
        "98765 43210",
        "+91 98765 43210",
        # JP
        "090-1234-5678",
        "03-1234-5678",
        "+81 90-1234-5678",
    ],
)
def test_recognizes_phone_numbers_of_several_countries(number: str) -> None:
    text = f"call me on {number} today"
    assert found(text) == [("phone", number)]


def test_offsets_index_the_python_string() -> None:
    text = "🔥🔥 écrivez à marie@exemple.fr"
    (span,) = find_personal_data(text)
    assert span == PersonalDataSpan("email", text.index("marie"), len(text))


def test_several_spans_sorted_without_overlap() -> None:
    text = "a@b.io or +1 415 555 2671, card 4111111111111111, iban DE89370400440532013000"
    spans = find_personal_data(text)
    assert [s.type for s in spans] == ["email", "phone", "payment_card", "iban"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_card_wins_over_phone_on_the_same_digits() -> None:
    assert found("4111 1111 1111 1111") == [("payment_card", "4111 1111 1111 1111")]


# --- near misses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # e-mail look-alikes
        "@sprintcare help me",
        "ping @jane@company",
        "foo@bar",
        "a@b.c",
        "x@domain..com",
        # cards: Luhn failures, unknown issuers, wrong lengths
        "card 4111 1111 1111 1112",
        "4111111111111112",
        "9111111111111111",
        "4111 1111 1111",
        "3782 822463 10006",
        # IBAN: bad check digits, truncated, unknown country
        "DE89 3704 0044 0532 0130 01",
        "DE89 3704 0044 0532 0130",
        "QQ89 3704 0044 0532 0130 00",
        # SSN: never issued areas, zero group/serial, wrong shape
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123-45-678",
        "find DPCI 030-02-8711 in store",
        # IPv4 look-alikes
        "version 1.2.3.4",
        "upgrade to v1.2.3.4",
        "1.2.3.4.5",
        "256.1.1.1",
        "192.168.1",
        # order numbers, tracking numbers, dates, prices, times
        "order 0123-4567-89",
        "order #123456789",
        "Order No. 4521887612",
        "ticket 12345678",
        "tracking 1Z999AA10123456784",
        "tracking 9400111899223197428490",
        "5551234567",
        "2023-11-23",
        "23.11.2026",
        "11/23/2026",
        "23/11/2026 at 10:30",
        "$1 234 567",
        "1.234.567",
        "price 1 299 000 €",
        "it cost 1,299.99 USD",
        "555-123-4567",
        "call 911",
        "+999 123 4567",
        "20% off 2024",
    ],
)
def test_near_misses_do_not_match(text: str) -> None:
    assert found(text) == []


@given(st.text(max_size=200))
def test_spans_are_in_bounds_sorted_and_disjoint(text: str) -> None:
    spans = find_personal_data(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_long_digit_runs_do_not_backtrack_catastrophically() -> None:
    # A regression guard on the pattern's shape rather than on time: it must finish and
    # find nothing in a 3,000-digit run glued to a letter.
    assert find_personal_data("1" * 3000 + "x") == []

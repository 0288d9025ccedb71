"""Personal-data recognizers: pure, standard library only.

`find_personal_data(text)` returns the spans of personal data in a post: e-mail addresses,
phone numbers, payment cards, IBANs, US social security numbers and IPv4 addresses. The
governance policy engine calls the same function on drafts, so these rules favour precision:
a structure alone is never enough where a checksum or a numbering plan can be checked.

* ``email``: RFC 5322 "dot-atom" local part and a domain whose last label is 2+ letters.
* ``payment_card``: 13-19 digits (alone or in groups of 4, or Amex 4-6-5) with a known issuer
  prefix (IIN) and length, and a valid Luhn check digit.
* ``iban``: a country whose IBAN length is known, that exact length, and ISO 7064 mod-97 == 1.
* ``ssn``: ``AAA-GG-SSSS`` (hyphens or spaces) outside the never-issued areas 000, 666 and
  900-999, with a non-zero group and serial.
* ``ip_address``: dotted-quad IPv4 with octets 0-255, not part of a longer dotted number
  (version strings such as ``1.2.3.4.5``) and not after ``v``/``version``.
* ``phone``: international numbers (``+`` or ``00``, a known country code and a plausible
  length) and national formats of the US/CA (NANP rules), UK, DE, FR, NL, JP and other
  trunk-``0`` countries, ES, IT mobiles, BR and IN. A national number needs separators
  (bare digit runs are too often order or tracking numbers), except the common bare
  mobile forms ``06``/``07`` + 8-9 digits. Dates, prices and numbers introduced by ``#`` or
  words such as "order"/"tracking" are rejected.

Spans never overlap: where two recognizers claim the same characters the stronger evidence
wins (checksum-validated types first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PERSONAL_DATA_TYPES: Final = ("email", "phone", "payment_card", "iban", "ssn", "ip_address")


@dataclass(frozen=True, slots=True)
class PersonalDataSpan:
    """One piece of personal data: its type and its ``text[start:end]`` character offsets."""

    type: str
    start: int
    end: int


# --- checksums -------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check; False for non-digits."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ISO 13616 registry lengths (SWIFT IBAN registry).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """True when ``iban`` (no spaces, any case) has its country's length and mod-97 == 1."""
    iban = iban.upper()
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None or len(iban) != expected or not iban.isascii() or not iban.isalnum():
        return False
    if not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    # Letters become 10..35; computing the remainder piecewise keeps integers small.
    remainder = 0
    for ch in rearranged:
        value = int(ch, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


# --- payment cards ---------------------------------------------------------------------------


def _card_lengths(digits: str) -> tuple[int, ...]:
    """Lengths the issuer owning this prefix uses; empty when the prefix is not a card IIN."""
    p2 = int(digits[:2])
    p3 = int(digits[:3])
    p4 = int(digits[:4])
    p6 = int(digits[:6])
    if digits[0] == "4":
        return (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return (16,)  # Mastercard
    if p2 in (34, 37):
        return (15,)  # American Express
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return (16, 17, 18, 19)  # Discover
    if 3528 <= p4 <= 3589:
        return (16, 17, 18, 19)  # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39) or p4 == 3095:
        return (14, 15, 16, 17, 18, 19)  # Diners Club
    if p2 == 62:
        return (16, 17, 18, 19)  # UnionPay
    if p2 in (50, 56, 57, 58, 63, 67) or p4 in (6304, 6759, 6761, 6762, 6763):
        return (12, 13, 14, 15, 16, 17, 18, 19)  # Maestro
    if 2200 <= p4 <= 2204:
        return (16, 17, 18, 19)  # Mir
    return ()


_CARD = re.compile(
    r"(?<![\w.,/+-])"
    r"(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"  # 16-19 in fours (any one separator)
    r"|\d{4}([ -]?)\d{6}\2\d{4,5}"  # Amex 4-6-5, Diners 4-6-4
    r"|\d{12,19})"  # bare run
    r"(?![\w.,/-]\d|\w)"
)


def _find_cards(text: str) -> list[PersonalDataSpan]:
    spans = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if len(digits) in _card_lengths(digits) and luhn_valid(digits):
            spans.append(PersonalDataSpan("payment_card", m.start(), m.end()))
    return spans


# --- IBAN ------------------------------------------------------------------------------------

_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")


def _find_ibans(text: str) -> list[PersonalDataSpan]:
    spans = []
    n = len(text)
    for m in _IBAN_START.finditer(text):
        country = m.group(1).upper()
        expected = IBAN_LENGTHS.get(country)
        if expected is None:
            continue
        # Walk forward over alphanumerics and single spaces until the country's length.
        chars = [country, m.group(2)]
        count = 4
        i = m.end()
        while count < expected and i < n:
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
                count += 1
                i += 1
            elif ch == " " and i + 1 < n and text[i + 1].isascii() and text[i + 1].isalnum():
                i += 1
            else:
                break
        if count != expected or (i < n and text[i].isascii() and text[i].isalnum()):
            continue
        if iban_valid("".join(chars)):
            spans.append(PersonalDataSpan("iban", m.start(), i))
    return spans


# --- e-mail ----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])"
    # The common subset of the RFC 5322 dot-atom: the rarer symbols (/ = ? ...) would turn
    # URL paths such as "example.com/user@host.com" into addresses.
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?![\w@-]|\.[A-Za-z0-9])"
)


def _find_emails(text: str) -> list[PersonalDataSpan]:
    return [PersonalDataSpan("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --- US social security numbers --------------------------------------------------------------

_SSN = re.compile(r"(?<![\w.,/+-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w/]|[.,-]\d)")


def _find_ssns(text: str) -> list[PersonalDataSpan]:
    spans = []
    for m in _SSN.finditer(text):
        area, group, serial = m.group(1), m.group(3), m.group(4)
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            continue
        if _IDENTIFIER_CONTEXT.search(text[max(0, m.start() - 16) : m.start()]):
            continue  # "DPCI 030-02-8711", "order 123-45-6789": product or order numbers
        spans.append(PersonalDataSpan("ssn", m.start(), m.end()))
    return spans


# --- IPv4 ------------------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(
    rf"(?<![\w.])({_OCTET}(?:\.{_OCTET}){{3}})(?![\w]|\.\d)",
)
_VERSION_WORD = re.compile(r"(?i)\b(?:version|ver\.?|release|build)\s*$")


def _find_ipv4(text: str) -> list[PersonalDataSpan]:
    spans = []
    for m in _IPV4.finditer(text):
        if _VERSION_WORD.search(text, max(0, m.start() - 12), m.start()):
            continue
        spans.append(PersonalDataSpan("ip_address", m.start(), m.end()))
    return spans


# --- phone numbers ---------------------------------------------------------------------------

# Candidates: an optional international prefix, then digits with the separators people use in
# phone numbers (space, hyphen, dot, slash, parentheses). Validation happens in Python.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+#$€£¥.,/-])"
    r"(?:\+|00)?"
    r"(?:\(\d{1,5}\)[ .-]?)?"
    # Digit runs joined by exactly one separator each: no two ways to split a digit run, so
    # matching stays linear even on long numbers.
    r"\d+(?:(?:[ .\-/]|[ .-]?\(|\)[ .-]?)\d+)*"
    r"(?![\w%$€£¥]|[.,]\d)"
)

# Country calling code -> (min, max) national significant number length (ITU-T E.164 plans).
_COUNTRY_NSN: Final[dict[str, tuple[int, int]]] = {
    "1": (10, 10), "7": (10, 10), "20": (9, 10), "27": (9, 9), "30": (10, 10), "31": (9, 9),
    "32": (8, 9), "33": (9, 9), "34": (9, 9), "36": (8, 9), "39": (6, 11), "40": (9, 9),
    "41": (9, 9), "43": (4, 13), "44": (9, 10), "45": (8, 8), "46": (7, 10), "47": (8, 8),
    "48": (9, 9), "49": (6, 13), "51": (8, 9), "52": (10, 10), "53": (8, 8), "54": (10, 11),
    "55": (10, 11), "56": (9, 9), "57": (8, 10), "58": (10, 10), "60": (7, 10), "61": (9, 9),
    "62": (7, 12), "63": (8, 10), "64": (8, 10), "65": (8, 8), "66": (8, 9), "81": (9, 10),
    "82": (8, 10), "84": (9, 10), "86": (10, 11), "90": (10, 10), "91": (10, 10), "92": (9, 10),
    "93": (9, 9), "94": (9, 9), "95": (7, 10), "98": (10, 10), "212": (9, 9), "213": (9, 9),
    "216": (8, 8), "234": (8, 10), "254": (9, 9), "351": (9, 9), "352": (6, 11), "353": (7, 9),
    "354": (7, 9), "358": (5, 12), "359": (8, 9), "370": (8, 8), "371": (8, 8), "372": (7, 8),
    "380": (9, 9), "385": (8, 9), "386": (8, 8), "420": (9, 9), "421": (9, 9), "852": (8, 8),
    "880": (10, 10), "886": (8, 9), "961": (7, 8), "962": (8, 9), "966": (9, 9), "971": (8, 9),
    "972": (8, 9), "974": (8, 8),
}  # fmt: skip

_DATE_LIKE = re.compile(
    r"^(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})|\d{4}[./-]\d{1,2}[./-]\d{1,2})$"
)
_IDENTIFIER_CONTEXT = re.compile(
    r"(?i)(?:order|tracking|invoice|ticket|case|ref|reference|booking|confirmation|serial"
    r"|account|acct|sku|upc|dpci|tcin|item|part|model|flight|pnr|no\.?|nr\.?|n°|#|\$|€|£|¥"
    r"|usd|eur|gbp)"
    r"\s*[:#]?\s*$"
)
_AMOUNT_AFTER = re.compile(r"(?i)^\s*(?:\$|€|£|¥|usd|eur|gbp|dollars|euros|pounds|%|km|kg)")


def _international_ok(digits: str) -> bool:
    """Digits after ``+``/``00``: a known country code and a national number of its length."""
    for cc_len in (1, 2, 3):
        plan = _COUNTRY_NSN.get(digits[:cc_len])
        if plan is None:
            continue
        nsn = digits[cc_len:]
        if nsn.startswith("0") and digits[:cc_len] != "39":
            # "+44 (0)20 ..." keeps a trunk 0 people should drop; tolerate exactly one.
            nsn = nsn[1:]
        low, high = plan
        if not low <= len(nsn) <= high:
            return False
        if digits[:cc_len] == "1":
            return _nanp_ok(nsn)
        return True
    return False


def _nanp_ok(ten: str) -> bool:
    """US/CA numbering plan: area code and exchange start 2-9; N11 area codes are services."""
    return (
        len(ten) == 10
        and ten[0] in "23456789"
        and ten[3] in "23456789"
        and not (ten[1] == "1" and ten[2] == "1")
    )


def _national_ok(candidate: str, digits: str) -> bool:
    """Whether a number written without an international prefix fits a national format."""
    groups = [g for g in re.split(r"[ .\-/()]+", candidate) if g]
    has_separator = len(groups) > 1
    sizes = [len(g) for g in groups]
    n = len(digits)
    if not has_separator:
        # Bare runs are order/tracking numbers more often than phones, except mobiles written
        # the FR/NL (06/07 + 8) and UK (07 + 9) way.
        return (n == 10 and digits[:2] in ("06", "07")) or (n == 11 and digits[:2] == "07")
    if "/" in candidate and not re.fullmatch(r"\(?0\d{2,5}\)?/\d[\d ]{3,}", candidate):
        return False  # slashes are dates or fractions, except the DE "030/1234567" form
    if "." in candidate and sizes not in ([3, 3, 4], [2, 2, 2, 2, 2]):
        return False  # dots: only the US 555.123.4567 and FR 01.23.45.67.89 styles
    if n == 10 and _nanp_ok(digits) and sizes in ([3, 3, 4], [3, 7]):
        return True  # US/CA (also (555) 123-4567)
    if n == 11 and digits[0] == "1" and _nanp_ok(digits[1:]) and sizes in ([1, 3, 3, 4],):
        return True  # US/CA with the 1 trunk prefix
    if digits[0] == "0" and digits[1] != "0":
        # Trunk-0 countries: UK 10-11, DE 9-12, FR/NL 10, JP 10-11, IT landlines 6-11, BR
        # (0xx) ... Groups of at least 2 digits except the trunk itself.
        return 9 <= n <= 12 and min(sizes) >= 2 and max(sizes) <= 8
    if n == 9 and digits[0] in "6789" and sizes in ([3, 3, 3], [2, 3, 2, 2], [3, 2, 2, 2]):
        return True  # ES
    if n == 10 and digits[0] == "3" and sizes in ([3, 3, 4], [3, 7], [3, 4, 3]):
        return True  # IT mobile
    if n == 10 and digits[0] in "6789" and sizes == [5, 5]:
        return True  # IN mobile
    if n in (10, 11) and candidate.startswith("(") and sizes in ([2, 4, 4], [2, 5, 4]):
        return digits[0] != "0" and digits[1] != "0"  # BR (11) 91234-5678
    return False


def _find_phones(text: str) -> list[PersonalDataSpan]:
    spans = []
    for m in _PHONE_CANDIDATE.finditer(text):
        candidate = m.group(0)
        digits = "".join(ch for ch in candidate if ch.isdigit())
        if not 6 <= len(digits) <= 17 or not digits.isascii():
            continue
        before = text[max(0, m.start() - 16) : m.start()]
        if _IDENTIFIER_CONTEXT.search(before) or _AMOUNT_AFTER.match(text, m.end()):
            continue
        if candidate.startswith("+"):
            ok = _international_ok(digits)
        elif candidate.startswith("00"):
            ok = len(digits) > 2 and _international_ok(digits[2:])
        else:
            ok = not _DATE_LIKE.match(candidate) and _national_ok(candidate, digits)
        if ok:
            spans.append(PersonalDataSpan("phone", m.start(), m.end()))
    return spans


# --- all together ----------------------------------------------------------------------------

_HAS_EMAIL = re.compile(r"[\w.%+-]@[A-Za-z0-9]")  # "@handle" mentions alone do not qualify
_HAS_LONG_NUMBER = re.compile(r"\d[\d \-.()/]{4,}\d")
_HAS_IBAN_START = re.compile(r"[A-Za-z]{2}\d{2}")


def _has_digit(text: str) -> bool:
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


def find_personal_data(text: str) -> list[PersonalDataSpan]:
    """All personal-data spans in ``text``, sorted by start, never overlapping.

    Offsets index the Python string (code points). The function is pure and thread-safe.
    Checksum-validated types (email, payment card, IBAN) win over structural ones (SSN, IPv4,
    phone) where they overlap.
    """
    has_at = "@" in text and _HAS_EMAIL.search(text) is not None
    # Plain substring tests run at memchr speed; most posts have no digit at all, so the
    # regex scan only runs on the few that do.
    has_number = _has_digit(text) and _HAS_LONG_NUMBER.search(text) is not None
    if not has_at and not has_number:
        return []  # the common case: a post with neither an "@" nor a 6+ character number
    found: list[PersonalDataSpan] = []
    if has_at:
        found.extend(_find_emails(text))
    if has_number:
        found.extend(_find_cards(text))
        if _HAS_IBAN_START.search(text):
            found.extend(_find_ibans(text))
        found.extend(_find_ssns(text))
        found.extend(_find_ipv4(text))
        found.extend(_find_phones(text))
    if len(found) < 2:
        return found
    kept: list[PersonalDataSpan] = []
    for span in found:  # already in strength order: keep the first claim on each character
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    return kept


__all__ = [
    "IBAN_LENGTHS",
    "PERSONAL_DATA_TYPES",
    "PersonalDataSpan",
    "find_personal_data",
    "iban_valid",
    "luhn_valid",
]

"""Indian identifiers, validated rather than merely stored. Pure functions: each returns
the normalised value or raises ``django.core.exceptions.ValidationError``."""

import re

from django.core.exceptions import ValidationError

from suppliers.states import (
    GST_STATE_CODES,
    UDYAM_CODE_CORRECTIONS,
    UDYAM_CODES_NEVER_ISSUED,
    UDYAM_STATE_CODES,
)

_UDYAM = re.compile(r"^UDYAM-([A-Z]{2})-(\d{2})-(\d{7})$")
_GSTIN = re.compile(r"^(\d{2})([A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z])([1-9A-Z])([A-Z0-9])([0-9A-Z])$")
_PIN = re.compile(r"^[1-9]\d{5}$")
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalise_udyam(value: str) -> str:
    """``UDYAM-XX-00-0000000``: XX the Udyam code of a state or union territory (``KR``
    for Karnataka, ``DD``/``DN`` for Dadra and Nagar Haveli and Daman and Diu), 00 the
    district. A code no number carries but that is typed for a state (``KA``, ``TG``, ...)
    is read as that state's real code (``suppliers.states.UDYAM_CODE_CORRECTIONS``)."""
    text = value.strip().upper().replace(" ", "")
    match = _UDYAM.match(text)
    if not match:
        raise ValidationError(
            "A Udyam registration number looks like UDYAM-MH-26-0012345.", code="invalid"
        )
    code, district, serial = match.groups()
    code = UDYAM_CODE_CORRECTIONS.get(code, code)
    if code in UDYAM_CODES_NEVER_ISSUED:
        raise ValidationError(
            f"No Udyam number carries {code!r}: {UDYAM_CODES_NEVER_ISSUED[code]}.",
            code="invalid_state",
        )
    if code not in UDYAM_STATE_CODES:
        raise ValidationError(
            f"{code!r} is not the Udyam code of an Indian state or union territory.",
            code="invalid_state",
        )
    return f"UDYAM-{code}-{district}-{serial}"


def gstin_check_character(first_fourteen: str) -> str:
    """The GSTIN check character: a Luhn mod 36 over the first 14 characters."""
    total = 0
    for index, char in enumerate(first_fourteen):
        product = _GSTIN_ALPHABET.index(char) * (2 if index % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]


def normalise_gstin(value: str) -> str:
    """15 characters: state code, the holder's PAN, entity number, 'Z', check character."""
    text = value.strip().upper().replace(" ", "")
    if len(text) != 15:
        raise ValidationError("A GSTIN has exactly 15 characters.", code="invalid_length")
    match = _GSTIN.match(text)
    if not match:
        raise ValidationError(
            "A GSTIN is a 2-digit state code, a 10-character PAN, an entity number, "
            "a letter (usually Z) and a check character, e.g. 27AAPFU0939F1ZV.",
            code="invalid",
        )
    if match.group(1) not in GST_STATE_CODES:
        raise ValidationError(f"{match.group(1)!r} is not a GST state code.", code="invalid_state")
    if gstin_check_character(text[:14]) != text[14]:
        raise ValidationError(
            "The GSTIN's check character does not match; check for a typing error.",
            code="bad_check_character",
        )
    return text


def normalise_pin_code(value: str) -> str:
    text = str(value).strip().replace(" ", "")
    if not _PIN.match(text):
        raise ValidationError("A PIN code has 6 digits and does not start with 0.", code="invalid")
    return text

"""Indian identifiers, validated rather than merely stored. Pure functions: each returns
the normalised value or raises ``django.core.exceptions.ValidationError``."""

import re

from django.core.exceptions import ValidationError

from suppliers.choices import LEGAL_FORM_PAN_HOLDERS, PAN_HOLDER_TYPES, LegalForm
from suppliers.states import (
    GST_STATE_CODES,
    UDYAM_CODE_CORRECTIONS,
    UDYAM_CODES_NEVER_ISSUED,
    UDYAM_STATE_CODES,
)

# ASCII only (``\d`` would also take Devanagari and other digits, which no identifier
# carries and which would slip past duplicate checks), and anchored at the very end
# (``$`` would accept a trailing newline).
_UDYAM = re.compile(r"^UDYAM-([A-Z]{2})-(\d{2})-(\d{7})\Z", re.ASCII)
_GSTIN = re.compile(
    r"^(\d{2})([A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z])([1-9A-Z])([A-Z0-9])([0-9A-Z])\Z", re.ASCII
)
_PIN = re.compile(r"^[1-9]\d{5}\Z", re.ASCII)
_PAN = re.compile(r"^[A-Z]{5}\d{4}[A-Z]\Z", re.ASCII)
# Words before a name proper: its initial may be the PAN's 5th character, or the next's.
_NAME_PREFIXES = frozenset(
    {"m/s", "m/s.", "messrs", "messrs.", "the", "shri", "sri", "shree", "smt"}
)
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


def normalise_pan(value: str) -> str:
    """``AAAAA9999A``: five letters, four digits, a letter; the 4th letter the holder's
    status (``suppliers.choices.PAN_HOLDER_TYPES``)."""
    text = value.strip().upper().replace(" ", "")
    if not _PAN.match(text):
        raise ValidationError(
            "A PAN is five letters, four digits and a letter, e.g. AAECD1234K.", code="invalid"
        )
    if text[3] not in PAN_HOLDER_TYPES:
        raise ValidationError(
            f"The PAN's 4th character, {text[3]!r}, is not a holder status "
            f"({', '.join(PAN_HOLDER_TYPES)}).",
            code="invalid_holder",
        )
    return text


def legal_form_from_name(legal_name: str) -> str | None:
    """The legal form a name states by law: a company's name ends with "Limited" or
    "Private Limited" (Companies Act, 2013, s. 4(1)(a)), an LLP's with "LLP" or "Limited
    Liability Partnership" (LLP Act, 2008, s. 15). ``None`` when the name says nothing."""
    words = re.findall(r"[a-z0-9]+", legal_name.lower())
    if words[-1:] == ["llp"] or words[-3:] == ["limited", "liability", "partnership"]:
        return LegalForm.LLP
    if words[-2:] in (
        ["private", "limited"],
        ["pvt", "ltd"],
        ["private", "ltd"],
        ["pvt", "limited"],
    ):
        return LegalForm.PRIVATE_LIMITED
    if words[-1:] in (["limited"], ["ltd"]):
        return LegalForm.PUBLIC_LIMITED
    return None


def pan_name_initials(legal_name: str) -> frozenset[str] | None:
    """The letters a non-individual's PAN may carry 5th: the initial of its name, or of
    the word after a leading "M/s", "The", "Shri"... ``None`` when the name starts
    otherwise than with a letter (the rule cannot be checked)."""
    initials: set[str] = set()
    for word in legal_name.split():
        first = word[0].upper()
        if not ("A" <= first <= "Z"):
            return None if not initials else frozenset(initials)
        initials.add(first)
        if word.lower() not in _NAME_PREFIXES:
            break
    return frozenset(initials) or None


def check_pan_holder(
    pan: str, *, legal_form: str, legal_name: str, check_initial: bool = True
) -> None:
    """A PAN consistent with the enterprise it belongs to: its 4th character the status
    of the legal form (declared, or stated by the name), its 5th the initial of the name
    (for everyone but an individual, whose PAN carries the surname's initial, which the
    registry does not know; and only when ``check_initial``: a renamed enterprise keeps
    the PAN of its old name). Raises ``ValidationError`` saying which."""
    form = legal_form or legal_form_from_name(legal_name)
    if form:
        allowed = LEGAL_FORM_PAN_HOLDERS[form]
        if pan[3] not in allowed:
            label = LegalForm(form).label
            label = label[0].lower() + label[1:]
            expected = " or ".join(repr(c) for c in allowed)
            raise ValidationError(
                f"The PAN's 4th character, {pan[3]!r}, is that of "
                f"{PAN_HOLDER_TYPES.get(pan[3], 'another holder')}; the PAN of a {label} "
                f"has {expected}.",
                code="pan_holder_mismatch",
            )
    if pan[3] == "P" or not check_initial:
        return
    initials = pan_name_initials(legal_name)
    if initials and pan[4] not in initials:
        expected = " or ".join(repr(c) for c in sorted(initials))
        raise ValidationError(
            f"The PAN's 5th character, {pan[4]!r}, should be the initial of the name "
            f"{legal_name!r} ({expected}).",
            code="pan_name_mismatch",
        )


def check_gstin_embeds_pan(gstin: str, pan: str) -> None:
    """A GSTIN's characters 3 to 12 are its holder's PAN."""
    if gstin[2:12] != pan:
        raise ValidationError(
            f"The GSTIN's characters 3 to 12, {gstin[2:12]}, are not the supplier's PAN, "
            f"{pan}: a GSTIN is issued on its holder's PAN.",
            code="gstin_pan_mismatch",
        )


def normalise_pin_code(value: str) -> str:
    text = str(value).strip().replace(" ", "")
    if not _PIN.match(text):
        raise ValidationError("A PIN code has 6 digits and does not start with 0.", code="invalid")
    return text

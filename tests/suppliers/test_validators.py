"""Indian identifiers: GSTIN check character (property-based), Udyam numbers, PIN codes."""

import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from suppliers.states import GST_STATE_CODES, STATES, STATES_BY_CODE, UDYAM_STATE_CODES
from suppliers.validators import (
    gstin_check_character,
    normalise_gstin,
    normalise_pin_code,
    normalise_udyam,
)

ALPHANUMERIC = string.digits + string.ascii_uppercase

pans = st.builds(
    lambda a, kind, b, digits, last: a + kind + b + digits + last,
    st.text(string.ascii_uppercase, min_size=3, max_size=3),
    st.sampled_from("ABCFGHJLPT"),
    st.text(string.ascii_uppercase, min_size=1, max_size=1),
    st.text(string.digits, min_size=4, max_size=4),
    st.text(string.ascii_uppercase, min_size=1, max_size=1),
)
valid_gstins = st.builds(
    lambda state, pan, entity: (lambda body: body + gstin_check_character(body))(
        f"{state}{pan}{entity}Z"
    ),
    st.sampled_from(sorted(GST_STATE_CODES)),
    pans,
    st.sampled_from("123456789" + string.ascii_uppercase),
)


@given(valid_gstins)
def test_every_well_formed_gstin_with_its_check_character_passes(gstin: str) -> None:
    assert normalise_gstin(gstin.lower()) == gstin


@given(valid_gstins, st.integers(min_value=0, max_value=14), st.sampled_from(ALPHANUMERIC))
def test_any_single_character_change_fails(gstin: str, position: int, replacement: str) -> None:
    if gstin[position] == replacement:
        replacement = ALPHANUMERIC[(ALPHANUMERIC.index(replacement) + 1) % len(ALPHANUMERIC)]
    changed = gstin[:position] + replacement + gstin[position + 1 :]

    with pytest.raises(ValidationError):
        normalise_gstin(changed)


@pytest.mark.parametrize("gstin", ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4"])
def test_published_sample_gstins_pass(gstin: str) -> None:
    assert normalise_gstin(gstin) == gstin


@pytest.mark.parametrize(
    ("gstin", "code"),
    [
        ("27AAPFU0939F1Z", "invalid_length"),
        ("00AAPFU0939F1ZV", "invalid_state"),
        ("27AAPXU0939F1ZV", "invalid"),  # 4th PAN character is not a holder type
        ("27AAPFU0939F1ZW", "bad_check_character"),
    ],
)
def test_bad_gstins_say_why(gstin: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalise_gstin(gstin)
    assert excinfo.value.code == code


def test_there_are_36_states_and_union_territories() -> None:
    assert len(STATES) == 36
    assert sum(s.is_union_territory for s in STATES) == 8
    assert len({s.gst_code for s in STATES}) == 36


@pytest.mark.parametrize("code", sorted(UDYAM_STATE_CODES))
def test_udyam_accepts_every_state_code(code: str) -> None:
    assert normalise_udyam(f"udyam-{code.lower()}-01-0000001") == f"UDYAM-{code}-01-0000001"


@pytest.mark.parametrize(
    ("typed", "real"),
    [("KA", "KR"), ("CT", "CG"), ("OR", "OD"), ("TG", "TS"), ("UT", "UK")],
)
def test_udyam_reads_a_mistyped_state_code_as_the_real_one(typed: str, real: str) -> None:
    # No Udyam number carries these; they are the address (or pre-2023 ISO) codes.
    assert normalise_udyam(f"UDYAM-{typed}-03-0091212") == f"UDYAM-{real}-03-0091212"


def test_udyam_codes_differ_from_address_codes_only_where_the_portal_does() -> None:
    assert UDYAM_STATE_CODES["KR"].name == "Karnataka"
    assert UDYAM_STATE_CODES["DD"] is UDYAM_STATE_CODES["DN"] is STATES_BY_CODE["DH"]
    different = {s.code: s.udyam_codes for s in STATES if s.udyam_codes not in ((), (s.code,))}
    assert different == {"KA": ("KR",), "DH": ("DD", "DN")}
    assert "KA" not in UDYAM_STATE_CODES
    assert "DH" not in UDYAM_STATE_CODES


def test_udyam_refuses_dh_and_says_what_to_give() -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalise_udyam("UDYAM-DH-01-0002992")
    assert excinfo.value.code == "invalid_state"
    assert "UDYAM-DD-" in excinfo.value.messages[0]
    assert "UDYAM-DN-" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    "value",
    ["UDYAM-XX-01-0000001", "UDYAM-MH-1-0000001", "UDYAM-MH-01-000001", "UDYOG-MH-01-0000001", ""],
)
def test_udyam_rejects_malformed_numbers(value: str) -> None:
    with pytest.raises(ValidationError):
        normalise_udyam(value)


@pytest.mark.parametrize("value", ["411026", " 600 032 "])
def test_pin_codes(value: str) -> None:
    assert len(normalise_pin_code(value)) == 6


@pytest.mark.parametrize("value", ["011026", "41102", "4110266", "41102a"])
def test_bad_pin_codes(value: str) -> None:
    with pytest.raises(ValidationError):
        normalise_pin_code(value)

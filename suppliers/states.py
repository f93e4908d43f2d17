"""India's 28 states and 8 union territories: state codes, Udyam codes, GST state codes,
centroids.

Two kinds of two-letter code, which differ for two states (docs/registry.md,
*Identifiers*):

* ``code``: the state of an address (a supplier's ``state``, a request's
  ``delivery_state``), the ISO 3166-2:IN subdivision codes as revised in 2023 (``KA``
  Karnataka, ``TS`` Telangana, ``DH`` Dadra and Nagar Haveli and Daman and Diu, ...).
* ``udyam_codes``: the codes the Udyam portal writes in its registration numbers, the
  first being the usual one. They are the same, except Karnataka's numbers read
  ``UDYAM-KR-`` and those of Dadra and Nagar Haveli and Daman and Diu read ``UDYAM-DD-``
  (Daman and Diu) or ``UDYAM-DN-`` (Dadra and Nagar Haveli), never ``DH``.

The centroid is a rough geographic centre, used as an approximate location for a
supplier that gave no coordinates (the API says so). GST state codes are the two digits
at the start of a GSTIN.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    code: str  # ISO 3166-2:IN, the code an address carries
    name: str
    gst_code: str
    latitude: float
    longitude: float
    is_union_territory: bool = False
    udyam_codes: tuple[str, ...] = ()  # the codes Udyam numbers carry; () means (code,)

    @property
    def udyam_code(self) -> str:
        """The code of this state's Udyam numbers (the usual one, where there are two)."""
        return self.udyam_codes[0] if self.udyam_codes else self.code


STATES: tuple[State, ...] = (
    State("AP", "Andhra Pradesh", "37", 15.91, 79.74),
    State("AR", "Arunachal Pradesh", "12", 28.22, 94.73),
    State("AS", "Assam", "18", 26.20, 92.94),
    State("BR", "Bihar", "10", 25.10, 85.31),
    State("CG", "Chhattisgarh", "22", 21.28, 81.87),
    State("GA", "Goa", "30", 15.30, 74.12),
    State("GJ", "Gujarat", "24", 22.26, 71.19),
    State("HR", "Haryana", "06", 29.06, 76.09),
    State("HP", "Himachal Pradesh", "02", 31.10, 77.17),
    State("JH", "Jharkhand", "20", 23.61, 85.28),
    State("KA", "Karnataka", "29", 15.32, 75.71, udyam_codes=("KR",)),
    State("KL", "Kerala", "32", 10.85, 76.27),
    State("MP", "Madhya Pradesh", "23", 22.97, 78.66),
    State("MH", "Maharashtra", "27", 19.75, 75.71),
    State("MN", "Manipur", "14", 24.66, 93.91),
    State("ML", "Meghalaya", "17", 25.47, 91.37),
    State("MZ", "Mizoram", "15", 23.16, 92.94),
    State("NL", "Nagaland", "13", 26.16, 94.56),
    State("OD", "Odisha", "21", 20.95, 85.10),
    State("PB", "Punjab", "03", 31.15, 75.34),
    State("RJ", "Rajasthan", "08", 27.02, 74.22),
    State("SK", "Sikkim", "11", 27.53, 88.51),
    State("TN", "Tamil Nadu", "33", 11.13, 78.66),
    State("TS", "Telangana", "36", 18.11, 79.02),
    State("TR", "Tripura", "16", 23.94, 91.99),
    State("UP", "Uttar Pradesh", "09", 26.85, 80.95),
    State("UK", "Uttarakhand", "05", 30.07, 79.02),
    State("WB", "West Bengal", "19", 22.99, 87.85),
    State("AN", "Andaman and Nicobar Islands", "35", 11.74, 92.66, True),
    State("CH", "Chandigarh", "04", 30.73, 76.78, True),
    State(
        "DH",
        "Dadra and Nagar Haveli and Daman and Diu",
        "26",
        20.40,
        72.90,
        True,
        udyam_codes=("DD", "DN"),
    ),
    State("DL", "Delhi", "07", 28.70, 77.10, True),
    State("JK", "Jammu and Kashmir", "01", 33.78, 76.58, True),
    State("LA", "Ladakh", "38", 34.15, 77.58, True),
    State("LD", "Lakshadweep", "31", 10.57, 72.64, True),
    State("PY", "Puducherry", "34", 11.94, 79.81, True),
)

STATES_BY_CODE: dict[str, State] = {s.code: s for s in STATES}
# Every code a Udyam number carries, mapped to its state. Each was checked against real
# registration numbers (docs/registry.md).
UDYAM_STATE_CODES: dict[str, State] = {c: s for s in STATES for c in s.udyam_codes or (s.code,)}
# Codes no Udyam number carries but that people (and remag, until November 2026) put in
# one: the address code of Karnataka, and the pre-2023 ISO codes of four states. A number
# with one of them is the real number with the state mistyped, so it is read as the real
# code (the rest of the number, district and serial, is what identifies the enterprise).
UDYAM_CODE_CORRECTIONS: dict[str, str] = {
    "KA": "KR",
    "CT": "CG",
    "OR": "OD",
    "TG": "TS",
    "UT": "UK",
}
# Codes no Udyam number carries and that cannot be corrected: the hint says what to give.
UDYAM_CODES_NEVER_ISSUED: dict[str, str] = {
    "DH": "Dadra and Nagar Haveli and Daman and Diu numbers read UDYAM-DD-... (Daman and "
    "Diu) or UDYAM-DN-... (Dadra and Nagar Haveli), as printed on the certificate",
}
# The state of each GST state code (the first two digits of a GSTIN), from the GST
# Council's and CBIC's list of state codes (docs/registry.md, *GST state codes*): the
# codes in use, plus the legacy codes of undivided Andhra Pradesh (28, GSTINs issued
# before the Telangana split keep it) and of Daman and Diu (25, now part of DH). Code 97,
# "other territory" (offshore areas and the like), is no state: it maps to "".
GST_CODE_STATES: dict[str, str] = {
    **{s.gst_code: s.code for s in STATES},
    "25": "DH",
    "28": "AP",
    "97": "",
}
GST_STATE_CODES: frozenset[str] = frozenset(GST_CODE_STATES)


def state_of_gstin(gstin: str) -> str:
    """The state (address code) whose GST state code starts ``gstin``; "" for 97 (and
    for a code that is none, which a validated GSTIN never has)."""
    return GST_CODE_STATES.get(gstin[:2], "")


STATE_CHOICES: list[tuple[str, str]] = [(s.code, s.name) for s in STATES]

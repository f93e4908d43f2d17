"""India's 28 states and 8 union territories: Udyam codes, GST state codes, centroids.

The centroid is a rough geographic centre, used as an approximate location for a
supplier that gave no coordinates (the API says so). Udyam numbers use the two-letter
codes; some states appear under an older or alternative code too (``aliases``).
GST state codes are the two digits at the start of a GSTIN.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    code: str  # the Udyam two-letter code we store
    name: str
    gst_code: str
    latitude: float
    longitude: float
    is_union_territory: bool = False
    aliases: tuple[str, ...] = ()


STATES: tuple[State, ...] = (
    State("AP", "Andhra Pradesh", "37", 15.91, 79.74),
    State("AR", "Arunachal Pradesh", "12", 28.22, 94.73),
    State("AS", "Assam", "18", 26.20, 92.94),
    State("BR", "Bihar", "10", 25.10, 85.31),
    State("CG", "Chhattisgarh", "22", 21.28, 81.87, aliases=("CT",)),
    State("GA", "Goa", "30", 15.30, 74.12),
    State("GJ", "Gujarat", "24", 22.26, 71.19),
    State("HR", "Haryana", "06", 29.06, 76.09),
    State("HP", "Himachal Pradesh", "02", 31.10, 77.17),
    State("JH", "Jharkhand", "20", 23.61, 85.28),
    State("KA", "Karnataka", "29", 15.32, 75.71),
    State("KL", "Kerala", "32", 10.85, 76.27),
    State("MP", "Madhya Pradesh", "23", 22.97, 78.66),
    State("MH", "Maharashtra", "27", 19.75, 75.71),
    State("MN", "Manipur", "14", 24.66, 93.91),
    State("ML", "Meghalaya", "17", 25.47, 91.37),
    State("MZ", "Mizoram", "15", 23.16, 92.94),
    State("NL", "Nagaland", "13", 26.16, 94.56),
    State("OD", "Odisha", "21", 20.95, 85.10, aliases=("OR",)),
    State("PB", "Punjab", "03", 31.15, 75.34),
    State("RJ", "Rajasthan", "08", 27.02, 74.22),
    State("SK", "Sikkim", "11", 27.53, 88.51),
    State("TN", "Tamil Nadu", "33", 11.13, 78.66),
    State("TS", "Telangana", "36", 18.11, 79.02, aliases=("TG",)),
    State("TR", "Tripura", "16", 23.94, 91.99),
    State("UP", "Uttar Pradesh", "09", 26.85, 80.95),
    State("UK", "Uttarakhand", "05", 30.07, 79.02, aliases=("UT",)),
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
        aliases=("DN", "DD"),
    ),
    State("DL", "Delhi", "07", 28.70, 77.10, True),
    State("JK", "Jammu and Kashmir", "01", 33.78, 76.58, True),
    State("LA", "Ladakh", "38", 34.15, 77.58, True),
    State("LD", "Lakshadweep", "31", 10.57, 72.64, True),
    State("PY", "Puducherry", "34", 11.94, 79.81, True),
)

STATES_BY_CODE: dict[str, State] = {s.code: s for s in STATES}
# Every code a Udyam number may carry, mapped to the state we store.
UDYAM_STATE_CODES: dict[str, State] = {
    **{alias: s for s in STATES for alias in s.aliases},
    **STATES_BY_CODE,
}
# GST state codes in use, plus the legacy codes of undivided Andhra Pradesh (28) and of
# Daman and Diu (25), and "other territory" (97).
GST_STATE_CODES: frozenset[str] = frozenset({s.gst_code for s in STATES} | {"25", "28", "97"})

STATE_CHOICES: list[tuple[str, str]] = [(s.code, s.name) for s in STATES]

"""Micro, small and medium: the classification of an enterprise by its investment in
plant and machinery or equipment and its turnover, for one financial year (April to
March). Pure functions (docs/registry.md, *Enterprise size and classification*).

The limits are those of the Ministry of MSME's notifications under section 7 of the
MSMED Act, 2006: S.O. 2119(E) of 26 June 2020 (in force from 1 July 2020, when Udyam
registration began) and S.O. 1364(E) of 21 March 2025 (in force from 1 April 2025). An
enterprise is in the smallest category whose limits it meets on *both* criteria:
exceeding either limit of a category places it in the next.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from suppliers.choices import EnterpriseSize

CRORE = Decimal(10_000_000)  # rupees
FIRST_UDYAM_YEAR = 2020  # financial year 2020-21


@dataclass(frozen=True)
class Limits:
    """The ceilings of one notification: (size, investment, turnover) in rupees,
    smallest size first."""

    notification: str
    first_year: int  # the first financial year (by its first calendar year) they apply to
    ceilings: tuple[tuple[str, Decimal, Decimal], ...]


LIMITS: tuple[Limits, ...] = (
    Limits(
        "S.O. 2119(E) of 26 June 2020",
        2020,
        (
            (EnterpriseSize.MICRO, 1 * CRORE, 5 * CRORE),
            (EnterpriseSize.SMALL, 10 * CRORE, 50 * CRORE),
            (EnterpriseSize.MEDIUM, 50 * CRORE, 250 * CRORE),
        ),
    ),
    Limits(
        "S.O. 1364(E) of 21 March 2025",
        2025,
        (
            (EnterpriseSize.MICRO, Decimal("2.5") * CRORE, 10 * CRORE),
            (EnterpriseSize.SMALL, 25 * CRORE, 100 * CRORE),
            (EnterpriseSize.MEDIUM, 125 * CRORE, 500 * CRORE),
        ),
    ),
)
_ORDER = {size: n for n, size in enumerate(EnterpriseSize.values)}  # micro < small < medium


class NotAnMsme(ValueError):
    """A figure above the medium enterprise's limit: the enterprise is not an MSME."""

    def __init__(self, criterion: str, limit: Decimal, limits: Limits) -> None:
        self.criterion = criterion
        super().__init__(
            f"Above the medium enterprise's {criterion} limit of Rs {limit / CRORE:g} crore "
            f"({limits.notification}): not a micro, small or medium enterprise."
        )


def financial_year_of(day: date) -> int:
    """The financial year ``day`` falls in, by its first calendar year (April to March):
    2025 for any day from 1 April 2025 to 31 March 2026."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year: int) -> str:
    """``2025`` -> ``"2025-26"``."""
    return f"{year}-{(year + 1) % 100:02d}"


def limits_for(year: int) -> Limits:
    """The limits in force for the financial year starting in ``year`` (from 2020)."""
    if year < FIRST_UDYAM_YEAR:
        raise ValueError(f"Udyam classifications begin with {financial_year_label(2020)}.")
    return [limits for limits in LIMITS if limits.first_year <= year][-1]


def size_for(
    *, year: int, investment_inr: Decimal | None, turnover_inr: Decimal | None
) -> str | None:
    """The smallest size whose limits the given figures meet (a figure not given limits
    nothing, so with one figure this is the least the size can be). ``None`` when no
    figure is given; :class:`NotAnMsme` when one exceeds the medium limits."""
    if investment_inr is None and turnover_inr is None:
        return None
    limits = limits_for(year)
    for size, investment_ceiling, turnover_ceiling in limits.ceilings:
        if (investment_inr is None or investment_inr <= investment_ceiling) and (
            turnover_inr is None or turnover_inr <= turnover_ceiling
        ):
            return size
    _, investment_ceiling, turnover_ceiling = limits.ceilings[-1]
    if investment_inr is not None and investment_inr > investment_ceiling:
        raise NotAnMsme("investment", investment_ceiling, limits)
    raise NotAnMsme("turnover", turnover_ceiling, limits)


def is_smaller(size: str, than: str) -> bool:
    return _ORDER[size] < _ORDER[than]


def is_stale(year: int | None, *, today: date) -> bool | None:
    """A classification of a financial year before the current one is stale; ``None``
    when its year is not known (an undated classification)."""
    if year is None:
        return None
    return year < financial_year_of(today)

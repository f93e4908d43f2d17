"""The dashboard's figures as tables: one list of columns and rows per figure, from the
same selectors as the API. The HTML table, the CSV download and the chart (drawn by
stats/dashboard.js from the table's own data) all show these rows."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from remag.accounts.caller import Caller
from stats import selectors
from suppliers.choices import Layer
from suppliers.states import STATE_CHOICES

STATE_NAMES = dict(STATE_CHOICES)
LAYER_NAMES = dict(Layer.choices)


@dataclass
class Figure:
    slug: str
    title: str
    chart: str  # what dashboard.js draws: heatmap, bar, shares, funnel, none
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def body_html(self) -> SafeString:
        """The table's rows as HTML, each value shown as a template's ``{{ value }}``
        shows it (local time, localized, escaped) and None as nothing. Built here
        rather than by the template's loops, which spent about 5 ms of a 30 ms page on
        its 500-odd cells."""
        if not self.rows:
            return _empty_row(len(self.columns))
        return mark_safe(  # noqa: S308 (every value escaped by _cell)
            "".join(
                "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>"
                for row in self.rows
            )
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return conditional_escape(str(localize(template_localtime(value))))


def _empty_row(columns: int) -> SafeString:
    return mark_safe(f'<tr><td colspan="{columns:d}">Nothing to show.</td></tr>')  # noqa: S308


def coverage_figures(
    filters: selectors.Filters, *, stamp: datetime | None = None
) -> tuple[list[Figure], Any]:
    data = selectors.coverage(filters=filters, stamp=stamp)
    cells = Figure(
        slug="coverage-layer-state",
        title="Verified suppliers by layer and state",
        chart="heatmap",
        columns=["Layer", "State", "Verified suppliers"],
        rows=[[c["layer"], c["state"], c["suppliers"]] for c in data["by_layer_state"]],
        extra={"plants": data["magnet_plants"]},
    )
    capabilities = Figure(
        slug="coverage-capabilities",
        title="Verified suppliers and monthly capacity by capability",
        chart="bar",
        note="The chart shows the 25 capabilities with most suppliers (bar charts show "
        "at most 25 rows); the table and the CSV list them all.",
        columns=["Capability", "Layer", "Verified suppliers", "Capacity per month"],
        rows=[
            [
                c["name"],
                c["layer"],
                c["suppliers"],
                "; ".join(
                    f"{cap['per_month'].normalize():f} {cap['unit']}" for cap in c["capacity"]
                ),
            ]
            for c in data["by_capability"]
        ],
    )
    return [cells, capabilities], data["refreshed_at"]


def gaps_figure(
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    threshold: int,
    layer: str | None,
    stamp: datetime | None = None,
) -> Figure:
    data = selectors.coverage_gaps(
        latitude=latitude,
        longitude=longitude,
        radius_km=radius_km,
        threshold=threshold,
        layer=layer,
        stamp=stamp,
    )
    return Figure(
        slug="coverage-gaps",
        title=f"Capabilities with fewer than {threshold} verified suppliers within "
        f"{radius_km:g} km of {latitude:g}, {longitude:g}",
        chart="bar",
        columns=["Capability", "Layer", "Verified suppliers within the radius"],
        rows=[[c["name"], c["layer"], c["suppliers"]] for c in data["capabilities"]],
    )


def demand_figures(
    *, caller: Caller, filters: selectors.Filters, below: int, stamp: datetime | None = None
) -> list[Figure]:
    unmet = selectors.unmet_demand(caller=caller, filters=filters, below=below, stamp=stamp)
    shares = selectors.policy_shares(caller=caller, filters=filters, stamp=stamp)
    funnel = selectors.funnel(caller=caller, filters=filters, stamp=stamp)
    timing = funnel["timing"]
    return [
        Figure(
            slug="unmet-demand",
            title=f"Requests with fewer than {below} qualifying matches, by capability and state",
            chart="bar",
            columns=["Capability", "State", "Requests"],
            rows=[[g["name"], g["state"], g["requests"]] for g in unmet["groups"]],
        ),
        Figure(
            slug="near-misses",
            title="What kept suppliers out: near misses by reason",
            chart="bar",
            columns=["Reason", "Constraint", "Suppliers", "Requests"],
            rows=[
                [n["label"], n["constraint"], n["suppliers"], n["requests"]]
                for n in unmet["near_misses"]
            ],
        ),
        Figure(
            slug="policy-shares",
            title="Shares of awards (by count and by value) against the MSE procurement policy",
            chart="shares",
            columns=[
                "Month",
                "Awards",
                "Micro and small %",
                "Women-owned %",
                "SC/ST-owned %",
                "Value (INR)",
                "Micro and small % of value",
                "Women-owned % of value",
                "SC/ST-owned % of value",
            ],
            rows=[
                [
                    m["month"].isoformat()[:7],
                    m["awards"],
                    m["micro_small_share"],
                    m["women_owned_share"],
                    m["sc_st_owned_share"],
                    *_by_value(m),
                ]
                for m in shares["by_month"]
            ]
            + [
                [
                    "All",
                    shares["total"]["awards"],
                    shares["total"]["micro_small_share"],
                    shares["total"]["women_owned_share"],
                    shares["total"]["sc_st_owned_share"],
                    *_by_value(shares["total"]),
                ]
            ],
            note="Reference lines: 25% micro and small, 3% women-owned, 4% SC/ST-owned.",
            extra={"reference": shares["reference"]},
        ),
        Figure(
            slug="funnel",
            title="Funnel: requests reaching each stage",
            chart="funnel",
            columns=["Stage", "Requests"],
            rows=[[s["stage"], s["requests"]] for s in funnel["stages"]],
        ),
        Figure(
            slug="timing",
            title="Time from publication",
            chart="none",
            columns=["Measure", "Mean hours", "Median hours", "Requests"],
            rows=[
                [
                    "to the first match",
                    timing["publish_to_first_match_hours"],
                    timing["publish_to_first_match_median_hours"],
                    timing["requests_with_match"],
                ],
                [
                    "to the award",
                    timing["publish_to_award_hours"],
                    timing["publish_to_award_median_hours"],
                    timing["requests_with_award"],
                ],
            ],
        ),
    ]


def _by_value(row: dict[str, Any]) -> list[Any]:
    """The value columns of a policy-shares row: the awards that became orders."""
    return [
        row["value_inr"],
        row["micro_small_value_share"],
        row["women_owned_value_share"],
        row["sc_st_owned_value_share"],
    ]

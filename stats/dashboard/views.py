"""The dashboard at /dashboard/: server-rendered tables (they work without JavaScript),
drawn as charts by stats/dashboard.js with ECharts from the project's static files.
Coverage is public; the demand figures need a signed-in operator or manufacturer (a
session: sign in at /api-auth/login/)."""

import csv
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from remag.accounts.caller import caller_for
from stats import selectors
from stats.dashboard.figures import Figure, coverage_figures, demand_figures, gaps_figure
from stats.dashboard.forms import FiltersForm, GapsForm


def _filters(request: HttpRequest) -> tuple[FiltersForm, selectors.Filters, int]:
    form = FiltersForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.Filters(
        layer=data.get("layer") or None,
        state=data.get("state") or None,
        period_from=data.get("period_from"),
        period_to=data.get("period_to"),
    )
    return form, filters, data.get("below") or 3


def _figures(request: HttpRequest) -> dict[str, Any]:
    form, filters, below = _filters(request)
    # Read once for every figure of the page (each selector would read it again).
    stamp = selectors.refreshed_at()
    coverage, refreshed_at = coverage_figures(filters, stamp=stamp)
    figures = list(coverage)
    gaps = GapsForm(
        {k: request.GET[k] for k in GapsForm.base_fields if k in request.GET} or None,
        initial={"radius_km": 200, "threshold": 3},
    )
    if gaps.is_bound and gaps.is_valid():
        figures.append(gaps_figure(layer=filters.layer, stamp=stamp, **gaps.cleaned_data))
    caller = caller_for(request)
    may_see = selectors.may_see_demand(caller)
    if may_see:
        figures.extend(demand_figures(caller=caller, filters=filters, below=below, stamp=stamp))
    return {
        "form": form,
        "gaps_form": gaps,
        "figures": figures,
        "refreshed_at": refreshed_at,
        "may_see_demand": may_see,
        "signed_in": caller.is_authenticated,
        "query": request.GET.urlencode(),
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "stats/dashboard.html", _figures(request))


def figure_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One figure's table as CSV, with the page's filters."""
    figure: Figure | None = next((f for f in _figures(request)["figures"] if f.slug == slug), None)
    if figure is None:
        raise Http404("No such figure, or not yours to see.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="remag-{slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(figure.columns)
    writer.writerows(["" if v is None else v for v in row] for row in figure.rows)
    return response

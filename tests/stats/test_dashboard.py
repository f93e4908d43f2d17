"""The server-rendered dashboard (no JavaScript): tables, CSV downloads, who sees what."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext

from stats.dashboard.figures import Figure
from stats.services import stats_refresh
from tests.stats.conftest import Crafted


@pytest.fixture(autouse=True)
def refreshed(crafted: Crafted, settings: Any) -> None:
    settings.STATS_REFRESH_ON_READ = False
    stats_refresh()


def client_of(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def sections(html: str) -> list[str]:
    import re

    return re.findall(r'<section class="figure" id="figure-([a-z-]+)"', html)


def test_anonymous_sees_coverage_and_a_sign_in_link() -> None:
    response = client_of().get("/dashboard/")

    assert response.status_code == 200
    html = response.content.decode()
    assert sections(html) == ["coverage-layer-state", "coverage-capabilities"]
    assert "/api-auth/login/?next=/dashboard/" in html
    assert "<td>components</td><td>MH</td><td>2</td>" in html
    assert "/static/stats/vendor/echarts/echarts.min.js" in html


def test_an_operator_sees_every_figure(crafted: Crafted) -> None:
    html = client_of(crafted.operator).get("/dashboard/").content.decode()

    assert sections(html) == [
        "coverage-layer-state",
        "coverage-capabilities",
        "unmet-demand",
        "near-misses",
        "policy-shares",
        "funnel",
        "timing",
    ]
    assert "<td>ISO/IEC 17025 accreditation missing</td>" in html


def test_an_sme_sees_coverage_only(crafted: Crafted) -> None:
    html = client_of(crafted.sme_user).get("/dashboard/").content.decode()
    assert "unmet-demand" not in sections(html)
    assert "Demand figures are for operators and manufacturers" in html


def test_the_gaps_form_adds_the_radius_figure() -> None:
    html = (
        client_of()
        .get(
            "/dashboard/", {"latitude": 13.08, "longitude": 80.27, "radius_km": 50, "threshold": 2}
        )
        .content.decode()
    )
    assert "coverage-gaps" in sections(html)


def test_filters_apply_to_the_tables(crafted: Crafted) -> None:
    html = client_of(crafted.operator).get("/dashboard/", {"layer": "testing"}).content.decode()
    assert "<td>components</td>" not in html
    assert "<td>testing</td><td>TN</td><td>1</td>" in html


def test_csv_downloads_the_figure_with_the_filters(crafted: Crafted) -> None:
    response = client_of(crafted.operator).get("/dashboard/funnel.csv", {"state": "KA"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Stage", "Requests"]
    assert rows[1:] == [
        ["published", "1"],
        ["matched", "1"],
        ["shortlisted", "1"],
        ["invited", "1"],
        ["interested", "1"],
        ["awarded", "1"],
    ]


def test_csv_of_a_figure_not_yours_is_not_found(crafted: Crafted) -> None:
    assert client_of().get("/dashboard/funnel.csv").status_code == 404
    assert client_of(crafted.sme_user).get("/dashboard/near-misses.csv").status_code == 404
    assert client_of().get("/dashboard/coverage-capabilities.csv").status_code == 200


def test_the_chart_library_is_served_from_static_files() -> None:
    response = client_of().get("/static/stats/vendor/echarts/echarts.min.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"echarts" in body[:2000]


def test_magnet_plants_are_marked_when_the_mission_lists_them(settings: Any) -> None:
    settings.STATS_MAGNET_PLANTS = [
        {"name": "Plant V", "latitude": 17.7, "longitude": 83.3},
        {"name": "no location"},  # left out, as is one outside India
        {"name": "Abroad", "latitude": 51.5, "longitude": 0.1},
    ]

    html = client_of().get("/dashboard/").content.decode()
    api = client_of().get("/api/v1/stats/coverage/").json()

    assert api["magnet_plants"] == [{"name": "Plant V", "latitude": 17.7, "longitude": 83.3}]
    assert '"plants": [{"name": "Plant V", "latitude": 17.7, "longitude": 83.3}]' in html


def test_no_plants_unless_listed() -> None:
    assert client_of().get("/api/v1/stats/coverage/").json()["magnet_plants"] == []


def test_signing_in_at_the_documented_page_shows_the_demand_figures(crafted: Crafted) -> None:
    """As README says: a password, then /api-auth/login/?next=/dashboard/."""
    crafted.operator.set_password("a-long-test-password")
    crafted.operator.save()
    client = Client()
    login = client.get("/api-auth/login/?next=/dashboard/")
    assert login.status_code == 200

    response = client.post(
        "/api-auth/login/?next=/dashboard/",
        {
            "username": crafted.operator.username,
            "password": "a-long-test-password",
            "next": "/dashboard/",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert "funnel" in sections(response.content.decode())


# ------------------------------------------------------------------ the tables' HTML


# The template loop the tables had before ``Figure.body_html``: the reference it keeps.
TEMPLATE_ROWS = (
    '{% for row in rows %}<tr>{% for value in row %}<td>{{ value|default_if_none:"" }}</td>'
    '{% endfor %}</tr>{% empty %}<tr><td colspan="{{ columns|length }}">Nothing to show.'
    "</td></tr>{% endfor %}"
)


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [["components", "MH", 2], ["testing", "TN", 0]],
        [[None, "", 0.1, 1.5e-7, 2.0, Decimal("12.500"), Decimal("1E+3"), True, False]],
        [['<script>alert("x")</script>', "Tom & Jerry's", "ISO/IEC 17025 missing", "दिल्ली"]],
        [[date(2026, 11, 27), datetime(2026, 11, 27, 18, 30, tzinfo=UTC), 10**12]],
    ],
)
def test_a_figures_rows_read_as_the_template_wrote_them(rows: list[list[Any]]) -> None:
    figure = Figure(slug="s", title="t", chart="none", columns=["a", "b", "c"], rows=rows)

    expected = (
        engines["django"]
        .from_string(TEMPLATE_ROWS)
        .render({"rows": rows, "columns": figure.columns})
    )

    assert str(figure.body_html()) == expected
    assert "<script>" not in expected


def test_the_page_reads_the_refresh_stamp_once(crafted: Crafted) -> None:
    client = client_of(crafted.operator)
    url = "/dashboard/?latitude=18.5&longitude=73.8&radius_km=200&threshold=3"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert "coverage-gaps" in sections(response.content.decode())
    stamps = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "stats_refresh"')]
    assert len(stamps) == 1, stamps

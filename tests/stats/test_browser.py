"""The dashboard as a person sees it: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) loads /dashboard/ under the demo data, waits for
the charts, checks that they are drawn (SVG) and that the tables say what the API says,
and saves a screenshot in var/test-artifacts/. Skipped when no browser is installed;
fails instead under REMAG_REQUIRE_SERVICES=1 (.ci/run installs the browser)."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from remag.accounts.caller import caller_for
from remag.celery import app as celery_app
from tests.conftest import ROOT, service_unavailable
from tests.factories import MembershipFactory

ARTIFACTS = Path(os.environ.get("REMAG_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts"))
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1300,900",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    binary = next((path for path in CHROMIUM if Path(path).exists()), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        service_unavailable(
            "no headless browser: apt-get install -y chromium chromium-driver (as .ci/run does)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        service_unavailable("selenium is not installed (pip install -e '.[dev]')")
    profile = tempfile.mkdtemp(prefix="remag-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def demo_data(transactional_db: None, settings: Any) -> Any:
    """`make run`'s demo data, smaller: the taxonomy, demo SMEs and accounts, the demo
    buyer's published requests matched in process; and one award, made through the
    lifecycle, so the policy figure has a point."""
    previous = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    settings.STATS_REFRESH_ON_READ = True
    try:
        quiet = open(os.devnull, "w")  # noqa: SIM115
        call_command("load_taxonomy", stdout=quiet)
        call_command("seed_demo", suppliers=150, seed=1, with_accounts=True, stdout=quiet)
        call_command("seed_demo_requests", stdout=quiet)
    finally:
        celery_app.conf.task_always_eager = previous
    from matching import services
    from matching.models import Match
    from remag.accounts.models import User

    buyer = User.objects.get(username="demo-buyer")
    match = Match.objects.filter(request__owner__memberships__user=buyer).order_by("-score")[0]
    sme = MembershipFactory(organization=match.supplier.owner).user

    def actor(user: Any) -> Any:
        return services.Actor(caller=caller_for(SimpleNamespace(user=user)), user=user)

    for to_status, user in (("invited", buyer), ("interested", sme), ("awarded", buyer)):
        match = services.match_transition(match=match, to_status=to_status, actor=actor(user))
    return User.objects.get(username="demo-operator")


def table(driver: Any, slug: str) -> list[list[str]]:
    return driver.execute_script(
        """return Array.from(document.querySelectorAll('#figure-' + arguments[0] + ' tbody tr'))
             .map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent));""",
        slug,
    )


def test_the_dashboard_draws_every_figure_as_the_api_says(
    demo_data: Any, live_server: Any, browser: Any
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    session = Client()
    session.force_login(demo_data)
    browser.get(f"{live_server.url}/static/stats/dashboard.css")  # the cookie's domain
    browser.add_cookie({"name": "sessionid", "value": session.cookies["sessionid"].value})

    browser.get(f"{live_server.url}/dashboard/")
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element("tag name", "body").get_attribute("data-charts-ready") == "true"
    )

    # Every figure that has data is drawn, as SVG, by ECharts from the static files.
    drawn = browser.execute_script(
        """return Array.from(document.querySelectorAll('section.figure[data-chart]'))
             .filter(s => s.dataset.chart !== 'none')
             .map(s => [s.dataset.slug, s.dataset.rendered === 'true',
                        s.querySelectorAll('.chart svg').length]);"""
    )
    assert [slug for slug, _, _ in drawn] == [
        "coverage-layer-state",
        "coverage-capabilities",
        "unmet-demand",
        "near-misses",
        "policy-shares",
        "funnel",
    ]
    for slug, rendered, svgs in drawn:
        if slug == "unmet-demand" and not table(browser, slug)[0][1:]:
            continue  # nothing unmet: no chart to draw
        assert rendered, slug
        assert svgs >= 1, slug

    # The tables say what the API says.
    api = Client()
    api.force_login(demo_data)
    coverage = api.get("/api/v1/stats/coverage/").json()
    assert table(browser, "coverage-layer-state") == [
        [c["layer"], c["state"], str(c["suppliers"])] for c in coverage["by_layer_state"]
    ]
    assert [row[2] for row in table(browser, "coverage-capabilities")] == [
        str(c["suppliers"]) for c in coverage["by_capability"]
    ]
    funnel = api.get("/api/v1/stats/funnel/").json()
    assert table(browser, "funnel") == [[s["stage"], str(s["requests"])] for s in funnel["stages"]]
    assert funnel["stages"][0]["requests"] >= 5
    assert funnel["stages"][-1]["requests"] == 1
    shares = api.get("/api/v1/stats/policy-shares/").json()
    assert table(browser, "policy-shares")[-1][:2] == ["All", str(shares["total"]["awards"])]
    assert shares["total"]["awards"] == 1
    near = api.get("/api/v1/stats/unmet-demand/").json()["near_misses"]
    assert [[r[0], r[2]] for r in table(browser, "near-misses")] == [
        [n["label"], str(n["suppliers"])] for n in near
    ]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1300, min(int(height) + 100, 8000))
    shot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

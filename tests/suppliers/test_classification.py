"""Enterprise classification per financial year: the limits of S.O. 2119(E) (2020) and
S.O. 1364(E) (from 2025-26), the size derived from declared figures and checked against
them, staleness; through the API and the import (docs/registry.md)."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from suppliers import classification, imports
from suppliers.classification import CRORE, financial_year_of, size_for
from suppliers.models import Supplier
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory
from tests.suppliers.test_api import URL, payload

pytestmark = pytest.mark.django_db

THIS_YEAR = financial_year_of(timezone.localdate())


def crore(value: str) -> Decimal:
    return Decimal(value) * CRORE


@pytest.fixture
def client(user_client: Any) -> Any:
    member = MembershipFactory(organization=OrganizationFactory(kind="sme"), role="admin").user
    return user_client(member)


def post(client: Any, **overrides: Any) -> Any:
    return client.post(URL, payload(**overrides), format="json")


# ------------------------------------------------------------------ the rule


def test_financial_years_run_from_april() -> None:
    assert financial_year_of(date(2025, 3, 31)) == 2024
    assert financial_year_of(date(2025, 4, 1)) == 2025
    assert classification.financial_year_label(2025) == "2025-26"
    assert classification.financial_year_label(2099) == "2099-00"


@pytest.mark.parametrize(
    ("year", "investment", "turnover", "size"),
    [
        # S.O. 1364(E), from 2025-26: 2.5/10, 25/100, 125/500 crore.
        (2025, "2.5", "10", "micro"),
        (2025, "2.6", "1", "small"),  # either criterion moves it up
        (2025, "1", "10.01", "small"),
        (2025, "25", "100", "small"),
        (2025, "125", "500", "medium"),
        # S.O. 2119(E), 2020-21 to 2024-25: 1/5, 10/50, 50/250 crore.
        (2024, "2.5", "10", "small"),
        (2024, "1", "5", "micro"),
        (2020, "50", "250", "medium"),
        (2024, "60", "100", None),
    ],
)
def test_the_limits_of_each_year(year: int, investment: str, turnover: str, size: str) -> None:
    if size is None:
        with pytest.raises(classification.NotAnMsme):
            size_for(year=year, investment_inr=crore(investment), turnover_inr=crore(turnover))
    else:
        assert (
            size_for(year=year, investment_inr=crore(investment), turnover_inr=crore(turnover))
            == size
        )


def test_one_figure_gives_the_least_size() -> None:
    assert size_for(year=2025, investment_inr=crore("30"), turnover_inr=None) == "medium"
    assert size_for(year=2025, investment_inr=None, turnover_inr=crore("1")) == "micro"
    assert size_for(year=2025, investment_inr=None, turnover_inr=None) is None


def test_staleness() -> None:
    today = date(2026, 11, 26)
    assert classification.is_stale(2025, today=today) is True
    assert classification.is_stale(2026, today=today) is False
    assert classification.is_stale(None, today=today) is None


# ------------------------------------------------------------------ the API


def test_the_size_is_derived_from_the_figures(client: Any) -> None:
    body = payload(
        classification_year=THIS_YEAR, investment_inr="20000000", turnover_inr="80000000"
    )
    del body["enterprise_size"]

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["enterprise_size"] == "micro"  # 2 and 8 crore, within 2.5 / 10
    assert data["classification_year"] == THIS_YEAR
    assert data["classification_financial_year"] == classification.financial_year_label(THIS_YEAR)
    assert data["classification_stale"] is False
    assert Decimal(data["investment_inr"]) == crore("2")


def test_a_size_the_figures_contradict_is_refused(client: Any) -> None:
    response = post(
        client,
        enterprise_size="micro",
        classification_year=THIS_YEAR,
        investment_inr=str(crore("30")),
        turnover_inr=str(crore("40")),
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "enterprise_size"
    assert "medium" in error["message"]
    assert "S.O. 1364(E)" in error["message"]


def test_the_same_figures_classify_by_their_year(client: Any) -> None:
    figures = {"investment_inr": str(crore("2")), "turnover_inr": str(crore("8"))}

    before = post(client, enterprise_size="micro", classification_year=2024, **figures)

    assert before.status_code == 400  # small under the 2020 limits (1 / 5 crore)
    assert "S.O. 2119(E)" in before.json()["errors"][0]["message"]
    assert (
        post(client, enterprise_size="small", classification_year=2024, **figures).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"classification_year": THIS_YEAR + 1}, "classification_year"),
        ({"classification_year": 2019}, "classification_year"),
        ({"investment_inr": "1000"}, "classification_year"),  # figures need their year
        ({"classification_year": THIS_YEAR, "turnover_inr": str(crore("501"))}, "turnover_inr"),
        ({"classification_year": THIS_YEAR, "investment_inr": "-1"}, "investment_inr"),
        ({"enterprise_size": None}, "enterprise_size"),
    ],
)
def test_bad_classifications_are_named(client: Any, overrides: dict[str, Any], field: str) -> None:
    body = payload(**overrides)
    if body.get("enterprise_size") is None:
        del body["enterprise_size"]

    response = client.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Supplier.objects.exists()


def test_a_past_year_is_shown_stale_and_an_undated_one_as_unknown(client: Any) -> None:
    stale = SupplierFactory(classification_year=THIS_YEAR - 1)
    undated = SupplierFactory()

    assert client.get(f"{URL}{stale.id}/").json()["classification_stale"] is True
    body = client.get(f"{URL}{undated.id}/").json()
    assert body["classification_stale"] is None
    assert body["classification_financial_year"] is None


def test_the_figures_are_private(client: Any, api_client: Any) -> None:
    created = post(
        client, classification_year=THIS_YEAR, investment_inr="100", turnover_inr="100",
        enterprise_size="micro",
    ).json()  # fmt: skip

    public = api_client.get(f"{URL}{created['id']}/").json()
    assert "investment_inr" not in public
    assert "turnover_inr" not in public
    assert public["classification_year"] == THIS_YEAR


def test_an_update_with_new_figures_rederives_the_size(client: Any) -> None:
    created = post(
        client, classification_year=THIS_YEAR, investment_inr="100", turnover_inr="100",
        enterprise_size="micro",
    ).json()  # fmt: skip
    url = f"{URL}{created['id']}/"

    response = client.patch(url, {"turnover_inr": str(crore("200"))}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["enterprise_size"] == "medium"
    response = client.patch(url, {"enterprise_size": "small"}, format="json")
    assert response.status_code == 400
    assert client.patch(url, {"city": "Pune"}, format="json").status_code == 200


def test_the_import_reads_the_classification(key_client: Any) -> None:
    portal = OrganizationFactory(kind="portal")
    content = (
        "udyam_number,legal_name,enterprise_size,state,pin_code,classification_year,"
        "investment_inr,turnover_inr\n"
        f"UDYAM-MH-26-0000101,Derived Works,,MH,411026,{THIS_YEAR},30000000,90000000\n"
        "UDYAM-MH-26-0000102,Undated Works,small,MH,411026,,,\n"
    ).encode()
    response = key_client(portal).post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("s.csv", content)}, format="multipart"
    )
    job = imports.import_job_execute(job_id=response.json()["id"])

    assert (job.created_count, job.failed_count) == (2, 0), list(job.row_errors.values())
    derived = Supplier.objects.get(udyam_number="UDYAM-MH-26-0000101")
    assert (derived.enterprise_size, derived.classification_year) == ("small", THIS_YEAR)
    undated = Supplier.objects.get(udyam_number="UDYAM-MH-26-0000102")
    assert (undated.enterprise_size, undated.classification_year) == ("small", None)

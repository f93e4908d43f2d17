"""The procurement policy preference through the API: the women-owned and SC/ST-owned
sub-targets count only micro and small enterprises (docs/matching.md, Policy preference)."""

from typing import Any

import pytest
import yaml
from django.utils import timezone

from matching.scoring import ALGORITHM_VERSION
from suppliers.classification import financial_year_of
from suppliers.models import Supplier
from tests.matching.conftest import client_for

pytestmark = pytest.mark.django_db


def policy_of(world: Any, request_id: str) -> dict[str, tuple[float, list[str]]]:
    response = client_for(world.buyer).get(f"/api/v1/requests/{request_id}/matches/")
    assert response.status_code == 200, response.json()
    out = {}
    for match in response.json()["results"]:
        assert match["algorithm_version"] == ALGORITHM_VERSION
        policy = next(f for f in match["factors"] if f["name"] == "policy")
        name = match["supplier"]["legal_name"].split()[0].lower()
        out[name] = (policy["value"], match["reasons"])
    return out


@pytest.mark.parametrize(
    ("flag", "words"), [("women_owned", "women-owned"), ("sc_st_owned", "SC/ST-owned")]
)
def test_a_medium_enterprise_earns_no_ownership_credit(
    world: Any, published: Any, flag: str, words: str
) -> None:
    s = world.suppliers
    Supplier.objects.filter(pk=s["full"].pk).update(enterprise_size="micro", **{flag: True})
    Supplier.objects.filter(pk=s["far"].pk).update(enterprise_size="medium", **{flag: True})
    Supplier.objects.filter(pk=s["half"].pk).update(enterprise_size="small", **{flag: False})

    request_id = published(**{f"prefer_{flag}": True})
    policy = policy_of(world, request_id)

    assert policy["full"][0] == 1.0
    assert f"{words} micro or small enterprise (policy preference)" in policy["full"][1]
    assert policy["far"][0] == 0.0, "a medium enterprise is outside the MSE sub-targets"
    assert not any("policy preference" in r for r in policy["far"][1])
    assert policy["half"][0] == 0.0


def test_the_preference_is_documented_as_voluntary_for_private_buyers(client: Any) -> None:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # Whatever the component is called: the one that has the preferences.
    fields = next(
        component["properties"]
        for component in schema["components"]["schemas"].values()
        if "prefer_women_owned" in component.get("properties", {})
    )
    for name in ("prefer_micro_small", "prefer_women_owned", "prefer_sc_st_owned"):
        text = fields[name]["description"]
        assert "voluntary" in text
        assert "central ministries" in text
    assert "51%" in fields["prefer_women_owned"]["description"]


def test_a_stale_classification_counts_as_unknown_size(world: Any, published: Any) -> None:
    this_year = financial_year_of(timezone.localdate())
    s = world.suppliers
    # Micro for the current financial year; micro for last year (stale); micro, undated.
    Supplier.objects.filter(pk=s["full"].pk).update(
        enterprise_size="micro", classification_year=this_year, women_owned=True
    )
    Supplier.objects.filter(pk=s["far"].pk).update(
        enterprise_size="micro", classification_year=this_year - 1, women_owned=True
    )
    Supplier.objects.filter(pk=s["half"].pk).update(
        enterprise_size="small", classification_year=None
    )

    request_id = published(prefer_micro_small=True, prefer_women_owned=True)
    policy = policy_of(world, request_id)

    assert policy["full"][0] == 1.0
    assert policy["far"][0] == 0.0, "last year's micro is of unknown size now"
    assert not any("policy preference" in r for r in policy["far"][1])
    assert policy["half"][0] == 0.5  # undated small: counts; not women-owned
    assert "micro or small enterprise (policy preference)" in policy["half"][1]

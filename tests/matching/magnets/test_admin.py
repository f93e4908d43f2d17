"""Operators see the magnet market in the admin, read-only, and can form pools there."""

import pytest
from django.test import Client

from matching.magnets.models import MagnetMatch, MagnetPool, MagnetRun
from tests.factories import OrganizationFactory, UserFactory
from tests.matching.magnets.conftest import Market, make_offer, make_requirement

pytestmark = pytest.mark.django_db

SMALL = {"quantity_per_month": "40", "pool_opt_in": True}


def test_magnet_admin_pages_render_and_form_pools(market: Market) -> None:
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org, **SMALL)
    make_requirement(OrganizationFactory(kind="sme"), **SMALL)
    pool = MagnetPool.objects.get()
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in (
        "/admin/magnets/magnetoffer/",
        f"/admin/magnets/magnetoffer/{offer.id}/change/",
        "/admin/magnets/magnetrequirement/",
        f"/admin/magnets/magnetrequirement/{requirement.id}/change/",
        "/admin/magnets/magnetpool/",
        f"/admin/magnets/magnetpool/{pool.id}/change/",
        "/admin/magnets/magnetrun/",
        f"/admin/magnets/magnetrun/{MagnetRun.objects.first().id}/change/",
        "/admin/magnets/magnetmatch/",
        "/admin/magnets/magnetnearmiss/",
    ):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/admin/magnets/magnetoffer/add/").status_code == 403
    assert MagnetMatch.objects.count() == 0  # below the minimum order: near misses only
    response = admin.post(
        "/admin/magnets/magnetpool/",
        {"action": "form_pools", "_selected_action": [str(pool.id)]},
        follow=True,
    )
    assert "0 pools formed or grown." in response.content.decode()

"""Helpers for the deal after the match: take a published request of the matching world
to interested SMEs, ask them to quote, quote."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from matching.models import Match
from tests.matching.conftest import World, client_for, today

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def terms(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unit_price": "2450.00",
        "quantity": "300",
        "unit": "kg",
        "lead_time_days": 21,
        "valid_until": (today() + timedelta(days=30)).isoformat(),
        "payment_terms_days": 30,
        "delivery_terms": "FOR Pune",
        "notes": "Jet-milled to D50 3.5 um.",
    }
    body.update(overrides)
    return body


def match_of(request_id: str, world: World, key: str) -> Match:
    return Match.objects.get(request_id=request_id, supplier=world.suppliers[key])


def make_interested(world: World, request_id: str, *keys: str) -> dict[str, Match]:
    """Invite the suppliers ``keys`` and have each answer interested."""
    buyer = client_for(world.buyer)
    out = {}
    for key in keys:
        match = match_of(request_id, world, key)
        url = f"/api/v1/matches/{match.id}/transitions/"
        assert buyer.post(url, {"status": "invited"}, format="json").status_code == 201
        sme = client_for(world.sme_users[key])
        assert sme.post(url, {"status": "interested"}, format="json").status_code == 201
        out[key] = match
    return out


def ask_quotes(world: World, request_id: str, *, days: int = 3) -> dict[str, Any]:
    response = client_for(world.buyer).post(
        "/api/v1/quotation-requests/",
        {
            "request": request_id,
            "deadline": (timezone.now() + timedelta(days=days)).isoformat(),
            "message": "Quote for 500 kg by the deadline.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def quote(world: World, key: str, match: Match, **overrides: Any) -> Any:
    return client_for(world.sme_users[key]).post(
        "/api/v1/quotations/", {"match": str(match.id), **terms(**overrides)}, format="json"
    )


@pytest.fixture
def rfq_for(
    world: World, published: Callable[..., str]
) -> Callable[..., tuple[str, dict[str, Any], dict[str, Match]]]:
    """A published request whose ``keys`` suppliers are interested and asked to quote."""

    def make(*keys: str, **overrides: Any) -> tuple[str, dict[str, Any], dict[str, Match]]:
        request_id = published(**overrides)
        matches = make_interested(world, request_id, *(keys or ("full", "far")))
        return request_id, ask_quotes(world, request_id), matches

    return make

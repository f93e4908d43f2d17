"""Every ``Location`` the API sets is a plain ``str``, through a real, strict WSGI server
(wsgiref refuses anything else with a 500; the development server is built on it)."""

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from matching.models import MatchRun
from remag.webhooks.models import Delivery, WebhookEndpoint
from tests.conftest import ROOT
from tests.factories import UserTokenFactory
from tests.matching import conftest as matching
from tests.matching.conftest import World

world = matching.world
post_request = matching.post_request

pytestmark = pytest.mark.django_db(transaction=True)


def call(
    base: str, method: str, path: str, token: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(  # noqa: S310 (a loopback URL of the test)
        base + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()[:500]


def assert_location(status: int, headers: dict[str, str], body: Any, expected: int) -> str:
    assert status == expected, body
    location = headers["Location"]
    assert location.startswith("http://127.0.0.1:")
    return location


def test_every_location_header_survives_a_strict_wsgi_server(
    wsgi_server: str, world: World, post_request: Any, settings: Any
) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = True
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    buyer = UserTokenFactory(user=world.buyer).raw_key
    operator = UserTokenFactory(user=world.operator).raw_key

    # publish: the run's URL
    created = post_request()
    status, headers, body = call(
        wsgi_server, "POST", f"/api/v1/requests/{created['id']}/publish/", buyer
    )
    location = assert_location(status, headers, body, 200)
    assert location.endswith(f"/api/v1/match-runs/{MatchRun.objects.get().id}/")

    # a new match run: 202
    MatchRun.objects.update(status="succeeded")
    status, headers, body = call(
        wsgi_server, "POST", f"/api/v1/requests/{created['id']}/match-runs/", buyer
    )
    assert assert_location(status, headers, body, 202).endswith(f"/api/v1/match-runs/{body['id']}/")

    # an import: 202
    csv = (ROOT / "docs" / "samples" / "suppliers.csv").read_bytes()
    boundary = "remag-test-boundary"
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + csv
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, headers, body = call(
        wsgi_server, "POST", "/api/v1/imports/", operator, multipart,
        **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert assert_location(status, headers, body, 202).endswith(f"/api/v1/imports/{body['id']}/")

    # a webhook ping and a redelivery: 202
    endpoint = WebhookEndpoint.objects.create(
        organization=world.buyer_org, url="http://127.0.0.1:9/hook", secret="s" * 40
    )
    status, headers, body = call(
        wsgi_server, "POST", f"/api/v1/webhooks/endpoints/{endpoint.id}/ping/", buyer
    )
    assert assert_location(status, headers, body, 202).endswith(
        f"/api/v1/webhooks/deliveries/{body['id']}/"
    )
    delivery = Delivery.objects.get(id=body["id"])
    status, headers, body = call(
        wsgi_server, "POST", f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver/", buyer
    )
    assert assert_location(status, headers, body, 202).endswith(
        f"/api/v1/webhooks/deliveries/{body['id']}/"
    )


def test_the_server_fixture_is_strict(wsgi_server: str) -> None:
    """Guards the test above: wsgiref really refuses a header that is not a ``str``."""
    from wsgiref.headers import Headers

    class NotQuiteStr(str):
        pass

    with pytest.raises(AssertionError):
        Headers([("Location", NotQuiteStr("/x"))])
    assert Path(ROOT / "docs" / "samples" / "suppliers.csv").is_file()

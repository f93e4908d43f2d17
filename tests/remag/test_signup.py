"""Sign-up, email verification, log-in and one's own tokens, through the API.

Messages go to Django's locmem outbox here; tests/remag/test_signup_smtp.py sends one
through a real SMTP server.
"""

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from remag.accounts.models import Membership, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "rare-earth-magnets-2026"
PROBLEM = "application/problem+json"


def signup_body(email: str = "asha@sme.example.in", **changes: Any) -> dict[str, Any]:
    return {
        "email": email,
        "password": PASSWORD,
        "first_name": "Asha",
        "last_name": "Rao",
        "organization_name": "Rao Precision Works",
        "organization_kind": "sme",
        **changes,
    }


def signup(client: APIClient, **changes: Any) -> Any:
    return client.post("/api/v1/auth/signup/", signup_body(**changes), format="json")


def link_in(message: Any) -> str:
    found = re.search(r"https?://\S+/api/v1/auth/verify-email/\?token=\S+", message.body)
    assert found, message.body
    return found.group(0)


def path_of(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def login(client: APIClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login/", {"email": email, "password": password}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# ------------------------------------------------------------------ sign-up


def test_sign_up_creates_the_person_and_organisation_and_emails_a_link(settings: Any) -> None:
    settings.REMAG_PUBLIC_BASE_URL = "https://remag.example.in"

    response = signup(APIClient())

    assert response.status_code == 202, response.content
    assert set(response.json()) == {"detail"}
    user = User.objects.get(email="asha@sme.example.in")
    assert not user.email_verified
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user)
    assert (membership.organization.name, membership.organization.kind, membership.role) == (
        "Rao Precision Works",
        "sme",
        "admin",
    )
    (message,) = mail.outbox
    assert message.to == ["asha@sme.example.in"]
    assert link_in(message).startswith("https://remag.example.in/api/v1/auth/verify-email/")
    assert PASSWORD not in message.body


def test_a_manufacturer_signs_up_too() -> None:
    assert signup(APIClient(), organization_kind="manufacturer").status_code == 202
    assert Membership.objects.get().organization.kind == "manufacturer"


@pytest.mark.parametrize("kind", ["portal", "operator", "bank"])
def test_portals_and_operators_cannot_sign_up(kind: str) -> None:
    response = signup(APIClient(), organization_kind=kind)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["organization_kind"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password", ["short", "12345678901234", "password123", "asha.rao.sme@example"]
)
def test_passwords_go_through_django_validators(password: str) -> None:
    response = signup(APIClient(), email="asha.rao.sme@example.in", password=password)

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"password"}
    assert not User.objects.exists()
    assert mail.outbox == []


def test_sign_up_with_a_known_address_answers_the_same_and_tells_its_owner() -> None:
    existing = UserFactory(email="Asha@SME.example.in")
    first = signup(APIClient(), email="someone@else.example.in")

    again = signup(APIClient(), email="asha@sme.example.in")

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert User.objects.filter(email__iexact="asha@sme.example.in").count() == 1
    assert Membership.objects.filter(user=existing).count() == 0
    notice = mail.outbox[-1]
    assert notice.to == ["Asha@SME.example.in"]
    assert "already has an account" in notice.body
    assert "token=" not in notice.body


# ------------------------------------------------------------------ verification


def test_the_link_verifies_once() -> None:
    signup(APIClient())
    path = path_of(link_in(mail.outbox[0]))

    response = APIClient().get(path)
    again = APIClient().get(path)

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "asha@sme.example.in"
    assert User.objects.get().email_verified
    assert again.status_code == 400
    assert again["Content-Type"] == PROBLEM
    assert again.json()["errors"][0]["code"] == "token_used"


def test_the_token_may_be_posted_too() -> None:
    signup(APIClient())
    token = link_in(mail.outbox[0]).split("token=", 1)[1]

    response = APIClient().post("/api/v1/auth/verify-email/", {"token": token}, format="json")

    assert response.status_code == 200
    assert User.objects.get().email_verified


def test_an_expired_link_is_refused(settings: Any) -> None:
    signup(APIClient())
    settings.REMAG_EMAIL_VERIFICATION_MAX_AGE = timedelta(seconds=-1)

    response = APIClient().get(path_of(link_in(mail.outbox[0])))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_expired"
    assert "expired" in response.json()["detail"]
    assert not User.objects.get().email_verified


@pytest.mark.parametrize("tamper", [lambda t: t[:-2] + "xx", lambda t: "nonsense", lambda t: ""])
def test_a_tampered_or_missing_token_is_refused(tamper: Any) -> None:
    signup(APIClient())
    token = link_in(mail.outbox[0]).split("token=", 1)[1]

    response = APIClient().get("/api/v1/auth/verify-email/", {"token": tamper(token)})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["token"]
    assert not User.objects.get().email_verified


def test_a_link_for_an_old_address_does_not_verify_a_new_one() -> None:
    signup(APIClient())
    User.objects.update(email="changed@sme.example.in")

    response = APIClient().get(path_of(link_in(mail.outbox[0])))

    assert response.status_code == 400
    assert not User.objects.get().email_verified


def test_resend_answers_the_same_for_any_address_and_mails_only_the_unverified() -> None:
    signup(APIClient())
    UserFactory(email="verified@example.in")
    mail.outbox.clear()

    answers = [
        APIClient().post("/api/v1/auth/verify-email/resend/", {"email": e}, format="json")
        for e in ("asha@sme.example.in", "verified@example.in", "nobody@example.in")
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert [m.to for m in mail.outbox] == [["asha@sme.example.in"]]
    assert APIClient().get(path_of(link_in(mail.outbox[0]))).status_code == 200


# ------------------------------------------------------------------ read, not write


def test_an_unverified_person_reads_but_cannot_write_until_verified() -> None:
    signup(APIClient())
    client = bearer(login(APIClient(), "asha@sme.example.in").json()["token"])

    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["user"]["email_verified"] is False
    assert client.get("/api/v1/organizations/").status_code == 200
    refused = client.post("/api/v1/suppliers/", {}, format="json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    assert refused.json()["code"] == "email_not_verified"
    assert "Verify your email" in refused.json()["detail"]

    APIClient().get(path_of(link_in(mail.outbox[0])))

    assert client.get("/api/v1/me/").json()["user"]["email_verified"] is True
    assert client.post("/api/v1/suppliers/", {}, format="json").status_code == 400


# ------------------------------------------------------------------ log-in and tokens


def test_log_in_returns_a_personal_token_once() -> None:
    UserFactory(email="buyer@plant.example.in", password=PASSWORD)

    response = login(APIClient(), "BUYER@plant.example.in")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"]
    assert body["expires_at"] is not None
    assert bearer(body["token"]).get("/api/v1/me/").status_code == 200
    listed = bearer(body["token"]).get("/api/v1/me/tokens/").json()["results"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]


def test_wrong_password_and_unknown_address_fail_alike() -> None:
    UserFactory(email="buyer@plant.example.in", password=PASSWORD)
    UserFactory(email="gone@plant.example.in", password=PASSWORD, is_active=False)

    answers = [
        login(APIClient(), "buyer@plant.example.in", "not-the-password"),
        login(APIClient(), "nobody@plant.example.in"),
        login(APIClient(), "gone@plant.example.in"),
    ]

    assert {a.status_code for a in answers} == {400}
    assert len({a.content for a in answers}) == 1
    assert answers[0]["Content-Type"] == PROBLEM
    assert answers[0].json()["errors"][0]["code"] == "invalid_credentials"


def test_a_person_revokes_their_own_token_and_not_others() -> None:
    UserFactory(email="a@example.in", password=PASSWORD)
    UserFactory(email="b@example.in", password=PASSWORD)
    mine = login(APIClient(), "a@example.in").json()
    theirs = login(APIClient(), "b@example.in").json()
    client = bearer(mine["token"])

    assert client.post(f"/api/v1/me/tokens/{theirs['id']}/revoke/").status_code == 404
    assert client.post(f"/api/v1/me/tokens/{mine['id']}/revoke/").status_code == 200

    assert client.get("/api/v1/me/").status_code == 401
    assert bearer(theirs["token"]).get("/api/v1/me/").status_code == 200


def test_an_unverified_person_may_revoke_a_token() -> None:
    signup(APIClient())
    body = login(APIClient(), "asha@sme.example.in").json()

    response = bearer(body["token"]).post(f"/api/v1/me/tokens/{body['id']}/revoke/")

    assert response.status_code == 200
    assert response.json()["revoked"] is True


def test_no_password_or_token_reaches_a_log_line(caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    signup(APIClient())
    token = login(APIClient(), "asha@sme.example.in").json()["token"]
    login(APIClient(), "asha@sme.example.in", "a-wrong-password-x")
    bearer(token).get("/api/v1/me/")
    verification = link_in(mail.outbox[0]).split("token=", 1)[1]

    for secret in (PASSWORD, "a-wrong-password-x", token, verification):
        assert secret not in caplog.text


# ------------------------------------------------------------------ throttles


@pytest.fixture
def attempt_rates(settings: Any) -> None:
    settings.REMAG_THROTTLE_RATES = {
        **settings.REMAG_THROTTLE_RATES,
        "signup": "2/hour",
        "login": "3/hour",
        "verification": "2/hour",
    }


def from_address(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_log_in_attempts_are_limited_per_address(attempt_rates: None) -> None:
    client = from_address("203.0.113.7")
    statuses = [login(client, f"user{n}@example.in").status_code for n in range(4)]
    refused = login(client, "another@example.in")

    assert statuses == [400, 400, 400, 429]
    assert refused.status_code == 429
    assert refused["Content-Type"] == PROBLEM
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert login(from_address("203.0.113.8"), "fresh@example.in").status_code == 400


def test_log_in_attempts_are_limited_per_account_from_any_address(attempt_rates: None) -> None:
    UserFactory(email="target@example.in", password=PASSWORD)
    statuses = [
        login(from_address(f"198.51.100.{n}"), "Target@example.in", "guess-{n}").status_code
        for n in range(4)
    ]

    assert statuses == [400, 400, 400, 429]
    # Even the right password waits: the account's window is spent.
    assert login(from_address("198.51.100.99"), "target@example.in").status_code == 429
    # An address nobody has behaves the same, so the limit reveals nothing.
    unknown = [
        login(from_address(f"192.0.2.{n}"), "ghost@example.in").status_code for n in range(4)
    ]
    assert unknown == statuses


def test_sign_up_and_verification_are_limited(attempt_rates: None) -> None:
    client = from_address("203.0.113.9")
    signups = [signup(client, email=f"s{n}@example.in").status_code for n in range(3)]
    resends = [
        client.post(
            "/api/v1/auth/verify-email/resend/", {"email": "s0@example.in"}, format="json"
        ).status_code
        for _ in range(3)
    ]
    verifies = [
        from_address("203.0.113.10").get("/api/v1/auth/verify-email/", {"token": "bad"}).status_code
        for _ in range(3)
    ]

    assert signups == [202, 202, 429]
    assert resends == [202, 202, 429]
    assert verifies == [400, 400, 429]

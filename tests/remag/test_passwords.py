"""Password change, and password reset by email (single-use, expiring, stored hashed)."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from remag.accounts.models import PasswordReset, User, UserToken
from tests.factories import UserFactory
from tests.remag.test_signup import PROBLEM, bearer, login

pytestmark = pytest.mark.django_db

OLD = "a-long-test-password"  # the factories' password
NEW = "neodymium-iron-boron-42"


def change(client: APIClient, current: str = OLD, new: str = NEW) -> Any:
    return client.post(
        "/api/v1/me/password/", {"current_password": current, "new_password": new}, format="json"
    )


def ask_reset(email: str) -> Any:
    return APIClient().post("/api/v1/auth/password-reset/", {"email": email}, format="json")


def confirm(token: str, new: str = NEW) -> Any:
    return APIClient().post(
        "/api/v1/auth/password-reset/confirm/",
        {"token": token, "new_password": new},
        format="json",
    )


def token_in(message: Any) -> str:
    found = re.search(r"Your reset token:\n\n(\S+)\n", message.body)
    assert found, message.body
    return found.group(1)


@pytest.fixture
def person() -> User:
    return UserFactory(email="asha@sme.example.in")


# ------------------------------------------------------------------ change


def test_changing_the_password_keeps_this_token_and_revokes_the_others(person: User) -> None:
    current = login(APIClient(), person.email, OLD).json()
    other = login(APIClient(), person.email, OLD).json()

    response = change(bearer(current["token"]))

    assert response.status_code == 200, response.content
    assert bearer(current["token"]).get("/api/v1/me/").status_code == 200
    assert bearer(other["token"]).get("/api/v1/me/").status_code == 401
    assert login(APIClient(), person.email, OLD).status_code == 400
    assert login(APIClient(), person.email, NEW).status_code == 201
    assert mail.outbox[-1].subject == "remag: your password was changed"


def test_a_wrong_current_password_changes_nothing(person: User) -> None:
    client = bearer(login(APIClient(), person.email, OLD).json()["token"])

    response = change(client, current="not-my-password")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["current_password"]
    person.refresh_from_db()
    assert person.check_password(OLD)


@pytest.mark.parametrize("weak", ["short", "1234567890123", "password1"])
def test_a_weak_new_password_is_refused_by_the_validators(person: User, weak: str) -> None:
    client = bearer(login(APIClient(), person.email, OLD).json()["token"])

    response = change(client, new=weak)

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"new_password"}
    person.refresh_from_db()
    assert person.check_password(OLD)


def test_an_api_key_has_no_password_to_change(key_client: Any) -> None:
    from tests.factories import OrganizationFactory

    assert change(key_client(OrganizationFactory())).status_code == 403


def test_guessing_the_current_password_is_throttled(person: User, settings: Any) -> None:
    settings.REMAG_THROTTLE_RATES = {**settings.REMAG_THROTTLE_RATES, "login": "2/hour"}
    client = bearer(UserToken.objects.create_key(user=person, name="t")[1])

    statuses = [change(client, current=f"guess-{n}").status_code for n in range(3)]

    assert statuses == [400, 400, 429]


# ------------------------------------------------------------------ reset


def test_reset_answers_the_same_for_any_address_and_mails_only_a_person() -> None:
    UserFactory(email="asha@sme.example.in")
    UserFactory(email="gone@sme.example.in", is_active=False)

    answers = [
        ask_reset(e)
        for e in ("ASHA@sme.example.in", "nobody@sme.example.in", "gone@sme.example.in")
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert [m.to for m in mail.outbox] == [["asha@sme.example.in"]]


def test_the_reset_token_is_stored_hashed_only(person: User) -> None:
    ask_reset(person.email)
    token = token_in(mail.outbox[0])

    (reset,) = PasswordReset.objects.values_list("token_hash", flat=True)
    assert token not in reset
    assert len(reset) == 64


def test_a_reset_sets_the_password_once_and_revokes_every_token(person: User) -> None:
    session = login(APIClient(), person.email, OLD).json()
    ask_reset(person.email)
    token = token_in(mail.outbox[0])

    response = confirm(token)
    again = confirm(token, "another-password-77")

    assert response.status_code == 200, response.content
    assert bearer(session["token"]).get("/api/v1/me/").status_code == 401
    assert login(APIClient(), person.email, NEW).status_code == 201
    assert again.status_code == 400
    assert again["Content-Type"] == PROBLEM
    assert again.json()["errors"][0] == {
        "field": "token",
        "pointer": "#/token",
        "message": "This reset token has already been used.",
        "code": "token_used",
    }
    person.refresh_from_db()
    assert person.check_password(NEW)


def test_an_expired_reset_token_is_refused(person: User) -> None:
    ask_reset(person.email)
    PasswordReset.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = confirm(token_in(mail.outbox[0]))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_expired"
    person.refresh_from_db()
    assert person.check_password(OLD)


def test_a_new_request_cancels_the_earlier_token(person: User) -> None:
    ask_reset(person.email)
    ask_reset(person.email)
    first, second = (token_in(m) for m in mail.outbox)

    assert confirm(first).json()["errors"][0]["code"] == "token_invalid"
    assert confirm(second).status_code == 200


def test_a_weak_password_does_not_spend_the_token(person: User) -> None:
    ask_reset(person.email)
    token = token_in(mail.outbox[0])

    weak = confirm(token, "12345678")

    assert weak.status_code == 400
    assert {e["field"] for e in weak.json()["errors"]} == {"new_password"}
    assert confirm(token).status_code == 200


def test_an_unknown_token_is_refused() -> None:
    response = confirm("made-up-token")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_invalid"


def test_a_reset_verifies_an_unverified_address() -> None:
    person = UserFactory(email="new@sme.example.in", email_verified_at=None)
    ask_reset(person.email)

    confirm(token_in(mail.outbox[0]))

    person.refresh_from_db()
    assert person.email_verified


def test_reset_requests_are_throttled_per_address(settings: Any) -> None:
    settings.REMAG_THROTTLE_RATES = {**settings.REMAG_THROTTLE_RATES, "password_reset": "2/hour"}
    statuses = [
        APIClient(REMOTE_ADDR=f"198.51.100.{n}")
        .post("/api/v1/auth/password-reset/", {"email": "victim@example.in"}, format="json")
        .status_code
        for n in range(3)
    ]

    assert statuses == [202, 202, 429]

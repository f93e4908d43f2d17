"""Every combination of credentials gets one consistent answer: a malformed or unknown
credential is a 401 whatever else is sent, two different credentials are a 401 (which
one would the call act as?), and a header that carries no credential of ours (another
``Authorization`` scheme, such as a proxy's Basic) changes nothing."""

from itertools import product
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import APIKeyFactory, UserTokenFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
JUNK = "abcdefgh.not-a-real-secret"


@pytest.fixture
def secrets() -> dict[str, str]:
    return {"token": UserTokenFactory().raw_key, "key": APIKeyFactory(scopes=["read"]).raw_key}


# (label, Authorization header or None, the credential it carries: (kind, validity) or None)
AUTHORIZATIONS = [
    ("none", None, None),
    ("bearer", "Bearer {token}", ("token", "valid")),
    ("token-keyword", "Token {token}", ("token", "valid")),
    ("bearer-junk", f"Bearer {JUNK}", ("token", "junk")),
    ("bearer-malformed", "Bearer nodot", ("token", "junk")),
    ("bearer-empty", "Bearer", ("token", "junk")),
    ("api-key", "Api-Key {key}", ("key", "valid")),
    ("api-key-junk", f"Api-Key {JUNK}", ("key", "junk")),
    ("api-key-malformed", "Api-Key nodot", ("key", "junk")),
    ("api-key-empty", "Api-Key ", ("key", "junk")),
    ("basic", "Basic dXNlcjpwYXNz", None),
]
X_API_KEYS = [
    ("none", None, None),
    ("valid", "{key}", ("key", "valid")),
    ("junk", JUNK, ("key", "junk")),
    ("malformed", "nodot", ("key", "junk")),
    ("empty", "", ("key", "junk")),
]


def expected(authorization: Any, x_api_key: Any, same_key: bool) -> tuple[int, str | None]:
    """(status, authenticated_as or problem type) for a pair of credentials."""
    credentials = [c for c in (authorization, x_api_key) if c is not None]
    if same_key:  # the same valid key in both headers is one credential
        credentials = credentials[:1]
    if not credentials:
        return 401, "not-authenticated"
    if len(credentials) > 1 or credentials[0][1] != "valid":
        return 401, "authentication-failed"
    return 200, "user" if credentials[0][0] == "token" else "api_key"


@pytest.mark.parametrize(
    ("auth_label", "x_label"),
    list(product([a[0] for a in AUTHORIZATIONS], [x[0] for x in X_API_KEYS])),
)
def test_every_combination_of_credentials(
    secrets: dict[str, str], auth_label: str, x_label: str
) -> None:
    _, authorization, auth_credential = next(a for a in AUTHORIZATIONS if a[0] == auth_label)
    _, x_api_key, x_credential = next(x for x in X_API_KEYS if x[0] == x_label)
    headers = {}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization.format(**secrets)
    if x_api_key is not None:
        headers["HTTP_X_API_KEY"] = x_api_key.format(**secrets)
    same_key = auth_label == "api-key" and x_label == "valid"

    response = APIClient().get(ME, **headers)

    status, what = expected(auth_credential, x_credential, same_key)
    assert response.status_code == status, (headers, response.content[:300])
    if status == 200:
        assert response.json()["authenticated_as"] == what
    else:
        assert response.json()["type"].endswith(f"/{what}")
        assert response["WWW-Authenticate"]

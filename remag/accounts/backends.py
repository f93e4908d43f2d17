"""The authentication backend of people signed in with a session (the admin, the
dashboard, the browsable API).

Django's ``ModelBackend`` reads a session's user with one query, and the caller's rules
then read the person's memberships and the organisations delegating to theirs with two
more, on every request. :class:`MembershipsBackend` reads all three in one query (as a
personal token's lookup does, :func:`remag.accounts.caller.with_person_memberships`),
compiled once per database.

``settings.AUTHENTICATION_BACKENDS`` lists it first and Django's ``ModelBackend`` second,
so that sessions signed in before this backend existed (which name ``ModelBackend``) stay
signed in. New sign-ins are this backend's alone: a wrong password stops here
(``PermissionDenied``) rather than being checked, and hashed, a second time. (Rolling
back to a release without this backend signs out the sessions made since: they name it.)
"""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connections

from remag.accounts.caller import remember_memberships, with_person_memberships
from remag.db import PreparedQuery


def _password_given(username: Any, password: Any, kwargs: dict[str, Any]) -> bool:
    """Whether a sign-in named a user and a password (the credentials this backend and
    Django's check); other credentials are left to whatever backend takes them."""
    field = get_user_model().USERNAME_FIELD
    return password is not None and (username is not None or kwargs.get(field) is not None)


_user_by_id = PreparedQuery(
    lambda user_id: with_person_memberships(
        get_user_model()._default_manager.all(), user_field="id"
    ).filter(pk=user_id)[:1],
    # Compared only with the compiled query's other parameters (booleans, no UUID).
    placeholder=uuid.UUID(int=0x5EA5E << 100),
)


class MembershipsBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kwargs: Any
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and _password_given(username, password, kwargs):
            raise PermissionDenied  # no other backend checks the password again
        return user

    async def aauthenticate(
        self, request: Any, username: Any = None, password: Any = None, **kwargs: Any
    ) -> Any:
        user = await super().aauthenticate(request, username=username, password=password, **kwargs)
        if user is None and _password_given(username, password, kwargs):
            raise PermissionDenied
        return user

    def get_user(self, user_id: Any) -> Any:
        manager = get_user_model()._default_manager
        if connections[manager.db].vendor != "postgresql":
            return super().get_user(user_id)  # no array subqueries: the caller reads them
        user = _user_by_id.first(manager.model._meta.pk.to_python(user_id), using=manager.db)
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_memberships(user, user)
        return user

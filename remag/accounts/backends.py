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
(``PermissionDenied``) rather than being checked, and hashed, a second time.
"""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connections

from remag.accounts.caller import remember_memberships, with_person_memberships
from remag.db import PreparedQuery

_user_by_id = PreparedQuery(
    lambda user_id: with_person_memberships(
        get_user_model()._default_manager.all(), user_field="id"
    ).filter(pk=user_id)[:1],
    # Unlike any user's id (theirs are random, version 4 UUIDs; this one has no version).
    placeholder=uuid.UUID(int=0x5EA5E << 100),
)


class MembershipsBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kwargs: Any
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied  # no other backend checks the password again
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

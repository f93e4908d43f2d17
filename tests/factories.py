"""Factories for every model the tests build; one place, reused everywhere."""

from typing import Any

import factory

from remag.accounts import services
from remag.accounts.models import Membership, Organization, OrganizationAPIKey, User, UserToken


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.in")
    password = factory.django.Password("a-long-test-password")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "sme"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = "member"


class APIKeyFactory(factory.django.DjangoModelFactory):
    """Creates a key through the service; the plain key is on ``.raw_key``."""

    class Meta:
        model = OrganizationAPIKey

    organization = factory.SubFactory(OrganizationFactory, kind="portal")
    name = factory.Sequence(lambda n: f"key {n}")
    scopes = factory.LazyFunction(lambda: ["read", "write"])

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> OrganizationAPIKey:
        api_key, raw = services.api_key_create(
            organization=kwargs["organization"],
            name=kwargs["name"],
            scopes=kwargs["scopes"],
            expires_at=kwargs.get("expires_at"),
        )
        api_key.raw_key = raw
        return api_key


class UserTokenFactory(factory.django.DjangoModelFactory):
    """Creates a personal token through the service; the plain token is on ``.raw_key``."""

    class Meta:
        model = UserToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"token {n}")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> UserToken:
        token, raw = services.user_token_create(user=kwargs["user"], name=kwargs["name"])
        token.raw_key = raw
        return token

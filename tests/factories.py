"""Factories for every model the tests build; one place, reused everywhere."""

from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone

from remag.accounts import services
from remag.accounts.models import Membership, Organization, OrganizationAPIKey, User, UserToken
from suppliers.models import Capability, Certification


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.in")
    password = factory.django.Password("a-long-test-password")
    email_verified_at = factory.LazyFunction(timezone.now)


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


# ------------------------------------------------------------------ registry


def gstin_for(state_gst_code: str, pan: str, entity: str = "1") -> str:
    from suppliers.validators import gstin_check_character

    body = f"{state_gst_code}{pan}{entity}Z"
    return body + gstin_check_character(body)


class SupplierFactory(factory.django.DjangoModelFactory):
    """A supplier row (no services: search text is filled by ``supplier_search_refresh``)."""

    class Meta:
        model = "suppliers.Supplier"

    owner = factory.SubFactory(OrganizationFactory, kind="sme")
    legal_name = factory.Sequence(lambda n: f"Sample Precision Works {n} Pvt Ltd")
    udyam_number = factory.Sequence(lambda n: f"UDYAM-MH-26-{n:07d}")
    enterprise_size = "small"
    state = "MH"
    city = "Pune"
    pin_code = factory.Sequence(lambda n: f"4110{n % 100:02d}")
    status = "active"
    claimed_at = factory.LazyFunction(timezone.now)


class SupplierCapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "suppliers.SupplierCapability"

    supplier = factory.SubFactory(SupplierFactory)
    capability = factory.LazyFunction(lambda: Capability.objects.get(code="jet-milling"))
    capacity_per_month = 1000
    capacity_unit = "kg_per_month"
    lead_time_days = 30


class SupplierCertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "suppliers.SupplierCertificate"

    supplier = factory.SubFactory(SupplierFactory)
    certification = factory.LazyFunction(lambda: Certification.objects.get(code="iso-9001"))
    certificate_number = factory.Sequence(lambda n: f"QMS-{n:05d}")
    valid_from = factory.LazyFunction(lambda: date.today() - timedelta(days=365))  # noqa: DTZ011
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))  # noqa: DTZ011

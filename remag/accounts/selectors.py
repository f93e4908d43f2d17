"""Reads for organisations and credentials, already limited to what the caller may see."""

from django.db.models import QuerySet

from remag.accounts.caller import Caller
from remag.accounts.models import Membership, Organization, OrganizationAPIKey, UserToken


def organization_list(*, caller: Caller) -> QuerySet[Organization]:
    queryset = Organization.objects.all()
    if caller.is_operator:
        return queryset
    return queryset.filter(id__in=caller.organization_ids)


def membership_list_for_user(*, user_id: object) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id).select_related("organization")


def api_key_list(*, organization_id: object) -> QuerySet[OrganizationAPIKey]:
    return OrganizationAPIKey.objects.filter(organization_id=organization_id).select_related(
        "organization"
    )


def user_token_list(*, user_id: object) -> QuerySet[UserToken]:
    return UserToken.objects.filter(user_id=user_id)

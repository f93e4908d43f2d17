from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts import selectors, services
from remag.accounts.api.serializers import (
    APIKeyCreatedSerializer,
    APIKeySerializer,
    MeSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    UserTokenCreatedSerializer,
    UserTokenSerializer,
)
from remag.accounts.authentication import APIKeyPrincipal
from remag.accounts.caller import caller_for
from remag.accounts.models import Organization
from remag.accounts.permissions import (
    IsOperator,
    IsOrganizationAdminOrOperator,
    IsOrganizationMember,
)
from remag.api.idempotency import IdempotentCreateMixin
from remag.api.viewsets import RemagAPIView, RemagGenericViewSet


class MeView(RemagAPIView):
    """Who am I: the person or API key making the call, and its organisations."""

    @extend_schema(responses=MeSerializer, tags=["accounts"])
    def get(self, request: Request) -> Response:
        caller = caller_for(request)
        user = request.user
        if isinstance(user, APIKeyPrincipal):
            organization = user.organization
            data = {
                "authenticated_as": "api_key",
                "user": None,
                "api_key": user.api_key,
                "organizations": [_organization_entry(organization, role=None)],
            }
        else:
            memberships = selectors.membership_list_for_user(user_id=user.pk)
            data = {
                "authenticated_as": "user",
                "user": user,
                "api_key": None,
                "organizations": [_organization_entry(m.organization, m.role) for m in memberships],
            }
        return Response(MeSerializer({**data, "is_operator": caller.is_operator}).data)


def _organization_entry(organization: Organization, role: str | None) -> dict[str, Any]:
    return {
        "id": organization.id,
        "name": organization.name,
        "kind": organization.kind,
        "role": role,
    }


class IsPerson(BasePermission):
    message = "Only a person (session or personal token) may do this, not an API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_for(request).user_id is not None


@extend_schema(tags=["accounts"])
class OrganizationViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    RemagGenericViewSet,
):
    """Organisations the caller belongs to (operators see all). Operators create
    organisations of any kind (portals and operators only so); then they issue a portal's
    first API key and invite its first admin."""

    serializer_class = OrganizationSerializer
    permission_classes = [IsOrganizationMember]

    def get_queryset(self) -> Any:
        return selectors.organization_list(caller=caller_for(self.request))

    def get_permissions(self) -> Any:
        if self.action == "create":
            return [IsOperator()]
        return super().get_permissions()

    def get_serializer_class(self) -> Any:
        return OrganizationCreateSerializer if self.action == "create" else OrganizationSerializer

    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.organization_create(**serializer.validated_data)


@extend_schema(tags=["accounts"])
class OrganizationAPIKeyViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    RemagGenericViewSet,
):
    """An organisation's API keys, managed by its administrators.

    The key is returned once, in the create response; a replay of that create with the
    same Idempotency-Key returns ``key: null`` because the key itself is never stored.
    """

    serializer_class = APIKeySerializer
    permission_classes = [IsOrganizationAdminOrOperator]
    owner_field = "organization"
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    ordering = ("-created",)
    idempotency_redact_fields = ("key",)

    def get_organization(self) -> Organization:
        organization = get_object_or_404(
            selectors.organization_list(caller=caller_for(self.request)),
            id=self.kwargs["organization_id"],
        )
        self.check_object_permissions(self.request, organization)
        return organization

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.api_key_list(organization_id=None)
        return selectors.api_key_list(organization_id=self.get_organization().id)

    def get_serializer_class(self) -> Any:
        return APIKeyCreatedSerializer if self.action == "create" else APIKeySerializer

    def perform_create(self, serializer: Any) -> None:
        api_key, raw = services.api_key_create(
            organization=self.get_organization(),
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            expires_at=serializer.validated_data.get("expiry_date"),
            created_by=self.request.user,
        )
        api_key.key = raw
        serializer.instance = api_key

    @extend_schema(request=None, responses=APIKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke the key for good; calls made with it get 401 from now on."""
        api_key = services.api_key_revoke(api_key=self.get_object())
        return Response(APIKeySerializer(api_key).data)


@extend_schema(tags=["accounts"])
class UserTokenViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    RemagGenericViewSet,
):
    """The caller's personal tokens, for their own scripts (``Authorization: Bearer``)."""

    serializer_class = UserTokenSerializer
    permission_classes = [IsAuthenticated, IsPerson]
    allow_unverified = True  # an unverified person may still revoke a token
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    ordering = ("-created",)
    idempotency_redact_fields = ("token",)

    def get_queryset(self) -> Any:
        return selectors.user_token_list(user_id=caller_for(self.request).user_id)

    def get_serializer_class(self) -> Any:
        return UserTokenCreatedSerializer if self.action == "create" else UserTokenSerializer

    def perform_create(self, serializer: Any) -> None:
        token, raw = services.user_token_create(
            user=self.request.user,
            name=serializer.validated_data["name"],
            expires_at=serializer.validated_data.get("expiry_date"),
        )
        token.token = raw
        serializer.instance = token

    @extend_schema(request=None, responses=UserTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke the token for good."""
        token = services.user_token_revoke(token=self.get_object())
        return Response(UserTokenSerializer(token).data, status=status.HTTP_200_OK)

"""An organisation's people over the API: members (roles, removal) and invitations."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts import selectors, services
from remag.accounts.api.member_serializers import (
    DelegationSerializer,
    InvitationAcceptSerializer,
    InvitationSerializer,
    JoinedSerializer,
    MembershipSerializer,
)
from remag.accounts.api.onboarding_views import public_link
from remag.accounts.caller import caller_for
from remag.accounts.models import Organization, User
from remag.api.idempotency import IdempotentCreateMixin
from remag.api.throttling import AttemptRateThrottle, CallerRateThrottle
from remag.api.viewsets import RemagAPIView, RemagGenericViewSet
from remag.errors import InvalidInput, NotAllowed


class _OrganizationScoped(RemagGenericViewSet):
    """Under /organizations/{organization_id}/: the organisation as the caller sees it
    (others get a 404)."""

    permission_classes = [IsAuthenticated]
    owner_field = "organization"

    def get_organization(self) -> Organization:
        return get_object_or_404(
            selectors.organization_list(caller=caller_for(self.request)),
            id=self.kwargs["organization_id"],
        )


@extend_schema(tags=["accounts"])
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    _OrganizationScoped,
):
    """The organisation's people. Members read; admins (and operators) change roles and
    remove people; anyone may leave (delete their own membership). The last admin can
    neither leave, be removed nor step down (409 `last_admin`)."""

    serializer_class = MembershipSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    ordering = ("created_at",)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.membership_list(organization_id=None)
        return selectors.membership_list(organization_id=self.get_organization().id)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.membership_role_change(
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
            caller=caller_for(self.request),
        )

    def perform_destroy(self, instance: Any) -> None:
        services.membership_remove(membership=instance, caller=caller_for(self.request))


@extend_schema(tags=["accounts"])
class InvitationViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _OrganizationScoped,
):
    """Invitations to join the organisation, sent by email; its admins (and operators)
    manage them. The token is only in the email."""

    serializer_class = InvitationSerializer
    ordering = ("-created_at",)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.invitation_list(organization_id=None)
        organization = self.get_organization()
        selectors.organization_manage_check(
            caller=caller_for(self.request), organization=organization
        )
        return selectors.invitation_list(organization_id=organization.id)

    def perform_create(self, serializer: Any) -> None:
        user = self.request.user
        serializer.instance = services.invitation_create(
            organization=self.get_organization(),
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            caller=caller_for(self.request),
            invited_by=user if isinstance(user, User) else None,
            accept_link=public_link("invitation-accept"),
        )

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw the invitation; its token stops working."""
        invitation = services.invitation_revoke(
            invitation=self.get_object(), caller=caller_for(request)
        )
        return Response(InvitationSerializer(invitation).data)


class InvitationAcceptView(RemagAPIView):
    """Accept an invitation: with your credentials (an existing account), or without
    any and with a ``password`` (a new account for the invited address)."""

    permission_classes = [AllowAny]
    throttle_classes = [CallerRateThrottle, AttemptRateThrottle]
    throttle_scope = "verification"
    allow_unverified = True

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={201: JoinedSerializer},
        tags=["onboarding"],
        summary="Accept an invitation to join an organisation",
    )
    def post(self, request: Request) -> Response:
        serializer = InvitationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        caller = caller_for(request)
        if caller.is_authenticated and caller.user_id is None:
            raise NotAllowed("An API key cannot accept an invitation; a person does.")
        user = request.user if caller.user_id is not None else None
        membership = services.invitation_accept(user=user, **serializer.validated_data)
        return Response(JoinedSerializer(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["accounts"])
class DelegationViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _OrganizationScoped,
):
    """Portals the organisation lets change its supplier profiles after claiming them.
    Members read; admins (and operators) grant and revoke."""

    serializer_class = DelegationSerializer
    ordering = ("-created_at",)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return selectors.delegation_list(organization_id=None)
        return selectors.delegation_list(organization_id=self.get_organization().id)

    def perform_create(self, serializer: Any) -> None:
        organization = self.get_organization()
        selectors.organization_manage_check(
            caller=caller_for(self.request), organization=organization
        )
        grantee = Organization.objects.filter(id=serializer.validated_data["grantee_id"]).first()
        if grantee is None:
            raise InvalidInput("No such organisation.", field="grantee")
        user = self.request.user
        serializer.instance = services.delegation_grant(
            grantor=organization,
            grantee=grantee,
            granted_by=user if isinstance(user, User) else None,
        )

    @extend_schema(request=None, responses=DelegationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """End the delegation: the portal's next change is refused."""
        delegation = self.get_object()
        selectors.organization_manage_check(
            caller=caller_for(request), organization=self.get_organization()
        )
        return Response(
            DelegationSerializer(services.delegation_revoke(delegation=delegation)).data
        )

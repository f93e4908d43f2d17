"""Claiming a profile a portal onboarded, over the API (suppliers.claims holds the rules)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts.caller import caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization, User
from remag.accounts.permissions import IsOperator
from remag.accounts.selectors import organization_acting
from remag.api.throttling import AttemptRateThrottle, CallerRateThrottle
from remag.api.viewsets import RemagGenericViewSet
from suppliers import claims
from suppliers.api.claim_serializers import (
    ClaimAcceptedSerializer,
    ClaimConfirmSerializer,
    ClaimDecisionSerializer,
    ClaimedSerializer,
    ClaimSerializer,
    ClaimStartSerializer,
)

CLAIM_ACCEPTED = (
    "If a portal registered a profile with this Udyam number and it has not been "
    "claimed, a code is on its way to the contact email on file (or, for `operator`, "
    "the operators will review your claim). Follow your claims at /api/v1/claims/."
)


@extend_schema(tags=["claims"])
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """Claims of supplier profiles: an SME organisation's own (operators: all)."""

    serializer_class = ClaimSerializer
    permission_classes = [IsAuthenticated]
    throttle_classes = [CallerRateThrottle, AttemptRateThrottle]
    ordering = ("-created_at",)

    @property
    def throttle_scope(self) -> str:
        # Starting claims and trying codes are attempts; reading and deciding are not.
        return "claim" if self.action in ("create", "confirm") else ""

    def throttle_subject(self, request: Request) -> str | None:
        caller = caller_for(request)
        return str(caller.user_id or caller.api_key_id or "") or None

    def get_queryset(self) -> Any:
        return claims.claim_list(caller=caller_for(self.request))

    def claimant(self, requested: Any) -> Organization:
        caller = caller_for(self.request)
        organization = organization_acting(
            caller=caller,
            kinds=(OrganizationKind.SME,),
            requested=requested,
            label="SME",
            purpose="claims the profile",
            field="organization",
            required=True,
            operators_act_for_any=False,
        )
        assert organization is not None  # noqa: S101 (required=True)
        claims.claimant_check(caller=caller, organization=organization)
        return organization

    @extend_schema(
        request=ClaimStartSerializer,
        responses={202: ClaimAcceptedSerializer},
        summary="Start claiming a profile a portal onboarded",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sends a one-time code to the profile's contact email (`method: code`) or asks
        the operators (`method: operator`). The answer is the same whether or not the
        profile exists or has a contact email; a profile that already belongs to an SME
        is a 409 `supplier_already_claimed`."""
        serializer = ClaimStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = self.claimant(data.pop("organization", None))
        user = request.user if isinstance(request.user, User) else None
        claims.claim_start(organization=organization, requested_by=user, **data)
        return Response({"detail": CLAIM_ACCEPTED}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ClaimConfirmSerializer,
        responses=ClaimedSerializer,
        summary="Claim the profile with the emailed code",
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request: Request) -> Response:
        """The SME organisation becomes the profile's owner. A wrong, expired, used or
        locked code is a 400 naming `code`."""
        serializer = ClaimConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = self.claimant(data.pop("organization", None))
        supplier, claim = claims.claim_confirm(organization=organization, **data)
        return Response(ClaimedSerializer({"claim": claim, "supplier": supplier.id}).data)

    @extend_schema(request=ClaimDecisionSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Operators: the claiming SME gets the profile."""
        return self._decide(request, approve=True)

    @extend_schema(request=ClaimDecisionSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Operators: the claim ends; the profile stays with the portal."""
        return self._decide(request, approve=False)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        serializer = ClaimDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = claims.claim_decide(
            claim=self.get_object(),
            approve=approve,
            decided_by=request.user if isinstance(request.user, User) else None,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(ClaimSerializer(claim).data)

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from matching import runs, services
from matching.api.serializers import (
    GapSerializer,
    MatchRunSerializer,
    MatchSerializer,
    OpportunitySerializer,
    OutcomeSerializer,
    ProcurementRequestSerializer,
    TransitionRequestSerializer,
    TransitionSerializer,
)
from matching.choices import MatchStatus, RequestStatus, RunTrigger
from matching.filtersets import MatchFilterSet, RequestFilterSet
from matching.models import Match, MatchRun, NearMiss, ProcurementRequest
from remag.accounts.caller import Caller, caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization
from remag.accounts.permissions import organization_kind
from remag.api.idempotency import IdempotentCreateMixin, idempotent_response
from remag.api.ordering import StrictOrderingFilter
from remag.api.viewsets import RemagGenericViewSet
from suppliers.access import supplier_can_see_private, supplier_visible_q
from suppliers.models import Certification, Supplier

REQUEST_PREFETCH = (
    "required_capabilities",
    "required_certifications",
    "preferred_certifications",
    "grades",
)
# Actions on a request that only its owner's members and operators may use.
OWNER_ACTIONS = frozenset(
    {"update", "partial_update", "publish", "close", "cancel", "matches", "match_runs"}
)


MATCH_FILTER_PARAMETERS = [
    OpenApiParameter(
        "min_score", OpenApiTypes.DOUBLE, description="Only matches scoring at least this."
    ),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=MatchStatus.values,
        many=True,
        explode=True,
        description="Only matches in these lifecycle statuses (repeat the parameter).",
    ),
    OpenApiParameter(
        "qualifies",
        OpenApiTypes.BOOL,
        description="False lists matches the buyer acted on that no longer qualify.",
    ),
]


def filter_matches(request: Request, queryset: QuerySet[Match]) -> QuerySet[Match]:
    filterset = MatchFilterSet(request.query_params, queryset=queryset)
    if not filterset.is_valid():
        raise exceptions.ValidationError(filterset.errors)
    return filterset.qs


def _person(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "pk", None) else None


class IsRequestOwner(BasePermission):
    message = "Only members of the organisation that owns the request may do this."

    def has_object_permission(self, request: Request, view: Any, obj: ProcurementRequest) -> bool:
        if view.action not in OWNER_ACTIONS:
            return True
        return caller_for(request).may_access(obj.owner_id)


def _owner_for_new_request(caller: Caller, requested: Any) -> Organization:
    manufacturers = Organization.objects.filter(kind=OrganizationKind.MANUFACTURER, is_active=True)
    if requested is not None:
        organization = manufacturers.filter(id=requested).first()
        if organization is None:
            raise exceptions.ValidationError({"owner": ["Not a manufacturer organisation."]})
        if not caller.may_access(organization.id):
            raise exceptions.ValidationError({"owner": ["You do not act for this organisation."]})
        return organization
    own = list(manufacturers.filter(id__in=caller.organization_ids)[:2])
    if len(own) == 1:
        return own[0]
    if own:
        raise exceptions.ValidationError(
            {"owner": ["You belong to several manufacturers; say which one owns the request."]}
        )
    raise exceptions.ValidationError({"owner": ["Say which manufacturer owns the request."]})


@extend_schema(tags=["requests"])
class ProcurementRequestViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    RemagGenericViewSet,
):
    """Procurement requests of magnet manufacturers.

    Manufacturers create requests as drafts, change them while draft or open, publish
    (which starts a match run), close or cancel them. Everyone signed in sees published
    requests as the buyer published them; the owner's members and operators also see the
    private fields (delivery PIN and coordinates, radius, weights, policy preferences),
    drafts, runs and matches.
    """

    serializer_class = ProcurementRequestSerializer
    permission_classes = [IsAuthenticated, IsRequestOwner]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = RequestFilterSet
    ordering_fields = ("created_at", "needed_by", "published_at", "updated_at")
    ordering = ("-created_at",)
    lookup_field = "id"

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "create":
            return [IsAuthenticated(), organization_kind(OrganizationKind.MANUFACTURER)()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[ProcurementRequest]:
        caller = caller_for(self.request)
        queryset = ProcurementRequest.objects.prefetch_related(*REQUEST_PREFETCH)
        if caller.is_operator:
            return queryset
        return queryset.filter(
            Q(owner_id__in=caller.organization_ids) | ~Q(status=RequestStatus.DRAFT)
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def perform_create(self, serializer: ProcurementRequestSerializer) -> None:
        caller = caller_for(self.request)
        data = dict(serializer.validated_data)
        owner = _owner_for_new_request(caller, data.pop("owner_id", None))
        serializer.instance = services.request_create(
            owner=owner, created_by=_person(self.request), data=data
        )

    def perform_update(self, serializer: ProcurementRequestSerializer) -> None:
        data = dict(serializer.validated_data)
        new_owner = data.pop("owner_id", serializer.instance.owner_id)
        if new_owner != serializer.instance.owner_id:
            raise exceptions.ValidationError({"owner": ["The owner cannot be changed."]})
        serializer.instance = services.request_update(
            request=serializer.instance, data=data, by=_person(self.request)
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().update(request, *args, **kwargs)
        instance = get_object_or_404(self.get_queryset(), id=kwargs["id"])
        return Response(self.get_serializer(instance).data)

    def _after(self, instance: ProcurementRequest) -> Response:
        fresh = get_object_or_404(self.get_queryset(), id=instance.id)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(request=None, responses=ProcurementRequestSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a draft to suppliers. A match run starts by itself; its URL is in the
        `Location` header (and the runs are listed at `match-runs/`)."""
        instance, run = services.request_publish(request=self.get_object(), by=_person(request))
        response = self._after(instance)
        response["Location"] = str(
            MatchRunSerializer(run, context=self.get_serializer_context()).data["url"]
        )
        return response

    @extend_schema(request=None, responses=ProcurementRequestSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop taking suppliers. Matches stay; the lifecycle can be finished."""
        return self._after(services.request_close(request=self.get_object()))

    @extend_schema(request=None, responses=ProcurementRequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw a draft or open request. No transition of its matches is accepted after."""
        return self._after(services.request_cancel(request=self.get_object()))

    @extend_schema(
        methods=["get"], request=None, responses=MatchRunSerializer(many=True), filters=False
    )
    @extend_schema(methods=["post"], request=None, responses={202: MatchRunSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="match-runs",
        url_name="match-runs",
        filter_backends=[],
        ordering=("-created_at",),
    )
    def match_runs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` queues a match run and answers `202 Accepted` with it (its URL also in
        `Location`); a run still queued for the request is returned instead of a second
        one. `GET` lists the request's runs, newest first."""
        instance = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            page = self.paginate_queryset(MatchRun.objects.filter(request=instance))
            return self.get_paginated_response(
                MatchRunSerializer(page, many=True, context=context).data
            )

        def perform() -> Response:
            run, _ = runs.match_run_create(
                request=instance, trigger=RunTrigger.MANUAL, triggered_by=_person(request)
            )
            data = MatchRunSerializer(run, context=context).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)

    @extend_schema(responses=MatchSerializer(many=True), parameters=MATCH_FILTER_PARAMETERS)
    @action(detail=True, methods=["get"], filter_backends=[], ordering=("-score", "supplier_id"))
    def matches(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The request's matches, best first (ties by supplier id), each with its factors,
        their contributions and reasons. Filter by `min_score`, `status`, `qualifies`."""
        instance = self.get_object()
        queryset = filter_matches(
            request, Match.objects.filter(request=instance).select_related("request", "supplier")
        )
        page = self.paginate_queryset(queryset)
        data = MatchSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@extend_schema(tags=["requests"])
class MatchRunViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A match run: status, progress, counts and timings."""

    serializer_class = MatchRunSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[MatchRun]:
        caller = caller_for(self.request)
        queryset = MatchRun.objects.all()
        if caller.is_operator:
            return queryset
        return queryset.filter(request__owner_id__in=caller.organization_ids)


@extend_schema(tags=["matches"])
class MatchViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A match, seen by the buyer's members, the matched SME's members and operators.

    The lifecycle: proposed → shortlisted → invited → interested or declined → awarded or
    not selected. The buyer shortlists, invites, awards and marks not selected; the invited
    SME answers interested or declined. The SME's contact details appear once it answered
    interested.
    """

    serializer_class = MatchSerializer
    lookup_field = "id"
    ordering = ("-created_at",)

    def get_queryset(self) -> QuerySet[Match]:
        caller = caller_for(self.request)
        queryset = Match.objects.select_related("request", "supplier")
        if caller.is_operator:
            return queryset
        ids = caller.organization_ids
        return queryset.filter(
            Q(request__owner_id__in=ids)
            | Q(supplier__owner_id__in=ids)
            | Q(supplier__onboarded_by_id__in=ids, supplier__claimed_at__isnull=True)
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    @extend_schema(methods=["get"], request=None, responses=TransitionSerializer(many=True))
    @extend_schema(
        methods=["post"], request=TransitionRequestSerializer, responses={201: MatchSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], ordering=("at",))
    def transitions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST {"status": ...}` moves the match (409 when the lifecycle does not allow it,
        403 when the move is the other party's); `GET` lists every move with who and when."""
        match = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(match.transitions.all())
            return self.get_paginated_response(TransitionSerializer(page, many=True).data)
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = services.Actor(caller=caller_for(request), user=_person(request))
        with transaction.atomic():
            match = services.match_transition(
                match=match,
                to_status=body.validated_data["status"],
                actor=actor,
                note=body.validated_data.get("note", ""),
            )
        match = self.get_queryset().get(id=match.id)
        return Response(self.get_serializer(match).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OutcomeSerializer, responses=MatchSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The buyer records how an awarded engagement went (`good` or `poor`); it feeds
        the supplier's track record in later runs."""
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = services.Actor(caller=caller_for(request), user=_person(request))
        match = services.match_record_outcome(
            match=self.get_object(), outcome=body.validated_data["outcome"], actor=actor
        )
        return Response(self.get_serializer(self.get_queryset().get(id=match.id)).data)


# ------------------------------------------------------------------ the SME's side


class _SupplierScopedViewSet(RemagGenericViewSet):
    lookup_field = "id"

    def supplier(self) -> Supplier:
        caller = caller_for(self.request)
        supplier = get_object_or_404(
            Supplier.objects.filter(supplier_visible_q(caller)), id=self.kwargs["id"]
        )
        if not supplier_can_see_private(caller=caller, supplier=supplier):
            raise exceptions.PermissionDenied(
                "Only the supplier's own members (or its onboarding portal) and operators "
                "see its opportunities and gaps."
            )
        return supplier


@extend_schema(tags=["opportunities"])
class OpportunityViewSet(_SupplierScopedViewSet):
    serializer_class = OpportunitySerializer
    filter_backends = []
    ordering = ("-score", "request_id")

    @extend_schema(responses=OpportunitySerializer(many=True), parameters=MATCH_FILTER_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open requests the supplier matches, best first, as their buyers published them."""
        supplier = self.supplier()
        queryset = filter_matches(
            request,
            Match.objects.filter(supplier=supplier, request__status=RequestStatus.OPEN)
            .select_related("request")
            .prefetch_related(*(f"request__{name}" for name in REQUEST_PREFETCH)),
        )
        page = self.paginate_queryset(queryset)
        data = OpportunitySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@extend_schema(tags=["opportunities"])
class GapViewSet(_SupplierScopedViewSet):
    serializer_class = GapSerializer
    pagination_class = None
    queryset = NearMiss.objects.none()

    @extend_schema(responses=GapSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """What would qualify the supplier for more open requests: its near misses grouped
        by the one constraint that excluded it, most requests first."""
        supplier = self.supplier()
        # One row per open request the supplier narrowly misses (at most one each).
        rows = (
            NearMiss.objects.filter(supplier=supplier, request__status=RequestStatus.OPEN)
            .order_by("request__needed_by", "request_id")
            .values_list("constraint", "request_id")
        )
        grouped: dict[str, list[Any]] = {}
        for constraint, request_id in rows:
            grouped.setdefault(constraint, []).append(request_id)
        ranked = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))[:50]
        codes = [c.split(":", 1)[1] for c, _ in ranked if c.startswith("certification:")]
        names = dict(Certification.objects.filter(code__in=codes).values_list("code", "name"))
        out = [
            {
                "constraint": constraint,
                "request_count": len(request_ids),
                "summary": gap_summary(constraint, len(request_ids), names),
                "requests": request_ids[:50],
            }
            for constraint, request_ids in ranked
        ]
        return Response(GapSerializer(out, many=True).data)


def gap_summary(constraint: str, count: int, names: dict[str, str]) -> str:
    requests = f"{count} open request{'s' if count != 1 else ''}"
    if constraint.startswith("certification:"):
        code = constraint.split(":", 1)[1]
        return f"a valid {names.get(code, code)} certificate would qualify you for {requests}"
    if constraint == "capability":
        return f"offering one of the required capabilities would qualify you for {requests}"
    if constraint == "active":
        return f"verification of your profile would qualify you for {requests}"
    if constraint == "distance":
        return f"you are outside the buyer's delivery radius for {requests}"
    return f"{constraint}: {requests}"

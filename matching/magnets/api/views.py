from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from matching.api.views import OnePage
from matching.magnets import pools, runs, selectors, services
from matching.magnets.api.serializers import (
    DemandRowSerializer,
    MagnetMatchSerializer,
    MagnetMatchTransitionSerializer,
    MagnetOfferSerializer,
    MagnetOutcomeSerializer,
    MagnetPoolSerializer,
    MagnetRequirementSerializer,
    MagnetRunSerializer,
    OfferNearMissSerializer,
    PoolAnswerSerializer,
    RequirementNearMissSerializer,
)
from matching.magnets.choices import RequirementStatus, RunTrigger
from matching.magnets.demand import DEFAULT_GROUPS, MIN_BUYERS, demand_aggregate
from matching.magnets.filtersets import (
    DemandFilterSet,
    MagnetLeadFilterSet,
    MagnetMatchFilterSet,
    MagnetOfferFilterSet,
    MagnetPoolFilterSet,
    MagnetRequirementFilterSet,
)
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetPool,
    MagnetRequirement,
    MagnetRun,
)
from remag.accounts.caller import caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.permissions import organization_kind
from remag.accounts.selectors import organization_acting
from remag.api.filtering import ListedModelFilterBackend
from remag.api.idempotency import IdempotentCreateMixin, idempotent_response
from remag.api.ordering import StrictOrderingFilter
from remag.api.viewsets import RemagGenericViewSet

OWNER_ACTIONS = frozenset(
    {
        "update",
        "partial_update",
        "publish",
        "withdraw",
        "open",
        "close",
        "cancel",
        "leads",
        "matches",
        "near_misses",
        "runs",
    }
)


def _person(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "pk", None) else None


class IsOwner(BasePermission):
    message = "Only members of the owning organisation may do this."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if view.action not in OWNER_ACTIONS:
            return True
        return caller_for(request).may_access(obj.owner_id)


class IsMakerOrOperator(BasePermission):
    message = "Only magnet makers (manufacturer organisations) and operators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = caller_for(request)
        return caller.is_operator or selectors.is_maker(caller)


class _OwnedViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    RemagGenericViewSet,
):
    permission_classes = [IsAuthenticated, IsOwner]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ("created_at", "updated_at")
    ordering = ("-created_at",)
    lookup_field = "id"
    idempotent_actions = ("create", "runs")
    creator_kinds: tuple[str, ...] = ()
    creator_label = ""

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "create":
            return [IsAuthenticated(), organization_kind(*self.creator_kinds)()]
        return super().get_permissions()

    def get_object(self) -> Any:
        queryset = self.get_queryset()
        if self.action not in ("retrieve", "update", "partial_update"):
            queryset = queryset.prefetch_related(None)
        instance = get_object_or_404(queryset, id=self.kwargs["id"])
        self.check_object_permissions(self.request, instance)
        return instance

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def _owner(self, data: dict[str, Any]) -> Any:
        return organization_acting(
            caller=caller_for(self.request),
            kinds=self.creator_kinds,
            requested=data.pop("owner_id", None),
            label=self.creator_label,
            purpose="owns it",
            required=True,
        )

    def _check_owner_unchanged(self, data: dict[str, Any], instance: Any) -> None:
        new_owner = data.pop("owner_id", instance.owner_id)
        if new_owner != instance.owner_id:
            raise exceptions.ValidationError({"owner": ["The owner cannot be changed."]})

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().update(request, *args, **kwargs)
        return self._after(get_object_or_404(self.get_queryset(), id=kwargs["id"]))

    def _after(self, instance: Any, *, run: MagnetRun | None = None) -> Response:
        fresh = get_object_or_404(self.get_queryset(), id=instance.id)
        response = Response(self.get_serializer(fresh).data)
        if run is not None:
            response["Location"] = str(
                MagnetRunSerializer(run, context=self.get_serializer_context()).data["url"]
            )
        return response

    def _runs(self, request: Request, **subject: Any) -> Response:
        context = self.get_serializer_context()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.runs_of(**subject))
            return self.get_paginated_response(
                MagnetRunSerializer(page, many=True, context=context).data
            )

        def perform() -> Response:
            run, _ = runs.magnet_run_create(
                **subject, trigger=RunTrigger.MANUAL, triggered_by=_person(request)
            )
            data = MagnetRunSerializer(run, context=context).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)

    def _list(self, queryset: QuerySet, serializer: Any, **context: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(queryset))
        context = {**self.get_serializer_context(), **context}
        data = serializer(page, many=True, context=context).data
        return self.get_paginated_response(data)


RUNS_SCHEMA = (
    extend_schema(
        methods=["get"], request=None, responses=MagnetRunSerializer(many=True), filters=False
    ),
    extend_schema(methods=["post"], request=None, responses={202: MagnetRunSerializer}),
)


def _runs_schema(function: Any) -> Any:
    for decorator in RUNS_SCHEMA:
        function = decorator(function)
    return function


@extend_schema(tags=["magnet-offers"])
class MagnetOfferViewSet(_OwnedViewSet):
    """Magnet makers' offers: material, grades, shapes and size ranges, coatings,
    magnetisations, monthly capacity with its validity window, minimum order, lead time,
    plant. Makers (manufacturer organisations) create drafts, publish them (which matches
    them to every open requirement: their leads) and withdraw them. Published offers are
    public to everyone signed in."""

    serializer_class = MagnetOfferSerializer
    filterset_class = MagnetOfferFilterSet
    creator_kinds = (OrganizationKind.MANUFACTURER,)
    creator_label = "manufacturer"
    conflict_actions = ("update", "partial_update", "publish", "withdraw", "runs")

    def get_queryset(self) -> QuerySet[MagnetOffer]:
        return selectors.offer_list(caller=caller_for(self.request))

    def perform_create(self, serializer: MagnetOfferSerializer) -> None:
        data = dict(serializer.validated_data)
        owner = self._owner(data)
        serializer.instance = services.offer_create(
            owner=owner, created_by=_person(self.request), data=data
        )

    def perform_update(self, serializer: MagnetOfferSerializer) -> None:
        data = dict(serializer.validated_data)
        self._check_owner_unchanged(data, serializer.instance)
        serializer.instance = services.offer_update(
            offer=serializer.instance, data=data, by=_person(self.request)
        )

    @extend_schema(request=None, responses=MagnetOfferSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Publish a draft. A run matching it to the open requirements starts by itself
        (its URL in `Location`)."""
        offer, run = services.offer_publish(offer=self.get_object(), by=_person(request))
        return self._after(offer, run=run)

    @extend_schema(request=None, responses=MagnetOfferSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take the offer off the market: its proposed matches go at once."""
        return self._after(services.offer_withdraw(offer=self.get_object()))

    @extend_schema(responses=MagnetMatchSerializer(many=True), filters=True)
    @action(
        detail=True,
        methods=["get"],
        queryset=MagnetMatch.objects.none(),
        filter_backends=[ListedModelFilterBackend],
        filterset_class=MagnetLeadFilterSet,
        ordering=("-public_score", "requirement_id"),
    )
    def leads(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The offer's leads: requirements it qualifies for, best first, with the spec and
        schedule; the buyer's name once the buyer says it is interested."""
        offer = self.get_object()
        # The maker's view for every caller: the leads are ranked by the public score.
        leads = selectors.leads_of_offer(offer=offer)
        return self._list(leads, MagnetMatchSerializer, maker_view=True)

    @extend_schema(responses=OfferNearMissSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path="near-misses",
        url_name="near-misses",
        queryset=MagnetNearMiss.objects.none(),
        filter_backends=[],
        ordering=("requirement_id",),
    )
    def near_misses(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Requirements the offer misses by one constraint (what would win them)."""
        offer = self.get_object()
        return self._list(selectors.near_misses_of(offer=offer), OfferNearMissSerializer)

    @_runs_schema
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="runs",
        url_name="runs",
        filter_backends=[],
        ordering=("-created_at",),
    )
    def runs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` queues a run of the offer against the open requirements (`202`); `GET`
        lists its runs."""
        return self._runs(request, offer=self.get_object())


@extend_schema(tags=["magnet-requirements"])
class MagnetRequirementViewSet(_OwnedViewSet):
    """Magnet requirements of downstream SMEs (and any organisation buying magnets): a
    minimum grade, shape and dimensions with tolerance, coating, magnetisation, a monthly
    quantity for a number of months from a date, a delivery state. Opening a draft
    matches it to the published offers; `matches/` lists them ranked and explained."""

    serializer_class = MagnetRequirementSerializer
    filterset_class = MagnetRequirementFilterSet
    ordering_fields = ("created_at", "updated_at", "needed_from")
    creator_kinds = (OrganizationKind.SME, OrganizationKind.MANUFACTURER)
    creator_label = "SME or manufacturer"
    conflict_actions = ("update", "partial_update", "open", "close", "cancel", "runs")

    def get_queryset(self) -> QuerySet[MagnetRequirement]:
        return selectors.requirement_list(caller=caller_for(self.request))

    def perform_create(self, serializer: MagnetRequirementSerializer) -> None:
        data = dict(serializer.validated_data)
        owner = self._owner(data)
        serializer.instance = services.requirement_create(
            owner=owner, created_by=_person(self.request), data=data
        )

    def perform_update(self, serializer: MagnetRequirementSerializer) -> None:
        data = dict(serializer.validated_data)
        self._check_owner_unchanged(data, serializer.instance)
        serializer.instance = services.requirement_update(
            requirement=serializer.instance, data=data, by=_person(self.request)
        )

    @extend_schema(request=None, responses=MagnetRequirementSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a draft: a run ranks the published offers for it (its URL in `Location`)."""
        requirement, run = services.requirement_open(
            requirement=self.get_object(), by=_person(request)
        )
        return self._after(requirement, run=run)

    @extend_schema(request=None, responses=MagnetRequirementSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Supply arranged or no longer needed; the matches stay."""
        return self._after(services.requirement_close(requirement=self.get_object()))

    @extend_schema(request=None, responses=MagnetRequirementSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._after(services.requirement_cancel(requirement=self.get_object()))

    @extend_schema(responses=MagnetMatchSerializer(many=True), filters=True)
    @action(
        detail=True,
        methods=["get"],
        queryset=MagnetMatch.objects.none(),
        filter_backends=[ListedModelFilterBackend],
        filterset_class=MagnetMatchFilterSet,
        ordering=("-score", "offer_id"),
    )
    def matches(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The ranked offers, best first (ties by offer id), each with its factors, their
        contributions (summing to the score) and reasons, and the maker's name."""
        requirement = self.get_object()
        return self._list(
            selectors.matches_of_requirement(requirement=requirement), MagnetMatchSerializer
        )

    @extend_schema(responses=RequirementNearMissSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path="near-misses",
        url_name="near-misses",
        queryset=MagnetNearMiss.objects.none(),
        filter_backends=[],
        ordering=("offer_id",),
    )
    def near_misses(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Offers that miss the requirement by one constraint ("offers arcs only up to
        40 mm"): what to relax, or a pool to join."""
        requirement = self.get_object()
        return self._list(
            selectors.near_misses_of(requirement=requirement), RequirementNearMissSerializer
        )

    @_runs_schema
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="runs",
        url_name="runs",
        filter_backends=[],
        ordering=("-created_at",),
    )
    def runs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` queues a run of the requirement against the published offers (`202`);
        `GET` lists its runs."""
        return self._runs(request, requirement=self.get_object())


@extend_schema(tags=["magnet-runs"])
class MagnetRunViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A magnet run: direction, status, counts and timings."""

    serializer_class = MagnetRunSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[MagnetRun]:
        return selectors.run_list(caller=caller_for(self.request))


@extend_schema(tags=["magnet-matches"])
class MagnetMatchViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A magnet match, seen by the buyer, the maker and operators. The buyer says
    `interested` (its name then reaches the maker) or `dismissed`; the maker answers
    an interested buyer `accepted` or `declined`; the buyer records the outcome."""

    serializer_class = MagnetMatchSerializer
    lookup_field = "id"
    idempotent_actions = ("transitions",)
    conflict_actions = ("transitions", "outcome")

    def get_queryset(self) -> QuerySet[MagnetMatch]:
        return selectors.match_list(caller=caller_for(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def _actor(self) -> services.Actor:
        return services.Actor(caller=caller_for(self.request), user=_person(self.request))

    def _fresh(self, match: MagnetMatch, code: int = 200) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(id=match.id)).data, status=code)

    @extend_schema(request=MagnetMatchTransitionSerializer, responses={201: MagnetMatchSerializer})
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move the match (409 when its status does not allow it; 403 when the move is the
        other party's)."""
        match = self.get_object()

        def perform() -> Response:
            body = MagnetMatchTransitionSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            with transaction.atomic():
                moved = services.match_transition(
                    match=match, to_status=body.validated_data["status"], actor=self._actor()
                )
            return self._fresh(moved, status.HTTP_201_CREATED)

        return idempotent_response(request, perform)

    @extend_schema(request=MagnetOutcomeSerializer, responses=MagnetMatchSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The buyer records how an accepted supply went (`good` or `poor`): the maker's
        track record."""
        body = MagnetOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = services.match_record_outcome(
            match=self.get_object(), outcome=body.validated_data["outcome"], actor=self._actor()
        )
        return self._fresh(match)


@extend_schema(tags=["magnet-offers"])
class MagnetLeadViewSet(mixins.ListModelMixin, RemagGenericViewSet):
    """Every lead of the caller's offers, best first (makers and operators)."""

    serializer_class = MagnetMatchSerializer
    permission_classes = [IsAuthenticated, IsMakerOrOperator]
    queryset = MagnetMatch.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = MagnetLeadFilterSet
    ordering = ("-public_score", "requirement_id", "offer_id")

    def get_queryset(self) -> QuerySet[MagnetMatch]:
        return selectors.leads_of_maker(caller=caller_for(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        # The maker's view for every caller: the feed is ranked by the public score.
        return {
            **super().get_serializer_context(),
            "caller": caller_for(self.request),
            "maker_view": True,
        }


@extend_schema(tags=["magnet-pools"])
class MagnetPoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """Pooled requirements (docs/magnets.md): small buyers' requirements of one spec,
    summed so that a maker can answer them as one. Makers and operators see the open
    ones, buyers the pools their requirements are in; nobody sees who the members are."""

    serializer_class = MagnetPoolSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MagnetPoolFilterSet
    lookup_field = "id"
    idempotent_actions = ("answer",)
    conflict_actions = ("answer",)

    def get_queryset(self) -> QuerySet[MagnetPool]:
        return selectors.pool_list(caller=caller_for(self.request)).annotate(
            member_count=Count("members", filter=Q(members__status=RequirementStatus.OPEN))
        )

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "answer":
            return [IsAuthenticated(), organization_kind(OrganizationKind.MANUFACTURER)()]
        return super().get_permissions()

    @extend_schema(request=PoolAnswerSerializer, responses=MagnetPoolSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A maker answers the pool with one of its published offers meeting the pooled
        spec outright (400 naming `offer` with the constraint it misses)."""
        pool = self.get_object()
        caller = caller_for(request)

        def perform() -> Response:
            body = PoolAnswerSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            offer = MagnetOffer.objects.filter(
                id=body.validated_data["offer"], owner_id__in=caller.organization_ids
            ).first()
            if offer is None:
                raise exceptions.ValidationError({"offer": ["Not an offer of yours."]})
            answered = pools.pool_answer(pool=pool, offer=offer, acting_for=caller.organization_ids)
            return Response(self.get_serializer(self.get_queryset().get(id=answered.id)).data)

        return idempotent_response(request, perform)


@extend_schema(tags=["magnet-demand"])
class MagnetDemandViewSet(mixins.ListModelMixin, RemagGenericViewSet):
    """Aggregated demand for capacity planning: open requirements summed by grade class,
    application, shape and delivery state, in kg and tonnes a month (pieces converted
    through the piece mass), with counts of requirements and buyers; never who they are.
    Makers and operators; for makers, groups of fewer than 3 buyers are folded into one
    last row with ``other`` true (omitted if it has fewer than 3 buyers itself)."""

    serializer_class = DemandRowSerializer
    permission_classes = [IsAuthenticated, IsMakerOrOperator]
    pagination_class = OnePage
    queryset = MagnetRequirement.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = DemandFilterSet

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = DemandFilterSet(
            request.query_params, queryset=MagnetRequirement.objects.all(), request=request
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        group_by = filterset.form.cleaned_data.get("group_by") or DEFAULT_GROUPS
        # Groups of fewer than MIN_BUYERS buyers are folded into an "other" row for
        # everyone but operators (one buyer's exact quantity is not for its competitors).
        min_buyers = 1 if caller_for(request).is_operator else MIN_BUYERS
        rows = demand_aggregate(group_by=group_by, queryset=filterset.qs, min_buyers=min_buyers)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DemandRowSerializer(page, many=True).data)

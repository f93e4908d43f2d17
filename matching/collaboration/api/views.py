from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from matching.collaboration import runs, selectors, services
from matching.collaboration.api.serializers import (
    CallMatchSerializer,
    CallNearMissSerializer,
    CallRunSerializer,
    CallSerializer,
    DecisionSerializer,
    InterestCreateSerializer,
    InterestSerializer,
    NdaAcknowledgementSerializer,
    NdaAcknowledgeSerializer,
)
from matching.collaboration.choices import InterestStatus
from matching.collaboration.filtersets import CallFilterSet, InterestFilterSet
from matching.collaboration.models import CollaborationCall, ExpressionOfInterest
from remag.accounts.caller import caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.permissions import organization_kind
from remag.accounts.selectors import organization_acting
from remag.api.idempotency import IdempotentCreateMixin, idempotent_response
from remag.api.viewsets import RemagGenericViewSet
from remag.errors import InvalidInput
from suppliers.access import supplier_can_change
from suppliers.models import Supplier

POSTER_KINDS = (OrganizationKind.MANUFACTURER, OrganizationKind.RESEARCH, OrganizationKind.SME)
# Actions on a call that only the poster's members and operators may use.
OWNER_ACTIONS = frozenset(
    {"partial_update", "open", "close", "cancel", "matches", "near_misses", "runs"}
)


def _person(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "pk", None) else None


def _actor(request: Request) -> services.Actor:
    return services.Actor(caller=caller_for(request), user=_person(request))


class IsCallPoster(BasePermission):
    message = "Only members of the organisation that posted the call may do this."

    def has_object_permission(self, request: Request, view: Any, obj: CollaborationCall) -> bool:
        if view.action not in OWNER_ACTIONS:
            return True
        return caller_for(request).may_access(obj.owner_id)


@extend_schema(tags=["collaboration"])
class CallViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    RemagGenericViewSet,
):
    """Calls for collaboration: technology transfer, co-development, prototyping, testing
    partnerships and joint research proposals.

    Manufacturers, R&D institutions and SMEs post calls as drafts and open them (which
    matches them against the registry's R&D capabilities and facilities), close or cancel
    them. Everyone signed in reads open, closed and awarded calls; a call that requires an
    NDA shows its details only after `POST .../nda/`.
    """

    serializer_class = CallSerializer
    permission_classes = [IsAuthenticated, IsCallPoster]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CallFilterSet
    lookup_field = "id"
    ordering = ("-created_at", "id")
    http_method_names = ("get", "post", "patch", "head", "options")
    idempotent_actions = ("create", "runs", "nda")
    conflict_actions = ("partial_update", "open", "close", "cancel", "runs", "nda")

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "create":
            return [IsAuthenticated(), organization_kind(*POSTER_KINDS)()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[CollaborationCall]:
        return selectors.call_list(caller=caller_for(self.request))

    def get_object(self) -> CollaborationCall:
        instance = get_object_or_404(self.get_queryset(), id=self.kwargs["id"])
        self.check_object_permissions(self.request, instance)
        return instance

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def _fresh(self, call_id: object, code: int = status.HTTP_200_OK) -> Response:
        fresh = get_object_or_404(self.get_queryset(), id=call_id)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Post a call as a draft (open it with `open/`)."""

        def perform() -> Response:
            body = self.get_serializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = dict(body.validated_data)
            owner = organization_acting(
                caller=caller_for(request),
                kinds=POSTER_KINDS,
                requested=data.pop("owner_id", None),
                label="posting",
                purpose="posts the call",
                required=True,
            )
            call = services.call_create(owner=owner, created_by=_person(request), data=data)
            response = self._fresh(call.id, status.HTTP_201_CREATED)
            response["Location"] = str(response.data["url"])
            return response

        return idempotent_response(request, perform)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a draft or open call; an open call is matched again when its capabilities,
        facilities, topic, summary or location change. A changed NDA text must be
        acknowledged again."""
        call = self.get_object()
        body = self.get_serializer(call, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if data.pop("owner_id", call.owner_id) != call.owner_id:
            raise InvalidInput("The owner cannot be changed.", field="owner")
        services.call_update(call=call, data=data, by=_person(request))
        return self._fresh(call.id)

    @extend_schema(request=None, responses=CallSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a draft: matching starts by itself (the run's URL is in `Location`)."""
        call, run = services.call_open(call=self.get_object(), by=_person(request))
        response = self._fresh(call.id)
        response["Location"] = str(
            CallRunSerializer(run, context=self.get_serializer_context()).data["url"]
        )
        return response

    @extend_schema(request=None, responses=CallSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take no more expressions of interest; shortlisting and selecting go on."""
        return self._fresh(services.call_close(call=self.get_object()).id)

    @extend_schema(request=None, responses=CallSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw a draft, open or closed call."""
        return self._fresh(services.call_cancel(call=self.get_object()).id)

    @extend_schema(responses=CallMatchSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], ordering=("rank", "id"))
    def matches(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The call's matches, best first, each with its factors (contributions summing to
        the score) and reasons. The poster's (and operators')."""
        page = self.paginate_queryset(selectors.matches_of(call=self.get_object()))
        return self.get_paginated_response(CallMatchSerializer(page, many=True).data)

    @extend_schema(responses=CallNearMissSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        url_path="near-misses",
        url_name="near-misses",
        filter_backends=[],
        ordering=("supplier_id",),
    )
    def near_misses(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Suppliers excluded by exactly one hard constraint, and which."""
        page = self.paginate_queryset(selectors.near_misses_of(call=self.get_object()))
        return self.get_paginated_response(CallNearMissSerializer(page, many=True).data)

    @extend_schema(
        methods=["get"], request=None, responses=CallRunSerializer(many=True), filters=False
    )
    @extend_schema(methods=["post"], request=None, responses={202: CallRunSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        ordering=("-created_at", "id"),
    )
    def runs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` matches an open call again (`202` with the run; a run still queued is
        returned instead of a second); `GET` lists its runs, newest first."""
        call = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.runs_of(call=call))
            return self.get_paginated_response(
                CallRunSerializer(page, many=True, context=context).data
            )

        def perform() -> Response:
            run, _ = runs.call_run_create(
                call=call, trigger="manual", triggered_by=_person(request)
            )
            data = CallRunSerializer(run, context=context).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)

    @extend_schema(
        request=NdaAcknowledgeSerializer,
        responses={
            201: NdaAcknowledgementSerializer,
            200: OpenApiResponse(
                NdaAcknowledgementSerializer,
                description="Already acknowledged (this text): the first record.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def nda(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Acknowledge the call's NDA (`nda_text`) for an organisation of yours: recorded
        with who and when and the text's SHA-256; the call's details are shown to its
        members from then on, and its suppliers may express interest. Acknowledging again
        returns the first record (`200`). The poster's organisation and the operator
        organisation do not acknowledge (`400`)."""
        call = self.get_object()

        def perform() -> Response:
            body = NdaAcknowledgeSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            organization = _supplier_owner(
                caller_for(request), body.validated_data.get("supplier")
            ) or organization_acting(
                caller=caller_for(request),
                requested=body.validated_data.get("organization"),
                purpose="acknowledges the NDA",
                field="organization",
                required=True,
                operators_act_for_any=False,
            )
            ack, created = services.nda_acknowledge(
                call=call, organization=organization, actor=_actor(request)
            )
            return Response(
                NdaAcknowledgementSerializer(ack).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )

        return idempotent_response(request, perform)


def _supplier_owner(caller: Any, supplier_id: Any) -> Any:
    """The organisation owning a supplier the caller manages (None without a supplier).
    Operators manage every supplier but bind none to an NDA."""
    if supplier_id is None:
        return None
    supplier = Supplier.objects.select_related("owner").filter(id=supplier_id).first()
    if supplier is None:
        raise InvalidInput("No such supplier.", field="supplier")
    if not supplier_can_change(caller=caller, supplier=supplier) or (
        caller.is_operator and not caller.acts_for(supplier.owner_id)
    ):
        raise InvalidInput("You do not manage this supplier.", field="supplier")
    return supplier.owner


def _respondent(caller: Any, data: dict[str, Any]) -> services.Respondent:
    """Who answers: the named supplier, else an R&D institution of the caller's."""
    if data.get("supplier") is not None:
        supplier = Supplier.objects.filter(id=data["supplier"]).first()
        if supplier is None:
            raise InvalidInput("No such supplier.", field="supplier")
        return services.Respondent(supplier=supplier)
    if data.get("organization") is None and not caller.organization_ids:
        raise InvalidInput("Name the supplier you answer for.", field="supplier")
    organization = organization_acting(
        caller=caller,
        kinds=(OrganizationKind.RESEARCH,),
        requested=data.get("organization"),
        label="R&D institution",
        purpose="answers (or name the supplier you answer for)",
        field="organization",
        operators_act_for_any=False,
    )
    if organization is None:
        raise InvalidInput(
            "Name the supplier you answer for; without one, only an R&D institution answers.",
            field="supplier",
        )
    return services.Respondent(
        organization=organization,
        contact_name=data.get("contact_name", ""),
        contact_email=data.get("contact_email", ""),
        contact_phone=data.get("contact_phone", ""),
    )


@extend_schema(tags=["collaboration"])
class CallRunViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A call's matching run: status, progress and counts (the poster's and operators')."""

    serializer_class = CallRunSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet:
        return selectors.run_list(caller=caller_for(self.request))


@extend_schema(tags=["collaboration"])
class InterestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """Expressions of interest: a supplier answers a call (matched or not); the poster
    shortlists, selects or declines; the respondent may withdraw. Contact details are
    shared both ways on the poster's shortlist or selection."""

    serializer_class = InterestSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = InterestFilterSet
    lookup_field = "id"
    ordering = ("-submitted_at", "id")
    idempotent_actions = ("create",)
    conflict_actions = ("create", "shortlist", "select", "decline", "withdraw")

    def get_queryset(self) -> QuerySet[ExpressionOfInterest]:
        return selectors.interest_list(caller=caller_for(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def _fresh(self, interest_id: object, code: int = status.HTTP_200_OK) -> Response:
        fresh = get_object_or_404(self.get_queryset(), id=interest_id)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=InterestCreateSerializer, responses={201: InterestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Express interest in an open call for a supplier you manage, or for an R&D
        institution of yours without a supplier profile (`organization`, with the
        `contact_email` to share). A call that requires an NDA needs the responding
        organisation to have acknowledged it."""

        def perform() -> Response:
            body = InterestCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            caller = caller_for(request)
            call = selectors.call_list(caller=caller).filter(id=data["call"]).first()
            if call is None:
                raise InvalidInput("No such call.", field="call")
            respondent = _respondent(caller, data)
            interest = services.interest_submit(
                call=call,
                respondent=respondent,
                message=data["message"],
                proposed_approach=data.get("proposed_approach", ""),
                actor=_actor(request),
            )
            response = self._fresh(interest.id, status.HTTP_201_CREATED)
            response["Location"] = str(response.data["url"])
            return response

        return idempotent_response(request, perform)

    def _decide(self, request: Request, to_status: str) -> Response:
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interest = services.interest_transition(
            interest=self.get_object(),
            to_status=to_status,
            actor=_actor(request),
            note=body.validated_data.get("note", ""),
        )
        return self._fresh(interest.id)

    @extend_schema(request=DecisionSerializer, responses=InterestSerializer)
    @action(detail=True, methods=["post"])
    def shortlist(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The poster shortlists: contact details are shared both ways."""
        return self._decide(request, InterestStatus.SHORTLISTED)

    @extend_schema(request=DecisionSerializer, responses=InterestSerializer)
    @action(detail=True, methods=["post"])
    def select(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The poster selects a partner (contact shared if not yet); the call is awarded."""
        return self._decide(request, InterestStatus.SELECTED)

    @extend_schema(request=DecisionSerializer, responses=InterestSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The poster declines, with an optional `note` the respondent reads."""
        return self._decide(request, InterestStatus.DECLINED)

    @extend_schema(request=DecisionSerializer, responses=InterestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The respondent withdraws its interest."""
        return self._decide(request, InterestStatus.WITHDRAWN)

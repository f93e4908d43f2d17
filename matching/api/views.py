import functools
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, pagination, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from matching import runs, selectors, services
from matching.api.serializers import (
    GapSerializer,
    MatchRunSerializer,
    MatchSerializer,
    OpportunitySerializer,
    OutcomeSerializer,
    PaymentRecordSerializer,
    ProcurementRequestSerializer,
    PublishedRequestSerializer,
    TransitionRequestSerializer,
    TransitionSerializer,
)
from matching.choices import RunTrigger
from matching.filtersets import MatchFilterSet, OpportunityFilterSet, RequestFilterSet
from matching.models import Match, MatchRun, NearMiss, ProcurementRequest
from matching.procurement.selectors import payment_records
from matching.scoring import factors_of, supplier_factors, supplier_reasons
from remag.accounts.caller import Caller, caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.permissions import organization_kind
from remag.accounts.selectors import organization_acting
from remag.api.fields import url_template
from remag.api.filtering import ListedModelFilterBackend
from remag.api.idempotency import IdempotentCreateMixin, idempotent_response
from remag.api.ordering import StrictOrderingFilter
from remag.api.pagination import CursorPagination, json_text_response, position_kind
from remag.api.viewsets import RemagGenericViewSet
from remag.db import SqlTemplate, StandIns, TemplateCache, statements_prepared
from suppliers.models import Supplier

# Actions on a request that only its owner's members and operators may use. The
# `matches` list applies the same rule in its own query as well
# (`selectors.match_list_for_request_id`): change both together.
OWNER_ACTIONS = frozenset(
    {"update", "partial_update", "publish", "close", "cancel", "matches", "match_runs"}
)


def _person(request: Request) -> Any:
    user = request.user
    return user if getattr(user, "pk", None) else None


class IsRequestOwner(BasePermission):
    message = "Only members of the organisation that owns the request may do this."

    def has_object_permission(self, request: Request, view: Any, obj: ProcurementRequest) -> bool:
        if view.action not in OWNER_ACTIONS:
            return True
        return caller_for(request).may_access(obj.owner_id)


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
    idempotent_actions = ("create", "match_runs")
    # A request not in a status that allows the change (the schema declares 409).
    conflict_actions = ("update", "partial_update", "publish", "close", "cancel", "match_runs")

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "create":
            return [IsAuthenticated(), organization_kind(OrganizationKind.MANUFACTURER)()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[ProcurementRequest]:
        return selectors.request_list(
            caller=caller_for(self.request), codes_only=self.action in ("list", "retrieve")
        )

    def get_object(self) -> ProcurementRequest:
        # By id alone: the filter backends filter what an endpoint lists (requests, or
        # the `matches` action's matches), never the request an action is about.
        queryset = self.get_queryset()
        if self.action in ("matches", "match_runs"):
            # These list the request's matches or runs: they read its id and owner only.
            queryset = queryset.prefetch_related(None).only("id", "owner_id", "status")
        instance = get_object_or_404(queryset, id=self.kwargs["id"])
        self.check_object_permissions(self.request, instance)
        return instance

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "caller": caller_for(self.request)}

    def perform_create(self, serializer: ProcurementRequestSerializer) -> None:
        caller = caller_for(self.request)
        data = dict(serializer.validated_data)
        owner = organization_acting(
            caller=caller,
            kinds=(OrganizationKind.MANUFACTURER,),
            requested=data.pop("owner_id", None),
            label="manufacturer",
            purpose="owns the request",
            required=True,
        )
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
            page = self.paginate_queryset(selectors.match_run_list_for_request(request=instance))
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

    @extend_schema(responses=MatchSerializer(many=True), filters=True)
    @action(
        detail=True,
        methods=["get"],
        # The action lists matches: ``queryset`` names the listed model for the filter
        # backend and the schema (the request itself is read through get_queryset()).
        queryset=Match.objects.none(),
        filter_backends=[ListedModelFilterBackend],
        filterset_class=MatchFilterSet,
        ordering=("-score", "supplier_id"),
    )
    def matches(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The request's matches, best first (ties by supplier id), each with its factors,
        their contributions and reasons. Filter by `min_score`, `status`, `qualifies`."""
        json_wanted = isinstance(request.accepted_renderer, JSONRenderer)
        if json_wanted and connection.vendor == "postgresql":
            return self._matches_sql_json(request)
        instance = self.get_object()
        queryset = self.filter_queryset(selectors.match_list_for_request(request=instance))
        if json_wanted:
            return self._matches_json(request, instance, queryset)
        page = self.paginate_queryset(queryset)
        data = MatchSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def _matches_sql_json(self, request: Request) -> HttpResponse:
        """A page of the request's matches as :class:`MatchSerializer` writes them, read
        as plain columns in the one query that also checks the request is the caller's
        (:func:`selectors.match_list_for_request_id`). Only an empty page, or a filter or
        cursor refused, reads the request, to answer 404 or 403 first as
        :meth:`get_object` would (else the empty page, or the refusal).
        ``tests/matching/test_match_list_json.py`` holds the two equal."""
        try:
            request_id = uuid.UUID(str(self.kwargs["id"]))
        except ValueError:  # the URL admits UUIDs only; any other id names no request
            raise exceptions.NotFound() from None
        caller = caller_for(request)
        try:
            rows = self._match_rows(request, caller, request_id)
        except exceptions.APIException:
            self.get_object()  # a request not there, or not the caller's, answers that first
            raise
        if not rows:
            self.get_object()  # 404 or 403 when the request is not there or not the caller's
        return self._match_page(request, rows or [], request_id=str(request_id))

    def _match_rows(
        self, request: Request, caller: Caller, request_id: uuid.UUID
    ) -> list[dict[str, Any]] | None:
        """The rows of the page of the request's matches that the query string asks for,
        through the page's SQL compiled once per shape (:class:`remag.db.SqlTemplate`;
        the shape: the caller's kind and number of organisations, which filters and how
        many statuses, the cursor's offset and direction, the page size). Building and
        compiling the query cost more than PostgreSQL spent running it (prepared per
        connection). Filters this does not know take the queryset's own way."""
        base = _match_page_base(connection.vendor)
        # Most pages name no filter: then no filter form is built and validated.
        filterset: Any = None
        cleaned: dict[str, Any] = {}
        if any(name in request.query_params for name in MatchFilterSet.base_filters):
            filterset = ListedModelFilterBackend().get_filterset(request, base, self)
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            cleaned = filterset.form.cleaned_data

        def filtered(queryset: QuerySet[Match]) -> QuerySet[Match]:
            return queryset if filterset is None else filterset.filter_queryset(queryset)

        paginator = self.paginator
        if not paginator.start(base, request, self) or any(
            value not in (None, "", []) for name, value in cleaned.items() if name not in _KNOWN
        ):
            with statements_prepared():
                return self.paginate_queryset(
                    filtered(
                        selectors.match_list_for_request_id(
                            caller=caller, request_id=request_id, base=base
                        )
                    )
                )
        # Each status once, as the filter reads them (a repeated one adds no SQL).
        statuses = sorted(set(cleaned.get("status") or []))
        min_score, qualifies = cleaned.get("min_score"), cleaned.get("qualifies")
        cursor = paginator.cursor
        position = None if cursor is None else cursor.position
        # An operator's query names no organisation (selectors.match_list_for_request_id).
        organizations = [] if caller.is_operator else sorted(caller.organization_ids)
        shape = (
            caller.is_operator,
            len(organizations),
            min_score is not None,
            len(statuses),
            qualifies,
            None if cursor is None else (cursor.offset, cursor.reverse, position_kind(position)),
            paginator.page_size,
        )
        template = _match_page_templates.get(shape, _MISSING)
        if template is _MISSING:
            template = self._match_page_template(
                caller, filtered, filterset, cleaned, len(organizations), position
            )
            _match_page_templates.put(shape, template)
        if template is None:  # a shape whose inputs cannot all be told apart in the SQL
            with statements_prepared():
                return self.paginate_queryset(
                    filtered(
                        selectors.match_list_for_request_id(
                            caller=caller, request_id=request_id, base=base
                        )
                    )
                )
        prep = _MATCH_FIELD_PREP
        values: dict[str, Any] = {"request": prep["request"](request_id)}
        for i, organization in enumerate(organizations):
            values[f"organization_{i}"] = prep["organization"](organization)
        for i, status_ in enumerate(statuses):
            values[f"status_{i}"] = prep["status"](status_)
        if min_score is not None:
            values["min_score"] = prep["score"](min_score)
        if position_kind(position) == "value":
            values["position"] = prep["score"](position)
        return paginator.page_from(template.rows(values))

    def _match_page_template(
        self,
        caller: Caller,
        filtered: Callable[[QuerySet[Match]], QuerySet[Match]],
        filterset: Any,
        cleaned: dict[str, Any],
        organizations: int,
        position: Any,
    ) -> SqlTemplate | None:
        """The page's SQL for this shape, built with stand-ins for its inputs."""
        stand_ins = StandIns()
        stand_ins.uuid("request")
        owners = [stand_ins.uuid(f"organization_{i}") for i in range(organizations)]
        count = len(set(cleaned.get("status") or []))
        statuses = [stand_ins.text(f"status_{i}") for i in range(count)]
        stood = dict(cleaned, status=statuses)
        if cleaned.get("min_score") is not None:
            stood["min_score"] = stand_ins["min_score"] = -1.2345678901234567e300
        position_as = None
        if position_kind(position) == "value":
            position_as = stand_ins["position"] = -2.3456789012345678e300
        if filterset is not None:
            filterset.form.cleaned_data = stood
        queryset = filtered(
            selectors.match_list_for_request_id(
                caller=replace(caller, organization_ids=frozenset(owners)),
                request_id=stand_ins["request"],
                base=_match_page_base(connection.vendor),
            )
        )
        sliced = self.paginator.page_queryset(queryset, self.request, self, position_as=position_as)
        if filterset is not None:
            filterset.form.cleaned_data = cleaned
        try:
            return SqlTemplate(sliced, stand_ins)
        except ValueError:
            return None

    def _matches_json(
        self, request: Request, instance: ProcurementRequest, queryset: QuerySet[Match]
    ) -> HttpResponse:
        """A page of the request's matches as :class:`MatchSerializer` writes them (the
        JSON answer on SQLite: see :meth:`_matches_sql_json`); ``instance`` is the
        caller's own, or an operator's (:class:`IsRequestOwner`)."""
        page = self.paginate_queryset(_with_json_text(queryset).values(*_MATCH_COLUMNS)) or []
        for row in page:  # SQLite's UUIDs, as PostgreSQL's text of them
            for name in ("id_text", "supplier_id_text", "supplier_owner_id_text"):
                row[name] = None if row[name] is None else str(row[name])
        return self._match_page(request, page, request_id=str(instance.id))

    def _match_page(
        self, request: Request, page: list[dict[str, Any]], *, request_id: str
    ) -> HttpResponse:
        """The page's matches as the request's buyer sees them (only its members and
        operators list them), written as JSON text from plain column values
        (:meth:`_BuyerPage.match_json`): no model instances, no per-field serializer
        machinery. Built in Python, not by PostgreSQL as JSON (a page's factors as named
        objects cost PostgreSQL 4.6 ms of 8.2), and from the stored JSON's text: Python's
        ``json.dumps`` spent 1.7 ms a page writing the factors' floats back."""
        writer = _BuyerPage(request, request_id)
        return self.paginator.get_json_page_response([writer.match_json(row) for row in page])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        # No docstring: the operation's description is the view's (the schema). Below
        # every method annotated with `list[...]`: in the class body after this method,
        # `list` names it, not the built-in.
        if connection.vendor == "postgresql" and isinstance(
            request.accepted_renderer, JSONRenderer
        ):
            return self._list_json(request)
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        # No docstring: the operation's description is the view's (the schema).
        if connection.vendor == "postgresql" and isinstance(
            request.accepted_renderer, JSONRenderer
        ):
            response = self._retrieve_json(request)
            if response is not None:
                return response
        return super().retrieve(request, *args, **kwargs)

    def _retrieve_json(self, request: Request) -> HttpResponse | None:
        """A request as :class:`ProcurementRequestSerializer` writes it for the caller,
        built by PostgreSQL as :meth:`_list_json`'s are: whether the caller may read it
        in one query, its text in a second. None (the serializer's way) for a request
        whose materials, weights or coordinates are stored in another shape. DRF's
        serializer left about 500 objects a call in reference cycles (its fields and
        their parents), and the collector's pauses in freeing them were the endpoint's
        p99. ``tests/matching/test_request_list_json.py`` holds the two equal."""
        try:
            request_id = uuid.UUID(str(self.kwargs["id"]))
        except ValueError:  # the URL admits UUIDs only; any other id names no request
            raise exceptions.NotFound() from None
        caller = caller_for(request)
        if not selectors.request_list(caller=caller).filter(id=request_id).exists():
            raise exceptions.NotFound()
        texts = selectors.request_representations_json(
            [request_id], caller=caller, url_templates=self._url_templates(request)
        )
        if request_id not in texts:  # deleted meanwhile
            raise exceptions.NotFound()
        text = texts[request_id]
        if text is None:
            return None
        return json_text_response(text)

    @staticmethod
    def _url_templates(request: Request) -> dict[str, str]:
        return {
            "url": url_template(request, "request-detail"),
            "matches_url": url_template(request, "request-matches"),
            "match_runs_url": url_template(request, "request-match-runs"),
        }

    def _list_json(self, request: Request) -> HttpResponse:
        """A page of requests as :class:`ProcurementRequestSerializer` writes them for
        the caller, without model instances or serializer: the page's ids (and the
        ordering's field, for the cursor) in one query, each request as JSON text built
        by PostgreSQL in a second (``selectors.request_representations_json``). A page
        serialised by DRF left about 1,850 objects in reference cycles (serializer,
        response and view point at one another), freed only by the cyclic collector,
        whose pauses (30 to 70 ms every twenty-odd pages) were the list's p99.
        ``tests/matching/test_request_list_json.py`` holds the two equal."""
        caller = caller_for(request)
        queryset = self.filter_queryset(
            selectors.request_list(caller=caller).prefetch_related(None)
        )
        ordering = self.paginator.get_ordering(request, queryset, self)
        columns = dict.fromkeys(("id", ordering[0].lstrip("-")))
        with statements_prepared():  # a page's SQL is the same for every buyer
            rows = self.paginate_queryset(queryset.values(*columns)) or []
        ids = [row["id"] for row in rows]
        texts = selectors.request_representations_json(
            ids,
            caller=caller,
            url_templates=self._url_templates(request),
        )
        unusual = [request_id for request_id, text in texts.items() if text is None]
        if unusual:
            # Materials, weights or coordinates stored in another shape (by SQL, or by
            # the admin before it checked them): as the serializer writes (or refuses)
            # them.
            context = self.get_serializer_context()
            queryset = selectors.request_list(caller=caller, codes_only=True)
            for instance in queryset.filter(id__in=unusual):
                data = ProcurementRequestSerializer(instance, context=context).data
                texts[instance.id] = json.dumps(
                    data, ensure_ascii=False, cls=JSONEncoder, allow_nan=False
                )
        # A request deleted since the page was read is left out, not a 500.
        return self.paginator.get_json_page_response(
            text for text in (texts.get(request_id) for request_id in ids) if text is not None
        )


# A JSON string literal of a str, non-ASCII kept (json.dumps with ensure_ascii=False).
_json_str = json.encoder.encode_basestring


def _json_text(value: str | None) -> str:
    return "null" if value is None else _json_str(value)


# A match's stored factors as remag writes them, in PostgreSQL jsonb's spacing (``[[1.0,
# 0.35, 35.0], ...]``; rows older than the json column are jsonb's own text): each
# number (or null) is already JSON, to be copied as it is.
_NUMBER = r"(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|null)"
_TRIPLE = rf"\[{_NUMBER}, {_NUMBER}, {_NUMBER}\]"
_FACTORS_TEXT = re.compile(rf"\[(?:{_TRIPLE}(?:, {_TRIPLE})*)?\]")


@functools.lru_cache(maxsize=64)
def _factors_template(algorithm_version: str, count: int) -> str:
    """The buyer's factors of ``count`` stored triples as a ``%``-format of their 3 x
    ``count`` numbers' text, named by ``algorithm_version`` (:func:`factors_of`). Few
    versions and counts exist; the cache is bounded all the same."""
    names = factors_of(algorithm_version, count)
    return "[{}]".format(
        ",".join(
            '{"name":' + _json_str(name).replace("%", "%%") + ',"value":%s,"weight":%s,'
            '"contribution":%s}'
            for name in names
        )
    )


# What that text of an array of arrays of numbers (or nulls) is made of.
_NUMBERS_ONLY = str.maketrans("", "", "0123456789.-+eEnul[], ")


def _factors_numbers(text: str) -> list[str] | None:
    """The numbers' text of stored factors written in PostgreSQL jsonb's spacing (valid
    JSON), None for any other shape: made only of numbers, nulls and
    arrays, and split into triples of scalars, it is ``[[n, n, n], ...]`` (what
    :data:`_FACTORS_TEXT` says, for a fraction of a regular expression's time)."""
    if text == "[]":
        return []
    if text[:2] != "[[" or text[-2:] != "]]" or text.translate(_NUMBERS_ONLY):
        return None
    numbers: list[str] = []
    for triple in text[2:-2].split("], ["):
        values = triple.split(", ")
        if len(values) != 3 or "[" in triple or "]" in triple:
            return None
        numbers += values
    return numbers


def _factors_json(algorithm_version: str, text: str) -> str:
    """A match's stored factors (``[[value, weight, contribution], ...]``, its JSON
    text, in PostgreSQL jsonb's spacing) as :class:`MatchSerializer` names them for the
    buyer: in the database's own writing the numbers are copied as text; text of any
    other shape is read and written as JSON."""
    numbers = _factors_numbers(text)
    if numbers is None:
        stored = json.loads(text)
        if not isinstance(stored, list) or not all(
            isinstance(triple, list) and len(triple) == 3 for triple in stored
        ):  # refused as the serializer refuses it (explained_factors)
            raise ValueError("stored factors that are not [value, weight, contribution] lists")
        numbers = [json.dumps(x, allow_nan=False) for triple in stored for x in triple]
    return _factors_template(algorithm_version, len(numbers) // 3) % tuple(numbers)


class _BuyerPage:
    """What every match of a page of a request's matches shares, worked out once: the
    request's id, the match URL around its id, the caller's organisations (as text, as
    the page's ids are read) and the current time zone (DRF's ``DateTimeField``)."""

    def __init__(self, request: Request, request_id: str) -> None:
        self.request_id = request_id
        self.url_head, _, self.url_tail = url_template(request, "match-detail").partition("{id}")
        self.acting = frozenset(map(str, caller_for(request).organization_ids))
        self.tz = timezone.get_current_timezone()
        # Each date-time's text written once a page: the matches of one run share their
        # ``scored_at``, so a page of 50 has one to write, not 50.
        self.written: dict[str, str] = {}

    def datetime(self, value: datetime | str | None) -> str:
        """``value`` (or its text, as PostgreSQL writes it) as JSON, as
        DRF's ``DateTimeField`` writes it (ISO 8601 in the current time zone, ``Z`` for UTC)."""
        if value is None:
            return "null"
        if isinstance(value, str):
            written = self.written.get(value)
            if written is None:
                written = self.written[value] = self.datetime(datetime.fromisoformat(value))
            return written
        text = value.astimezone(self.tz).isoformat()
        return f'"{text[:-6]}Z"' if text.endswith("+00:00") else f'"{text}"'

    def match_json(self, row: dict[str, Any]) -> str:
        """A match as :class:`MatchSerializer` writes it for the request's buyer, as JSON
        text from its columns (``_MATCH_COLUMNS``, ids as text);
        ``tests/matching/test_match_list_json.py`` holds the two equal."""
        match_id = row["id_text"]
        shared = row["contact_shared_at_text"]
        if shared is not None or row["supplier_owner_id_text"] in self.acting:
            contact = (
                f'{{"name":{_json_text(row["supplier__contact_name"])},'
                f'"email":{_json_text(row["supplier__contact_email"])},'
                f'"phone":{_json_text(row["supplier__contact_phone"])}}}'
            )
        else:
            contact = "null"
        score = row["score"]
        return (
            f'{{"id":"{match_id}","url":{_json_str(self.url_head + match_id + self.url_tail)},'
            f'"request":"{self.request_id}",'
            f'"supplier":{{"id":"{row["supplier_id_text"]}",'
            f'"legal_name":{_json_text(row["supplier__legal_name"])},'
            f'"trade_name":{_json_text(row["supplier__trade_name"])},'
            f'"state":{_json_text(row["supplier__state"])},'
            f'"city":{_json_text(row["supplier__city"])},'
            f'"enterprise_size":{_json_text(row["supplier__enterprise_size"])},'
            f'"status":{_json_text(row["supplier__status"])},"contact":{contact}}},'
            f'"score":{float.__repr__(score) if math.isfinite(score) else _no_nan(score)},'
            f'"factors":{_factors_json(row["algorithm_version"], row["factors_text"])},'
            f'"reasons":{row["reasons_text"]},'
            f'"qualifies":{"true" if row["qualifies"] else "false"},'
            f'"status":{_json_text(row["status"])},'
            f'"status_changed_at":{self.datetime(row["status_changed_at_text"])},'
            f'"contact_shared_at":{self.datetime(shared)},'
            f'"outcome":{_json_text(row["outcome"] or None)},'
            f'"algorithm_version":{_json_text(row["algorithm_version"])},'
            f'"scored_at":{self.datetime(row["scored_at_text"])}}}'
        )


def _no_nan(score: float) -> str:
    return json.dumps(score, allow_nan=False)  # raises, as the serializer's renderer would


@extend_schema(tags=["match-runs"])
class MatchRunViewSet(mixins.RetrieveModelMixin, RemagGenericViewSet):
    """A match run: status, progress, counts and timings."""

    serializer_class = MatchRunSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[MatchRun]:
        return selectors.match_run_list(caller=caller_for(self.request))


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
    idempotent_actions = ("transitions",)
    conflict_actions = ("transitions", "outcome")

    def get_queryset(self) -> QuerySet[Match]:
        return selectors.match_list(caller=caller_for(self.request))

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
        return idempotent_response(request, lambda: self._transition(request, match))

    def _transition(self, request: Request, match: Match) -> Response:
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
        """The buyer records how an awarded engagement went (`good` or `poor`), kept with
        the match. Since `remag-2026.11.7` the track record is scored from deliveries on
        orders (docs/procurement.md), not from this outcome."""
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
        with statements_prepared():  # the same SQL for every supplier a caller reads
            return selectors.supplier_get_private(
                caller=caller_for(self.request), supplier_id=self.kwargs["id"]
            )


@extend_schema(tags=["opportunities"])
class OpportunityViewSet(_SupplierScopedViewSet):
    serializer_class = OpportunitySerializer
    queryset = Match.objects.none()  # the listed model, for the filter backend and schema
    filter_backends = [DjangoFilterBackend]
    filterset_class = OpportunityFilterSet
    # By the public score, the one the supplier reads: the buyer's whole score would
    # order (and ``min_score`` filter) by the private factors the page does not show.
    ordering = ("-public_score", "request_id")

    @extend_schema(responses=OpportunitySerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open requests the supplier matches, best first, as their buyers published them,
        each with the buyer's payment record."""
        supplier = self.supplier()
        queryset = self.filter_queryset(selectors.opportunity_list(supplier=supplier))
        if connection.vendor == "postgresql" and isinstance(
            request.accepted_renderer, JSONRenderer
        ):
            return self._list_json(request, queryset)
        page = self.paginate_queryset(queryset)
        # Every buyer of the page's payment record, in one query.
        records = payment_records(buyer_ids=sorted({m.request.owner_id for m in page or []}))
        context = {**self.get_serializer_context(), "payment_records": records}
        data = OpportunitySerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def _list_json(self, request: Request, queryset: QuerySet[Match]) -> HttpResponse:
        """A page of opportunities as :class:`OpportunitySerializer` writes them, without
        model instances: the matches' own columns as plain values, each request as its
        buyer published it as JSON text built by PostgreSQL
        (``selectors.published_requests_json``), each buyer's payment record written once.
        ``tests/matching/test_opportunity_list_json.py`` holds the two equal."""
        with statements_prepared():  # a page's SQL is the same for every supplier
            rows = (
                self.paginate_queryset(
                    queryset.select_related(None)
                    .prefetch_related(None)
                    .values(*_OPPORTUNITY_COLUMNS)
                )
                or []
            )
        request_ids = {row["request_id"] for row in rows}
        published = selectors.published_requests_json(
            request_ids, url_template=url_template(request, "request-detail")
        )
        unusual = [request_id for request_id, text in published.items() if text is None]
        if unusual:
            # Materials stored by the admin or SQL in another shape: as the serializer
            # writes them.
            context = self.get_serializer_context()
            for instance in selectors.published_requests(unusual):
                data = PublishedRequestSerializer(instance, context=context).data
                published[instance.id] = json.dumps(data, ensure_ascii=False, cls=JSONEncoder)
        buyers = sorted({str(row["request__owner_id"]) for row in rows})
        with statements_prepared():
            found = payment_records(buyer_ids=buyers)
        records = {
            buyer: json.dumps(PaymentRecordSerializer(record).data, ensure_ascii=False)
            for buyer, record in found.items()
        }
        match_url = url_template(request, "match-detail")
        items = []
        for row in rows:
            published_request = published.get(row["request_id"])
            if published_request is None:  # deleted or closed since the page was read
                continue
            match_id = str(row["id"])
            head = json.dumps(
                {
                    "match": match_id,
                    "match_url": match_url.replace("{id}", match_id),
                    "score": row["public_score"],
                    "status": row["status"],
                    "factors": supplier_factors(row["algorithm_version"], row["factors"]),
                    "reasons": supplier_reasons(row["reasons"]),
                },
                ensure_ascii=False,
                separators=(",", ":"),
                allow_nan=False,
            )
            record = records[str(row["request__owner_id"])]
            items.append(
                f'{head[:-1]},"request":{published_request},"buyer_payment_record":{record}}}'
            )
        return self.paginator.get_json_page_response(items)


# A match's columns an opportunity shows, with its request's buyer.
_OPPORTUNITY_COLUMNS = (
    "id",
    "public_score",
    "status",
    "factors",
    "reasons",
    "algorithm_version",
    "request_id",
    "request__owner_id",
)


class OnePage(pagination.BasePagination):
    """A list bounded by construction (a supplier's gaps) in the shape of every list:
    one page, `next` and `previous` null (no cursor: there is never a second page)."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        return list(queryset)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": None, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return CursorPagination().get_paginated_response_schema(schema)


@extend_schema(tags=["opportunities"])
class GapViewSet(_SupplierScopedViewSet):
    serializer_class = GapSerializer
    pagination_class = OnePage
    queryset = NearMiss.objects.none()

    @extend_schema(responses=GapSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """What would qualify the supplier for more open requests: its near misses grouped
        by the one constraint that excluded it, most requests first (one page: at most a
        handful of groups)."""
        gaps = selectors.gap_list(supplier=self.supplier())
        page = self.paginate_queryset(gaps)
        return self.get_paginated_response(GapSerializer(page, many=True).data)


def _with_json_text(queryset: QuerySet[Match]) -> QuerySet[Match]:
    """The matches with their factors and reasons as the database's JSON text, and the
    ids and date-times a page writes as text (no UUID or datetime object made by psycopg
    per value)."""
    if connection.vendor == "postgresql":
        ids: dict[str, Any] = {
            name: Cast(field, TextField()) for name, field in _TEXT_COLUMNS.items()
        }
    else:  # SQLite's text of a UUID has no dashes: read as values (see _matches_json)
        ids = {name: F(field) for name, field in _TEXT_COLUMNS.items()}
    return queryset.annotate(
        factors_text=Cast("factors", TextField()), reasons_text=Cast("reasons", TextField()), **ids
    )


# The filters of a page of a request's matches that _match_rows compiles once per shape.
_KNOWN = frozenset({"min_score", "status", "qualifies"})
_MISSING = object()


def _prep(field: Any) -> Any:
    """A value as Django prepares it for ``field`` in a lookup on PostgreSQL."""
    return lambda value: field.get_db_prep_value(value, connection, prepared=False)


_MATCH_FIELD_PREP = {
    "request": _prep(Match._meta.get_field("request").target_field),
    "organization": _prep(ProcurementRequest._meta.get_field("owner").target_field),
    "status": _prep(Match._meta.get_field("status")),
    "score": _prep(Match._meta.get_field("score")),
}


_match_page_templates = TemplateCache(256)


@functools.cache
def _match_page_base(vendor: str) -> QuerySet[Match]:
    """The columns of a page of a request's matches (``_MATCH_COLUMNS``), to filter: built
    once per process (annotating and selecting 22 columns cost each call a third of a
    millisecond). Never evaluated itself: every use filters it into a new queryset."""
    return _with_json_text(Match.objects.all()).values(*_MATCH_COLUMNS)


_TEXT_COLUMNS = {
    "id_text": "id",
    "supplier_id_text": "supplier_id",
    "supplier_owner_id_text": "supplier__owner_id",
    # Date-times as PostgreSQL writes them (with their offset), read by the C of
    # datetime.fromisoformat rather than psycopg's loader in Python (a microsecond each).
    "status_changed_at_text": "status_changed_at",
    "contact_shared_at_text": "contact_shared_at",
    "scored_at_text": "scored_at",
}


# What a page of a request's matches reads: the match's columns and its supplier's.
_MATCH_COLUMNS = (
    "id_text",
    "supplier_id_text",
    "score",
    "factors_text",
    "reasons_text",
    "qualifies",
    "status",
    "status_changed_at_text",
    "contact_shared_at_text",
    "outcome",
    "algorithm_version",
    "scored_at_text",
    "supplier_owner_id_text",
    "supplier__legal_name",
    "supplier__trade_name",
    "supplier__state",
    "supplier__city",
    "supplier__enterprise_size",
    "supplier__status",
    "supplier__contact_name",
    "supplier__contact_email",
    "supplier__contact_phone",
)

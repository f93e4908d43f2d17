from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from matching.procurement import selectors, services
from matching.procurement.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AwardInputSerializer,
    AwardResultSerializer,
    ComparisonSerializer,
    DeliveryInputSerializer,
    OrderDeliverySerializer,
    OrderPaymentSerializer,
    OrderSerializer,
    PaymentInputSerializer,
    QuotationInputSerializer,
    QuotationRequestInputSerializer,
    QuotationRequestSerializer,
    QuotationRevisionSerializer,
    QuotationSerializer,
    QuotationTermsSerializer,
)
from matching.procurement.filtersets import (
    OrderFilterSet,
    QuotationFilterSet,
    QuotationRequestFilterSet,
)
from matching.procurement.models import Quotation, QuotationAttachment
from matching.selectors import request_list
from matching.services import Actor
from remag.accounts.caller import caller_for
from remag.api.idempotency import idempotent_response
from remag.api.viewsets import RemagGenericViewSet
from remag.errors import InvalidInput, NotAllowed


def _actor(request: Request) -> Actor:
    user = request.user
    return Actor(caller=caller_for(request), user=user if getattr(user, "pk", None) else None)


def _terms(data: dict[str, Any]) -> services.QuotationInput:
    return services.QuotationInput(
        **{
            name: data[name]
            for name in services.QuotationInput.__dataclass_fields__
            if name in data
        }
    )


@extend_schema(tags=["quotations"])
class QuotationRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet
):
    """Calls for quotations: the buyer asks the interested SMEs of a request to quote by a
    deadline, reads the quotations once unsealed, compares them and awards.

    Seen by the buyer's members, the invited SMEs and operators.
    """

    serializer_class = QuotationRequestSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = QuotationRequestFilterSet
    lookup_field = "id"
    ordering = ("-created_at",)
    idempotent_actions = ("create", "award")
    conflict_actions = ("create", "award")

    def get_queryset(self) -> QuerySet:
        return selectors.quotation_request_list(caller=caller_for(self.request))

    @extend_schema(
        request=QuotationRequestInputSerializer, responses={201: QuotationRequestSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ask every SME that answered interested on `request` to quote by `deadline`
        (the buyer only; one call per request)."""

        def perform() -> Response:
            body = QuotationRequestInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            procurement = (
                request_list(caller=caller_for(request)).filter(id=data["request"]).first()
            )
            if procurement is None:
                raise InvalidInput("No such request.", field="request")
            rfq = services.quotation_request_create(
                request=procurement,
                deadline=data["deadline"],
                message=data.get("message", ""),
                actor=_actor(request),
            )
            out = self.get_serializer(rfq).data
            return Response(
                out, status=status.HTTP_201_CREATED, headers={"Location": str(out["url"])}
            )

        return idempotent_response(request, perform)

    @extend_schema(responses=QuotationSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], ordering=("-submitted_at", "id"))
    def quotations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The quotations the caller may read: an SME its own; the buyer every one not
        withdrawn, once unsealed (an empty list before). The buyer's read opens them
        before the deadline when every invited SME has answered; they are frozen then."""
        rfq = services.quotation_request_open(rfq=self.get_object(), caller=caller_for(request))
        page = self.paginate_queryset(selectors.quotations_of(rfq=rfq, caller=caller_for(request)))
        return self.get_paginated_response(
            QuotationSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(responses=ComparisonSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def comparison(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The quotations side by side, cheapest per base unit first: price per base unit,
        lead time, payment terms, the match's score and explanation, L1 and the micro
        and small enterprises within the preference band. The buyer's (and operators')
        alone; empty while sealed; opens them like `quotations/`."""
        caller = caller_for(request)
        rfq = self.get_object()
        if not caller.may_access(rfq.request.owner_id):
            # Scores, weights and the other quotations are the buyer's alone.
            raise NotAllowed("Only the buyer compares the quotations.")
        rfq = services.quotation_request_open(rfq=rfq, caller=caller)
        band = float(settings.REMAG_MSE_PRICE_PREFERENCE_PERCENT)
        rows = selectors.quotation_comparison(
            rfq=rfq, caller=caller_for(request), band_percent=band
        )
        data = {"quotation_request": rfq.id, "preference_band_percent": band, "results": rows}
        return Response(ComparisonSerializer(data, context=self.get_serializer_context()).data)

    @extend_schema(request=AwardInputSerializer, responses={201: AwardResultSerializer})
    @action(detail=True, methods=["post"])
    def award(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Award one or several quotations (a split award); each becomes an order. The
        other invited SMEs are told with `reason`; the request is awarded."""
        rfq = self.get_object()

        def perform() -> Response:
            body = AwardInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            items = [
                services.AwardItem(
                    quotation_id=item["quotation"],
                    quantity=item["quantity"],
                    delivery_date=item.get("delivery_date"),
                )
                for item in body.validated_data["awards"]
            ]
            orders = services.award_make(
                rfq=rfq, items=items, reason=body.validated_data.get("reason", ""),
                actor=_actor(request),
            )  # fmt: skip
            caller = caller_for(request)
            fresh = selectors.order_list(caller=caller).filter(id__in=[o.id for o in orders])
            context = self.get_serializer_context()
            data = {
                "quotation_request": self.get_queryset().get(id=rfq.id),
                "orders": list(fresh.order_by("created_at", "id")),
            }
            return Response(
                AwardResultSerializer(data, context=context).data, status=status.HTTP_201_CREATED
            )

        return idempotent_response(request, perform)


@extend_schema(tags=["quotations"])
class QuotationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """Quotations: the matched SME quotes on its match, revises (every revision kept) or
    withdraws before the deadline. Sealed: the buyer reads them only after the deadline or
    once every invited SME has answered; no SME ever sees another's."""

    serializer_class = QuotationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = QuotationFilterSet
    lookup_field = "id"
    ordering = ("-submitted_at", "id")
    idempotent_actions = ("create", "revisions", "withdraw")
    conflict_actions = ("create", "revisions", "withdraw")

    def get_queryset(self) -> QuerySet[Quotation]:
        return selectors.quotation_list(caller=caller_for(self.request))

    def _fresh(self, quotation: Quotation) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(id=quotation.id)).data

    @extend_schema(request=QuotationInputSerializer, responses={201: QuotationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Quote on your match (once: then post revisions). Refused after the deadline,
        on someone else's match, or when the buyer has not asked the match to quote."""

        def perform() -> Response:
            body = QuotationInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            match = selectors.match_for_quoting(
                caller=caller_for(request), match_id=body.validated_data["match"]
            )
            if match is None:
                raise InvalidInput("No such match.", field="match")
            quotation = services.quotation_submit(
                match=match, data=_terms(body.validated_data), actor=_actor(request)
            )
            data = self._fresh(quotation)
            return Response(
                data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])}
            )

        return idempotent_response(request, perform)

    @extend_schema(methods=["get"], request=None, responses=QuotationRevisionSerializer(many=True))
    @extend_schema(
        methods=["post"], request=QuotationTermsSerializer, responses={201: QuotationSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], ordering=("number",))
    def revisions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` new terms (a revision, before the deadline; a withdrawn quotation is
        submitted again); `GET` every revision, first to last."""
        quotation = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(quotation.revisions.all())
            return self.get_paginated_response(QuotationRevisionSerializer(page, many=True).data)

        def perform() -> Response:
            body = QuotationTermsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            revised = services.quotation_revise(
                quotation=quotation, data=_terms(body.validated_data), actor=_actor(request)
            )
            return Response(self._fresh(revised), status=status.HTTP_201_CREATED)

        return idempotent_response(request, perform)

    @extend_schema(request=None, responses=QuotationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw the quotation before the deadline (it may be submitted again by a
        revision, also before the deadline)."""
        quotation = self.get_object()

        def perform() -> Response:
            withdrawn = services.quotation_withdraw(quotation=quotation, actor=_actor(request))
            return Response(self._fresh(withdrawn))

        return idempotent_response(request, perform)


@extend_schema(tags=["quotations"])
class QuotationAttachmentViewSet(RemagGenericViewSet):
    """Files attached to a quotation: PDF, PNG or JPEG, told from the bytes, up to
    `QUOTATION_ATTACHMENT_MAX_BYTES`. Sealed with their quotation."""

    serializer_class = AttachmentSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    queryset = QuotationAttachment.objects.none()
    filter_backends: list[Any] = []
    ordering = ("created_at", "id")
    idempotent_actions = ("create",)
    conflict_actions = ("create",)

    @staticmethod
    def max_body_bytes() -> int:
        return int(settings.REMAG_QUOTATION_ATTACHMENT_MAX_BYTES) + 64 * 1024

    def quotation(self) -> Quotation:
        return get_object_or_404(
            selectors.quotation_list(caller=caller_for(self.request)), id=self.kwargs["id"]
        )

    @extend_schema(responses=AttachmentSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The quotation's attachments, each with its download URL."""
        page = self.paginate_queryset(self.quotation().attachments.all())
        return self.get_paginated_response(
            AttachmentSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Attach a file (multipart, field `file`) while the quotation can change."""
        quotation = self.quotation()

        def perform() -> Response:
            body = AttachmentUploadSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            upload = body.validated_data["file"]
            limit = settings.REMAG_QUOTATION_ATTACHMENT_MAX_BYTES
            content = upload.read(limit + 1)
            attachment = services.attachment_add(
                quotation=quotation, filename=upload.name or "", content=content,
                actor=_actor(request),
            )  # fmt: skip
            data = AttachmentSerializer(attachment, context=self.get_serializer_context()).data
            return Response(data, status=status.HTTP_201_CREATED)

        return idempotent_response(request, perform)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file's bytes, as a download named after the uploaded file.",
            )
        }
    )
    def content(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """The file itself, served as `application/octet-stream` (a download, never
        rendered in a browser); its type, sniffed at upload, is the listing's
        `content_type`."""
        attachment = get_object_or_404(
            self.quotation().attachments.all(), id=self.kwargs["attachment_id"]
        )
        return FileResponse(
            attachment.file.open("rb"),
            content_type="application/octet-stream",
            as_attachment=True,
            filename=attachment.filename,
        )


@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RemagGenericViewSet):
    """Orders placed by awards: the agreed price, quantity, delivery date and payment
    terms. The buyer records deliveries; the SME confirms payments received."""

    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilterSet
    lookup_field = "id"
    ordering = ("-created_at",)
    idempotent_actions = ("deliveries", "payments")
    conflict_actions = ("deliveries", "payments")

    def get_queryset(self) -> QuerySet:
        return selectors.order_list(caller=caller_for(self.request))

    @extend_schema(methods=["get"], request=None, responses=OrderDeliverySerializer(many=True))
    @extend_schema(
        methods=["post"], request=DeliveryInputSerializer, responses={201: OrderDeliverySerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        ordering=("delivered_on", "created_at"),
    )
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` a delivery (the buyer): date, quantity delivered, accepted and rejected,
        a quality note. Refused on an order no longer open. `GET` lists them."""
        order = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(order.deliveries.all())
            return self.get_paginated_response(OrderDeliverySerializer(page, many=True).data)

        def perform() -> Response:
            body = DeliveryInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            delivery = services.delivery_record(
                order=order, data=services.DeliveryInput(**body.validated_data),
                actor=_actor(request),
            )  # fmt: skip
            return Response(OrderDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)

        return idempotent_response(request, perform)

    @extend_schema(methods=["get"], request=None, responses=OrderPaymentSerializer(many=True))
    @extend_schema(
        methods=["post"], request=PaymentInputSerializer, responses={201: OrderPaymentSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        ordering=("received_on", "created_at"),
    )
    def payments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """`POST` a payment received (the SME): date and amount in INR. `GET` lists them."""
        order = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(order.payments.all())
            return self.get_paginated_response(OrderPaymentSerializer(page, many=True).data)

        def perform() -> Response:
            body = PaymentInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            payment = services.payment_record(
                order=order,
                received_on=body.validated_data["received_on"],
                amount=body.validated_data["amount"],
                reference=body.validated_data.get("reference", ""),
                actor=_actor(request),
            )
            return Response(OrderPaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

        return idempotent_response(request, perform)

"""Quotation, award and order serializers. Validation of shape only: the rules are in
``matching.procurement.services``. Money is INR as a decimal string."""

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.api.serializers import FactorSerializer
from matching.procurement.choices import (
    MSMED_MAX_PAYMENT_DAYS,
    AttachmentType,
    OrderStatus,
    PaymentTermsFlag,
    QuotationRequestStatus,
    QuotationStatus,
)
from matching.procurement.models import (
    Delivery,
    Order,
    Payment,
    Quotation,
    QuotationAttachment,
    QuotationRequest,
    QuotationRevision,
)
from matching.procurement.services import is_unsealed
from remag.api.fields import NumberField
from suppliers.choices import QuantityUnit

MONEY = {"max_digits": 14, "decimal_places": 2}
AMOUNT = {"max_digits": 16, "decimal_places": 2}
QTY = {"max_digits": 14, "decimal_places": 3}


def _absolute(context: dict[str, Any], url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


# ------------------------------------------------------------------ quotation requests


class QuotationRequestInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "QuotationRequest"

    request = serializers.UUIDField(help_text="The procurement request (yours).")
    deadline = serializers.DateTimeField(
        help_text="Quotations are taken until then and sealed until then (or until every "
        "invited SME has answered)."
    )
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class QuotationRequestSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="quotation-request-detail", lookup_field="id"
    )
    request = serializers.UUIDField(source="request_id", read_only=True)
    status = serializers.ChoiceField(choices=QuotationRequestStatus.choices, read_only=True)
    sealed = serializers.SerializerMethodField(
        help_text="True while the buyer may not read the quotations yet."
    )
    quotations_url = serializers.HyperlinkedIdentityField(
        view_name="quotation-request-quotations", lookup_field="id"
    )
    comparison_url = serializers.HyperlinkedIdentityField(
        view_name="quotation-request-comparison", lookup_field="id"
    )

    class Meta:
        model = QuotationRequest
        fields = (
            "id",
            "url",
            "request",
            "deadline",
            "message",
            "status",
            "sealed",
            "opened_at",
            "awarded_at",
            "award_reason",
            "quotations_url",
            "comparison_url",
            "created_at",
        )
        read_only_fields = fields

    def get_sealed(self, obj: QuotationRequest) -> bool:
        return not is_unsealed(obj)


# ------------------------------------------------------------------ quotations


class QuotationTermsSerializer(serializers.Serializer):
    """The terms of a quotation (the body of a submission or a revision)."""

    class Meta:
        ref_name = "QuotationTerms"

    unit_price = serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), help_text="INR per `unit`, before taxes."
    )
    quantity = serializers.DecimalField(
        **QTY, min_value=Decimal("0.001"), help_text="Offered; may be less than requested."
    )
    unit = serializers.ChoiceField(choices=QuantityUnit.choices)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650)
    valid_until = serializers.DateField(help_text="At least the deadline's date.")
    payment_terms_days = serializers.IntegerField(
        min_value=0,
        max_value=365,
        help_text=f"Days from acceptance. At most {MSMED_MAX_PAYMENT_DAYS} for a micro or "
        "small enterprise (MSMED Act, section 15).",
    )
    delivery_terms = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="For example FOR Chennai."
    )
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class QuotationInputSerializer(QuotationTermsSerializer):
    class Meta:
        ref_name = "Quotation"

    match = serializers.UUIDField(help_text="Your match on the request.")


class QuotedSupplierSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    legal_name = serializers.CharField()
    enterprise_size = serializers.CharField()


class AttachmentSerializer(serializers.ModelSerializer):
    content_type = serializers.ChoiceField(choices=AttachmentType.choices, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = QuotationAttachment
        fields = ("id", "filename", "content_type", "size_bytes", "sha256", "created_at",
                  "download_url")  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, obj: QuotationAttachment) -> str:
        url = reverse(
            "quotation-attachment-content",
            kwargs={"id": obj.quotation_id, "attachment_id": obj.id},
        )
        return _absolute(self.context, url)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A PDF, PNG or JPEG (told from its content).")


class QuotationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="quotation-detail", lookup_field="id")
    quotation_request = serializers.UUIDField(source="quotation_request_id", read_only=True)
    request = serializers.UUIDField(source="quotation_request.request_id", read_only=True)
    match = serializers.UUIDField(source="match_id", read_only=True)
    supplier = QuotedSupplierSerializer(read_only=True)
    status = serializers.ChoiceField(choices=QuotationStatus.choices, read_only=True)
    unit_price = serializers.DecimalField(**MONEY, read_only=True)
    quantity = serializers.DecimalField(**QTY, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    revisions_url = serializers.HyperlinkedIdentityField(
        view_name="quotation-revisions", lookup_field="id"
    )

    class Meta:
        model = Quotation
        fields = (
            "id",
            "url",
            "quotation_request",
            "request",
            "match",
            "supplier",
            "status",
            "revision",
            "unit_price",
            "quantity",
            "unit",
            "lead_time_days",
            "valid_until",
            "payment_terms_days",
            "delivery_terms",
            "notes",
            "submitted_at",
            "withdrawn_at",
            "attachments",
            "revisions_url",
        )
        read_only_fields = fields


class QuotationRevisionSerializer(serializers.ModelSerializer):
    unit_price = serializers.DecimalField(**MONEY, read_only=True)
    quantity = serializers.DecimalField(**QTY, read_only=True)

    class Meta:
        model = QuotationRevision
        fields = (
            "number",
            "unit_price",
            "quantity",
            "unit",
            "lead_time_days",
            "valid_until",
            "payment_terms_days",
            "delivery_terms",
            "notes",
            "submitted_at",
        )
        read_only_fields = fields


# ------------------------------------------------------------------ comparison


class ComparisonRowSerializer(serializers.Serializer):
    """One quotation in the comparison, with its match's score and explanation."""

    quotation = serializers.UUIDField(source="quotation.id")
    quotation_url = serializers.SerializerMethodField()
    supplier = QuotedSupplierSerializer(source="quotation.supplier")
    status = serializers.ChoiceField(choices=QuotationStatus.choices, source="quotation.status")
    unit_price = serializers.DecimalField(**MONEY, source="quotation.unit_price")
    unit = serializers.ChoiceField(choices=QuantityUnit.choices, source="quotation.unit")
    price_per_base_unit = serializers.DecimalField(
        max_digits=18, decimal_places=4, help_text="INR per `base_unit` (kg, piece, test, hour)."
    )
    base_unit = serializers.CharField()
    quantity = serializers.DecimalField(**QTY, source="quotation.quantity")
    # Unit price (14 digits) times quantity (14 digits) fits 28 (a hostile quotation at
    # both maxima must not make the buyer's comparison a server error).
    total_price = serializers.DecimalField(max_digits=28, decimal_places=2)
    lead_time_days = serializers.IntegerField(source="quotation.lead_time_days")
    payment_terms_days = serializers.IntegerField(source="quotation.payment_terms_days")
    valid_until = serializers.DateField(source="quotation.valid_until")
    delivery_terms = serializers.CharField(source="quotation.delivery_terms")
    score = NumberField(source="quotation.match.score")
    reasons = serializers.ListField(child=serializers.CharField(), source="quotation.match.reasons")
    factors = serializers.SerializerMethodField(
        help_text="The match's factors, values, weights and contributions (the buyer's view)."
    )
    is_lowest = serializers.BooleanField(help_text="L1: the lowest price per base unit.")
    micro_small = serializers.BooleanField(
        help_text="Micro or small by a classification of the current financial year."
    )
    within_preference_band = serializers.BooleanField(
        help_text="A micro or small enterprise priced within the preference band above L1."
    )
    payment_terms_within_msmed_limit = serializers.BooleanField()

    def get_quotation_url(self, row: Any) -> str:
        return _absolute(self.context, reverse("quotation-detail", kwargs={"id": row.quotation.id}))

    @extend_schema_field(FactorSerializer(many=True))
    def get_factors(self, row: Any) -> list[dict[str, object]]:
        return row.quotation.match.explained_factors()


class ComparisonSerializer(serializers.Serializer):
    quotation_request = serializers.UUIDField()
    preference_band_percent = NumberField(
        help_text="MSE_PRICE_PREFERENCE_PERCENT: binding on public buyers, information for "
        "private ones."
    )
    results = ComparisonRowSerializer(many=True)


# ------------------------------------------------------------------ award and orders


class AwardItemSerializer(serializers.Serializer):
    quotation = serializers.UUIDField()
    quantity = serializers.DecimalField(
        **QTY, min_value=Decimal("0.001"), help_text="In the quotation's unit."
    )
    delivery_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Agreed delivery date; defaults to today plus the quoted lead time.",
    )


class AwardInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Award"

    awards = AwardItemSerializer(many=True, min_length=1, max_length=50)
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Told to every other invited SME.",
    )


class OrderSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="order-detail", lookup_field="id")
    request = serializers.UUIDField(source="request_id", read_only=True)
    match = serializers.UUIDField(source="match_id", read_only=True)
    quotation = serializers.UUIDField(source="quotation_id", read_only=True)
    buyer = serializers.UUIDField(source="buyer_id", read_only=True)
    supplier = QuotedSupplierSerializer(read_only=True)
    unit_price = serializers.DecimalField(**MONEY, read_only=True)
    quantity = serializers.DecimalField(**QTY, read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    payment_terms_flag = serializers.ChoiceField(
        choices=PaymentTermsFlag.choices,
        read_only=True,
        allow_blank=True,
        help_text="`size_unverified`: over 45 days to a supplier declared micro or small "
        "in a past financial year (placed, flagged: docs/procurement.md).",
    )
    quantity_accepted = serializers.DecimalField(**QTY, read_only=True)
    # Payments add up to the order's value at most: up to a quantity's 14 digits times a
    # price's 14 (services.payment_record).
    amount_paid = serializers.DecimalField(max_digits=30, decimal_places=2, read_only=True)
    deliveries_url = serializers.HyperlinkedIdentityField(
        view_name="order-deliveries", lookup_field="id"
    )
    payments_url = serializers.HyperlinkedIdentityField(
        view_name="order-payments", lookup_field="id"
    )

    class Meta:
        model = Order
        fields = (
            "id",
            "url",
            "request",
            "match",
            "quotation",
            "buyer",
            "supplier",
            "unit_price",
            "quantity",
            "unit",
            "delivery_date",
            "payment_terms_days",
            "delivery_terms",
            "supplier_micro_small",
            "payment_terms_flag",
            "status",
            "quantity_accepted",
            "amount_paid",
            "delivered_on",
            "paid_on",
            "deliveries_url",
            "payments_url",
            "created_at",
        )
        read_only_fields = fields


class AwardResultSerializer(serializers.Serializer):
    quotation_request = QuotationRequestSerializer()
    orders = OrderSerializer(many=True)


class DeliveryInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderDelivery"

    delivered_on = serializers.DateField()
    quantity_delivered = serializers.DecimalField(**QTY, min_value=Decimal("0.001"))
    quantity_accepted = serializers.DecimalField(**QTY, min_value=Decimal(0))
    quantity_rejected = serializers.DecimalField(**QTY, min_value=Decimal(0), required=False)
    quality_note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault(
            "quantity_rejected", attrs["quantity_delivered"] - attrs["quantity_accepted"]
        )
        return attrs


class OrderDeliverySerializer(serializers.ModelSerializer):
    quantity_delivered = serializers.DecimalField(**QTY, read_only=True)
    quantity_accepted = serializers.DecimalField(**QTY, read_only=True)
    quantity_rejected = serializers.DecimalField(**QTY, read_only=True)

    class Meta:
        model = Delivery
        fields = ("id", "delivered_on", "quantity_delivered", "quantity_accepted",
                  "quantity_rejected", "quality_note", "on_time", "created_at")  # fmt: skip
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OrderPayment"

    received_on = serializers.DateField()
    amount = serializers.DecimalField(**AMOUNT, min_value=Decimal("0.01"), help_text="INR.")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class OrderPaymentSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**AMOUNT, read_only=True)

    class Meta:
        model = Payment
        fields = ("id", "received_on", "amount", "reference", "created_at")
        read_only_fields = fields

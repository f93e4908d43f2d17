"""Quotations, awards and orders: the deal after the match.

A buyer asks the interested SMEs of a request for quotations (a :class:`QuotationRequest`
with a deadline); each SME quotes on its match (a :class:`Quotation`, every submission
and revision kept as a :class:`QuotationRevision`); after the deadline the buyer compares
and awards one or several quotations, each becoming an :class:`Order`; the buyer records
:class:`Delivery` rows and the SME confirms each :class:`Payment`. Deliveries feed the
supplier's track record; payments the buyer's payment record (docs/procurement.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from matching.models import Match, ProcurementRequest
from matching.procurement.choices import (
    AttachmentType,
    OrderStatus,
    PaymentTermsFlag,
    QuotationRequestStatus,
    QuotationStatus,
)
from remag.accounts.models import Organization
from remag.db import BaseModel
from suppliers.choices import QuantityUnit
from suppliers.models import Supplier

PRICE = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 3}


class QuotationRequest(BaseModel):
    """The buyer's call for quotations on a request, sent to its interested SMEs.

    Quotations are sealed: the buyer reads them once ``deadline`` has passed, or, once
    every invited SME has answered, by opening them (``opened_at``). From then on they
    are frozen.
    """

    request = models.OneToOneField(
        ProcurementRequest, on_delete=models.CASCADE, related_name="quotation_request"
    )
    deadline = models.DateTimeField()
    message = models.TextField(blank=True)
    invited = models.ManyToManyField(Match, related_name="quotation_requests")
    status = models.CharField(
        max_length=10, choices=QuotationRequestStatus.choices, default=QuotationRequestStatus.OPEN
    )
    opened_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the buyer opened the quotations before the deadline (everyone had "
        "answered).",
    )
    awarded_at = models.DateTimeField(null=True, blank=True)
    award_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=QuotationRequestStatus.values), name="rfq_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"quotations for {self.request_id} by {self.deadline:%Y-%m-%d %H:%M}"


class QuotationTerms(models.Model):
    """What a quotation offers (shared by the quotation and each of its revisions)."""

    unit_price = models.DecimalField(**PRICE, help_text="INR per `unit`, before taxes.")
    quantity = models.DecimalField(**QUANTITY, help_text="Offered; may be less than asked.")
    unit = models.CharField(max_length=10, choices=QuantityUnit.choices)
    lead_time_days = models.PositiveIntegerField()
    valid_until = models.DateField()
    payment_terms_days = models.PositiveIntegerField()
    delivery_terms = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


TERMS_FIELDS = (
    "unit_price",
    "quantity",
    "unit",
    "lead_time_days",
    "valid_until",
    "payment_terms_days",
    "delivery_terms",
    "notes",
)


class Quotation(BaseModel, QuotationTerms):
    """One SME's quotation on its match: the current terms (``revision`` counts the
    submissions; each one is kept as a :class:`QuotationRevision`)."""

    quotation_request = models.ForeignKey(
        QuotationRequest, on_delete=models.CASCADE, related_name="quotations"
    )
    match = models.OneToOneField(Match, on_delete=models.CASCADE, related_name="quotation")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="quotations")
    status = models.CharField(
        max_length=12, choices=QuotationStatus.choices, default=QuotationStatus.SUBMITTED
    )
    revision = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-submitted_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="quotation_price_positive"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quotation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=QuotationStatus.values), name="quotation_status_valid"
            ),
        ]
        indexes = [models.Index(fields=("quotation_request", "status"), name="quotation_rfq")]

    def __str__(self) -> str:
        return f"quotation {self.id} r{self.revision} ({self.status})"


class QuotationRevision(QuotationTerms):
    """One submission of a quotation, as it was: the history of its revisions."""

    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_api_key = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ("quotation", "number")
        constraints = [
            models.UniqueConstraint(fields=("quotation", "number"), name="quotationrevision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.quotation_id} r{self.number}"


def attachment_path(instance: "QuotationAttachment", filename: str) -> str:
    return f"quotations/{instance.quotation_id}/{instance.id}{_EXTENSIONS[instance.content_type]}"


_EXTENSIONS = {AttachmentType.PDF: ".pdf", AttachmentType.PNG: ".png", AttachmentType.JPEG: ".jpg"}


class QuotationAttachment(BaseModel):
    """A PDF or image attached to a quotation, kept through Django's storage API (the
    filesystem, or S3-compatible object storage: docs/operations.md). Sealed with it."""

    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40, choices=AttachmentType.choices)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.filename


class Order(BaseModel):
    """An awarded quotation: the agreed price, quantity, delivery date and payment terms."""

    quotation = models.OneToOneField(Quotation, on_delete=models.PROTECT, related_name="order")
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="orders")
    request = models.ForeignKey(ProcurementRequest, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    unit_price = models.DecimalField(**PRICE)
    quantity = models.DecimalField(**QUANTITY)
    unit = models.CharField(max_length=10, choices=QuantityUnit.choices)
    delivery_date = models.DateField()
    payment_terms_days = models.PositiveIntegerField()
    delivery_terms = models.CharField(max_length=200, blank=True)
    supplier_micro_small = models.BooleanField(
        help_text="Micro or small by a current classification when the order was placed."
    )
    payment_terms_flag = models.CharField(
        max_length=20, choices=PaymentTermsFlag.choices, blank=True, default=PaymentTermsFlag.NONE
    )
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    delivered_on = models.DateField(
        null=True, blank=True, help_text="When the ordered quantity had all been accepted."
    )
    paid_on = models.DateField(
        null=True, blank=True, help_text="When the payments reached the accepted value."
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=("buyer", "status"), name="order_buyer_status"),
            models.Index(fields=("supplier", "status"), name="order_supplier_status"),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"


class Delivery(BaseModel):
    """A delivery on an order as the buyer recorded it; ``on_time`` is by the order's
    delivery date."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    delivered_on = models.DateField()
    quantity_delivered = models.DecimalField(**QUANTITY)
    quantity_accepted = models.DecimalField(**QUANTITY)
    quantity_rejected = models.DecimalField(**QUANTITY)
    quality_note = models.CharField(max_length=1000, blank=True)
    on_time = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("delivered_on", "created_at")
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_delivered__gt=0), name="delivery_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity_accepted__gte=0) & Q(quantity_rejected__gte=0),
                name="delivery_parts_non_negative",
            ),
        ]
        indexes = [models.Index(fields=("order", "delivered_on"), name="delivery_order")]

    def __str__(self) -> str:
        return f"{self.order_id} delivered {self.delivered_on}"


class Payment(BaseModel):
    """A payment the SME confirms it received on an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    received_on = models.DateField()
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("received_on", "created_at")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} paid {self.amount} on {self.received_on}"

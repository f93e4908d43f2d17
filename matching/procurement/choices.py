from django.db import models

# The MSMED Act, 2006, section 15: a buyer pays a micro or small supplier by the agreed
# day, and the agreed period may not exceed 45 days from acceptance of the goods or
# services (docs/procurement.md, "The 45-day rule").
MSMED_MAX_PAYMENT_DAYS = 45


class QuotationRequestStatus(models.TextChoices):
    OPEN = "open", "Open: SMEs may quote until the deadline"
    AWARDED = "awarded", "Awarded: orders were placed"


class QuotationStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn by the SME"
    AWARDED = "awarded", "Awarded"
    NOT_SELECTED = "not_selected", "Not selected"


class OrderStatus(models.TextChoices):
    OPEN = "open", "Open: deliveries expected"
    DELIVERED = "delivered", "Delivered: the ordered quantity was accepted"
    CLOSED = "closed", "Closed: delivered and paid in full"


class PaymentTermsFlag(models.TextChoices):
    NONE = "", "Within the rules"
    SIZE_UNVERIFIED = (
        "size_unverified",
        "Over 45 days to a supplier declared micro or small in a past financial year",
    )


class AttachmentType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    PNG = "image/png", "PNG image"
    JPEG = "image/jpeg", "JPEG image"

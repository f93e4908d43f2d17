from django.db import models


class EventType(models.TextChoices):
    SUPPLIER_CREATED = "supplier.created", "A supplier was registered"
    SUPPLIER_VERIFIED = "supplier.verified", "A supplier was verified"
    SUPPLIER_SUSPENDED = "supplier.suspended", "A supplier was suspended"
    SUPPLIER_CLAIMED = "supplier.claimed", "An SME claimed a profile a portal onboarded"
    REQUEST_PUBLISHED = "request.published", "A procurement request was published"
    REQUEST_CLOSED = "request.closed", "A procurement request was closed"
    MATCH_RUN_SUCCEEDED = "match_run.succeeded", "A match run succeeded"
    MATCH_RUN_FAILED = "match_run.failed", "A match run failed"
    MATCH_SHORTLISTED = "match.shortlisted", "The buyer shortlisted a match"
    MATCH_INVITED = "match.invited", "The buyer invited a matched SME"
    MATCH_RESPONDED = "match.responded", "The SME answered interested or declined"
    MATCH_AWARDED = "match.awarded", "The buyer awarded a match"
    QUOTATION_REQUESTED = "quotation.requested", "The buyer asked interested SMEs to quote"
    QUOTATION_SUBMITTED = "quotation.submitted", "An SME submitted a quotation"
    QUOTATION_REVISED = "quotation.revised", "An SME revised its quotation"
    QUOTATION_WITHDRAWN = "quotation.withdrawn", "An SME withdrew its quotation"
    QUOTATION_NOT_SELECTED = "quotation.not_selected", "The buyer awarded other quotations"
    ORDER_CREATED = "order.created", "An award became an order"
    ORDER_DELIVERY_RECORDED = "order.delivery_recorded", "The buyer recorded a delivery"
    ORDER_PAYMENT_RECORDED = "order.payment_recorded", "The SME confirmed a payment received"
    CALL_OPENED = "collaboration_call.opened", "A call for collaboration was opened"
    CALL_CLOSED = "collaboration_call.closed", "A call for collaboration was closed"
    CALL_CANCELLED = "collaboration_call.cancelled", "A call for collaboration was cancelled"
    CALL_AWARDED = "collaboration_call.awarded", "The poster selected a partner for a call"
    CALL_MATCHED = "collaboration_call.matched", "A call's matching run succeeded"
    CALL_MATCH_FAILED = "collaboration_call.match_failed", "A call's matching run failed"
    CALL_MATCHED_YOU = (
        "collaboration_call.matched_you",
        "A call for collaboration newly matched one of your suppliers",
    )
    CALL_NDA_ACKNOWLEDGED = (
        "collaboration_call.nda_acknowledged",
        "An organisation acknowledged a call's NDA",
    )
    CALL_NDA_CHANGED = (
        "collaboration_call.nda_changed",
        "A call's NDA text changed: its details wait for a new acknowledgement",
    )
    INTEREST_SUBMITTED = "collaboration_interest.submitted", "An expression of interest was sent"
    INTEREST_WITHDRAWN = "collaboration_interest.withdrawn", "The respondent withdrew its interest"
    INTEREST_SHORTLISTED = "collaboration_interest.shortlisted", "The poster shortlisted it"
    INTEREST_SELECTED = "collaboration_interest.selected", "The poster selected it"
    INTEREST_DECLINED = "collaboration_interest.declined", "The poster declined it"
    INTEREST_CONTACT_SHARED = (
        "collaboration_interest.contact_shared",
        "Both sides consented: contact details shared both ways",
    )
    MAGNET_OFFER_PUBLISHED = "magnet_offer.published", "A magnet maker published an offer"
    MAGNET_OFFER_WITHDRAWN = "magnet_offer.withdrawn", "A magnet maker withdrew an offer"
    MAGNET_OFFER_EXPIRED = "magnet_offer.expired", "A magnet offer's validity window ended"
    MAGNET_REQUIREMENT_OPENED = "magnet_requirement.opened", "A magnet requirement was opened"
    MAGNET_REQUIREMENT_CLOSED = (
        "magnet_requirement.closed",
        "A magnet requirement was closed or cancelled",
    )
    MAGNET_RUN_SUCCEEDED = "magnet_run.succeeded", "A magnet match run succeeded"
    MAGNET_RUN_FAILED = "magnet_run.failed", "A magnet match run failed"
    MAGNET_MATCH_INTERESTED = (
        "magnet_match.interested",
        "The buyer is interested in a magnet offer (its identity shared with the maker)",
    )
    MAGNET_MATCH_DISMISSED = "magnet_match.dismissed", "The buyer dismissed a magnet offer"
    MAGNET_MATCH_ANSWERED = "magnet_match.answered", "The maker accepted or declined a buyer"
    MAGNET_MATCH_OUTCOME = "magnet_match.outcome", "The buyer recorded how a supply went"
    MAGNET_MATCH_OFFER_ENDED = (
        "magnet_match.offer_ended",
        "The offer of an interested or accepted magnet match was withdrawn or expired",
    )
    MAGNET_POOL_FORMED = "magnet_pool.formed", "Requirements were pooled into one"
    MAGNET_POOL_JOINED = "magnet_pool.joined", "Requirements joined an open pool"
    MAGNET_POOL_ANSWERED = "magnet_pool.answered", "A maker answered a pooled requirement"
    MAGNET_POOL_DISSOLVED = "magnet_pool.dissolved", "A pool fell below two members"
    IMPORT_FINISHED = "import.finished", "A supplier import finished"
    WEBHOOK_DISABLED = "webhook.disabled", "A webhook endpoint was disabled after failures"
    WEBHOOK_PING = "webhook.ping", "A test ping asked for through the API"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered (a 2xx answer)"
    FAILED = "failed", "Failed every attempt"

from django.db import models

from suppliers.choices import JobStatus


class RequestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    AWARDED = "awarded", "Awarded"
    CANCELLED = "cancelled", "Cancelled"


# Runs share the job statuses of imports (queued, running, succeeded, failed).
RunStatus = JobStatus


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Asked for through the API"
    PUBLISH = "publish", "The request was published"
    UPDATE = "update", "An open request was changed"
    OPERATOR = "operator", "Started by an operator command"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SHORTLISTED = "shortlisted", "Shortlisted"
    INVITED = "invited", "Invited"
    INTERESTED = "interested", "Interested"
    DECLINED = "declined", "Declined"
    AWARDED = "awarded", "Awarded"
    NOT_SELECTED = "not_selected", "Not selected"


class Outcome(models.TextChoices):
    """How an awarded engagement went, as the buyer records it (feeds track record)."""

    GOOD = "good", "Delivered as agreed"
    POOR = "poor", "Not delivered as agreed"


class Party(models.TextChoices):
    BUYER = "buyer", "The buyer (the request's organisation)"
    SUPPLIER = "supplier", "The supplier (the matched SME)"


# Who may move a match from one status to another. Nothing else is accepted.
TRANSITIONS: dict[tuple[str, str], str] = {
    (MatchStatus.PROPOSED, MatchStatus.SHORTLISTED): Party.BUYER,
    (MatchStatus.PROPOSED, MatchStatus.INVITED): Party.BUYER,
    (MatchStatus.SHORTLISTED, MatchStatus.INVITED): Party.BUYER,
    (MatchStatus.INVITED, MatchStatus.INTERESTED): Party.SUPPLIER,
    (MatchStatus.INVITED, MatchStatus.DECLINED): Party.SUPPLIER,
    (MatchStatus.INTERESTED, MatchStatus.AWARDED): Party.BUYER,
    (MatchStatus.PROPOSED, MatchStatus.NOT_SELECTED): Party.BUYER,
    (MatchStatus.SHORTLISTED, MatchStatus.NOT_SELECTED): Party.BUYER,
    (MatchStatus.INVITED, MatchStatus.NOT_SELECTED): Party.BUYER,
    (MatchStatus.INTERESTED, MatchStatus.NOT_SELECTED): Party.BUYER,
}

from django.db import models

from suppliers.choices import JobStatus

# Facilities are the taxonomy's capabilities whose code starts with this (lab and pilot
# equipment of the `rnd` layer: a VSM, a pilot strip caster, ...; docs/collaboration.md).
FACILITY_PREFIX = "facility-"


class CallKind(models.TextChoices):
    TECHNOLOGY_TRANSFER = "technology_transfer", "Technology transfer"
    CO_DEVELOPMENT = "co_development", "Co-development"
    PROTOTYPING = "prototyping", "Prototyping"
    TESTING_PARTNERSHIP = "testing_partnership", "Testing partnership"
    JOINT_RESEARCH_PROPOSAL = "joint_research_proposal", "Joint research proposal"


class CallStatus(models.TextChoices):
    DRAFT = "draft", "Draft: only the poster sees it"
    OPEN = "open", "Open: matched, taking expressions of interest"
    CLOSED = "closed", "Closed: no new expressions of interest"
    AWARDED = "awarded", "Awarded: the poster selected a partner"
    CANCELLED = "cancelled", "Cancelled"


# Runs share the job statuses (queued, running, succeeded, failed).
CallRunStatus = JobStatus


class InterestStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SHORTLISTED = "shortlisted", "Shortlisted by the poster (contact shared both ways)"
    SELECTED = "selected", "Selected by the poster"
    DECLINED = "declined", "Declined by the poster"
    WITHDRAWN = "withdrawn", "Withdrawn by the respondent"


class Party(models.TextChoices):
    POSTER = "poster", "The organisation that posted the call"
    RESPONDENT = "respondent", "The organisation that expressed interest"


# (from, to) -> the party that may make the move.
TRANSITIONS: dict[tuple[str, str], str] = {
    (InterestStatus.SUBMITTED, InterestStatus.SHORTLISTED): Party.POSTER,
    (InterestStatus.SUBMITTED, InterestStatus.SELECTED): Party.POSTER,
    (InterestStatus.SHORTLISTED, InterestStatus.SELECTED): Party.POSTER,
    (InterestStatus.SUBMITTED, InterestStatus.DECLINED): Party.POSTER,
    (InterestStatus.SHORTLISTED, InterestStatus.DECLINED): Party.POSTER,
    (InterestStatus.SUBMITTED, InterestStatus.WITHDRAWN): Party.RESPONDENT,
    (InterestStatus.SHORTLISTED, InterestStatus.WITHDRAWN): Party.RESPONDENT,
}

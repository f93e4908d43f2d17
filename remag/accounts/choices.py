from django.db import models


class OrganizationKind(models.TextChoices):
    SME = "sme", "SME (supplier)"
    MANUFACTURER = "manufacturer", "Manufacturer (buyer)"
    RESEARCH = "research", "R&D institution"
    PORTAL = "portal", "Third-party portal"
    OPERATOR = "operator", "Operator (mission staff)"


class MembershipRole(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member", "Member"


class APIKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


class ClaimMethod(models.TextChoices):
    CODE = "code", "A code sent to the profile's contact email"
    OPERATOR = "operator", "Approved by an operator"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Code sent, awaiting it"
    AWAITING_OPERATOR = "awaiting_operator", "Awaiting an operator's decision"
    CLAIMED = "claimed", "Claimed"
    LOCKED = "locked", "Locked after too many wrong codes"
    REJECTED = "rejected", "Rejected by an operator"
    SUPERSEDED = "superseded", "Replaced by a newer claim, or the profile was claimed"


OPEN_CLAIM_STATUSES = (ClaimStatus.PENDING, ClaimStatus.AWAITING_OPERATOR)

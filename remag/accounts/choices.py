from django.db import models


class OrganizationKind(models.TextChoices):
    SME = "sme", "SME (supplier)"
    MANUFACTURER = "manufacturer", "Manufacturer (buyer)"
    PORTAL = "portal", "Third-party portal"
    OPERATOR = "operator", "Operator (mission staff)"


class MembershipRole(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member", "Member"


class APIKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"

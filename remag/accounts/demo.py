"""Demo organisations and people for `make run`, so the docs can be tried at once.

Users get no password (tokens only: ``make token TOKEN_USER=demo-sme``); rerunning changes
nothing. Never run this on a real deployment.
"""

from django.utils import timezone

from remag.accounts.choices import MembershipRole, OrganizationKind
from remag.accounts.models import Organization, User
from remag.accounts.services import membership_add

DEMO_ACCOUNTS = (
    ("demo-sme", "Demo Magnet Components (SME)", OrganizationKind.SME),
    ("demo-buyer", "Demo Magnet Plant (manufacturer)", OrganizationKind.MANUFACTURER),
    ("demo-portal", "Demo State Industry Portal", OrganizationKind.PORTAL),
    ("demo-operator", "Demo Mission Operators", OrganizationKind.OPERATOR),
)


def demo_accounts_ensure() -> list[str]:
    usernames = []
    for username, organisation_name, kind in DEMO_ACCOUNTS:
        organization, _ = Organization.objects.get_or_create(name=organisation_name, kind=kind)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.remag.invalid",
                "email_verified_at": timezone.now(),
            },
        )
        if created:
            user.set_unusable_password()
            user.save()
        membership_add(user=user, organization=organization, role=MembershipRole.ADMIN)
        usernames.append(username)
    return usernames

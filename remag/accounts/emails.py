"""The messages onboarding sends, through Django's email framework (``EMAIL_URL``).

Each function sends one message now, after the caller's writes are committed. A message
that cannot be sent is logged (never with its link or code) and the request still
succeeds: the person asks for it again.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger("remag.accounts.emails")


def _send(*, to: str, subject: str, body: str, purpose: str) -> bool:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    except Exception:
        logger.warning("could not send the %s email", purpose, exc_info=True)
        return False
    return True


def verification_email_send(*, to: str, link: str) -> bool:
    hours = int(settings.REMAG_EMAIL_VERIFICATION_MAX_AGE.total_seconds() // 3600)
    body = (
        "Welcome to remag.\n\n"
        "Confirm your email address by opening this link:\n\n"
        f"{link}\n\n"
        f"The link works once and for {hours} hours. Until you confirm, you can read but "
        "not change anything.\n\n"
        "If you did not sign up for remag, ignore this message.\n"
    )
    return _send(
        to=to, subject="remag: confirm your email address", body=body, purpose="verification"
    )


def already_registered_email_send(*, to: str) -> bool:
    body = (
        "Someone (perhaps you) tried to sign up for remag with this email address, which "
        "already has an account.\n\n"
        "Log in with it (POST /api/v1/auth/login/), or reset your password "
        "(POST /api/v1/auth/password-reset/) if you have forgotten it.\n\n"
        "If it was not you, you need do nothing.\n"
    )
    return _send(
        to=to, subject="remag: you already have an account", body=body, purpose="already-registered"
    )

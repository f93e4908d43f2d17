"""The messages onboarding sends, through Django's email framework (``EMAIL_URL``).

Each function sends one message now, after the caller's writes are committed. A message
that cannot be sent is logged (never with its link or code) and the request still
succeeds: the person asks for it again.
"""

import logging
from datetime import datetime

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


def password_reset_email_send(*, to: str, token: str, confirm_link: str) -> bool:
    minutes = int(settings.REMAG_PASSWORD_RESET_MAX_AGE.total_seconds() // 60)
    body = (
        "Someone (perhaps you) asked to reset the remag password of this address.\n\n"
        f"Your reset token:\n\n{token}\n\n"
        f"Send it with your new password to {confirm_link}\n"
        '(POST {"token": "...", "new_password": "..."}).\n\n'
        f"It works once and for {minutes} minutes. If you did not ask, ignore this "
        "message: your password stays as it is.\n"
    )
    return _send(to=to, subject="remag: reset your password", body=body, purpose="password-reset")


def password_changed_email_send(*, to: str) -> bool:
    body = (
        "The password of your remag account has just been changed, and your other "
        "personal tokens were revoked.\n\n"
        "If it was not you, reset your password now (POST /api/v1/auth/password-reset/) "
        "and tell the remag operators.\n"
    )
    return _send(
        to=to, subject="remag: your password was changed", body=body, purpose="password-changed"
    )


def invitation_email_send(
    *,
    to: str,
    organization_name: str,
    role: str,
    token: str,
    accept_link: str,
    expires_at: datetime,
) -> bool:
    body = (
        f"You are invited to join {organization_name} on remag as {role}.\n\n"
        f"Your invitation token:\n\n{token}\n\n"
        f'Accept it at {accept_link} (POST {{"token": "..."}}): logged in with the '
        'account you have, or, for a new account, with a "password" too.\n\n'
        f"The invitation works once, until {expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    return _send(to=to, subject=f"remag: join {organization_name}", body=body, purpose="invitation")


def claim_code_email_send(*, to: str, profile_name: str, claimant_name: str, code: str) -> bool:
    minutes = int(settings.REMAG_CLAIM_CODE_MAX_AGE.total_seconds() // 60)
    body = (
        f"{claimant_name} asks to take over the remag profile of {profile_name}, which a "
        "portal registered with this contact address.\n\n"
        f"If that is your enterprise, give them this code: {code}\n\n"
        f"It works once, for {minutes} minutes. If the claim is not yours to make, do "
        "not share the code; nothing changes without it.\n"
    )
    return _send(
        to=to, subject="remag: a code to claim your supplier profile", body=body, purpose="claim"
    )

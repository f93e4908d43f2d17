"""Email settings come from EMAIL_URL (django-environ): the console by default, SMTP in
production, every variable in README and .env.example."""

import pytest

from tests.remag.test_settings import ROOT, SHOW, run_python

SHOW_EMAIL = SHOW + (
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL.split()[0])"
)


def test_the_default_prints_emails_to_the_console() -> None:
    result = run_python(SHOW_EMAIL, DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"


def test_production_sends_through_smtp_with_tls() -> None:
    result = run_python(
        SHOW_EMAIL,
        DEBUG="1",
        EMAIL_URL="smtp+tls://mailer:s3cret@smtp.example.in:587",
        DEFAULT_FROM_EMAIL="remag <no-reply@remag.example.in>",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.in",
        "587",
        "mailer",
        "True",
        "False",
        "remag",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "EMAIL_URL",
        "DEFAULT_FROM_EMAIL",
        "PUBLIC_BASE_URL",
        "EMAIL_VERIFICATION_MAX_AGE_HOURS",
        "PASSWORD_RESET_MAX_AGE_MINUTES",
        "INVITATION_MAX_AGE_DAYS",
        "CLAIM_CODE_MAX_AGE_MINUTES",
        "CLAIM_CODE_MAX_ATTEMPTS",
        "LOGIN_TOKEN_TTL_DAYS",
        "THROTTLE_RATE_SIGNUP",
        "THROTTLE_RATE_LOGIN",
        "THROTTLE_RATE_VERIFICATION",
        "THROTTLE_RATE_PASSWORD_RESET",
        "THROTTLE_RATE_CLAIM",
        "EMAIL_TIMEOUT_SECONDS",
    ],
)
def test_every_onboarding_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text()
    assert f"{name}=" in (ROOT / ".env.example").read_text()

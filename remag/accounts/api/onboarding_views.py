"""Onboarding over the API: sign-up, email verification, log-in.

Each view validates its body, calls one service and answers; the answers never depend
on whether an address has an account. Attempts are throttled per client address and
per email address (``AttemptRateThrottle``), beside every caller's own budget.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts import services
from remag.accounts.api.onboarding_serializers import (
    AcceptedSerializer,
    DetailSerializer,
    EmailSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    SignupSerializer,
    VerifiedSerializer,
    VerifyEmailSerializer,
)
from remag.accounts.api.serializers import UserTokenCreatedSerializer
from remag.accounts.api.views import IsPerson
from remag.accounts.models import UserToken
from remag.api.throttling import AttemptRateThrottle, CallerRateThrottle
from remag.api.viewsets import RemagAPIView

SIGNUP_ACCEPTED = (
    "Check your email: we have sent a link to confirm the address. Until you open it "
    "you can log in and read, but not change anything."
)
RESEND_ACCEPTED = "If this address has an unverified account, a new link is on its way."
RESET_ACCEPTED = "If this address has an account, a reset token is on its way."


def public_link(route: str, query: str = "") -> str:
    """An absolute link for an email, from PUBLIC_BASE_URL (never the request's Host)."""
    return f"{settings.REMAG_PUBLIC_BASE_URL}{reverse(route)}{query}"


def verify_link() -> str:
    return public_link("auth-verify-email", "?token={token}")


def reset_confirm_link() -> str:
    return public_link("auth-password-reset-confirm")


class _AttemptView(RemagAPIView):
    """Anyone may call; attempts count per address and per the email they name."""

    permission_classes = [AllowAny]
    throttle_classes = [CallerRateThrottle, AttemptRateThrottle]
    allow_unverified = True
    throttle_scope = ""

    def throttle_subject(self, request: Request) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        return email if isinstance(email, str) else None


class SignupView(_AttemptView):
    throttle_scope = "signup"

    @extend_schema(
        request=SignupSerializer,
        responses={202: AcceptedSerializer},
        tags=["onboarding"],
        summary="Sign up: a person and their SME or manufacturer organisation",
    )
    def post(self, request: Request) -> Response:
        """Creates the person (unverified) and the organisation, with the person as its
        admin, and emails a verification link. The answer is the same when the address
        already has an account (its owner is told by email instead)."""
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_signup(**serializer.validated_data, verify_link=verify_link())
        return Response({"detail": SIGNUP_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class VerifyEmailView(_AttemptView):
    throttle_scope = "verification"

    def throttle_subject(self, request: Request) -> str | None:
        return None  # the token names the person; count per address only

    @extend_schema(
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.QUERY, required=True),
        ],
        request=None,
        responses=VerifiedSerializer,
        tags=["onboarding"],
        summary="Verify an email address (the emailed link)",
    )
    def get(self, request: Request) -> Response:
        serializer = VerifyEmailSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return self._verify(serializer.validated_data["token"])

    @extend_schema(
        request=VerifyEmailSerializer,
        responses=VerifiedSerializer,
        tags=["onboarding"],
        summary="Verify an email address (the token of the emailed link)",
    )
    def post(self, request: Request) -> Response:
        serializer = VerifyEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._verify(serializer.validated_data["token"])

    def _verify(self, token: str) -> Response:
        user = services.email_verify(token=token)
        return Response({"detail": "Your email address is verified.", "email": user.email})


class VerificationResendView(_AttemptView):
    throttle_scope = "verification"

    @extend_schema(
        request=EmailSerializer,
        responses={202: AcceptedSerializer},
        tags=["onboarding"],
        summary="Send the verification link again",
    )
    def post(self, request: Request) -> Response:
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_verification_resend(
            email=serializer.validated_data["email"], verify_link=verify_link()
        )
        return Response({"detail": RESEND_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class LoginView(_AttemptView):
    throttle_scope = "login"

    @extend_schema(
        request=LoginSerializer,
        responses={201: UserTokenCreatedSerializer},
        tags=["onboarding"],
        summary="Log in: a new personal token for an email address and password",
    )
    def post(self, request: Request) -> Response:
        """Returns a personal token (shown once; it expires after LOGIN_TOKEN_TTL_DAYS).
        A wrong password and an unknown address get the same 400."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.user_login(**serializer.validated_data)
        token.token = raw
        data: Any = UserTokenCreatedSerializer(token).data
        return Response(data, status=status.HTTP_201_CREATED)


class PasswordResetView(_AttemptView):
    throttle_scope = "password_reset"

    @extend_schema(
        request=EmailSerializer,
        responses={202: AcceptedSerializer},
        tags=["onboarding"],
        summary="Ask for a password reset token by email",
    )
    def post(self, request: Request) -> Response:
        """Emails a single-use token (valid PASSWORD_RESET_MAX_AGE_MINUTES) when the
        address has an account; the answer is the same either way."""
        serializer = EmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(
            email=serializer.validated_data["email"], confirm_link=reset_confirm_link()
        )
        return Response({"detail": RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(_AttemptView):
    throttle_scope = "password_reset"

    def throttle_subject(self, request: Request) -> str | None:
        return None  # the token names the person; count per address only

    @extend_schema(
        request=PasswordResetConfirmSerializer,
        responses=DetailSerializer,
        tags=["onboarding"],
        summary="Set a new password with the emailed token",
    )
    def post(self, request: Request) -> Response:
        """The token works once; every personal token of the person is revoked (log in
        again)."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response({"detail": "Your password is changed. Log in with it."})


class PasswordChangeView(RemagAPIView):
    """A person changes their own password (knowing the current one)."""

    permission_classes = [IsAuthenticated, IsPerson]
    throttle_classes = [CallerRateThrottle, AttemptRateThrottle]
    throttle_scope = "login"  # guessing the current password is guessing a log-in
    allow_unverified = True

    def throttle_subject(self, request: Request) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None

    @extend_schema(
        request=PasswordChangeSerializer,
        responses=DetailSerializer,
        tags=["onboarding"],
        summary="Change my password",
    )
    def post(self, request: Request) -> Response:
        """Every other personal token of the person is revoked; the one making this call
        keeps working."""
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, UserToken) else None
        services.user_password_change(
            user=request.user,
            **serializer.validated_data,
            keep_token_id=token.pk if token is not None else None,
        )
        if token is None:  # a session: keep it signed in
            update_session_auth_hash(request._request, request.user)
        return Response({"detail": "Your password is changed."})

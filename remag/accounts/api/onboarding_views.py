"""Onboarding over the API: sign-up, email verification, log-in.

Each view validates its body, calls one service and answers; the answers never depend
on whether an address has an account. Attempts are throttled per client address and
per email address (``AttemptRateThrottle``), beside every caller's own budget.
"""

from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts import services
from remag.accounts.api.onboarding_serializers import (
    AcceptedSerializer,
    EmailSerializer,
    LoginSerializer,
    SignupSerializer,
    VerifiedSerializer,
    VerifyEmailSerializer,
)
from remag.accounts.api.serializers import UserTokenCreatedSerializer
from remag.api.throttling import AttemptRateThrottle, CallerRateThrottle
from remag.api.viewsets import RemagAPIView

SIGNUP_ACCEPTED = (
    "Check your email: we have sent a link to confirm the address. Until you open it "
    "you can log in and read, but not change anything."
)
RESEND_ACCEPTED = "If this address has an unverified account, a new link is on its way."


def public_link(route: str, query: str = "") -> str:
    """An absolute link for an email, from PUBLIC_BASE_URL (never the request's Host)."""
    return f"{settings.REMAG_PUBLIC_BASE_URL}{reverse(route)}{query}"


def verify_link() -> str:
    return public_link("auth-verify-email", "?token={token}")


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

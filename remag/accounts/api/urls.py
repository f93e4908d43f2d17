from django.urls import include, path
from rest_framework.routers import SimpleRouter

from remag.accounts.api import member_views, onboarding_views, views

router = SimpleRouter(trailing_slash=True)
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("me/tokens", views.UserTokenViewSet, basename="user-token")

api_key_router = SimpleRouter(trailing_slash=True)
api_key_router.register("api-keys", views.OrganizationAPIKeyViewSet, basename="api-key")
api_key_router.register("members", member_views.MembershipViewSet, basename="member")
api_key_router.register("invitations", member_views.InvitationViewSet, basename="invitation")
api_key_router.register("delegations", member_views.DelegationViewSet, basename="delegation")

urlpatterns = [
    path(
        "invitations/accept/",
        member_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "auth/password-reset/",
        onboarding_views.PasswordResetView.as_view(),
        name="auth-password-reset",
    ),
    path(
        "auth/password-reset/confirm/",
        onboarding_views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me/password/", onboarding_views.PasswordChangeView.as_view(), name="me-password"),
    path("auth/signup/", onboarding_views.SignupView.as_view(), name="auth-signup"),
    path("auth/login/", onboarding_views.LoginView.as_view(), name="auth-login"),
    path(
        "auth/verify-email/", onboarding_views.VerifyEmailView.as_view(), name="auth-verify-email"
    ),
    path(
        "auth/verify-email/resend/",
        onboarding_views.VerificationResendView.as_view(),
        name="auth-verify-email-resend",
    ),
    path("me/", views.MeView.as_view(), name="me"),
    path("organizations/<uuid:organization_id>/", include(api_key_router.urls)),
    *router.urls,
]

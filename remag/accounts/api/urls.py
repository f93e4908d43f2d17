from django.urls import include, path
from rest_framework.routers import SimpleRouter

from remag.accounts.api import views

router = SimpleRouter(trailing_slash=True)
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("me/tokens", views.UserTokenViewSet, basename="user-token")

api_key_router = SimpleRouter(trailing_slash=True)
api_key_router.register("api-keys", views.OrganizationAPIKeyViewSet, basename="api-key")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("organizations/<uuid:organization_id>/", include(api_key_router.urls)),
    *router.urls,
]

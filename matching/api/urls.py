from django.urls import path
from rest_framework.routers import SimpleRouter

from matching.api import views

router = SimpleRouter(trailing_slash=True)
router.register("requests", views.ProcurementRequestViewSet, basename="request")
router.register("match-runs", views.MatchRunViewSet, basename="match-run")
router.register("matches", views.MatchViewSet, basename="match")

urlpatterns = [
    *router.urls,
    path(
        "suppliers/<uuid:id>/opportunities/",
        views.OpportunityViewSet.as_view({"get": "list"}),
        name="supplier-opportunities",
    ),
    path(
        "suppliers/<uuid:id>/gaps/",
        views.GapViewSet.as_view({"get": "list"}),
        name="supplier-gaps",
    ),
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from suppliers.api import claim_views, import_views, views

router = SimpleRouter(trailing_slash=True)
router.register("taxonomy/capabilities", views.CapabilityViewSet, basename="capability")
router.register("taxonomy/certifications", views.CertificationViewSet, basename="certification")
router.register("taxonomy/grades", views.MaterialGradeViewSet, basename="grade")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("imports", import_views.ImportJobViewSet, basename="import")
router.register("claims", claim_views.ClaimViewSet, basename="claim")

urlpatterns = [
    path("taxonomy/layers/", views.LayerListView.as_view(), name="layer-list"),
    *router.urls,
]

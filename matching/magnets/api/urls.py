from rest_framework.routers import SimpleRouter

from matching.magnets.api import views

router = SimpleRouter(trailing_slash=True)
router.register("magnets/offers", views.MagnetOfferViewSet, basename="magnet-offer")
router.register(
    "magnets/requirements", views.MagnetRequirementViewSet, basename="magnet-requirement"
)
router.register("magnets/runs", views.MagnetRunViewSet, basename="magnet-run")
router.register("magnets/matches", views.MagnetMatchViewSet, basename="magnet-match")
router.register("magnets/leads", views.MagnetLeadViewSet, basename="magnet-lead")
router.register("magnets/pools", views.MagnetPoolViewSet, basename="magnet-pool")
router.register("magnets/demand", views.MagnetDemandViewSet, basename="magnet-demand")

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from remag.webhooks.api import views

router = SimpleRouter(trailing_slash=True)
router.register("events", views.EventViewSet, basename="event")
router.register("webhooks/endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", views.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls

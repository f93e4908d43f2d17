from django.urls import path
from rest_framework.routers import SimpleRouter

from matching.procurement.api import views

router = SimpleRouter(trailing_slash=True)
router.register("quotation-requests", views.QuotationRequestViewSet, basename="quotation-request")
router.register("quotations", views.QuotationViewSet, basename="quotation")
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    *router.urls,
    path(
        "quotations/<uuid:id>/attachments/",
        views.QuotationAttachmentViewSet.as_view({"get": "list", "post": "create"}),
        name="quotation-attachments",
    ),
    path(
        "quotations/<uuid:id>/attachments/<uuid:attachment_id>/",
        views.QuotationAttachmentViewSet.as_view({"get": "content"}),
        name="quotation-attachment-content",
    ),
]

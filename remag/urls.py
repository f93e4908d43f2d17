from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from remag import health
from remag.api import views as api_views
from remag.metrics import metrics_view

api_v1 = [
    path("", include("remag.accounts.api.urls")),
    path("", include("suppliers.api.urls")),
    path("", include("matching.api.urls")),
    path("", include("matching.procurement.api.urls")),
    path("", include("matching.collaboration.api.urls")),
    path("", include("matching.magnets.api.urls")),
    path("", include("remag.webhooks.api.urls")),
    path("", include("stats.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("stats.dashboard.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/problems/", api_views.problem_type_list, name="problem-type-list"),
    path("api/problems/<slug:slug>", api_views.problem_type_detail, name="problem-type-detail"),
    path("api-auth/", include("rest_framework.urls")),
]

handler400 = "remag.api.exceptions.handler400"
handler403 = "remag.api.exceptions.handler403"
handler404 = "remag.api.exceptions.handler404"
handler500 = "remag.api.exceptions.handler500"

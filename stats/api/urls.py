from django.urls import path

from stats.api import views

urlpatterns = [
    path("stats/coverage/", views.CoverageView.as_view(), name="stats-coverage"),
    path("stats/coverage/gaps/", views.CoverageGapsView.as_view(), name="stats-coverage-gaps"),
    path("stats/unmet-demand/", views.UnmetDemandView.as_view(), name="stats-unmet-demand"),
    path("stats/policy-shares/", views.PolicySharesView.as_view(), name="stats-policy-shares"),
    path("stats/funnel/", views.FunnelView.as_view(), name="stats-funnel"),
]

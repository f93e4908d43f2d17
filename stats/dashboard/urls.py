from django.urls import path

from stats.dashboard import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:slug>.csv", views.figure_csv, name="dashboard-csv"),
]

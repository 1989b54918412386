from django.contrib import admin
from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard), name="dashboard"),
    path(
        "dashboard/<slug:panel_key>.csv",
        admin.site.admin_view(views.export_csv),
        name="export_csv",
    ),
    path(
        "counter/person/",
        admin.site.admin_view(views.counter_person),
        name="counter_person",
    ),
    path(
        "counter/authority/",
        admin.site.admin_view(views.counter_authority),
        name="counter_authority",
    ),
]

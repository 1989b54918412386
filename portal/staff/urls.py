from django.contrib import admin
from django.urls import path

from . import counter, views

app_name = "staff"

urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard), name="dashboard"),
    path(
        "dashboard/<slug:panel_key>.csv",
        admin.site.admin_view(views.export_csv),
        name="export_csv",
    ),
    path("counter/", admin.site.admin_view(counter.counter), name="counter"),
    path(
        "counter/person/",
        admin.site.admin_view(views.counter_person),
        name="counter_person",
    ),
    path(
        "counter/person/<id:pk>/",
        admin.site.admin_view(counter.counter_person_detail),
        name="counter_person_detail",
    ),
    path(
        "counter/person/<id:pk>/suspend/",
        admin.site.admin_view(counter.counter_suspend),
        name="counter_suspend",
    ),
    path(
        "counter/person/<id:pk>/password-reset/",
        admin.site.admin_view(counter.counter_password_reset),
        name="counter_password_reset",
    ),
    path(
        "counter/person/<id:pk>/enroll/",
        admin.site.admin_view(counter.counter_enroll),
        name="counter_enroll",
    ),
    path(
        "counter/person/<id:pk>/filing/",
        admin.site.admin_view(counter.counter_filing),
        name="counter_filing",
    ),
    path(
        "counter/enrollment/<id:pk>/",
        admin.site.admin_view(counter.counter_enrollment),
        name="counter_enrollment",
    ),
    path(
        "counter/enrollment/<id:pk>/slip.pdf",
        admin.site.admin_view(counter.counter_enrollment_slip),
        name="counter_enrollment_slip",
    ),
    path(
        "counter/filing/<id:pk>/",
        admin.site.admin_view(counter.counter_filing_done),
        name="counter_filing_done",
    ),
    path(
        "counter/filing/<id:pk>/certificate.pdf",
        admin.site.admin_view(counter.counter_filing_pdf),
        name="counter_filing_pdf",
    ),
    path(
        "counter/authority/",
        admin.site.admin_view(views.counter_authority),
        name="counter_authority",
    ),
    path(
        "counter/pay/", admin.site.admin_view(counter.counter_pay), name="counter_pay"
    ),
    path(
        "counter/receipt/<id:pk>/",
        admin.site.admin_view(counter.counter_receipt),
        name="counter_receipt",
    ),
    path(
        "counter/receipt/<id:pk>.pdf",
        admin.site.admin_view(counter.counter_receipt_pdf),
        name="counter_receipt_pdf",
    ),
    path(
        "counter/day/", admin.site.admin_view(counter.counter_day), name="counter_day"
    ),
    path(
        "counter/day-close/",
        admin.site.admin_view(counter.day_close),
        name="day_close",
    ),
]

from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("filings/", views.filing_list, name="filing_list"),
    path("filings/new/", views.filing_new, name="filing_new"),
    path("filings/<id:pk>/", views.filing_detail, name="filing_detail"),
    path("filings/<id:pk>/done/", views.filing_done, name="filing_done"),
    path("filings/<id:pk>/cancel/", views.filing_cancel, name="filing_cancel"),
    path(
        "filings/<id:pk>/certificate.pdf",
        views.filing_certificate,
        name="filing_certificate",
    ),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path(
        "certificates/issue/<id:person_id>/",
        views.certificate_issue,
        name="certificate_issue",
    ),
    path("certificates/<id:pk>/", views.certificate_detail, name="certificate_detail"),
    path(
        "certificates/<id:pk>/certificate.pdf",
        views.certificate_pdf,
        name="certificate_pdf",
    ),
    path("account/", views.account, name="account"),
    path("account/<id:person_id>/", views.account, name="account_person"),
    path("years/", views.years, name="years"),
    path("years/<id:person_id>/", views.years, name="years_person"),
    path("verify/", views.verify, name="verify"),
]

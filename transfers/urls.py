from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("", views.transfer_list, name="list"),
    path("apply/", views.transfer_apply, name="apply"),
    path("<id:pk>/", views.transfer_detail, name="detail"),
    path("<id:pk>/done/", views.transfer_confirmation, name="confirmation"),
    path("<id:pk>/status.json", views.transfer_status, name="status"),
    path("<id:pk>/cancel/", views.transfer_cancel, name="cancel"),
    path("<id:pk>/sheet/", views.transfer_sheet, name="sheet"),
    path("<id:pk>/sheet.pdf", views.transfer_sheet_pdf, name="sheet_pdf"),
    path("sheet/verify/", views.sheet_verify, name="sheet_verify"),
]

from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("", views.transfer_list, name="list"),
    path("apply/", views.transfer_apply, name="apply"),
    path("<int:pk>/", views.transfer_detail, name="detail"),
    path("<int:pk>/done/", views.transfer_confirmation, name="confirmation"),
    path("<int:pk>/status.json", views.transfer_status, name="status"),
    path("<int:pk>/cancel/", views.transfer_cancel, name="cancel"),
    path("<int:pk>/sheet/", views.transfer_sheet, name="sheet"),
]

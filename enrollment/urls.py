from django.urls import path

from . import views

app_name = "enrollment"
urlpatterns = [
    path("", views.start, name="start"),
    path("resident/", views.resident, name="resident"),
    path("newborn/", views.newborn, name="newborn"),
    path("flexible/", views.flexible, name="flexible"),
    path("coverage/", views.coverage, name="coverage"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]

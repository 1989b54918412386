from django.urls import path

from . import views

app_name = "enrollment"
urlpatterns = [
    path("", views.start, name="start"),
    path("resident/", views.resident, name="resident"),
    path("newborn/", views.newborn, name="newborn"),
    path("flexible/", views.flexible, name="flexible"),
    path("coverage/", views.coverage, name="coverage"),
    path("suspend/", views.suspend, name="suspend"),
    path("<id:pk>/done/", views.done, name="done"),
    path("<id:pk>/cancel/", views.cancel, name="cancel"),
    path("<id:pk>/suspend/", views.suspend_confirm, name="suspend_confirm"),
    path("<id:pk>/resume/", views.resume, name="resume"),
]

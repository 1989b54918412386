"""The portal's URLs plus the baseline views under /bench/."""

from django.urls import include, path

from portal.urls import handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns

from . import views

urlpatterns = [
    path("bench/read/<id:pk>/", views.baseline_read, name="bench_read"),
    path("bench/insert/", views.baseline_insert, name="bench_insert"),
    path("bench/chrome/", views.baseline_chrome, name="bench_chrome"),
    path("", include(portal_urlpatterns)),
]

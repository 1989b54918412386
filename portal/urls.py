from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

portal_patterns = (
    [
        path("", views.home, name="home"),
        path("status/", views.status, name="status"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("", include("people.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("payments/", include("payments.urls")),
    path("transfers/", include("transfers.urls")),
    path("records/", include("records.urls")),
    path("admin/staff/", include("portal.staff.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]

handler400 = "portal.views.error_400"
handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"

# Developers' pages (the simulated SMS inbox): `make run` turns them on with
# DEV_PAGES while DEBUG stays off, so it shows the citizens' error pages, not
# Django's pages for developers. (static() serves media only under DEBUG.)
if settings.DEV_PAGES:
    from django.conf.urls.static import static

    from people.views import dev_sms

    urlpatterns.append(path("dev/sms/", dev_sms, name="dev_sms"))

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

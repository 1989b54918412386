from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("", views.history, name="history"),
    path("pay/<id:enrollment_id>/", views.pay, name="pay"),
    path("proxy/", views.proxy, name="proxy"),
    path("p/<id:pk>/", views.detail, name="detail"),
    path("p/<id:pk>/status/", views.status_json, name="status"),
    path("p/<id:pk>/retry/", views.retry, name="retry"),
    path("p/<id:pk>/receipt/", views.receipt, name="receipt"),
    path("p/<id:pk>/receipt.pdf", views.receipt_download, name="receipt_pdf"),
    path("verify/", views.verify, name="verify"),
    path("callback/<str:channel>/", views.callback, name="callback"),
    path("family/", views.family, name="family"),
    path("family/<id:pk>/consent/", views.binding_consent, name="binding_consent"),
    path("family/<id:pk>/unbind/", views.binding_unbind, name="binding_unbind"),
]

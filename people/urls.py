from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("family/", views.family, name="family"),
    path("inbox/", views.inbox, name="inbox"),
    path("care-mode/", views.care_mode, name="care_mode"),
    path("language/", views.set_language, name="set_language"),
]

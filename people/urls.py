from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/verify/", views.signup_finish, name="signup_finish"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path(
        "password-reset/verify/",
        views.password_reset_finish,
        name="password_reset_finish",
    ),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("family/", views.family, name="family"),
    path(
        "family/<id:link_id>/decide/", views.authority_decide, name="authority_decide"
    ),
    path(
        "family/<id:link_id>/revoke/", views.authority_revoke, name="authority_revoke"
    ),
    path("inbox/", views.inbox, name="inbox"),
    path("account/email/", views.email, name="email"),
    path("account/email/verify/<str:token>/", views.email_verify, name="email_verify"),
    path("care-mode/", views.care_mode, name="care_mode"),
    path("language/", views.set_language, name="set_language"),
]

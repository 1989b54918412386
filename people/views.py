"""The citizen's account: sign-up, login, family members, inbox, care mode
and language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import form_error_from

from . import selectors, services
from .forms import FamilyMemberForm, LoginForm, SignupForm


def signup(request):
    if request.user.is_authenticated:
        return redirect(settings.HOME_URL)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_signup(
                name=data["name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                password=data["password1"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，欢迎使用医保服务。"))
            return redirect(settings.HOME_URL)
    return render(
        request,
        "registration/signup.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"

    def form_invalid(self, form):
        # A refused login is bad input like any other form: 400, errors shown.
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@login_required
def family(request):
    person = request.user.person
    if person is None:
        return redirect(settings.HOME_URL)
    form = FamilyMemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.family_member_add(
                owner=person,
                id_number=form.cleaned_data["id_number"],
                name=form.cleaned_data["name"],
                relation=form.cleaned_data["relation"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request, _("已添加家庭成员 %(name)s。") % {"name": link.relative.name}
            )
            return redirect(
                request.GET.get("next") if _safe_next(request) else "people:family"
            )
    links = selectors.family_links_for_person(person_id=person.pk)
    return render(
        request,
        "people/family.html",
        {"form": form, "links": links},
        status=400 if form.errors else 200,
    )


@login_required
def inbox(request):
    person = request.user.person
    items = selectors.notifications_for_person(person_id=person.pk) if person else []
    accesses = (
        selectors.staff_accesses_for_person(person_id=person.pk, limit=20)
        if person
        else []
    )
    return render(request, "people/inbox.html", {"items": items, "accesses": accesses})


def _safe_next(request) -> bool:
    target = request.GET.get("next") or request.POST.get("next")
    return bool(target) and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    )


@require_POST
def care_mode(request):
    """关怀模式: larger text and targets, remembered per user (and per session)."""
    enabled = request.POST.get("enabled") == "1"
    request.session["care_mode"] = enabled
    if request.user.is_authenticated:
        request.user.care_mode = enabled
        request.user.save(update_fields=["care_mode"])
    target = (
        request.POST.get("next") if _safe_next(request) else reverse(settings.HOME_URL)
    )
    return HttpResponseRedirect(target)


@require_POST
def set_language(request):
    """Django's set_language, and the choice remembered on the user's account."""
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language")
    if language in dict(settings.LANGUAGES):
        request.session["account_language"] = language
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
    return response

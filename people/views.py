"""The citizen's account: sign-up, login, family members, inbox, care mode
and language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import form_error_from
from core.identity import mask_mobile

from . import selectors, services
from .forms import (
    AuthorityDecisionForm,
    EmailForm,
    FamilyMemberForm,
    LoginForm,
    PasswordResetFinishForm,
    PasswordResetStartForm,
    SignupFinishForm,
    SignupForm,
)
from .limits import rate_limit_check
from .models import AuthorityStatus, FamilyLink, SmsPurpose
from .sms import sms_code_use

SIGNUP_SESSION_KEY = "signup"


def signup(request):
    """Sign-up, step 1: name and number (checked against the population
    registry) and the mobile that receives the code."""
    if request.user.is_authenticated:
        return redirect(settings.HOME_URL)
    form = SignupForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rate_limit_check(request, group="signup")
            services.signup_code_send(
                name=data["name"], id_number=data["id_number"], mobile=data["mobile"]
            )
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            request.session[SIGNUP_SESSION_KEY] = {
                "name": data["name"],
                "id_number": data["id_number"],
                "mobile": data["mobile"],
            }
            return redirect("people:signup_finish")
    if form.errors and status == 200:
        status = 400
    return render(request, "registration/signup.html", {"form": form}, status=status)


def signup_finish(request):
    """Sign-up, step 2: the SMS code proves the mobile; then the account. A
    person record that already exists (made at a counter or by a relative) is
    claimed only through both checks."""
    pending = request.session.get(SIGNUP_SESSION_KEY)
    if request.user.is_authenticated or not pending:
        return redirect("people:signup")
    form = SignupFinishForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_check(request, group="sms")
            sms_code_use(
                mobile=pending["mobile"],
                purpose=SmsPurpose.SIGNUP,
                code=form.cleaned_data["code"],
            )
            user = services.user_signup(
                name=pending["name"],
                id_number=pending["id_number"],
                mobile=pending["mobile"],
                password=form.cleaned_data["password1"],
            )
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            request.session.pop(SIGNUP_SESSION_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，欢迎使用医保服务。"))
            return redirect(settings.HOME_URL)
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "registration/signup_finish.html",
        {"form": form, "mobile_masked": mask_mobile(pending["mobile"])},
        status=status,
    )


RESET_SESSION_KEY = "password_reset_mobile"


def password_reset(request):
    """Forgotten password, step 1: the page says the same whether or not the
    mobile has an account."""
    form = PasswordResetStartForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_check(request, group="password_reset")
            services.password_reset_code_send(mobile=form.cleaned_data["mobile"])
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            request.session[RESET_SESSION_KEY] = form.cleaned_data["mobile"]
            return redirect("people:password_reset_finish")
    if form.errors and status == 200:
        status = 400
    return render(
        request, "registration/password_reset.html", {"form": form}, status=status
    )


def password_reset_finish(request):
    mobile = request.session.get(RESET_SESSION_KEY)
    if not mobile:
        return redirect("people:password_reset")
    form = PasswordResetFinishForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_check(request, group="sms")
            sms_code_use(
                mobile=mobile,
                purpose=SmsPurpose.PASSWORD_RESET,
                code=form.cleaned_data["code"],
            )
            services.user_password_reset(
                mobile=mobile, password=form.cleaned_data["password1"]
            )
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            request.session.pop(RESET_SESSION_KEY, None)
            messages.success(request, _("密码已重设，请用新密码登录。"))
            return redirect("people:login")
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "registration/password_reset_finish.html",
        {"form": form, "mobile_masked": mask_mobile(mobile)},
        status=status,
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
    """家庭成员与授权: the requests and authorities the user holds over others,
    and those others hold over the user, each with its state and actions."""
    person = request.user.person
    if person is None:
        return redirect(settings.HOME_URL)
    form = FamilyMemberForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit_check(request, group="family")
            link = services.family_member_request(
                owner=person,
                id_number=form.cleaned_data["id_number"],
                name=form.cleaned_data["name"],
                relation=form.cleaned_data["relation"],
                birth_certificate=form.cleaned_data["birth_certificate"],
            )
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            if link.status == AuthorityStatus.GRANTED:
                text = _("已添加 %(name)s，您现在可以为其办理医保业务。")
            elif link.relative.age_on(timezone.localdate()) < 18:
                text = _(
                    "已提交。未成年子女的监护关系需要核验：请携带户口本到经办窗口办理，"
                    "或填写与户籍登记一致的出生医学证明编号。"
                )
            else:
                text = _(
                    "已向 %(name)s 发出授权申请。对方在自己的账号中同意后（或到经办窗口当面同意），"
                    "您才能为其办理业务。"
                )
            messages.success(request, text % {"name": link.relative.name})
            target = request.GET.get("next") if _safe_next(request) else None
            return redirect(target or "people:family")
    if form.errors and status == 200:
        status = 400
    held = selectors.authorities_held(person_id=person.pk)
    given = selectors.authorities_given(person_id=person.pk)
    return render(
        request,
        "people/family.html",
        {
            "form": form,
            "held": held,
            "given": given,
            "decision_form": AuthorityDecisionForm(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def authority_decide(request, link_id):
    """The person asked accepts (with the scopes they choose) or declines."""
    form = AuthorityDecisionForm(request.POST)
    form.is_valid()
    accept = request.POST.get("decision") == "accept"
    try:
        link = services.authority_decide(
            user=request.user,
            link_id=link_id,
            accept=accept,
            scopes=form.cleaned_data.get("scopes") or [],
        )
    except FamilyLink.DoesNotExist:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("people:family")
    if accept:
        messages.success(
            request,
            _("您已同意 %(name)s 代您办理：%(scopes)s。您可以随时解除。")
            % {"name": link.owner.name, "scopes": "、".join(link.scope_labels)},
        )
    else:
        messages.success(
            request, _("您已拒绝 %(name)s 的申请。") % {"name": link.owner.name}
        )
    return redirect("people:family")


@login_required
@require_POST
def authority_revoke(request, link_id):
    try:
        link = services.authority_revoke(user=request.user, link_id=link_id)
    except FamilyLink.DoesNotExist:
        raise Http404 from None
    other = link.relative if link.owner_id == request.user.person_id else link.owner
    messages.success(
        request, _("已解除与 %(name)s 的代办授权，即时生效。") % {"name": other.name}
    )
    return redirect("people:family")


@login_required
def inbox(request):
    person = request.user.person
    items = selectors.notifications_for_person(person_id=person.pk) if person else []
    accesses = (
        selectors.staff_accesses_for_person(person_id=person.pk, limit=20)
        if person
        else []
    )
    proxy_accesses = (
        selectors.proxy_accesses_for_person(person_id=person.pk, limit=20)
        if person
        else []
    )
    return render(
        request,
        "people/inbox.html",
        {"items": items, "accesses": accesses, "proxy_accesses": proxy_accesses},
    )


@login_required
def email(request):
    """An optional e-mail address for the inbox's messages, used once the
    link sent to it has been opened."""
    form = EmailForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rate_limit_check(request, group="sms")
                services.email_verification_send(
                    user=request.user,
                    email=form.cleaned_data["email"],
                    verify_url=lambda token: request.build_absolute_uri(
                        reverse("people:email_verify", args=[token])
                    ),
                )
            except DomainError as error:
                status = form_error_from(form, error)
            else:
                messages.success(
                    request, _("验证邮件已发送，请在24小时内打开邮件中的链接。")
                )
                return redirect("people:email")
        if form.errors and status == 200:
            status = 400
    return render(request, "people/email.html", {"form": form}, status=status)


def email_verify(request, token):
    try:
        services.email_verify(token=token)
    except DomainError as error:
        return render(
            request,
            "people/email_verify.html",
            {"error": error.message},
            status=400,
        )
    return render(request, "people/email_verify.html", {"error": ""})


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


def dev_sms(request):
    """Developers only (mounted when DEBUG is on): the simulated SMS gateway's
    latest messages, so sign-up and password reset can be tried on make run."""
    from .models import SimSmsMessage

    messages_sent = SimSmsMessage.objects.all()[:20]
    return render(request, "people/dev_sms.html", {"sms": messages_sent})

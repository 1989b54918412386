"""Thin views: parse, call a service or selector, render."""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import form_error_from
from core.pagecache import page_body
from enrollment.models import Enrollment
from people.models import Scope

from . import quotes, receipt_pdf, selectors, services
from .forms import BindForm, MonthsForm, PayForm, ProxyForm
from .models import (
    FINISHED,
    IN_FLIGHT,
    PAYMENT_MACHINE,
    BindingStatus,
    Channel,
    FamilyBinding,
    PaymentStatus,
)
from .signing import TIMESTAMP_WINDOW_SECONDS, signature_valid

log = logging.getLogger(__name__)
PROXY_SESSION_KEY = "payments_proxy_enrollments"


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _need_person(request):
    if request.user.person_id is None:
        raise Http404
    return request.user.person


@login_required
def history(request):
    """缴费记录 by person and year, for oneself and the family one acts for.
    The body comes from the cache until something the user may see changes
    (core.pagecache)."""
    if request.user.person_id is None:
        raise Http404
    person_id = _int_or_none(request.GET.get("person"))
    # One year at a time, so the page stays small however many years a family
    # has paid; "all" lists every year. By default the year of the payment
    # made last, so a payment just made for an earlier year (a repaired gap
    # year, a relative's) is on the page one lands on.
    requested = request.GET.get("year", "")
    year = _int_or_none(requested)
    if year is not None and not 2000 <= year <= 2100:
        year = None
    every_year = year is None and requested == "all"

    def build(today):
        page = selectors.history_page_for_user(
            user=request.user,
            person_id=person_id,
            year=year,
            every_year=every_year,
            today=today,
        )
        context = {
            "me": page.persons[0] if page.persons else None,
            "persons": page.persons,
            "person_id": page.person_id,
            "year": page.year,
            "years": page.years,
            "payments": page.payments,
            "payable": page.payable,
        }
        # Someone else's or an unknown person id shows everyone: not kept
        # under that id, so the keys stay as few as the family.
        return context, page.person_id == person_id

    body = page_body(
        request,
        view="payments.history",
        params=(person_id, year, every_year),
        template="payments/history_body.html",
        build=build,
    )
    return render(request, "payments/history.html", {"body": body})


def _allow_account(request, enrollment: Enrollment) -> bool:
    return (
        enrollment.scheme == "resident"
        and enrollment.person_id
        in selectors.active_binding_relative_ids(person_id=request.user.person_id)
    )


@login_required
def pay(request, enrollment_id):
    """Check your answers: the server's price with its breakdown, then 确认缴费.

    The page signs the quote it shows (payments.quotes); the POST sends it
    back with the channel and pays exactly that, or, when the quote is
    missing, altered, expired or no longer the price, shows the page again
    with a fresh quote and says why. Nothing is written then."""
    if request.user.person_id is None:
        raise Http404
    enrollment = selectors.enrollment_get_for_payment(
        user=request.user,
        pk=enrollment_id,
        proxy_ids=request.session.get(PROXY_SESSION_KEY, []),
    )
    if request.method == "POST":
        return _pay_confirm(request, enrollment)
    months_form = MonthsForm(request.GET or None)
    valid = months_form.is_valid()
    months = (months_form.cleaned_data.get("months") if valid else None) or 1
    repair = (months_form.cleaned_data.get("repair") if valid else None) or 0
    allow_account = _allow_account(request, enrollment) and not repair
    form = PayForm(
        allow_account=allow_account, initial={"months": months, "repair": repair}
    )
    return _pay_page(
        request,
        enrollment,
        form=form,
        months=months,
        repair=repair,
        allow_account=allow_account,
    )


def _pay_confirm(request, enrollment: Enrollment):
    """确认缴费: the signed quote and the channel chosen → a payment, or the
    page again with the reason (4xx)."""
    try:
        signed = quotes.quote_read(
            request.POST.get("quote", ""), user=request.user, enrollment=enrollment
        )
    except DomainError as error:
        signed, refusal = None, error
    else:
        refusal = None
    # The channels offered are the ones the signed page offered; the account
    # binding itself is checked again when the account is chosen.
    allow_account = (
        signed.account_offered if signed else _allow_account(request, enrollment)
    )
    form = PayForm(request.POST, allow_account=allow_account)
    if not form.is_valid():
        status = 400
    elif refusal is not None:
        form_error_from(form, refusal)
        status = refusal.status
    else:
        try:
            payment = services.payment_checkout(
                user=request.user,
                enrollment_id=enrollment.pk,
                channel=form.cleaned_data["channel"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                signed=signed,
            )
        except DomainError as error:
            form_error_from(form, error)
            status = error.status
        else:
            return redirect("payments:detail", payment.pk)
    cleaned = getattr(form, "cleaned_data", {})
    months = (signed.months_ahead if signed else cleaned.get("months")) or 1
    repair = (signed.repair_years if signed else cleaned.get("repair")) or 0
    return _pay_page(
        request,
        enrollment,
        form=form,
        months=months,
        repair=repair,
        allow_account=allow_account and not repair,
        status=status,
    )


def _pay_page(
    request,
    enrollment: Enrollment,
    *,
    form: PayForm,
    months: int,
    repair: int,
    allow_account: bool,
    status: int = 200,
):
    """The quote page: a fresh quote, signed for the form's POST."""
    quote = None
    quote_error = None
    months_note = ""
    token = ""
    try:
        quote = services.quote_for_enrollment(
            enrollment=enrollment, months_ahead=months, repair_years=repair
        )
    except DomainError as error:
        quote_error = error.message
        status = status if status != 200 else 409
    if quote is not None and quote.scheme == "flexible":
        months, months_note = _months_allowed(quote, asked=months)
        if not form.is_bound:
            form.initial["months"] = months
    if quote is not None:
        token = quotes.quote_sign(
            user=request.user,
            enrollment=enrollment,
            quote=quote,
            months_ahead=months,
            repair_years=repair,
            account_offered=allow_account,
        )
    account = (
        selectors.accounts_for_person(person_id=request.user.person_id)
        if allow_account
        else []
    )
    context = {
        "enrollment": enrollment,
        "quote": quote,
        "quote_error": quote_error,
        "quote_token": token,
        "form": form,
        "months": months,
        "months_max": _months_left(quote),
        "months_note": months_note,
        "repair": repair,
        "accounts": account,
        "repairable": max(enrollment.gap_years - enrollment.repaired_years, 0)
        if not repair
        else 0,
    }
    return render(request, "payments/pay.html", context, status=status)


def _months_left(quote) -> int:
    """How many months ahead the enrollment's year still has from the first
    month the quote charges ahead (a flexible year ends in December)."""
    ahead = [line.period for line in (quote.lines if quote else []) if not line.backpay]
    if not ahead:
        return 0
    return 13 - int(ahead[0][5:7])


def _months_allowed(quote, *, asked: int) -> tuple[int, str]:
    """The months ahead the quote really charges, and when fewer than asked
    (the year ends first) a sentence saying so, instead of quietly charging
    fewer."""
    ahead = sum(1 for line in quote.lines if not line.backpay)
    if ahead >= asked:
        return asked, ""
    if ahead == 0:
        return asked, _(
            "本年度已没有可以预缴的月份，这次只补缴欠缴的月份。"
            "下一年度的月份请在下一年度参保登记后缴纳。"
        )
    return ahead, ngettext(
        "您选择了预缴%(asked)d个月，但本年度只剩%(ahead)d个月可以预缴，"
        "已按%(ahead)d个月计算。下一年度的月份请在下一年度参保登记后缴纳。",
        "您选择了预缴%(asked)d个月，但本年度只剩%(ahead)d个月可以预缴，"
        "已按%(ahead)d个月计算。下一年度的月份请在下一年度参保登记后缴纳。",
        ahead,
    ) % {"asked": asked, "ahead": ahead}


@login_required
def detail(request, pk):
    """Where a payment is: pending (the page updates itself), or its outcome."""
    payment = selectors.payment_get_for_user(user=request.user, pk=pk)
    retry_form = None
    if PAYMENT_MACHINE.can(payment.status, action="retry"):
        retry_form = PayForm(
            allow_account=_allow_account(request, payment.order.enrollment),
            initial={"channel": payment.channel},
        )
    return render(
        request,
        "payments/detail.html",
        {
            "payment": payment,
            "order": payment.order,
            "retry_form": retry_form,
            "pending": payment.status in IN_FLIGHT,
            "history_url": _history_url_for(payment),
        },
    )


def _history_url_for(payment) -> str:
    """缴费记录 opened on the payment's own year (not the newest year)."""
    return f"{reverse('payments:history')}?year={payment.period[:4]}"


@login_required
def status_json(request, pk):
    payment = selectors.payment_get_for_user(user=request.user, pk=pk)
    return JsonResponse(
        {
            "status": payment.status,
            "label": str(payment.get_status_display()),
            "finished": payment.status in FINISHED,
        }
    )


@login_required
@require_POST
def retry(request, pk):
    """补扣: a new attempt after a failed one."""
    payment = selectors.payment_get_for_user(user=request.user, pk=pk, scope=Scope.PAY)
    form = PayForm(
        request.POST, allow_account=_allow_account(request, payment.order.enrollment)
    )
    if form.is_valid():
        try:
            new = services.payment_retry(
                user=request.user,
                payment_id=payment.pk,
                channel=form.cleaned_data["channel"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            return redirect("payments:detail", new.pk)
    return render(
        request,
        "payments/detail.html",
        {
            "payment": payment,
            "order": payment.order,
            "retry_form": form,
            "pending": False,
            "history_url": _history_url_for(payment),
        },
        status=400,
    )


def _receipt_for(request, pk):
    payment = selectors.payment_get_for_user(user=request.user, pk=pk)
    receipt = (
        getattr(payment, "receipt", None)
        if payment.status == PaymentStatus.SUCCESS
        else None
    )
    if receipt is None:
        raise Http404
    return payment, receipt


def _verify_url(request, receipt) -> str:
    return request.build_absolute_uri(
        reverse("payments:verify") + f"?code={receipt.verification_code}"
    )


@login_required
def receipt(request, pk):
    payment, receipt_obj = _receipt_for(request, pk)
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "receipt": receipt_obj,
            "verify_url": _verify_url(request, receipt_obj),
        },
    )


@login_required
def receipt_download(request, pk):
    _payment, receipt_obj = _receipt_for(request, pk)
    content = receipt_pdf.render(
        receipt_obj, verify_url=_verify_url(request, receipt_obj)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{receipt_obj.number}.pdf"'
    )
    return response


def verify(request):
    """Public: given a verification code, the receipt's fields (insured person masked), nothing else."""
    code = (request.GET.get("code") or "").strip()
    receipt_obj = selectors.receipt_by_code(code=code) if code else None
    status = 404 if code and receipt_obj is None else 200
    names = {}
    if receipt_obj is not None:
        names = {
            "masked_name": _mask_name(receipt_obj.insured_name),
            "masked_payer": _mask_name(receipt_obj.payer_name),
        }
    return render(
        request,
        "payments/verify.html",
        {"code": code[:32], "receipt": receipt_obj, **names},
        status=status,
    )


def _mask_name(name: str) -> str:
    """张三丰 → 张**: enough to recognise one's own receipt, not to identify a stranger."""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


@csrf_exempt
@require_POST
def callback(request, channel):
    """A channel's signed answer. 200 when handled (also for a repeat), 4xx when refused."""
    if channel not in Channel.values or channel in (Channel.COUNTER, Channel.ACCOUNT):
        return JsonResponse({"error": "unknown channel"}, status=404)
    timestamp = request.headers.get("X-Timestamp", "")
    nonce = request.headers.get("X-Nonce", "")
    signature = request.headers.get("X-Signature", "")
    body = request.body
    # hmac.compare_digest refuses (TypeError) a str with non-ASCII characters.
    if not (8 <= len(nonce) <= 64 and signature.isascii()) or not signature_valid(
        secret=settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
        signature=signature,
    ):
        return JsonResponse({"error": "bad signature"}, status=403)
    # Seconds since the epoch in ASCII digits, at most 12 of them: str.isdigit
    # alone also takes "²" or "١٢" (which int() refuses or reads) and any length.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return JsonResponse(
            {"error": "bad timestamp", "reason": "X-Timestamp is not unix seconds"},
            status=400,
        )
    if abs(time.time() - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        return JsonResponse({"error": "stale timestamp"}, status=400)
    try:
        outcome = services.callback_receive(
            channel=channel, nonce=nonce, timestamp=int(timestamp), body=body
        )
    except services.CallbackRejected as error:
        status = 409 if error.code == "replay" else 400
        return JsonResponse(
            {"error": error.code, "reason": str(error.message)}, status=status
        )
    return JsonResponse({"result": outcome})


@login_required
def proxy(request):
    """代缴: find a resident's enrollment by identity number and name (which must match)."""
    _need_person(request)
    form = ProxyForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrollment = selectors.proxy_payable_enrollment(
                id_number=data["id_number"], name=data["name"], year=data["year"]
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            allowed = list(request.session.get(PROXY_SESSION_KEY, []))[-20:]
            if enrollment.pk not in allowed:
                allowed.append(enrollment.pk)
            request.session[PROXY_SESSION_KEY] = allowed
            return redirect("payments:pay", enrollment.pk)
    return render(
        request,
        "payments/proxy.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def family(request):
    """家庭共济: the personal account, bindings made, and requests awaiting consent.
    The form to bind a relative is offered only to those who may bind
    (employee-insured with a personal account); others are told why."""
    me = _need_person(request)
    may_bind = selectors.may_bind_relatives(person_id=me.pk)
    form = BindForm(request.POST if request.method == "POST" and may_bind else None)
    status = 200
    if request.method == "POST" and not may_bind:
        messages.error(request, _("只有正常参保的职工医保参保人才能开通家庭共济。"))
        status = 403
    elif request.method == "POST" and form.is_valid():
        try:
            binding = services.binding_request(
                authoriser=me,
                id_number=form.cleaned_data["id_number"],
                name=form.cleaned_data["name"],
                relation=form.cleaned_data["relation"],
            )
        except DomainError as error:
            status = form_error_from(form, error)
        else:
            messages.success(
                request,
                _("已向 %(name)s 发出绑定申请，待其在本人账号中同意后生效。")
                % {"name": binding.relative.name},
            )
            return redirect("payments:family")
    if form.errors and status == 200:
        status = 400
    made, received = selectors.bindings_for_person(person_id=me.pk)
    guardian = selectors.bindings_awaiting_guardian(user=request.user)
    context = {
        "form": form,
        "may_bind": may_bind,
        "made": made,
        # Awaiting the user's consent, and those already decided (active ones
        # can still be ended from this side).
        "awaiting": [b for b in received if b.status == BindingStatus.PENDING],
        "received": [b for b in received if b.status != BindingStatus.PENDING],
        "guardian": guardian,
        "accounts": selectors.accounts_for_person(person_id=me.pk),
    }
    return render(request, "payments/family.html", context, status=status)


@login_required
@require_POST
def binding_consent(request, pk):
    accept = request.POST.get("accept") == "1"
    try:
        binding = services.binding_consent(
            user=request.user, binding_id=_int_or_none(pk), accept=accept
        )
    except FamilyBinding.DoesNotExist:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        names = {
            "name": binding.authoriser.name,
            "relative": binding.relative.name,
        }
        if binding.status == BindingStatus.ACTIVE:
            if binding.relative_id == request.user.person_id:
                text = _(
                    "已同意绑定：%(name)s 现在可以用其职工医保个人账户为您"
                    "缴纳城乡居民医保费。您可以随时解除绑定。"
                )
            else:
                text = _(
                    "已同意绑定：%(name)s 现在可以用其职工医保个人账户为"
                    "%(relative)s缴纳城乡居民医保费。您可以随时解除绑定。"
                )
            messages.success(request, text % names)
        elif binding.status == BindingStatus.DECLINED:
            messages.success(request, _("已拒绝 %(name)s 的家庭共济绑定申请。") % names)
    return redirect("payments:family")


@login_required
@require_POST
def binding_unbind(request, pk):
    try:
        services.binding_unbind(user=request.user, binding_id=_int_or_none(pk))
    except FamilyBinding.DoesNotExist:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已解除家庭共济绑定；已完成的缴费不受影响。"))
    return redirect("payments:family")

"""The counter workspace (窗口工作台): find a person, see their whole record on
one page and act from it (参保登记 with its printed slip, 异地就医备案 with
its certificate, 暂停参保, 找回密码); take a payment by the number the citizen
holds, with the amount shown before it is entered; the receipt; the clerk's
day and the supervisor's day close (日结对账).

Region staff see and act on their own region's persons only (another
region's person is a 404); auditors see every region and act on nothing;
staff without a region get nothing. Every look and act is recorded in the
person's "who looked at my record" list (StaffAccess)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import form_error_from
from core.identity import mask_id_number
from core.models import Region
from core.money import format_yuan
from enrollment.models import ENROLLMENT_MACHINE, EnrollmentStatus
from enrollment.selectors import (
    enrollment_cover_if_paid,
    payment_due,
    resident_premium,
)
from payments import receipt_pdf
from payments.forms import new_key
from payments.models import PAYABLE_ENROLLMENT_STATUSES, Tender
from payments.services import counter_takings, day_close_record, quote_for_enrollment
from people.admin_base import has_no_scope, is_auditor
from people.limits import rate_limit_check
from people.models import Role, StaffAccess
from records import documents as filing_documents
from records.models import FILING_MACHINE, FilingKind

from . import selectors
from .documents import enrollment_slip_pdf
from .forms import (
    CounterEnrollForm,
    CounterFilingForm,
    CounterPayConfirmForm,
    CounterPayFindForm,
    CounterSearchForm,
    DayCloseForm,
    SuspendForm,
)
from .services import (
    counter_enrollment_plan,
    counter_enrollment_register,
    counter_enrollment_suspend,
    counter_filing_create,
    counter_filing_plan,
    counter_password_reset_send,
    counter_payment_enter,
    counter_person_viewed,
    counter_region,
)

SEARCH_SESSION_KEY = "counter_searches"


# --- who may do what ----------------------------------------------------------------


def _require_scope(user) -> None:
    """Staff with a region, auditors and the superuser; nobody else."""
    if has_no_scope(user) and not user.is_superuser:
        raise PermissionDenied


def may_act(user) -> bool:
    """Counter acts: region clerks and supervisors, and the superuser."""
    if user.is_superuser:
        return True
    return not is_auditor(user) and not has_no_scope(user)


def _require_act(user) -> None:
    _require_scope(user)
    if not may_act(user):
        raise PermissionDenied


def _context(request, title, **extra):
    return {**admin.site.each_context(request), "title": title, **extra}


# --- find a person ------------------------------------------------------------------


def _shown_term(kind: str, value: str, birth_date) -> str:
    """What was looked for, as the page may repeat it (numbers masked)."""
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "name":
        return f"{value} {birth_date.isoformat() if birth_date else ''}".strip()
    return value


def counter(request):
    """窗口工作台: the clerk's first page. The search is posted; several
    matches wait in the session under a random key (?qk=), never in a URL."""
    user = request.user
    _require_scope(user)
    form = CounterSearchForm(request.POST or None)
    status = 200
    results, shown = None, ""
    if request.method == "POST":
        if form.is_valid():
            try:
                rate_limit_check(request, group="number_lookup")
            except DomainError as error:
                status = form_error_from(form, error)
            else:
                data = form.cleaned_data
                found = selectors.persons_found(
                    user=user,
                    kind=data["kind"],
                    value=data["value"],
                    birth_date=data.get("birth_date"),
                )
                if len(found) == 1:
                    return redirect("staff:counter_person_detail", found[0].pk)
                key = secrets.token_urlsafe(9)
                searches = dict(
                    list(request.session.get(SEARCH_SESSION_KEY, {}).items())[-9:]
                )
                searches[key] = {
                    "ids": [person.pk for person in found],
                    "shown": _shown_term(
                        data["kind"], data["value"], data.get("birth_date")
                    ),
                }
                request.session[SEARCH_SESSION_KEY] = searches
                return redirect(reverse("staff:counter") + "?" + urlencode({"qk": key}))
        else:
            status = 400
    elif request.GET.get("qk"):
        search = request.session.get(SEARCH_SESSION_KEY, {}).get(request.GET["qk"])
        if search is not None:
            shown = search["shown"]
            results = selectors.persons_by_ids(user=user, ids=search["ids"])
    today_start = timezone.make_aware(
        dt.datetime.combine(timezone.localdate(), dt.time.min)
    )
    served, seen = [], set()
    for access in (
        StaffAccess.objects.filter(staff=user, at__gte=today_start)
        .select_related("person")
        .order_by("-at", "-id")[:60]
    ):
        if access.person_id not in seen:
            seen.add(access.person_id)
            served.append(access.person)
    context = _context(
        request,
        _("窗口工作台"),
        form=form,
        results=results,
        shown=shown,
        served=served[:10],
        may_act=may_act(user),
    )
    return TemplateResponse(request, "staff/counter.html", context, status=status)


# --- one person ---------------------------------------------------------------------


def _suspendable(user, enrollments) -> list:
    """The enrollments a clerk may suspend here: their region's, where the
    machine lets an enrollment be suspended."""
    if not may_act(user):
        return []
    return [
        enrollment
        for enrollment in enrollments
        if (user.is_superuser or enrollment.region_id == user.region_id)
        and ENROLLMENT_MACHINE.can(enrollment.status, action="suspend")
    ]


def _person_page(request, person, *, suspend_form=None, status=200, error=""):
    user = request.user
    record = selectors.person_record(person=person)
    acting = may_act(user)
    for enrollment in record.enrollments:
        enrollment.counter_payable = (
            acting
            and (user.is_superuser or enrollment.region_id == user.region_id)
            and enrollment.status in PAYABLE_ENROLLMENT_STATUSES
        )
    suspendable = _suspendable(user, record.enrollments)
    context = _context(
        request,
        _("参保人：%(name)s") % {"name": person.name},
        person=person,
        record=record,
        account=getattr(person, "account", None),
        may_act=acting,
        suspendable=suspendable,
        suspend_form=suspend_form or SuspendForm(enrollments=suspendable),
        error=error,
    )
    return TemplateResponse(
        request, "staff/counter_person_detail.html", context, status=status
    )


def counter_person_detail(request, pk: int):
    """One page per person: their enrollments, payments, transfers and
    authorities, and what the clerk may do for them."""
    _require_scope(request.user)
    person = selectors.person_for_staff(user=request.user, pk=pk)
    counter_person_viewed(
        staff=request.user, person=person, what=_("窗口工作台：查看参保人")
    )
    return _person_page(request, person)


@require_POST
def counter_suspend(request, pk: int):
    """暂停参保 on evidence, from the person's page."""
    _require_scope(request.user)
    person = selectors.person_for_staff(user=request.user, pk=pk)
    _require_act(request.user)
    form = SuspendForm(
        request.POST,
        enrollments=_suspendable(
            request.user, selectors.person_record(person=person).enrollments
        ),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            enrollment = counter_enrollment_suspend(
                staff=request.user,
                person=person,
                enrollment_id=data["enrollment"],
                reason=data["reason"],
                evidence=data["evidence"],
            )
        except DomainError as error:
            status = form_error_from(form, error)
            return _person_page(request, person, suspend_form=form, status=status)
        messages.success(
            request,
            _("已暂停参保登记 %(reference)s。") % {"reference": enrollment.reference},
        )
        return redirect("staff:counter_person_detail", person.pk)
    return _person_page(request, person, suspend_form=form, status=400)


@require_POST
def counter_password_reset(request, pk: int):
    """找回密码 by SMS: the citizen sets the new password on their phone."""
    _require_scope(request.user)
    person = selectors.person_for_staff(user=request.user, pk=pk)
    _require_act(request.user)
    try:
        masked = counter_password_reset_send(staff=request.user, person=person)
    except DomainError as error:
        status = error.status if error.status in (429, 503) else 400
        return _person_page(request, person, status=status, error=error.message)
    messages.success(
        request,
        _(
            "已向 %(mobile)s 发送找回密码的短信验证码。请群众在“忘记密码”页面输入"
            "验证码，自行设置新密码；经办人员不会看到也不会设置密码。"
        )
        % {"mobile": masked},
    )
    return redirect("staff:counter_person_detail", person.pk)


# --- 参保登记 at the counter ------------------------------------------------------------


def _error_beside(form, error: DomainError, default: str) -> int:
    """A refusal beside the field it is about; one about the person (already
    enrolled, not covered) beside `default`; one about the clerk's own
    standing at the top of the form."""
    if error.field in form.fields:
        field = error.field
    else:
        field = default if error.field else None
    form.add_error(field, error.message)
    return error.status if error.status in (429, 503) else 400


def _enroll_page(request, person, form, *, status=200, note=""):
    context = _context(
        request,
        _("办理参保登记：%(name)s") % {"name": person.name},
        person=person,
        form=form,
        note=note,
    )
    return TemplateResponse(
        request, "staff/counter_enroll.html", context, status=status
    )


def counter_enroll(request, pk: int):
    """办理参保登记 (城乡居民医保) for the person whose page this is, the one at
    the counter or a family member they brought: year and category, then
    check your answers with the amount and the day cover would start, then
    确认登记 → the registration, its slip and the payment one click away."""
    user = request.user
    _require_scope(user)
    person = selectors.person_for_staff(user=user, pk=pk)
    _require_act(user)
    try:
        region_code = counter_region(staff=user, person=person)
    except DomainError as error:
        form = CounterEnrollForm(years=())
        form.add_error(None, error.message)
        return _enroll_page(request, person, form, status=400)
    years = selectors.counter_enrollment_years(region_code=region_code)
    note = (
        ""
        if years
        else _(
            "本统筹区当前没有可以登记的待遇年度（不在集中参保期内，当年度政策也未公布）。"
        )
    )
    if request.method != "POST":
        initial = {
            key: request.GET[key] for key in ("year", "category") if key in request.GET
        }
        if years:
            initial.setdefault("year", years[0])
        form = CounterEnrollForm(initial=initial, years=years)
        return _enroll_page(request, person, form, note=note)
    form = CounterEnrollForm(request.POST, years=years)
    if not form.is_valid():
        return _enroll_page(request, person, form, status=400, note=note)
    data = form.cleaned_data
    try:
        if request.POST.get("confirm") == "1":
            enrollment = counter_enrollment_register(
                staff=user, person=person, year=data["year"], category=data["category"]
            )
        else:
            plan = counter_enrollment_plan(
                staff=user, person=person, year=data["year"], category=data["category"]
            )
    except DomainError as error:
        status = _error_beside(form, error, "year")
        return _enroll_page(request, person, form, status=status, note=note)
    if request.POST.get("confirm") == "1":
        messages.success(
            request,
            _("已登记：%(reference)s") % {"reference": enrollment.reference},
        )
        return redirect("staff:counter_enrollment", enrollment.pk)
    counter_person_viewed(
        staff=user, person=person, what=_("窗口参保登记：核对登记信息")
    )
    context = _context(
        request,
        _("核对参保登记信息"),
        person=person,
        form=form,
        plan=plan,
        data=data,
    )
    return TemplateResponse(request, "staff/counter_enroll_check.html", context)


def _enrollment_facts(enrollment) -> dict:
    """The amount due, the pay-by date (only one still to come) and the day
    cover would start if paid today (None: paying now buys nothing)."""
    policy = selectors.policy_of(enrollment)
    unpaid = enrollment.status == EnrollmentStatus.REGISTERED and policy is not None
    return {
        "premium": resident_premium(enrollment),
        "due": payment_due(enrollment=enrollment, policy=policy) if unpaid else None,
        "cover_from": (
            enrollment_cover_if_paid(enrollment=enrollment, policy=policy)
            if unpaid
            else None
        ),
    }


def counter_enrollment(request, pk: int):
    """After 确认登记: the registration number large, the amount due, the
    slip to print, and the payment one click away."""
    user = request.user
    _require_scope(user)
    enrollment = selectors.enrollment_for_staff(user=user, pk=pk)
    facts = _enrollment_facts(enrollment)
    payable = (
        may_act(user)
        and (user.is_superuser or enrollment.region_id == user.region_id)
        and enrollment.status == EnrollmentStatus.REGISTERED
        and facts["cover_from"] is not None
    )
    counter_person_viewed(
        staff=user, person=enrollment.person, what=_("窗口工作台：查看参保登记")
    )
    context = _context(
        request,
        _("参保登记：%(reference)s") % {"reference": enrollment.reference},
        enrollment=enrollment,
        person=enrollment.person,
        payable=payable,
        **facts,
    )
    return TemplateResponse(request, "staff/counter_enrollment.html", context)


def counter_enrollment_slip(request, pk: int):
    """参保登记回执 as a PDF, opened in the browser to print."""
    user = request.user
    _require_scope(user)
    enrollment = selectors.enrollment_for_staff(user=user, pk=pk)
    facts = _enrollment_facts(enrollment)
    content = enrollment_slip_pdf(
        enrollment,
        premium=facts["premium"],
        due=facts["due"],
        cover_from=facts["cover_from"],
        pay_url=request.build_absolute_uri(reverse("payments:proxy")),
        clerk_name=(
            enrollment.registered_by.get_username() if enrollment.registered_by else ""
        ),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="enrollment-{enrollment.reference}.pdf"'
    )
    return response


# --- 异地就医备案 at the counter --------------------------------------------------------


def _filing_page(request, person, form, *, status=200):
    context = _context(
        request,
        _("办理异地就医备案：%(name)s") % {"name": person.name},
        person=person,
        form=form,
    )
    return TemplateResponse(
        request, "staff/counter_filing.html", context, status=status
    )


def counter_filing(request, pk: int):
    """办理异地就医备案 for the person whose page this is: reason, destination,
    start date and the documents seen; check your answers; 确认备案 → the
    filing and its certificate (备案凭证) to print."""
    user = request.user
    _require_scope(user)
    person = selectors.person_for_staff(user=user, pk=pk)
    _require_act(user)
    if request.method != "POST":
        return _filing_page(request, person, CounterFilingForm())
    form = CounterFilingForm(request.POST)
    if not form.is_valid():
        return _filing_page(request, person, form, status=400)
    if "edit" in request.POST:
        # "修改" on the check page: back to the form, on the field to change.
        field = form.fields.get(request.POST.get("edit"))
        if field is not None:
            field.widget.attrs["autofocus"] = True
        return _filing_page(request, person, form)
    try:
        if request.POST.get("confirm") == "1":
            filing = counter_filing_create(
                staff=user,
                person=person,
                evidence_seen=form.cleaned_data["evidence_seen"],
                **form.filing_args(),
            )
        else:
            plan = counter_filing_plan(staff=user, person=person, **form.filing_args())
    except DomainError as error:
        status = _error_beside(form, error, "reason")
        return _filing_page(request, person, form, status=status)
    if request.POST.get("confirm") == "1":
        messages.success(request, _("已备案：%(number)s") % {"number": filing.number})
        return redirect("staff:counter_filing_done", filing.pk)
    counter_person_viewed(
        staff=user, person=person, what=_("窗口异地就医备案：核对备案信息")
    )
    context = _context(
        request,
        _("核对异地就医备案信息"),
        person=person,
        form=form,
        plan=plan,
        reason_label=form.reason_label,
    )
    return TemplateResponse(request, "staff/counter_filing_check.html", context)


def _filing_verify_url(request, filing) -> str:
    return request.build_absolute_uri(
        reverse("records:verify") + "?" + urlencode({"code": filing.verification_code})
    )


def counter_filing_done(request, pk: int):
    """After 确认备案: the filing number large, where and until when, and the
    certificate (备案凭证) to print."""
    user = request.user
    _require_scope(user)
    filing = selectors.filing_for_staff(user=user, pk=pk)
    counter_person_viewed(
        staff=user, person=filing.person, what=_("窗口工作台：查看异地就医备案")
    )
    in_force = FILING_MACHINE.can(filing.status, action="cancel") and (
        filing.end_on is None or filing.end_on >= timezone.localdate()
    )
    context = _context(
        request,
        _("异地就医备案：%(number)s") % {"number": filing.number},
        filing=filing,
        person=filing.person,
        validity=filing_documents.filing_validity(filing),
        evidence=filing_documents.filing_evidence(filing),
        long_term=filing.kind == FilingKind.LONG_TERM,
        in_force=in_force,
        verify_url=_filing_verify_url(request, filing),
    )
    return TemplateResponse(request, "staff/counter_filing_done.html", context)


def counter_filing_pdf(request, pk: int):
    """备案凭证 as a PDF (records.documents.filing_pdf), opened to print."""
    _require_scope(request.user)
    filing = selectors.filing_for_staff(user=request.user, pk=pk)
    content = filing_documents.filing_pdf(
        filing, verify_url=_filing_verify_url(request, filing)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="filing-{filing.number}.pdf"'
    return response


# --- counter payment ------------------------------------------------------------------


def counter_pay(request):
    """窗口缴费: the clerk types the 参保登记编号 (or comes from the person's
    page), sees who, what and how much, then confirms (cash or card)."""
    user = request.user
    _require_act(user)
    if request.method == "POST" and "confirm" not in request.POST:
        find = CounterPayFindForm(request.POST)
        if find.is_valid():
            query = {"number": find.cleaned_data["number"]}
            if find.cleaned_data["months"] != 1:
                query["months"] = find.cleaned_data["months"]
            return redirect(reverse("staff:counter_pay") + "?" + urlencode(query))
        return _pay_find_page(request, find, status=400)
    if request.method == "POST":
        confirm = CounterPayConfirmForm(request.POST)
        if not confirm.is_valid():
            number = confirm.data.get("number", "")
            enrollment = selectors.enrollment_by_number(user=user, number=number)
            if enrollment is None:
                return _pay_find_page(
                    request, CounterPayFindForm(initial={"number": number}), status=400
                )
            return _pay_check_page(
                request,
                enrollment,
                months=_months(confirm.data.get("months")),
                confirm=confirm,
                status=400,
            )
        data = confirm.cleaned_data
        enrollment = selectors.enrollment_by_number(user=user, number=data["number"])
        if enrollment is None:
            raise Http404
        try:
            payment = counter_payment_enter(
                staff=user,
                enrollment=enrollment,
                idempotency_key=data["idempotency_key"],
                tender=data["tender"],
                months_ahead=data["months"],
                expected_total=data["expected_total"],
            )
        except DomainError as error:
            confirm.add_error(None, error.message)
            return _pay_check_page(
                request,
                enrollment,
                months=data["months"],
                confirm=confirm,
                status=error.status if error.status in (429, 503) else 400,
                fresh_key=True,
            )
        messages.success(
            request,
            _("已入账：%(reference)s") % {"reference": payment.receipt.number},
        )
        return redirect("staff:counter_receipt", payment.pk)
    number = request.GET.get("number")
    if not number:
        return _pay_find_page(request, CounterPayFindForm())
    find = CounterPayFindForm(
        {"number": number, "months": request.GET.get("months") or 1}
    )
    if not find.is_valid():
        return _pay_find_page(request, find, status=400)
    enrollment = selectors.enrollment_by_number(
        user=user, number=find.cleaned_data["number"]
    )
    if enrollment is None:
        find.add_error(
            "number",
            _(
                "本统筹区没有这个参保登记编号，请核对；其他统筹区的参保登记请到参保地办理。"
            ),
        )
        return _pay_find_page(request, find, status=404)
    return _pay_check_page(request, enrollment, months=find.cleaned_data["months"])


def _months(value) -> int:
    try:
        months = int(value or 1)
    except (TypeError, ValueError):
        return 1
    return months if 1 <= months <= 12 else 1


def _pay_find_page(request, form, *, status=200):
    context = _context(request, _("窗口缴费"), form=form)
    return TemplateResponse(
        request, "staff/counter_pay_find.html", context, status=status
    )


def _pay_check_page(
    request, enrollment, *, months, confirm=None, status=200, fresh_key=False
):
    """Check your answers: the person (masked), period, amount and its
    breakdown, priced by the server as the payment will be."""
    quote, quote_error = None, ""
    try:
        quote = quote_for_enrollment(enrollment_id=enrollment.pk, months_ahead=months)
    except DomainError as error:
        quote_error = error.message
    if quote is not None and (confirm is None or fresh_key):
        initial = {
            "number": enrollment.reference,
            "months": months,
            "expected_total": quote.total,
            "idempotency_key": new_key(),
        }
        if confirm is None:
            confirm = CounterPayConfirmForm(initial=initial)
        else:
            # After a refusal: the figures shown now, and a new key so that
            # confirming again is a new entry, not the refused one.
            confirm.data = confirm.data.copy()
            confirm.data.update({key: str(value) for key, value in initial.items()})
    counter_person_viewed(
        staff=request.user, person=enrollment.person, what=_("窗口缴费：核对应缴金额")
    )
    context = _context(
        request,
        _("核对缴费信息"),
        enrollment=enrollment,
        person=enrollment.person,
        quote=quote,
        quote_error=quote_error,
        months=months,
        form=confirm,
    )
    return TemplateResponse(
        request, "staff/counter_pay_check.html", context, status=status
    )


def counter_receipt(request, pk: int):
    """After 确认入账: the receipt for the clerk, to print or hand over."""
    _require_scope(request.user)
    payment = selectors.payment_for_staff(user=request.user, pk=pk)
    context = _context(
        request,
        _("已入账"),
        payment=payment,
        receipt=payment.receipt,
        tender=getattr(payment, "tender", None),
        enrollment=payment.order.enrollment,
        verify_url=_verify_url(request, payment.receipt),
    )
    return TemplateResponse(request, "staff/counter_receipt.html", context)


def counter_receipt_pdf(request, pk: int):
    """The receipt PDF, opened in the browser to print."""
    _require_scope(request.user)
    payment = selectors.payment_for_staff(user=request.user, pk=pk)
    content = receipt_pdf.render(
        payment.receipt, verify_url=_verify_url(request, payment.receipt)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="receipt-{payment.receipt.number}.pdf"'
    )
    return response


def _verify_url(request, receipt) -> str:
    return request.build_absolute_uri(
        reverse("payments:verify")
        + "?"
        + urlencode({"code": receipt.verification_code})
    )


# --- the clerk's day and the day close -------------------------------------------------


def _day(request) -> dt.date:
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(request.GET.get("day") or "")
    except ValueError:
        return today
    return min(day, today)


def _with_labels(takings: list[dict]) -> list[dict]:
    labels = dict(Tender.choices)
    return [
        {
            **line,
            "label": labels.get(line["tender"], _("收款方式未登记")),
            "matches": line["count"] == line["receipts_count"]
            and line["payments"] == line["receipts"],
        }
        for line in takings
    ]


def counter_day(request):
    """我的今日收费: what this clerk took (per tender) and the receipts."""
    user = request.user
    _require_act(user)
    day = _day(request)
    takings = _with_labels(counter_takings(clerk_id=user.pk, day=day))
    closes = (
        selectors.day_closes_of(region_code=user.region_id, day=day)
        if user.region_id
        else {}
    )
    context = _context(
        request,
        _("我的收费"),
        day=day,
        today=timezone.localdate(),
        takings=takings,
        count=sum(line["count"] for line in takings),
        total=sum((line["payments"] for line in takings), 0),
        payments=selectors.counter_payments_of(clerk_id=user.pk, day=day),
        day_close=closes.get(user.pk),
    )
    return TemplateResponse(request, "staff/counter_day.html", context)


def _day_close_region(request) -> tuple[str | None, list[Region]]:
    user = request.user
    _require_scope(user)
    if user.is_superuser or is_auditor(user):
        regions = list(Region.objects.order_by("code"))
        code = request.GET.get("region") or request.POST.get("region") or None
        if code not in {region.code for region in regions}:
            code = None
        return code, regions
    if user.role != Role.SUPERVISOR:
        raise PermissionDenied
    return user.region_id, []


def day_close(request):
    """日结对账: each clerk of the region who took counter payments on the
    day, their takings per tender against the receipts, and the close."""
    region_code, regions = _day_close_region(request)
    user = request.user
    may_close = (user.is_superuser or user.role == Role.SUPERVISOR) and bool(
        region_code
    )
    day = _day(request)
    failed, status = None, 200
    if request.method == "POST":
        if not may_close:
            raise PermissionDenied
        try:
            day = dt.date.fromisoformat(request.POST.get("day") or "")
        except ValueError as error:
            raise Http404 from error
        failed = DayCloseForm(request.POST)
        if failed.is_valid():
            data = failed.cleaned_data
            try:
                closed = day_close_record(
                    supervisor=user,
                    clerk_id=data["clerk"],
                    day=day,
                    counted={"cash": data["cash"], "card": data["card"]},
                    note=data["note"],
                )
            except DomainError as error:
                status = form_error_from(failed, error)
            else:
                messages.success(
                    request,
                    _("已日结：%(clerk)s %(day)s，凭证合计 %(total)s。")
                    % {
                        "clerk": closed.clerk.get_username(),
                        "day": day.isoformat(),
                        "total": format_yuan(closed.receipts_total),
                    },
                )
                query = {"day": day.isoformat()}
                if regions:
                    query["region"] = region_code
                return redirect(reverse("staff:day_close") + "?" + urlencode(query))
        else:
            status = 400
    rows = []
    if region_code:
        closes = selectors.day_closes_of(region_code=region_code, day=day)
        for clerk in selectors.counter_clerks_of(region_code=region_code, day=day):
            takings = _with_labels(counter_takings(clerk_id=clerk.pk, day=day))
            form = (
                failed
                if failed is not None and str(failed.data.get("clerk")) == str(clerk.pk)
                else DayCloseForm(
                    initial={"clerk": clerk.pk}, auto_id=f"id_{clerk.pk}_%s"
                )
            )
            rows.append(
                {
                    "clerk": clerk,
                    "takings": takings,
                    "count": sum(line["count"] for line in takings),
                    "payments": sum((line["payments"] for line in takings), 0),
                    "receipts": sum((line["receipts"] for line in takings), 0),
                    "matches": all(line["matches"] for line in takings),
                    "close": closes.get(clerk.pk),
                    "form": form,
                }
            )
    context = _context(
        request,
        _("日结对账"),
        day=day,
        today=timezone.localdate(),
        rows=rows,
        region_code=region_code,
        region=Region.objects.filter(pk=region_code).first() if region_code else None,
        regions=regions,
        may_close=may_close,
    )
    return TemplateResponse(request, "staff/day_close.html", context, status=status)

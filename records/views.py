"""Citizen pages of the records app: 异地就医备案 (file with check-your-answers
and confirmation, list, detail, cancel, certificate PDF), 参保证明 (issue,
view, PDF), 个人账户, 缴费年限, and the public verification page of both
documents. Thin: parse, call a selector or a service, render."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.forms import form_error_from
from people.access import may_act_for, person_get_for_user
from people.limits import RateLimited, rate_limit_check
from people.models import Person, Scope
from people.services import proxy_views_record

from . import documents, selectors, services
from .forms import FilingForm
from .models import FILING_MACHINE, FilingKind


def citizen_required(view):
    """A signed-in user tied to a person (staff without one go to the home page)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if request.user.person_id is None:
            return redirect(settings.HOME_URL)
        return view(request, *args, **kwargs)

    return wrapper


def _looked_at(request, person_ids, what) -> None:
    # `what` untranslated (gettext_noop): the log is read in its reader's language.
    proxy_views_record(user=request.user, person_ids=list(person_ids), what=what)


def _verify_url(request, code: str) -> str:
    return request.build_absolute_uri(reverse("records:verify") + f"?code={code}")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- 异地就医备案 ------------------------------------------------------------------


@citizen_required
@require_GET
def filing_list(request):
    filings = selectors.filings_for_user(user=request.user)
    _looked_at(request, {f.person_id for f in filings}, gettext_noop("异地就医备案"))
    return render(request, "records/filing_list.html", {"filings": filings})


def _filing_args(form: FilingForm) -> dict:
    data = form.cleaned_data
    return {
        "reason": data["reason"],
        "destination_code": data["destination"],
        "start_on": data["start_on"],
        "residence_permit_number": data["residence_permit_number"],
        "commitment": data["commitment"],
    }


@citizen_required
@require_http_methods(["GET", "POST"])
def filing_new(request):
    """The form; then check your answers; then 确认备案 files it."""
    persons = selectors.family_persons(request.user, scope=Scope.ENROLL)
    if request.method != "POST":
        form = FilingForm(persons=persons, initial={"person": str(persons[0][0].pk)})
        return render(request, "records/filing_form.html", {"form": form})
    form = FilingForm(request.POST, persons=persons)
    if not form.is_valid():
        return render(request, "records/filing_form.html", {"form": form}, status=400)
    if "edit" in request.POST:
        # "修改" on the check page: back to the form, on the field to change.
        field = form.fields.get(request.POST.get("edit"))
        if field is not None:
            field.widget.attrs["autofocus"] = True
        return render(request, "records/filing_form.html", {"form": form})
    person = form.person_obj
    try:
        if request.POST.get("confirm") == "1":
            filing = services.filing_create(
                actor=request.user, person_id=person.pk, **_filing_args(form)
            )
            return redirect("records:filing_done", pk=filing.pk)
        plan = services.filing_check(person=person, **_filing_args(form))
    except DomainError as error:
        status = form_error_from(form, error)
        return render(
            request, "records/filing_form.html", {"form": form}, status=status
        )
    return render(
        request,
        "records/filing_check.html",
        {"form": form, "plan": plan, "reason_label": form.reason_label},
    )


def _in_force(filing) -> bool:
    """Active and not past its end (a temporary filing the expiry scan has not
    reached yet is shown as expired)."""
    return FILING_MACHINE.can(filing.status, action="cancel") and (
        filing.end_on is None or filing.end_on >= timezone.localdate()
    )


def _filing_context(request, filing) -> dict:
    locked = filing.locked_until is not None and (
        timezone.localdate() < filing.locked_until
    )
    active = _in_force(filing)
    return {
        "filing": filing,
        "validity": documents.filing_validity(filing),
        "evidence": documents.filing_evidence(filing),
        "long_term": filing.kind == FilingKind.LONG_TERM,
        "in_force": active,
        "locked": active and locked,
        "may_act": may_act_for(
            user=request.user, person_id=filing.person_id, scope=Scope.ENROLL
        ),
    }


@citizen_required
@require_GET
def filing_detail(request, pk):
    filing = selectors.filing_get_for_user(user=request.user, pk=pk)
    _looked_at(request, [filing.person_id], gettext_noop("异地就医备案"))
    return render(
        request, "records/filing_detail.html", _filing_context(request, filing)
    )


@citizen_required
@require_GET
def filing_done(request, pk):
    """Confirmation: the filing number large, what it allows and until when."""
    filing = selectors.filing_get_for_user(user=request.user, pk=pk)
    return render(request, "records/filing_done.html", _filing_context(request, filing))


@citizen_required
@require_http_methods(["GET", "POST"])
def filing_cancel(request, pk):
    """取消备案 (asks first)."""
    filing = selectors.filing_get_for_user(user=request.user, pk=pk, scope=Scope.ENROLL)
    context = _filing_context(request, filing)
    if request.method == "POST":
        try:
            services.filing_cancel(actor=request.user, filing_id=filing.pk)
        except DomainError as error:
            context["error"] = error.message
            return render(
                request, "records/filing_cancel.html", context, status=error.status
            )
        messages.success(request, _("异地就医备案已取消。"))
        return redirect("records:filing_detail", pk=filing.pk)
    return render(request, "records/filing_cancel.html", context)


@citizen_required
@require_GET
def filing_certificate(request, pk):
    """备案凭证 as a PDF."""
    filing = selectors.filing_get_for_user(user=request.user, pk=pk)
    content = documents.filing_pdf(
        filing, verify_url=_verify_url(request, filing.verification_code)
    )
    return _pdf(content, f"filing-{filing.number}.pdf")


# --- 参保证明 ----------------------------------------------------------------------


def _certificate_list(request, *, errors=None, status=200):
    persons = selectors.family_persons(request.user)
    return render(
        request,
        "records/certificate_list.html",
        {
            "persons": persons,
            "certificates": selectors.certificates_for_user(user=request.user),
            "errors": errors or {},
        },
        status=status,
    )


@citizen_required
@require_GET
def certificate_list(request):
    return _certificate_list(request)


@citizen_required
@require_POST
def certificate_issue(request, person_id):
    person = person_get_for_user(user=request.user, pk=person_id, scope=Scope.VIEW)
    try:
        certificate = services.certificate_issue(
            actor=request.user, person_id=person.pk
        )
    except DomainError as error:
        return _certificate_list(
            request, errors={person.pk: error.message}, status=error.status
        )
    return redirect("records:certificate_detail", pk=certificate.pk)


@citizen_required
@require_GET
def certificate_detail(request, pk):
    certificate = selectors.certificate_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "records/certificate_detail.html",
        {
            "certificate": certificate,
            "facts": documents.facts_view(certificate.facts),
            "verify_url": _verify_url(request, certificate.verification_code),
        },
    )


@citizen_required
@require_GET
def certificate_pdf(request, pk):
    certificate = selectors.certificate_get_for_user(user=request.user, pk=pk)
    content = documents.certificate_pdf(
        certificate, verify_url=_verify_url(request, certificate.verification_code)
    )
    return _pdf(content, f"certificate-{certificate.number}.pdf")


# --- 个人账户 and 缴费年限 -------------------------------------------------------------


def _person_for(request, person_id) -> Person:
    """The user's own person, or one whose records they may see (else 404)."""
    if person_id is None:
        return Person.objects.select_related("region").get(pk=request.user.person_id)
    person = person_get_for_user(user=request.user, pk=person_id, scope=Scope.VIEW)
    _looked_at(request, [person.pk], gettext_noop("个人账户与缴费年限"))
    return person


@citizen_required
@require_GET
def account(request, person_id=None):
    """个人账户: balance per region, every entry, and what is in transit."""
    person = _person_for(request, person_id)
    return render(
        request,
        "records/account.html",
        {
            "person": person,
            "persons": selectors.family_persons(request.user),
            "view": selectors.account_for_person(person_id=person.pk),
        },
    )


@citizen_required
@require_GET
def years(request, person_id=None):
    """缴费年限: months per region and in total, the requirement and what remains."""
    person = _person_for(request, person_id)
    view = selectors.contribution_years(person=person)
    return render(
        request,
        "records/years.html",
        {
            "person": person,
            "persons": selectors.family_persons(request.user),
            "view": view,
            "total_text": documents.months_text(view.total),
            "required_text": documents.months_text(view.required_total),
            "remaining_text": documents.months_text(view.remaining_total),
            "local_required_text": documents.months_text(view.required_local_actual),
            "local_remaining_text": documents.months_text(view.remaining_local_actual),
        },
    )


# --- Public verification -------------------------------------------------------------


@require_GET
def verify(request):
    """Public: a 备案凭证 or 参保证明 by its verification code, masked; nothing
    else. Rate-limited, as every page that looks a number up."""
    code = (request.GET.get("code") or "").strip()[:32]
    context = {"code": code}
    if not code:
        return render(request, "records/verify.html", context)
    try:
        rate_limit_check(request, group="number_lookup")
    except RateLimited as error:
        context["error"] = error.message
        return render(request, "records/verify.html", context, status=error.status)
    filing = selectors.filing_by_code(code=code)
    certificate = None if filing else selectors.certificate_by_code(code=code)
    if filing is not None:
        context.update(
            filing=filing,
            masked_name=documents.mask_name(filing.person.name),
            validity=documents.filing_validity(filing),
            in_force=_in_force(filing),
        )
    elif certificate is not None:
        facts = documents.facts_view(certificate.facts)
        context.update(
            certificate=certificate,
            facts=facts,
            masked_name=documents.mask_name(facts.name),
        )
    status = 200 if filing or certificate else 404
    context["not_found"] = status == 404
    return render(request, "records/verify.html", context, status=status)

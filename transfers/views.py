"""Citizen pages of 转移接续: apply (check your answers, confirmation), list,
detail with a self-refreshing timeline, cancel, the information sheet (page
and signed PDF), and the public page that verifies a sheet by its code."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.forms import form_error_from
from enrollment.selectors import person_id_or_404
from people.access import person_ids_for_user
from people.limits import rate_limit_check
from people.models import Person, Scope

from . import demo, selectors, services, sheet_pdf
from .forms import SheetVerifyForm, TransferApplyForm
from .models import TRANSFER_MACHINE, Channel, TransferKind

POLL_SECONDS = 3


def _persons_for(user):
    ids = person_ids_for_user(user, scope=Scope.TRANSFER)
    persons = {p.pk: p for p in Person.objects.filter(pk__in=ids)}
    return [persons[pk] for pk in ids if pk in persons]


@login_required
@require_GET
def transfer_list(request):
    return render(
        request,
        "transfers/list.html",
        {"transfers": selectors.transfers_for_user(user=request.user)},
    )


def _apply_page(request, form, person, *, status=200):
    # The form explains 暂停参保 and links to it for the person chosen.
    return render(
        request,
        "transfers/apply.html",
        {"form": form, "suspend_person_id": person.pk},
        status=status,
    )


@login_required
def transfer_apply(request):
    persons = _persons_for(request.user)
    if not persons:
        return redirect(settings.HOME_URL)
    if request.method != "POST":
        # ?person= (a relative's "apply for them" link): the form is for
        # them, their name filled in; someone the user may not act for is a 404.
        chosen = persons[0]
        if "person" in request.GET:
            wanted = person_id_or_404(request.GET["person"])
            chosen = next((p for p in persons if p.pk == wanted), None)
            if chosen is None:
                raise Http404
        form = TransferApplyForm(
            persons=persons, initial={"person": str(chosen.pk), "name": chosen.name}
        )
        return _apply_page(request, form, chosen)
    form = TransferApplyForm(request.POST, persons=persons)
    if not form.is_valid():
        return _apply_page(request, form, form.person_obj or persons[0], status=400)
    data = form.cleaned_data
    person = form.person_obj
    if "edit" in request.POST:
        # "修改" on the check page: back to the form, on the field to change.
        field = form.fields.get(request.POST.get("edit"))
        if field is not None:
            field.widget.attrs["autofocus"] = True
        return _apply_page(request, form, person)
    args = {
        "name": data["name"],
        "id_number": data["id_number"],
        "kind": data["kind"],
        "outgoing_region_code": data["outgoing_region"].code,
        "incoming_region_code": data["incoming_region"].code,
    }
    try:
        if request.POST.get("confirm") == "1":
            transfer = services.transfer_apply(
                person_id=person.pk,
                applicant=request.user,
                channel=Channel.ONLINE,
                **args,
            )
            return redirect("transfers:confirmation", pk=transfer.pk)
        # Check the preconditions now, so a refusal shows beside its field before the check page.
        services.transfer_check(person=person, **args)
    except DomainError as error:
        if error.code == "identity_mismatch" and data["name"].strip() != person.name:
            # Beside the field that differs from the person chosen: the name
            # (the number typed may well be theirs).
            error = DomainError(error.message, code=error.code, field="name")
        form_error_from(form, error)
        return _apply_page(request, form, person, status=400)
    kind_label = TransferKind(data["kind"]).label
    return render(
        request,
        "transfers/check.html",
        {"form": form, "person": person, "data": data, "kind_label": kind_label},
    )


@login_required
@require_GET
def transfer_confirmation(request, pk):
    transfer = selectors.transfer_get_for_user(user=request.user, pk=pk)
    return render(request, "transfers/confirmation.html", {"transfer": transfer})


@login_required
@require_GET
def transfer_detail(request, pk):
    transfer = selectors.transfer_get_for_user(user=request.user, pk=pk)
    if demo.watch_start(transfer=transfer, user=request.user):
        transfer.refresh_from_db()
    return render(
        request,
        "transfers/detail.html",
        {
            "transfer": transfer,
            "timeline": selectors.transfer_timeline(transfer),
            "poll_seconds": POLL_SECONDS,
            "can_cancel": TRANSFER_MACHINE.can(
                transfer.status, action="citizen_cancel"
            ),
        },
    )


@login_required
@require_GET
def transfer_status(request, pk):
    """What the detail page polls: it reloads itself when `version` changes."""
    transfer = selectors.transfer_get_for_user(user=request.user, pk=pk)
    return JsonResponse(
        {
            "status": transfer.status,
            "status_label": str(transfer.get_status_display()),
            "version": transfer.updated_at.isoformat(),
            "open": transfer.is_open,
        }
    )


@login_required
@require_POST
def transfer_cancel(request, pk):
    transfer = selectors.transfer_get_for_user(
        user=request.user, pk=pk, scope=Scope.TRANSFER
    )
    try:
        services.transfer_cancel(transfer_id=transfer.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("transfers:detail", pk=transfer.pk)
    messages.success(request, _("申请已撤销。"))
    return redirect("transfers:detail", pk=transfer.pk)


def _sheet_verify_url(request, sheet) -> str:
    return request.build_absolute_uri(
        reverse("transfers:sheet_verify") + f"?code={sheet.verification_code}"
    )


@login_required
@require_GET
def transfer_sheet(request, pk):
    """《参保人员基本医疗保险信息表》 as a page; its file is the signed PDF."""
    transfer = selectors.transfer_get_for_sheet(user=request.user, pk=pk)
    if request.GET.get("download") == "1":
        # Links from before the PDF existed.
        return redirect("transfers:sheet_pdf", pk=transfer.pk)
    return render(
        request,
        "transfers/sheet.html",
        {
            "transfer": transfer,
            "sheet": transfer.sheet,
            "verify_url": _sheet_verify_url(request, transfer.sheet),
        },
    )


@login_required
@require_GET
def transfer_sheet_pdf(request, pk):
    """The information sheet as a signed PDF (verification code, signature, QR code)."""
    transfer = selectors.transfer_get_for_sheet(user=request.user, pk=pk)
    content = sheet_pdf.render(
        transfer, verify_url=_sheet_verify_url(request, transfer.sheet)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="sheet-{transfer.sheet.number}.pdf"'
    )
    return response


@require_GET
def sheet_verify(request):
    """Public: given a sheet's verification code, its masked summary and
    whether its signature holds; nothing else. Rate-limited like every page
    that looks something up by a number."""
    form = SheetVerifyForm(request.GET if "code" in request.GET else None)
    sheet = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                rate_limit_check(request, group="number_lookup")
            except DomainError as error:
                status = form_error_from(form, error)
            else:
                sheet = selectors.sheet_by_code(code=form.cleaned_data["code"])
                status = 200 if sheet is not None else 404
        else:
            status = 400
    return render(
        request,
        "transfers/sheet_verify.html",
        {
            "form": form,
            "sheet": sheet,
            "signature_ok": sheet is not None and sheet.signature_holds(),
            "not_found": status == 404,
        },
        status=status,
    )

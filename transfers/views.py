"""Citizen pages of 转移接续: apply (check your answers, confirmation), list,
detail with a self-refreshing timeline, cancel, and the information sheet."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.forms import form_error_from
from people.access import person_ids_for_user
from people.models import Person, Scope

from . import selectors, services
from .forms import TransferApplyForm
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


@login_required
def transfer_apply(request):
    persons = _persons_for(request.user)
    if not persons:
        return redirect(settings.HOME_URL)
    if request.method != "POST":
        me = persons[0]
        form = TransferApplyForm(
            persons=persons, initial={"person": str(me.pk), "name": me.name}
        )
        return render(request, "transfers/apply.html", {"form": form})
    form = TransferApplyForm(request.POST, persons=persons)
    if not form.is_valid():
        return render(request, "transfers/apply.html", {"form": form}, status=400)
    if "edit" in request.POST:
        # "修改" on the check page: back to the form, on the field to change.
        field = form.fields.get(request.POST.get("edit"))
        if field is not None:
            field.widget.attrs["autofocus"] = True
        return render(request, "transfers/apply.html", {"form": form})
    data = form.cleaned_data
    person = form.person_obj
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
        form_error_from(form, error)
        return render(request, "transfers/apply.html", {"form": form}, status=400)
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


@login_required
@require_GET
def transfer_sheet(request, pk):
    """《参保人员基本医疗保险信息表》 as a page, or as a file with ?download=1."""
    transfer = selectors.transfer_get_for_sheet(user=request.user, pk=pk)
    context = {"transfer": transfer, "sheet": transfer.sheet}
    if request.GET.get("download") == "1":
        body = render_to_string(
            "transfers/sheet_document.html", context, request=request
        )
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{transfer.sheet.number}.html"'
        )
        return response
    return render(request, "transfers/sheet.html", context)

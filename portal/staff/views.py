"""Staff pages beside the admin: the regional dashboard, its CSV exports and
counter work. Every view is wrapped by admin.site.admin_view (staff only,
login through the admin) and scoped to the staff member's region."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.export import csv_response
from core.forms import form_error_from
from core.models import Region
from people.admin_base import has_no_scope, is_auditor
from people.selectors import person_by_id_number
from people.services import authority_record_at_counter

from . import charts, reports
from .forms import CounterAuthorityForm, CounterPersonForm
from .services import person_register_at_counter


def _parse_date(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _scope(request) -> tuple[str | None, list[Region]]:
    """(region code or None for all, regions the user may choose among)."""
    user = request.user
    if has_no_scope(user) and not user.is_superuser:
        raise PermissionDenied
    if user.is_superuser or is_auditor(user):
        regions = list(Region.objects.order_by("code"))
        code = request.GET.get("region") or None
        if code and code not in {r.code for r in regions}:
            code = None
        return code, regions
    return user.region_id, []


def _filters(request):
    today = timezone.localdate()
    end = _parse_date(request.GET.get("end"), today)
    start = _parse_date(request.GET.get("start"), end - dt.timedelta(days=29))
    if start > end:
        start, end = end, start
    if (end - start).days > 366:
        start = end - dt.timedelta(days=366)
    try:
        year = int(request.GET.get("year") or end.year)
    except ValueError:
        year = end.year
    return start, end, year


def dashboard(request):
    region_code, regions = _scope(request)
    start, end, year = _filters(request)
    panels = reports.dashboard(region_code=region_code, start=start, end=end, year=year)
    by_key = {panel.key: panel for panel in panels}
    chart_svgs = {
        "premiums": charts.stacked_columns(
            [(row[0].isoformat(), row[1], row[3]) for row in by_key["premiums"].rows],
            title=by_key["premiums"].title,
        ),
        "enrollments": charts.horizontal_bars(
            [(f"{row[1]} · {row[2]}", row[3]) for row in by_key["enrollments"].rows],
            title=by_key["enrollments"].title,
        ),
        "transfers": charts.horizontal_bars(
            # A leg with nothing finished in the period has no rate (not 0%).
            [
                (row[0], round(row[3] * 100 / row[2], 1))
                for row in by_key["transfers"].rows
                if row[2]
            ],
            title=by_key["transfers"].title,
            unit="%",
            max_value=100,
        ),
        "failed": "",
    }
    query = request.GET.copy()
    context = {
        **admin.site.each_context(request),
        "title": _("经办数据看板"),
        "panels": [(panel, chart_svgs.get(panel.key, "")) for panel in panels],
        "region_code": region_code,
        "region": Region.objects.filter(pk=region_code).first()
        if region_code
        else None,
        "regions": regions,
        "start": start,
        "end": end,
        "year": year,
        "query": query.urlencode(),
    }
    return TemplateResponse(request, "staff/dashboard.html", context)


def export_csv(request, panel_key: str):
    region_code, _regions = _scope(request)
    start, end, year = _filters(request)
    panel = reports.panel(
        panel_key, region_code=region_code, start=start, end=end, year=year
    )
    if panel is None:
        raise Http404
    filename = f"{panel_key}-{region_code or 'all'}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return csv_response(filename, panel.columns, panel.rows)


def counter_person(request):
    """窗口登记: register a person without an account."""
    user = request.user
    if (
        is_auditor(user)
        or user.region_id is None
        or not user.has_perm("people.add_person")
    ):
        raise PermissionDenied
    form = CounterPersonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                person, created = person_register_at_counter(
                    staff=user,
                    id_number=data["id_number"],
                    name=data["name"],
                    mobile=data["mobile"],
                )
            except DomainError as error:
                status = form_error_from(form, error)
            else:
                if created:
                    messages.success(
                        request, _("已登记参保人 %(name)s。") % {"name": person.name}
                    )
                else:
                    messages.info(
                        request,
                        _("%(name)s 已有登记信息，已为您打开。")
                        % {"name": person.name},
                    )
                return redirect("staff:counter_person_detail", person.pk)
        status = status if status != 200 else 400
    context = {
        **admin.site.each_context(request),
        "title": _("窗口登记参保人"),
        "form": form,
    }
    return TemplateResponse(
        request, "staff/counter_person.html", context, status=status
    )


def counter_authority(request):
    """窗口登记代办授权: an adult's consent in person, or a guardian proven by
    the household register; audited, and both persons are told."""
    user = request.user
    if (
        is_auditor(user)
        or user.region_id is None
        or not user.has_perm("people.add_person")
    ):
        raise PermissionDenied
    form = CounterAuthorityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            relative = person_by_id_number(id_number=data["relative_id_number"])
            owner = person_by_id_number(id_number=data["owner_id_number"])
            if relative is None or relative.region_id != user.region_id:
                form.add_error(
                    "relative_id_number",
                    _("本统筹区没有此参保人，请先在“窗口登记参保人”中登记。"),
                )
            if owner is None:
                form.add_error(
                    "owner_id_number", _("没有此人的登记信息，请先在窗口登记。")
                )
            if not form.errors:
                try:
                    authority_record_at_counter(
                        staff=user,
                        owner=owner,
                        relative=relative,
                        relation=data["relation"],
                        basis=data["basis"],
                        evidence=data["evidence"],
                    )
                except DomainError as error:
                    status = form_error_from(form, error)
                else:
                    messages.success(
                        request,
                        _("已登记：%(owner)s 可代 %(relative)s 办理医保业务。")
                        % {"owner": owner.name, "relative": relative.name},
                    )
                    return redirect("staff:counter_person_detail", relative.pk)
        status = status if status != 200 else 400
    context = {
        **admin.site.each_context(request),
        "title": _("窗口登记代办授权"),
        "form": form,
    }
    return TemplateResponse(
        request, "staff/counter_authority.html", context, status=status
    )

"""Citizen pages of enrollment (参保登记, 参保信息). Thin: parse, call a
service or selector, render. Each registration goes form → check your answers
→ confirmation."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.forms import form_error_from
from core.pagecache import page_body
from people.access import person_get_for_user
from people.models import Scope
from people.services import proxy_views_record

from . import rules, selectors, services
from .forms import (
    FlexibleEnrollmentForm,
    NewbornEnrollmentForm,
    ResidentEnrollmentForm,
    SuspendForm,
    region_for,
)
from .models import LIVE_STATUSES, Enrollment, EnrollmentStatus, Policy, Scheme


def citizen_required(view):
    """A signed-in user tied to a person (staff without one go to the home page)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if request.user.person_id is None:
            return redirect(settings.HOME_URL)
        return view(request, *args, **kwargs)

    return wrapper


def _form_context(request, *, flexible: bool = False, newborn: bool = False) -> dict:
    today = timezone.localdate()
    persons = selectors.family_for_user(request.user, scope=Scope.ENROLL)
    if flexible:
        years = [today.year, today.year + 1]
    elif newborn:
        years = selectors.newborn_years(today)
    else:
        years = selectors.open_years(today)
    return {
        "persons": persons,
        "years": years,
        "regions": list(selectors.regions_with_policy()),
        "today": today,
    }


def _initial(request, persons, regions) -> dict:
    """Prefill from the query string (change links, "enroll this person");
    someone else's person id is a 404. The region follows the person
    prefilled (or the user), never the first in the list."""
    initial = {
        key: request.GET[key]
        for key in ("year", "region", "category", "base")
        if key in request.GET
    }
    person = None
    if "person" in request.GET:
        person = person_get_for_user(
            user=request.user,
            pk=selectors.person_id_or_404(request.GET["person"]),
            scope=Scope.ENROLL,
        )
        initial["person"] = str(person.pk)
    elif persons:
        person = persons[0][0]
    if person is not None and "region" not in initial:
        region = region_for(person, regions)
        if region:
            initial["region"] = region
    return initial


def _two_step(request, form, *, register, templates, extra=None):
    """POST without step=confirm: check your answers. POST with it: register.
    An invalid form (or a refusal) shows the form again with status 400."""
    context = {"form": form, **(extra or {})}
    if request.method == "POST" and form.is_valid():
        if request.POST.get("step") == "confirm":
            try:
                enrollment = register(form)
            except DomainError as error:
                form_error_from(form, error)
            else:
                return redirect("enrollment:done", pk=enrollment.pk)
        else:
            return render(request, templates[1], {**context, "plan": form.plan})
    return render(request, templates[0], context, status=400 if form.errors else 200)


@citizen_required
def start(request):
    """参保登记: who can be enrolled for which year, and the ways to do it."""
    today = timezone.localdate()
    persons = selectors.family_for_user(request.user, scope=Scope.ENROLL)
    years = selectors.open_years(today)
    live = {
        (e.person_id, e.year): e
        for e in Enrollment.objects.filter(
            person_id__in=[p.pk for p, _r in persons],
            year__in=years,
            status__in=LIVE_STATUSES,
        ).select_related("region")
    }
    rows = [
        {
            "person": person,
            "relation": relation,
            "years": [(year, live.get((person.pk, year))) for year in years],
        }
        for person, relation in persons
    ]
    return render(request, "enrollment/start.html", {"rows": rows, "years": years})


@citizen_required
@require_http_methods(["GET", "POST"])
def resident(request):
    """Enroll oneself or a family member in residents' insurance."""
    context = _form_context(request)
    initial = (
        {}
        if request.method == "POST"
        else _initial(request, context["persons"], context["regions"])
    )
    form = ResidentEnrollmentForm(
        request.POST if request.method == "POST" else None, initial=initial, **context
    )

    def register(form):
        data = form.cleaned_data
        return services.enrollment_register_resident(
            actor=request.user,
            person=form.person_obj(),
            region=data["region"],
            year=data["year"],
            category=data["category"],
            today=form.today,
        )

    return _two_step(
        request,
        form,
        register=register,
        templates=("enrollment/resident_form.html", "enrollment/resident_check.html"),
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def newborn(request):
    """新生儿参保: add the child to the family and enroll them."""
    context = _form_context(request, newborn=True)
    owner = context["persons"][0][0]
    initial = (
        {}
        if request.method == "POST"
        else _initial(request, context["persons"], context["regions"])
    )
    form = NewbornEnrollmentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        owner=owner,
        **context,
    )

    def register(form):
        data = form.cleaned_data
        return services.enrollment_register_newborn(
            actor=request.user,
            owner=owner,
            name=data["name"],
            id_number=data["id_number"],
            birth_certificate=data["birth_certificate"],
            region=data["region"],
            year=data["year"],
            relation=data["relation"],
            today=form.today,
        )

    return _two_step(
        request,
        form,
        register=register,
        templates=("enrollment/newborn_form.html", "enrollment/newborn_check.html"),
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def flexible(request):
    """灵活就业人员参保: a contribution base within the region's range."""
    context = _form_context(request, flexible=True)
    initial = (
        {}
        if request.method == "POST"
        else _initial(request, context["persons"], context["regions"])
    )
    initial.setdefault("year", context["today"].year)
    form = FlexibleEnrollmentForm(
        request.POST if request.method == "POST" else None, initial=initial, **context
    )
    policies = (
        Policy.objects.filter(year__in=context["years"])
        .select_related("region")
        .order_by("year", "region")
    )
    ranges = [
        {
            "policy": policy,
            "premium_min": rules.flexible_monthly_premium(
                base=policy.base_min, rate=policy.flexible_rate
            ),
            "premium_max": rules.flexible_monthly_premium(
                base=policy.base_max, rate=policy.flexible_rate
            ),
        }
        for policy in policies
    ]

    def register(form):
        data = form.cleaned_data
        return services.enrollment_register_flexible(
            actor=request.user,
            person=form.person_obj(),
            region=data["region"],
            year=data["year"],
            base=data["base"],
            today=form.today,
        )

    return _two_step(
        request,
        form,
        register=register,
        templates=("enrollment/flexible_form.html", "enrollment/flexible_check.html"),
        extra={"ranges": ranges},
    )


@citizen_required
def done(request, pk):
    """Confirmation: the registration number, the price and what happens next."""
    enrollment = selectors.enrollment_get_for_user(user=request.user, pk=pk)
    policy = Policy.objects.get(region_id=enrollment.region_id, year=enrollment.year)
    context = {"enrollment": enrollment, "policy": policy}
    if enrollment.scheme == Scheme.RESIDENT:
        context["premium"] = selectors.resident_premium(enrollment)
        # Never a pay-by date already past (SPEC §4): none means pay now.
        context["due"] = selectors.payment_due(enrollment=enrollment, policy=policy)
        if enrollment.status == EnrollmentStatus.REGISTERED:
            context["cover_from"] = selectors.enrollment_cover_if_paid(
                enrollment=enrollment, policy=policy
            )
    elif enrollment.contribution_base is not None:
        context["monthly_premium"] = rules.flexible_monthly_premium(
            base=enrollment.contribution_base, rate=policy.flexible_rate
        )
    return render(request, "enrollment/done.html", context)


@citizen_required
def coverage(request):
    """参保信息 for the user and each person whose records they may see. The
    body comes from the cache until something the user may see changes
    (core.pagecache)."""

    def build(today):
        rows = selectors.coverage_for_user(request.user, today=today)
        # Recorded when the body is built: a body kept is the user's, of
        # today, so the "looked at" rows of today are there whenever it is
        # served again.
        proxy_views_record(
            user=request.user,
            person_ids=[row.person.pk for row in rows],
            what=_("参保信息"),
        )
        return {"rows": rows}, True

    body = page_body(
        request,
        view="enrollment.coverage",
        params=(),
        template="enrollment/coverage_body.html",
        build=build,
    )
    return render(request, "enrollment/coverage.html", {"body": body})


@citizen_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk):
    """撤销 an unpaid registration (asks first)."""
    enrollment = selectors.enrollment_get_for_user(
        user=request.user, pk=pk, scope=Scope.ENROLL
    )
    if request.method == "POST":
        try:
            services.enrollment_cancel(actor=request.user, enrollment_id=enrollment.pk)
        except DomainError as error:
            messages.error(request, error.message)
            return render(
                request,
                "enrollment/cancel.html",
                {"enrollment": enrollment},
                status=409,
            )
        messages.success(
            request,
            _("已撤销 %(name)s 的%(year)d年度参保登记。")
            % {"name": enrollment.person.name, "year": enrollment.year},
        )
        return redirect("enrollment:coverage")
    return render(request, "enrollment/cancel.html", {"enrollment": enrollment})


# --- 暂停参保 and 恢复参保 (SPEC §5) -------------------------------------------------


def _suspend_form(enrollment, data=None, initial=None) -> SuspendForm:
    # Ids per enrollment, so several forms on one page keep their labels apart.
    return SuspendForm(
        data, enrollment=enrollment, initial=initial, auto_id=f"id_{enrollment.pk}_%s"
    )


@citizen_required
def suspend(request):
    """暂停参保: the enrollments that can be suspended of the person asked for
    (?person=), or of everyone the user may suspend for, each with its reasons."""
    person = None
    if "person" in request.GET:
        person = person_get_for_user(
            user=request.user,
            pk=selectors.person_id_or_404(request.GET["person"]),
            scope=Scope.SUSPEND,
        )
    rows = [
        {
            "person": row_person,
            "relation": relation,
            "items": [(e, _suspend_form(e)) for e in enrollments],
        }
        for row_person, relation, enrollments in selectors.suspendable_for_user(
            user=request.user, person=person
        )
    ]
    return render(request, "enrollment/suspend.html", {"rows": rows, "person": person})


@citizen_required
@require_http_methods(["GET", "POST"])
def suspend_confirm(request, pk):
    """One enrollment: its reasons → check your answers (suspending starts a
    legal process) → suspended, then the confirmation at the same address."""
    enrollment = selectors.enrollment_get_for_user(
        user=request.user, pk=pk, scope=Scope.SUSPEND
    )
    if request.method == "GET" and enrollment.status == EnrollmentStatus.SUSPENDED:
        return render(
            request,
            "enrollment/suspend_done.html",
            {
                "enrollment": enrollment,
                "suspended_on": selectors.enrollment_suspended_on(
                    enrollment_id=enrollment.pk
                ),
            },
        )
    form = (
        _suspend_form(enrollment, request.POST)
        if request.method == "POST"
        else _suspend_form(enrollment, initial={"reason": request.GET.get("reason")})
    )
    context = {"enrollment": enrollment, "form": form}
    if not enrollment.can_suspend:
        messages_text = _("该参保登记当前为“%(status)s”，不能暂停。") % {
            "status": enrollment.get_status_display()
        }
        return render(
            request,
            "enrollment/suspend_form.html",
            {**context, "refusal": messages_text},
            status=409 if request.method == "POST" else 200,
        )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if request.POST.get("step") != "confirm":
                return render(request, "enrollment/suspend_check.html", context)
            try:
                services.enrollment_suspend(
                    enrollment_id=enrollment.pk,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as error:
                status = form_error_from(form, error)
                if error.status == 403:
                    status = 403
            else:
                messages.success(
                    request,
                    _("已暂停 %(name)s 的%(year)d年度参保。")
                    % {"name": enrollment.person.name, "year": enrollment.year},
                )
                return redirect("enrollment:suspend_confirm", pk=enrollment.pk)
        else:
            status = 400
    return render(request, "enrollment/suspend_form.html", context, status=status)


@citizen_required
@require_http_methods(["GET", "POST"])
def resume(request, pk):
    """恢复参保: what resuming means under the gap rules, then resume."""
    enrollment = selectors.enrollment_get_for_user(
        user=request.user, pk=pk, scope=Scope.ENROLL
    )
    context = {"enrollment": enrollment}
    try:
        context["plan"] = services.resume_plan(enrollment=enrollment)
    except DomainError as error:
        context["refusal"] = error.message
        return render(
            request,
            "enrollment/resume.html",
            context,
            status=409 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        try:
            services.enrollment_resume(enrollment_id=enrollment.pk, actor=request.user)
        except DomainError as error:
            context["refusal"] = error.message
            return render(
                request, "enrollment/resume.html", context, status=error.status
            )
        messages.success(
            request,
            _("已恢复 %(name)s 的%(year)d年度参保。")
            % {"name": enrollment.person.name, "year": enrollment.year},
        )
        return redirect("enrollment:coverage")
    return render(request, "enrollment/resume.html", context)

"""Every write of the enrollment app, one transactional function each.

Other apps change enrollments only through these functions (payments activate
them, transfers suspend them and move contribution months).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError
from core.models import Region
from people.models import (
    Person,
    Role,
    Scope,
    msg_params,
    msg_phrase,
    msg_render,
)
from people.pagecache import family_changed
from people.services import (
    notify,
    person_get_or_create,
    person_lock,
    person_region_set,
    proxy_access_record,
    proxy_act,
)

from . import rules
from .models import (
    ENROLLMENT_MACHINE,
    LIVE_STATUSES,
    SUSPEND_REASONS_BY_SCHEME,
    Category,
    ContributionMonths,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    FlexibleMonth,
    MonthsKind,
    Policy,
    PolicyCategory,
    Scheme,
    SuspendReason,
    Verification,
    WaitingRepair,
)

# Statuses of past enrollments that count as covered years (no gap).
COVERED_STATUSES = (
    EnrollmentStatus.ACTIVE,
    EnrollmentStatus.SUSPENDED,
    EnrollmentStatus.TERMINATED,
)


def _lock(enrollment_id: int) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("person", "region")
        .get(pk=enrollment_id)
    )


def _already_done(enrollment: Enrollment, action: str) -> bool:
    """The enrollment is where `action` leads: a repeated call (a retried task,
    a second click) changes nothing instead of being refused."""
    return enrollment.status in {
        ENROLLMENT_MACHINE.target(source, action=action)
        for source in ENROLLMENT_MACHINE.sources(action=action)
    }


def _transition(
    enrollment: Enrollment,
    *,
    action: str,
    actor=None,
    reason: str = "",
    evidence: str = "",
) -> Enrollment:
    """Take `action` on a locked enrollment where the machine allows it
    (TransitionNotAllowed elsewhere), with its event row."""
    _transition_event(
        enrollment, action=action, actor=actor, reason=reason, evidence=evidence
    ).save()
    return enrollment


def _transition_event(
    enrollment: Enrollment,
    *,
    action: str,
    actor=None,
    reason: str = "",
    evidence: str = "",
) -> EnrollmentEvent:
    """Move a locked enrollment where `action` leads (TransitionNotAllowed
    elsewhere) and return its event row, not yet saved."""
    target = ENROLLMENT_MACHINE.target(enrollment.status, action=action)
    event = EnrollmentEvent(
        enrollment=enrollment,
        from_status=enrollment.status,
        to_status=target,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=str(reason)[:200],
        evidence=str(evidence)[:200],
    )
    enrollment.status = target
    return event


@transaction.atomic
def enrollment_transition(
    *,
    enrollment_id: int,
    action: str,
    actor=None,
    reason: str = "",
) -> Enrollment:
    """Take `action` (an action of ENROLLMENT_MACHINE) on an enrollment."""
    enrollment = _lock(enrollment_id)
    _transition(enrollment, action=action, actor=actor, reason=reason)
    enrollment.save(update_fields=["status", "updated_at"])
    return enrollment


def months_add(
    *,
    person_id: int,
    region_code: str,
    kind: str,
    months: int,
    reference: str,
    scheme: str = "",
    first_month: dt.date | None = None,
) -> None:
    """Add contribution months once per reference: one INSERT … ON CONFLICT
    DO NOTHING, so a second call changes nothing (and needs no savepoint in
    the caller's transaction). `scheme` and `first_month` (the first calendar
    month the months stand for) let the coverage page count only months
    already come and tell residents' months from employees'."""
    ContributionMonths.objects.bulk_create(
        [
            ContributionMonths(
                person_id=person_id,
                region_id=region_code,
                kind=kind,
                months=months,
                reference=reference,
                scheme=scheme,
                first_month=first_month,
            )
        ],
        ignore_conflicts=True,
    )
    # A bulk insert sends no signals: the cached pages are told here.
    family_changed(person_ids=[person_id])


def months_add_many(*, rows) -> None:
    """months_add for many at once (the transfer engine's batches): each row a
    dict of months_add's arguments, all in one INSERT … ON CONFLICT DO NOTHING
    whatever their number; a reference already added changes nothing."""
    ContributionMonths.objects.bulk_create(
        [
            ContributionMonths(
                person_id=row["person_id"],
                region_id=row["region_code"],
                kind=row["kind"],
                months=row["months"],
                reference=row["reference"],
                scheme=row.get("scheme", ""),
                first_month=row.get("first_month"),
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    family_changed(person_ids={row["person_id"] for row in rows})


@transaction.atomic
def enrollment_activate(
    *, enrollment_id: int, paid_on: dt.date, reference: str, actor=None
) -> Enrollment:
    """A residents' premium was paid: registered → active, with its benefit dates
    and waiting period (SPEC §4). Safe to call twice (the second call changes nothing)."""
    enrollment = _lock(enrollment_id)
    if _already_done(enrollment, "pay"):
        return enrollment
    if enrollment.scheme != Scheme.RESIDENT:
        raise DomainError(
            _("灵活就业人员按月缴费，请使用按月缴费。"), code="not_resident"
        )
    policy = Policy.objects.get(region_id=enrollment.region_id, year=enrollment.year)
    birth = None
    if enrollment.is_newborn and enrollment.waiting_months == 0:
        if (paid_on - enrollment.person.birth_date).days <= policy.newborn_days:
            birth = enrollment.person.birth_date
        elif paid_on > policy.window_end:
            # Registered in time but paid after the newborn's days and outside
            # the window: a late enrollment (SPEC §4), with the fixed wait.
            enrollment.waiting_months = policy.waiting_fixed_months
            enrollment.waiting_reason = rules.REASON_NEWBORN_LATE % {
                "days": policy.newborn_days,
                "fixed": policy.waiting_fixed_months,
            }
    enrollment.coverage_start = rules.resident_coverage_start(
        paid_on=paid_on,
        benefit_start=policy.benefit_start,
        waiting_months=enrollment.waiting_months,
        birth_date=birth,
    )
    enrollment.coverage_end = policy.benefit_end
    enrollment.paid_on = paid_on
    _transition(enrollment, action="pay", actor=actor, reason=_("缴费成功"))
    enrollment.save(
        update_fields=[
            "status",
            "coverage_start",
            "coverage_end",
            "paid_on",
            "waiting_months",
            "waiting_reason",
            "updated_at",
        ]
    )
    months_add(
        person_id=enrollment.person_id,
        region_code=enrollment.region_id,
        kind=MonthsKind.ACTUAL,
        months=12,
        reference=f"{reference}:months",
        scheme=Scheme.RESIDENT,
        first_month=policy.benefit_start.replace(day=1),
    )
    return enrollment


@transaction.atomic
def enrollment_flexible_month_paid(
    *,
    enrollment_id: int,
    period: str,
    paid_on: dt.date,
    reference: str,
    restores_gap: bool = False,
    actor=None,
) -> Enrollment:
    """A flexible worker's month `period` ("YYYY-MM") was paid: 月缴月享, it
    covers the following month. The first paid month activates the enrollment
    (with the policy's waiting period when it follows a gap of more than 3
    months). Each month is a FlexibleMonth row, from which the coverage page
    derives which months are covered (`rules.flexible_cover`); coverage_end
    is the end of the month the latest paid month covers. Safe to call twice
    per reference or month."""
    enrollment = _lock(enrollment_id)
    if enrollment.scheme != Scheme.FLEXIBLE:
        raise DomainError(
            _("该参保登记不是灵活就业人员职工医保。"), code="not_flexible"
        )
    month = rules.month_first(rules.period_index(period))
    if (
        ContributionMonths.objects.filter(reference=f"{reference}:months").exists()
        or FlexibleMonth.objects.filter(enrollment=enrollment, month=month).exists()
    ):
        return enrollment
    FlexibleMonth.objects.create(
        enrollment=enrollment,
        month=month,
        paid_on=paid_on,
        restores_gap=restores_gap,
        reference=reference[:80],
    )
    covers_from, covers_to = rules.flexible_month_covers(period)
    fields = ["status", "coverage_start", "coverage_end", "updated_at"]
    if ENROLLMENT_MACHINE.can(enrollment.status, action="pay"):
        start = covers_from
        if enrollment.waiting_months:
            start = rules.add_months(covers_from, enrollment.waiting_months)
        enrollment.coverage_start = start
        enrollment.paid_on = paid_on
        fields.append("paid_on")
        _transition(enrollment, action="pay", actor=actor, reason=_("首月缴费成功"))
    if enrollment.coverage_end is None or covers_to > enrollment.coverage_end:
        enrollment.coverage_end = covers_to
    enrollment.save(update_fields=fields)
    months_add(
        person_id=enrollment.person_id,
        region_code=enrollment.region_id,
        kind=MonthsKind.ACTUAL,
        months=1,
        reference=f"{reference}:months",
        scheme=Scheme.FLEXIBLE,
        first_month=month,
    )
    return enrollment


def _staff_may_act(actor, enrollment: Enrollment) -> None:
    """Staff act on evidence for their own region only; an auditor only reads."""
    if getattr(actor, "is_superuser", False):
        return
    role = getattr(actor, "role", None)
    if (
        role in (Role.CLERK, Role.SUPERVISOR)
        and actor.region_id == enrollment.region_id
    ):
        return
    raise DomainError(
        _("只有参保地的经办人员可以办理该业务。"), code="forbidden", field="evidence"
    )


def _is_staff(actor) -> bool:
    return actor is not None and (
        getattr(actor, "is_superuser", False)
        or getattr(actor, "role", Role.CITIZEN) != Role.CITIZEN
    )


def _date(day: dt.date) -> str:
    return date_format(day, "DATE_FORMAT")


@transaction.atomic
def enrollment_suspend(
    *,
    enrollment_id: int,
    reason: str,
    actor=None,
    evidence: str = "",
) -> Enrollment:
    """暂停参保 (SPEC §5): the insurance relationship is paused, which a
    transfer out needs. Cover already paid for is kept: a flexible worker's
    paid months still cover their following months, a resident's paid year
    runs to its end. A repeated call changes nothing.

    - A citizen (or someone holding their authority to suspend) gives one of
      the reasons of SUSPEND_REASONS_BY_SCHEME (`reason` is its value): a
      resident for a move or on joining employee insurance; a flexible
      worker also to stop paying.
    - Staff of the enrollment's region suspend on `evidence` (what they saw,
      e.g. the employer's enrollment certificate), with a reason of their own
      words or a SuspendReason value; the person is told in their inbox.
    - `actor=None` is the system itself.
    """
    enrollment = _lock(enrollment_id)
    if _already_done(enrollment, "suspend"):
        return enrollment
    # Refuse a status the machine does not suspend before any other check,
    # so every caller meets the same TransitionNotAllowed.
    ENROLLMENT_MACHINE.target(enrollment.status, action="suspend")
    reason = str(reason or "").strip()
    evidence = str(evidence or "").strip()
    code = reason if reason in SuspendReason.values else ""
    if actor is not None and not _is_staff(actor):
        allowed = SUSPEND_REASONS_BY_SCHEME.get(enrollment.scheme, ())
        if not allowed:
            raise DomainError(
                _("单位职工医保由单位办理暂停，请联系单位或参保地经办窗口。"),
                code="employer_scheme",
                field="reason",
            )
        if code not in allowed:
            raise DomainError(
                _("请选择暂停参保的原因。"), code="reason", field="reason"
            )
    elif _is_staff(actor):
        _staff_may_act(actor, enrollment)
        if not evidence:
            raise DomainError(
                _("请填写核验的证明材料（如单位参保证明、户口迁移证明）。"),
                code="evidence",
                field="evidence",
            )
    text = str(SuspendReason(code).label) if code else reason
    if not text:
        raise DomainError(_("请说明暂停参保的原因。"), code="reason", field="reason")
    what = msg_phrase(
        gettext_noop("暂停%(year)d年度%(scheme)s"),
        year=enrollment.year,
        scheme=Scheme(enrollment.scheme).label,
    )
    proxy_act(user=actor, person=enrollment.person, scope=Scope.SUSPEND, what=what)
    _transition(
        enrollment, action="suspend", actor=actor, reason=text, evidence=evidence
    )
    enrollment.suspend_reason = code
    enrollment.save(update_fields=["status", "suspend_reason", "updated_at"])
    if _is_staff(actor):
        notify(
            person=enrollment.person,
            subject=gettext_noop("经办人员已为您办理：%(what)s"),
            body=gettext_noop("原因：%(reason)s。已缴费期间的待遇不受影响。"),
            params={
                "what": what,
                # A reason of the list is read in the reader's language; the
                # clerk's own words stay as written.
                "reason": SuspendReason(code).label if code else reason,
            },
            url="/enrollment/coverage/",
        )
    return enrollment


def flexible_last_paid(enrollment: Enrollment) -> int | None:
    """The month index of the enrollment's latest paid month (from its month
    rows, or from coverage_end for months recorded before them)."""
    latest = (
        FlexibleMonth.objects.filter(enrollment=enrollment)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if latest is not None:
        return rules.month_index(latest)
    if enrollment.coverage_end is not None:
        return rules.month_index(enrollment.coverage_end) - 1
    return None


@dataclass(frozen=True)
class ResumePlan:
    """What resuming (恢复参保) would mean, before it is done (SPEC §5)."""

    enrollment: Enrollment
    policy: Policy
    missed_months: int  # flexible: months not paid before the current one
    waiting_months: int  # flexible: the new waiting period a resumption brings
    backpay_max: int

    @property
    def can_back_pay(self) -> bool:
        return 0 < self.missed_months <= self.backpay_max

    @property
    def note(self) -> str:
        if self.enrollment.scheme != Scheme.FLEXIBLE:
            return str(_("恢复后按已缴费的年度继续享受待遇。"))
        if self.waiting_months:
            return str(
                _(
                    "已断缴%(missed)d个月，超过%(limit)d个月：断缴期间不享受待遇，"
                    "恢复缴费后有%(wait)d个月等待期。"
                )
                % {
                    "missed": self.missed_months,
                    "limit": self.backpay_max,
                    "wait": self.waiting_months,
                }
            )
        if self.missed_months:
            return str(
                _("已断缴%(missed)d个月：补缴后断缴期间的待遇一并恢复。")
                % {"missed": self.missed_months}
            )
        return str(_("没有断缴，恢复后按月缴费即可连续享受待遇。"))


def resume_plan(*, enrollment: Enrollment, today: dt.date | None = None) -> ResumePlan:
    """Check a resumption (恢复参保) of a suspended enrollment under the gap
    rules; DomainError when it cannot be resumed."""
    today = today or timezone.localdate()
    if not ENROLLMENT_MACHINE.can(enrollment.status, action="resume"):
        raise DomainError(
            _("只有暂停参保的登记可以恢复。"), code="not_suspended", field="enrollment"
        )
    policy = _policy_for(enrollment.region_id, enrollment.year)
    if policy.benefit_end < today:
        raise DomainError(
            _("%(year)d年度已结束，不能恢复；请登记本年度的参保。")
            % {"year": enrollment.year},
            code="year_over",
            field="enrollment",
        )
    other = (
        Enrollment.objects.filter(
            person_id=enrollment.person_id,
            year=enrollment.year,
            status__in=LIVE_STATUSES,
        )
        .exclude(pk=enrollment.pk)
        .select_related("region")
        .first()
    )
    if other is not None:
        raise DomainError(
            _("%(year)d年度已在%(region)s参保，同一年度只能参保一次。")
            % {"year": enrollment.year, "region": other.region.display_name},
            code="already_enrolled",
            field="enrollment",
        )
    missed = wait = 0
    if enrollment.scheme == Scheme.FLEXIBLE:
        missed, wait = rules.flexible_resume_outlook(
            last_paid=flexible_last_paid(enrollment),
            current=rules.month_index(today),
            backpay_max=policy.backpay_max_months,
            gap_wait=policy.flexible_waiting_months,
        )
    return ResumePlan(enrollment, policy, missed, wait, policy.backpay_max_months)


@transaction.atomic
def enrollment_resume(
    *,
    enrollment_id: int,
    actor=None,
    evidence: str = "",
    today: dt.date | None = None,
) -> Enrollment:
    """恢复参保: a suspended enrollment is in force again (SPEC §5). A
    flexible worker's gap of at most 3 months can then be back-paid and is
    restored; a longer gap stays uncovered and the months paid after it wait
    (the cover months show both). A repeated call changes nothing."""
    enrollment = _lock(enrollment_id)
    if _already_done(enrollment, "resume"):
        return enrollment
    ENROLLMENT_MACHINE.target(enrollment.status, action="resume")  # as above
    if _is_staff(actor):
        _staff_may_act(actor, enrollment)
    plan = resume_plan(enrollment=enrollment, today=today)
    proxy_act(
        user=actor,
        person=enrollment.person,
        scope=Scope.ENROLL,
        what=msg_phrase(
            gettext_noop("恢复%(year)d年度%(scheme)s"),
            year=enrollment.year,
            scheme=Scheme(enrollment.scheme).label,
        ),
    )
    _transition(
        enrollment,
        action="resume",
        actor=actor,
        reason=_("恢复参保：%(note)s") % {"note": plan.note},
        evidence=evidence,
    )
    enrollment.suspend_reason = ""
    try:
        with transaction.atomic():
            enrollment.save(update_fields=["status", "suspend_reason", "updated_at"])
    except IntegrityError:
        raise DomainError(
            _("%(year)d年度已有参保登记，同一年度只能参保一次。")
            % {"year": enrollment.year},
            code="already_enrolled",
            field="enrollment",
        ) from None
    return enrollment


# No savepoint: nothing here needs undoing apart from the caller's transaction,
# and the transfer step that calls it on every sheet keeps its query count.
@transaction.atomic(savepoint=False)
def enrollment_ensure_suspended(
    *, enrollment_id: int, reason: str, actor=None
) -> Enrollment:
    """Suspend the enrollment where the machine allows it and leave it as it
    is otherwise (a transfer out finds it suspended, terminated or active).
    Returns the locked row, so the caller reads it after any change."""
    return enrollments_transition_allowed(
        enrollment_ids=[enrollment_id], action="suspend", actor=actor, reason=reason
    )[enrollment_id]


@transaction.atomic(savepoint=False)
def enrollments_transition_allowed(
    *, enrollment_ids, action: str, actor=None, reason: str = ""
) -> dict[int, Enrollment]:
    """Take `action` on each of these enrollments where ENROLLMENT_MACHINE
    allows it and leave the others as they are: the batch form for the
    transfer engine (suspend on the way out, resume on the way in), a fixed
    number of statements for any number of rows. Returns the locked rows by id.

    The system's changes are written in one UPDATE per target status (no
    signals: the caller tells people.pagecache); a person's (staff acting on
    one transfer) row by row, so that the audit log records them."""
    rows = {
        row.pk: row
        for row in Enrollment.objects.select_for_update(of=("self",))
        .filter(pk__in=list(enrollment_ids))
        .order_by("pk")
    }
    moving = [
        row
        for row in rows.values()
        if ENROLLMENT_MACHINE.can(row.status, action=action)
    ]
    if not moving:
        return rows
    EnrollmentEvent.objects.bulk_create(
        [
            _transition_event(row, action=action, actor=actor, reason=reason)
            for row in moving
        ]
    )
    if actor is not None:
        for row in moving:
            row.save(update_fields=["status", "updated_at"])
        return rows
    now = timezone.now()
    for target in sorted({row.status for row in moving}):
        Enrollment.objects.filter(
            pk__in=[row.pk for row in moving if row.status == target]
        ).update(status=target, updated_at=now)
    for row in moving:
        row.updated_at = now
    return rows


# --- Registration (参保登记) ----------------------------------------------------


def _region_code(region) -> str:
    return region.pk if isinstance(region, Region) else str(region)


def _policy_for(region_code: str, year: int) -> Policy:
    policy = (
        Policy.objects.select_related("region")
        .filter(region_id=region_code, year=year)
        .first()
    )
    if policy is None:
        raise DomainError(
            _("该统筹区尚未公布%(year)d年度的参保政策，请选择其他年度或统筹区。")
            % {"year": year},
            code="no_policy",
            field="year",
        )
    return policy


def _refuse_if_enrolled(person: Person, year: int) -> None:
    """A clear message before the database constraint (which still decides races)."""
    existing = (
        Enrollment.objects.filter(person=person, year=year, status__in=LIVE_STATUSES)
        .select_related("region")
        .first()
    )
    if existing is None:
        return
    if existing.scheme in (Scheme.EMPLOYEE, Scheme.FLEXIBLE):
        raise DomainError(
            _("%(name)s 已参加%(year)d年度职工医保，不能再参加居民医保。")
            % {"name": person.name, "year": year},
            code="employee_insured",
            field="person",
        )
    raise DomainError(
        _("%(name)s 已在%(region)s登记%(year)d年度的基本医保，同一年度只能参保一次。")
        % {"name": person.name, "region": existing.region.display_name, "year": year},
        code="already_enrolled",
        field="person",
    )


def _covered_years(person: Person) -> set[int]:
    return set(
        Enrollment.objects.filter(
            person=person, status__in=COVERED_STATUSES
        ).values_list("year", flat=True)
    )


@dataclass(frozen=True)
class ResidentPlan:
    """What a residents' registration would be, before anything is written:
    the check-your-answers page shows it and the service stores it."""

    policy: Policy
    policy_category: PolicyCategory
    in_window: bool
    newborn_in_time: bool
    gap_years: int
    waiting: rules.Waiting
    verification: str  # what the registration starts with
    premium: rules.ResidentPremium
    # The day cover starts if the premium is paid today (and, for a newborn,
    # the last day to pay to be covered from the birth date).
    cover_from: dt.date
    newborn_until: dt.date | None = None

    @property
    def personal_amount(self):
        return self.premium.personal_amount

    @property
    def subsidy(self):
        return self.premium.subsidy

    @property
    def needs_verification(self) -> bool:
        return self.policy_category.needs_verification


def resident_plan(
    *,
    person: Person,
    region,
    year: int,
    category: str,
    is_newborn: bool = False,
    today=None,
):
    """Check every rule of a residents' registration (SPEC §4) and return the
    plan; raise DomainError (with the field to show it beside) when refused."""
    today = today or timezone.localdate()
    policy = _policy_for(_region_code(region), year)
    rows = {row.category: row for row in policy.categories.all()}
    policy_category = rows.get(category)
    if policy_category is None:
        raise DomainError(
            _("%(region)s%(year)d年度没有该人员类别，请重新选择。")
            % {"region": policy.region.display_name, "year": year},
            code="no_category",
            field="category",
        )
    in_window = policy.window_start <= today <= policy.window_end
    age_days = (today - person.birth_date).days
    newborn_in_time = bool(is_newborn) and 0 <= age_days <= policy.newborn_days
    late_for_current_year = (
        year == today.year and policy.benefit_start <= today <= policy.benefit_end
    )
    # A newborn within their days registers for the birth year even after
    # that year's window has closed, or the year itself has ended (SPEC §4).
    newborn_birth_year = newborn_in_time and year == person.birth_date.year
    if not in_window and not late_for_current_year and not newborn_birth_year:
        raise DomainError(
            _(
                "%(year)d年度的集中参保期为%(start)s至%(end)s，今天不在参保期内。"
                "参保期外只能登记当年度（迟参保，有待遇等待期）。"
            )
            % {
                "year": year,
                "start": policy.window_start.strftime("%Y-%m-%d"),
                "end": policy.window_end.strftime("%Y-%m-%d"),
            },
            code="outside_window",
            field="year",
        )
    if is_newborn and year < person.birth_date.year:
        raise DomainError(
            _("新生儿只能登记出生当年及以后的年度。"), code="before_birth", field="year"
        )
    # A newborn not yet on record (the check-your-answers step) has no history.
    if person.pk is not None:
        _refuse_if_enrolled(person, year)
    gap = rules.gap_years_before(year, _covered_years(person) if person.pk else set())
    waiting = rules.resident_waiting(
        exempt=policy_category.exempt_from_waiting,
        newborn_in_time=newborn_in_time,
        in_window=in_window,
        gap_years=gap,
        fixed_months=policy.waiting_fixed_months,
        per_gap_year=policy.waiting_per_gap_year,
        long_gap_years=policy.long_gap_years,
        long_gap_min_months=policy.long_gap_min_months,
    )
    # The portal never takes a premium that buys no cover (SPEC §4).
    birth = person.birth_date if newborn_in_time else None
    cover_from = rules.resident_coverage_start(
        paid_on=today,
        benefit_start=policy.benefit_start,
        waiting_months=waiting.months,
        birth_date=birth,
    )
    if cover_from > policy.benefit_end:
        raise DomainError(
            _(
                "今天登记并缴费，%(year)d年度的待遇要到%(start)s才开始，晚于该年度"
                "结束日%(end)s，缴费买不到任何保障，因此不能登记。请登记下一年度。"
            )
            % {
                "year": year,
                "start": _date(cover_from),
                "end": _date(policy.benefit_end),
            },
            code="no_cover",
            field="year",
        )
    verification = (
        Verification.PENDING
        if policy_category.needs_verification
        else Verification.NOT_NEEDED
    )
    # Priced as the registration will be until staff decide its category, so
    # the check-your-answers page shows what the payment would charge.
    premium = rules.resident_premium(
        category=category, verification=verification, rows=rows
    )
    return ResidentPlan(
        policy,
        policy_category,
        in_window,
        newborn_in_time,
        gap,
        waiting,
        verification,
        premium,
        cover_from,
        newborn_until=(
            person.birth_date + dt.timedelta(days=policy.newborn_days)
            if newborn_in_time
            else None
        ),
    )


def _create_enrollment(**fields) -> Enrollment:
    """Insert a registration; the database's one-live-enrollment-per-year
    constraint decides between simultaneous requests."""
    try:
        with transaction.atomic():
            return Enrollment.objects.create(**fields)
    except IntegrityError:
        raise DomainError(
            _("%(year)d年度已有参保登记，同一年度只能参保一次。")
            % {"year": fields["year"]},
            code="already_enrolled",
            field="person",
        ) from None


@transaction.atomic
def enrollment_register_resident(
    *,
    actor,
    person: Person,
    region,
    year: int,
    category: str,
    is_newborn: bool = False,
    today=None,
) -> Enrollment:
    """参保登记 in residents' insurance (城乡居民医保) for benefit year `year`."""
    # Lock the person so two registrations of one person queue here; the unique
    # constraint still guards any writer that does not take this lock.
    person = person_lock(person_id=person.pk)
    proxy_act(
        user=actor,
        person=person,
        scope=Scope.ENROLL,
        what=msg_phrase(gettext_noop("%(year)d年度居民医保参保登记"), year=year),
    )
    plan = resident_plan(
        person=person,
        region=region,
        year=year,
        category=category,
        is_newborn=is_newborn,
        today=today,
    )
    enrollment = _create_enrollment(
        person=person,
        region_id=plan.policy.region_id,
        scheme=Scheme.RESIDENT,
        year=year,
        category=category,
        verification=plan.verification,
        is_newborn=bool(is_newborn),
        gap_years=plan.gap_years,
        waiting_months=plan.waiting.months,
        waiting_reason=plan.waiting.reason[:200],
        registered_by=actor if getattr(actor, "pk", None) else None,
    )
    EnrollmentEvent.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=EnrollmentStatus.REGISTERED,
        actor=enrollment.registered_by,
        reason=_("居民医保参保登记"),
    )
    enrollment.person = person_region_set(
        person_id=person.pk, region_code=plan.policy.region_id
    )
    return enrollment


@transaction.atomic
def enrollment_register_newborn(
    *,
    actor,
    owner: Person,
    name: str,
    id_number: str,
    birth_certificate: str,
    region,
    year: int,
    relation: str = "child",
    today=None,
) -> Enrollment:
    """新生儿参保: the parent proves the relation with the birth certificate
    number (出生医学证明编号) against the population registry, which gives
    them the guardian's authority, and the child is registered; all or
    nothing."""
    from people.services import guardian_authority_prove

    child = person_get_or_create(id_number=id_number, name=name)
    if child.pk == owner.pk:
        raise DomainError(_("不能把本人登记为新生儿。"), code="self", field="id_number")
    guardian_authority_prove(
        owner=owner, child=child, relation=relation, birth_certificate=birth_certificate
    )
    return enrollment_register_resident(
        actor=actor,
        person=child,
        region=region,
        year=year,
        category=Category.ORDINARY,
        is_newborn=True,
        today=today,
    )


@dataclass(frozen=True)
class FlexiblePlan:
    policy: Policy
    base: object
    monthly_premium: object
    waiting_months: int
    waiting_reason: str
    # When cover starts if the first month (this month, or January of a
    # later year) is paid now: the month after it, after any wait.
    cover_from: dt.date | None = None


def flexible_plan(
    *, person: Person, region, year: int, base, today=None
) -> FlexiblePlan:
    """Check a flexible worker's registration (SPEC §5) and price it."""
    from core.money import to_money

    today = today or timezone.localdate()
    policy = _policy_for(_region_code(region), year)
    if year not in (today.year, today.year + 1):
        raise DomainError(
            _("灵活就业人员只能登记当年或下一年度，请重新选择年度。"),
            code="outside_window",
            field="year",
        )
    try:
        base = to_money(base)
    except (TypeError, ValueError):
        raise DomainError(
            _("请填写缴费基数（元/月）。"), code="base", field="base"
        ) from None
    if not policy.base_min <= base <= policy.base_max:
        raise DomainError(
            _(
                "缴费基数应在 ¥%(min)s 至 ¥%(max)s 之间（上年度月平均工资的%(low)s%%至%(high)s%%），请重新填写。"
            )
            % {
                "min": f"{policy.base_min:,.2f}",
                "max": f"{policy.base_max:,.2f}",
                "low": rules.percent(policy.base_min_ratio),
                "high": rules.percent(policy.base_max_ratio),
            },
            code="base_out_of_range",
            field="base",
        )
    _refuse_if_enrolled(person, year)
    last_end = (
        Enrollment.objects.filter(
            person=person, scheme=Scheme.FLEXIBLE, status__in=COVERED_STATUSES
        )
        .exclude(coverage_end__isnull=True)
        .order_by("-coverage_end")
        .values_list("coverage_end", flat=True)
        .first()
    )
    gap_limit = rules.add_months(today, -policy.backpay_max_months)
    if last_end is not None and last_end < gap_limit:
        months = policy.flexible_waiting_months
        reason = rules.REASON_FLEXIBLE_GAP % {
            "end": last_end.strftime("%Y-%m-%d"),
            "limit": policy.backpay_max_months,
            "months": months,
        }
    else:
        months = 0
        reason = rules.REASON_FLEXIBLE_NONE % {"limit": policy.backpay_max_months}
    premium = rules.flexible_monthly_premium(base=base, rate=policy.flexible_rate)
    cover_from = rules.flexible_first_cover(
        today=today, year=year, waiting_months=months
    )
    return FlexiblePlan(policy, base, premium, months, str(reason), cover_from)


@transaction.atomic
def enrollment_register_flexible(
    *, actor, person: Person, region, year: int, base, today=None
) -> Enrollment:
    """灵活就业人员职工医保参保登记 with a monthly contribution base."""
    person = person_lock(person_id=person.pk)
    proxy_act(
        user=actor,
        person=person,
        scope=Scope.ENROLL,
        what=msg_phrase(gettext_noop("%(year)d年度灵活就业人员参保登记"), year=year),
    )
    plan = flexible_plan(
        person=person, region=region, year=year, base=base, today=today
    )
    enrollment = _create_enrollment(
        person=person,
        region_id=plan.policy.region_id,
        scheme=Scheme.FLEXIBLE,
        year=year,
        contribution_base=plan.base,
        waiting_months=plan.waiting_months,
        waiting_reason=plan.waiting_reason[:200],
        registered_by=actor if getattr(actor, "pk", None) else None,
    )
    EnrollmentEvent.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=EnrollmentStatus.REGISTERED,
        actor=enrollment.registered_by,
        reason=_("灵活就业人员参保登记"),
    )
    enrollment.person = person_region_set(
        person_id=person.pk, region_code=plan.policy.region_id
    )
    return enrollment


def _acts_for(actor, enrollment: Enrollment) -> bool:
    """A citizen acts for themself and their family; staff for their region."""
    from people.access import person_ids_for_user

    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    if actor.role in (Role.CLERK, Role.SUPERVISOR):
        return actor.region_id == enrollment.region_id
    return enrollment.person_id in person_ids_for_user(actor, scope=Scope.ENROLL)


@transaction.atomic
def enrollment_cancel(*, actor, enrollment_id: int, reason: str = "") -> Enrollment:
    """撤销 a registration that has not been paid; a paid one cannot be cancelled."""
    enrollment = _lock(enrollment_id)
    if not _acts_for(actor, enrollment):
        raise DomainError(_("您无权撤销该参保登记。"), code="forbidden")
    if _already_done(enrollment, "cancel"):
        return enrollment
    if not ENROLLMENT_MACHINE.can(enrollment.status, action="cancel"):
        raise DomainError(_("只有尚未缴费的参保登记可以撤销。"), code="not_cancellable")
    if getattr(actor, "person_id", None) is not None:
        proxy_access_record(
            user=actor,
            person=enrollment.person,
            scope=Scope.ENROLL,
            what=msg_phrase(
                gettext_noop("撤销%(year)d年度参保登记"), year=enrollment.year
            ),
        )
    _transition(
        enrollment,
        action="cancel",
        actor=actor,
        reason=reason or _("参保人撤销登记"),
    )
    enrollment.save(update_fields=["status", "updated_at"])
    return enrollment


def _resident_waiting_for(
    enrollment: Enrollment, policy: Policy, *, exempt: bool
) -> rules.Waiting:
    registered_on = (
        timezone.localdate(enrollment.created_at)
        if enrollment.created_at
        else timezone.localdate()
    )
    in_window = policy.window_start <= registered_on <= policy.window_end
    newborn_in_time = enrollment.is_newborn and 0 <= (
        registered_on - enrollment.person.birth_date
    ).days <= (policy.newborn_days)
    return rules.resident_waiting(
        exempt=exempt,
        newborn_in_time=newborn_in_time,
        in_window=in_window,
        gap_years=enrollment.gap_years,
        repaired_years=enrollment.repaired_years,
        fixed_months=policy.waiting_fixed_months,
        per_gap_year=policy.waiting_per_gap_year,
        long_gap_years=policy.long_gap_years,
        long_gap_min_months=policy.long_gap_min_months,
    )


@transaction.atomic
def enrollment_verify_category(
    *, actor, enrollment_id: int, approve: bool, note: str = ""
) -> Enrollment:
    """Staff decide a reduced category (特困、低保…): approved, the reduced
    amount applies; rejected, the enrollment falls back to the ordinary category."""
    enrollment = _lock(enrollment_id)
    is_region_staff = getattr(actor, "role", None) in (Role.CLERK, Role.SUPERVISOR)
    if not (
        getattr(actor, "is_superuser", False)
        or (is_region_staff and actor.region_id == enrollment.region_id)
    ):
        raise DomainError(
            _("只有该统筹区的经办人员可以审核人员类别。"), code="forbidden"
        )
    if enrollment.verification != Verification.PENDING:
        raise DomainError(_("该参保登记没有待审核的人员类别。"), code="not_pending")
    params = msg_params(
        {"category": Category(enrollment.category).label, "year": enrollment.year}
    )
    if approve:
        enrollment.verification = Verification.APPROVED
        subject = gettext_noop("您的人员类别（%(category)s）已审核通过")
        body = gettext_noop("%(year)d年度居民医保按%(category)s标准缴费。")
    else:
        policy = Policy.objects.get(
            region_id=enrollment.region_id, year=enrollment.year
        )
        enrollment.verification = Verification.REJECTED
        enrollment.category = Category.ORDINARY
        ordinary = policy.categories.filter(category=Category.ORDINARY).first()
        waiting = _resident_waiting_for(
            enrollment, policy, exempt=bool(ordinary and ordinary.exempt_from_waiting)
        )
        enrollment.waiting_months, enrollment.waiting_reason = (
            waiting.months,
            waiting.reason[:200],
        )
        subject = gettext_noop("您的人员类别（%(category)s）审核未通过")
        body = gettext_noop("%(year)d年度居民医保按普通居民标准缴费。%(note)s")
        params["note"] = note
    enrollment.verification_note = note[:200]
    enrollment.save(
        update_fields=[
            "verification",
            "verification_note",
            "category",
            "waiting_months",
            "waiting_reason",
            "updated_at",
        ]
    )
    EnrollmentEvent.objects.create(
        enrollment=enrollment,
        from_status=enrollment.status,
        to_status=enrollment.status,
        actor=actor,
        reason=msg_render(subject, params)[:200],
    )
    notify(
        person=enrollment.person,
        subject=subject,
        body=body,
        params=params,
        url="/enrollment/coverage/",
    )
    return enrollment


@transaction.atomic
def enrollment_repair_years(
    *, enrollment_id: int, years: int, reference: str
) -> Enrollment:
    """修复: `years` past gap years were paid for (by payments, once per
    `reference`); each removes one added month of the waiting period, and the
    coverage start moves earlier if the enrollment is already active."""
    if years < 1:
        raise ValueError("a repair covers at least one year")
    enrollment = _lock(enrollment_id)
    if WaitingRepair.objects.filter(reference=reference).exists():
        return enrollment
    if enrollment.scheme != Scheme.RESIDENT or enrollment.gap_years == 0:
        raise DomainError(
            _("该参保登记没有可修复的断保年度。"), code="nothing_to_repair"
        )
    WaitingRepair.objects.create(
        enrollment=enrollment, years=years, reference=reference
    )
    enrollment.repaired_years = min(
        enrollment.gap_years, enrollment.repaired_years + years
    )
    policy = Policy.objects.get(region_id=enrollment.region_id, year=enrollment.year)
    category = policy.categories.filter(category=enrollment.category).first()
    exempt = bool(
        category
        and category.exempt_from_waiting
        and enrollment.verification != Verification.REJECTED
    )
    waiting = _resident_waiting_for(enrollment, policy, exempt=exempt)
    enrollment.waiting_months, enrollment.waiting_reason = (
        waiting.months,
        waiting.reason[:200],
    )
    fields = ["repaired_years", "waiting_months", "waiting_reason", "updated_at"]
    if enrollment.status == EnrollmentStatus.ACTIVE:
        activated = (
            enrollment.events.filter(to_status=EnrollmentStatus.ACTIVE)
            .order_by("-at")
            .first()
        )
        paid_on = (
            timezone.localdate(activated.at) if activated else timezone.localdate()
        )
        enrollment.coverage_start = rules.resident_coverage_start(
            paid_on=paid_on,
            benefit_start=policy.benefit_start,
            waiting_months=enrollment.waiting_months,
        )
        fields.append("coverage_start")
    enrollment.save(update_fields=fields)
    return enrollment

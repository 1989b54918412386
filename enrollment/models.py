"""参保登记: policy tables per region and year, and enrollments with their events."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import Region
from core.transitions import Edge, StateMachine
from people.models import Person

# National limits that every region's policy table stays within; the check
# constraints, the staff form and the citizen messages all read them here.
# 灵活就业人员缴费基数: 上年度月平均工资的60%至300%.
BASE_RATIO_MIN = Decimal("0.60")
BASE_RATIO_MAX = Decimal("3.00")
# A contribution rate at or above 20 % is a typing error, not a policy.
FLEXIBLE_RATE_MAX = Decimal("0.2")
# 滞纳金: 0.05 % of the arrears per overdue day [社会保险法 第86条].
LATE_FEE_DAILY_RATE = Decimal("0.00050")


class Scheme(models.TextChoices):
    RESIDENT = "resident", _("城乡居民医保")
    FLEXIBLE = "flexible", _("灵活就业职工医保")
    EMPLOYEE = "employee", _("职工医保（单位）")


class Category(models.TextChoices):
    """Resident categories; all but ORDINARY and STUDENT need staff verification."""

    ORDINARY = "ordinary", _("普通居民")
    STUDENT = "student", _("大学生")
    TEKUN = "tekun", _("特困人员")
    DIBAO = "dibao", _("低保对象")
    DIBAO_EDGE_ELDERLY = "dibao_edge_elderly", _("低保边缘家庭老年人")
    POVERTY_RETURN = "poverty_return", _("返贫致贫人口")
    MONITORED = "monitored", _("防止返贫监测对象")


class Policy(models.Model):
    """A region's rules for one benefit year (待遇年度). Every amount, rate,
    window and waiting period is data here, edited by supervisors."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("统筹区"),
        on_delete=models.PROTECT,
        related_name="policies",
    )
    year = models.PositiveIntegerField(_("待遇年度"))
    # Residents' insurance (城乡居民医保)
    window_start = models.DateField(_("集中参保期开始"))
    window_end = models.DateField(_("集中参保期结束"))
    benefit_start = models.DateField(_("待遇期开始"))
    benefit_end = models.DateField(_("待遇期结束"))
    newborn_days = models.PositiveIntegerField(_("新生儿参保期限（天）"), default=90)
    waiting_fixed_months = models.PositiveIntegerField(
        _("固定待遇等待期（月）"), default=3
    )
    waiting_per_gap_year = models.PositiveIntegerField(
        _("每断保一年增加（月）"), default=1
    )
    long_gap_years = models.PositiveIntegerField(_("长期断保年数"), default=4)
    long_gap_min_months = models.PositiveIntegerField(
        _("长期断保最短等待期（月）"), default=6
    )
    # Flexible workers' employee insurance (灵活就业人员职工医保)
    average_wage = models.DecimalField(
        _("上年度月平均工资"), max_digits=10, decimal_places=2
    )
    base_min_ratio = models.DecimalField(
        _("缴费基数下限比例"), max_digits=4, decimal_places=2, default=BASE_RATIO_MIN
    )
    base_max_ratio = models.DecimalField(
        _("缴费基数上限比例"), max_digits=4, decimal_places=2, default=BASE_RATIO_MAX
    )
    flexible_rate = models.DecimalField(
        _("缴费费率"), max_digits=5, decimal_places=4, default=Decimal("0.0800")
    )
    flexible_waiting_months = models.PositiveIntegerField(
        _("断缴超3个月后的等待期（月）"), default=6
    )
    backpay_max_months = models.PositiveIntegerField(_("可补缴月数"), default=3)
    late_fee_enabled = models.BooleanField(_("收取滞纳金"), default=False)
    late_fee_daily_rate = models.DecimalField(
        _("滞纳金日费率"), max_digits=6, decimal_places=5, default=LATE_FEE_DAILY_RATE
    )

    class Meta:
        ordering = ["region", "-year"]
        verbose_name = _("参保政策")
        verbose_name_plural = _("参保政策")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"], name="policy_one_per_region_year"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=F("window_end")),
                name="policy_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(benefit_start__lte=F("benefit_end")),
                name="policy_benefit_ordered",
            ),
            models.CheckConstraint(
                condition=Q(average_wage__gt=0), name="policy_average_wage_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    base_min_ratio__gte=BASE_RATIO_MIN,
                    base_max_ratio__lte=BASE_RATIO_MAX,
                )
                & Q(base_min_ratio__lte=F("base_max_ratio")),
                name="policy_base_range_60_300",
            ),
            models.CheckConstraint(
                condition=Q(flexible_rate__gt=0, flexible_rate__lt=FLEXIBLE_RATE_MAX),
                name="policy_rate_sane",
            ),
        ]

    def __str__(self):
        return f"{self.region.display_name} {self.year}"

    @property
    def base_min(self) -> Decimal:
        from core.money import to_money

        return to_money(self.average_wage * self.base_min_ratio)

    @property
    def base_max(self) -> Decimal:
        from core.money import to_money

        return to_money(self.average_wage * self.base_max_ratio)


class PolicyCategory(models.Model):
    """The yearly personal amount and government subsidy of one resident category."""

    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="categories"
    )
    category = models.CharField(_("人员类别"), max_length=24, choices=Category.choices)
    personal_amount = models.DecimalField(
        _("个人缴费（元/年）"), max_digits=10, decimal_places=2
    )
    subsidy = models.DecimalField(
        _("财政补助（元/年）"), max_digits=10, decimal_places=2
    )
    needs_verification = models.BooleanField(_("需经办审核"), default=False)
    exempt_from_waiting = models.BooleanField(_("免待遇等待期"), default=False)

    class Meta:
        ordering = ["policy", "personal_amount"]
        verbose_name = _("人员类别标准")
        verbose_name_plural = _("人员类别标准")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "category"], name="policy_category_once"
            ),
            models.CheckConstraint(
                condition=Q(personal_amount__gte=0, subsidy__gte=0),
                name="policy_category_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.policy} {self.get_category_display()}"


class EnrollmentStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记待缴费")
    ACTIVE = "active", _("正常参保")
    SUSPENDED = "suspended", _("暂停参保")
    CANCELLED = "cancelled", _("已撤销")
    TERMINATED = "terminated", _("终止参保")


# The one table of enrollment transitions. Each edge names the actions of
# enrollment.services that may take it, so a service asks the table what its
# action does from the current status instead of checking `.status` itself:
#   pay        a residents' premium or a flexible worker's first month is paid
#   cancel     撤销 an unpaid registration
#   suspend    暂停参保: by the citizen online, by staff on evidence, or before
#              a transfer out; cover already paid for is kept
#   resume     恢复参保: the insurance relationship continues (a transfer in
#              completes, or the citizen resumes under the gap rules)
#   terminate  终止参保
ENROLLMENT_MACHINE = StateMachine(
    "enrollment",
    [
        Edge(EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE, "pay"),
        Edge(EnrollmentStatus.REGISTERED, EnrollmentStatus.CANCELLED, "cancel"),
        Edge(EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED, "suspend"),
        Edge(EnrollmentStatus.ACTIVE, EnrollmentStatus.TERMINATED, "terminate"),
        Edge(EnrollmentStatus.SUSPENDED, EnrollmentStatus.ACTIVE, "resume"),
        Edge(EnrollmentStatus.SUSPENDED, EnrollmentStatus.TERMINATED, "terminate"),
    ],
    states=EnrollmentStatus.values,
)
# Statuses that hold the person's one enrollment for the year.
LIVE_STATUSES = (EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE)


class SuspendReason(models.TextChoices):
    """Why a citizen suspends online (暂停参保, SPEC §5). Staff suspending on
    evidence write their own reason."""

    MOVE = "move", _("迁往外地，办理医保关系转移接续")
    EMPLOYEE = "employee", _("已由单位参加职工医保")
    STOP = "stop", _("不再以灵活就业人员身份缴费")


# A residents' enrollment is suspended only for a move or on joining employee
# insurance; a flexible worker may also simply stop paying.
SUSPEND_REASONS_BY_SCHEME = {
    "resident": (SuspendReason.MOVE, SuspendReason.EMPLOYEE),
    "flexible": (SuspendReason.MOVE, SuspendReason.EMPLOYEE, SuspendReason.STOP),
}


class Verification(models.TextChoices):
    NOT_NEEDED = "not_needed", _("无需审核")
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核未通过")


class Enrollment(models.Model):
    """参保登记: one person's basic medical insurance in one region for one benefit year."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("统筹区"),
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    scheme = models.CharField(_("险种"), max_length=10, choices=Scheme.choices)
    year = models.PositiveIntegerField(_("待遇年度"))
    status = models.CharField(
        _("参保状态"),
        max_length=12,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.REGISTERED,
    )
    # Residents: the category asked for, and its verification by staff.
    category = models.CharField(
        _("人员类别"), max_length=24, choices=Category.choices, blank=True
    )
    verification = models.CharField(
        _("类别审核"),
        max_length=12,
        choices=Verification.choices,
        default=Verification.NOT_NEEDED,
    )
    verification_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    is_newborn = models.BooleanField(_("新生儿参保"), default=False)
    # Flexible workers: the chosen monthly contribution base.
    contribution_base = models.DecimalField(
        _("缴费基数"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    # The waiting period as decided at registration, and why.
    gap_years = models.PositiveIntegerField(_("断保年数"), default=0)
    repaired_years = models.PositiveIntegerField(_("已修复年数"), default=0)
    waiting_months = models.PositiveIntegerField(_("待遇等待期（月）"), default=0)
    waiting_reason = models.CharField(_("等待期原因"), max_length=200, blank=True)
    coverage_start = models.DateField(_("待遇享受开始"), null=True, blank=True)
    # Residents: the benefit year's end. Flexible workers: the end of the month
    # the latest paid month covers (paid through), gaps included; the months
    # themselves are FlexibleMonth rows.
    coverage_end = models.DateField(_("待遇享受结束"), null=True, blank=True)
    # The day the premium (residents) or the first month (flexible) was paid:
    # a waiting period runs from it.
    paid_on = models.DateField(_("缴费日期"), null=True, blank=True)
    suspend_reason = models.CharField(
        _("暂停原因"), max_length=12, choices=SuspendReason.choices, blank=True
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-id"]
        verbose_name = _("参保登记")
        verbose_name_plural = _("参保登记")
        constraints = [
            # One basic-insurance enrollment per person per benefit year, across
            # regions and schemes. A suspended (transferred-out) or cancelled one
            # no longer holds the year.
            models.UniqueConstraint(
                fields=["person", "year"],
                condition=Q(status__in=[status.value for status in LIVE_STATUSES]),
                name="enrollment_one_live_per_person_year",
            ),
            models.CheckConstraint(
                condition=~Q(scheme="flexible") | Q(contribution_base__isnull=False),
                name="enrollment_flexible_has_base",
            ),
            models.CheckConstraint(
                condition=~Q(scheme="resident") | ~Q(category=""),
                name="enrollment_resident_has_category",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in EnrollmentStatus]),
                name="enrollment_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["region", "status"], name="enrollment_region_status"),
            models.Index(
                fields=["verification"],
                condition=Q(verification="pending"),
                name="enrollment_verif_pending",
            ),
        ]

    def __str__(self):
        return f"{self.person} {self.year} {self.get_scheme_display()}"

    @property
    def reference(self) -> str:
        """The registration number shown to citizens (参保登记编号)."""
        return f"CB{self.year}{self.region_id}{self.pk:08d}" if self.pk else ""

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def can_cancel(self) -> bool:
        """For pages that offer 撤销 only where the service would accept it."""
        return ENROLLMENT_MACHINE.can(self.status, action="cancel")

    @property
    def can_resume(self) -> bool:
        """Whether a completed transfer in may put this enrollment back in force."""
        return ENROLLMENT_MACHINE.can(self.status, action="resume")

    @property
    def can_suspend(self) -> bool:
        """For pages that offer 暂停参保 only where the service would accept it."""
        return ENROLLMENT_MACHINE.can(self.status, action="suspend")

    @property
    def is_cancelled(self) -> bool:
        return self.status == EnrollmentStatus.CANCELLED

    @property
    def is_active(self) -> bool:
        """正常参保: paid and in force."""
        return self.status == EnrollmentStatus.ACTIVE

    @property
    def is_stopped(self) -> bool:
        """暂停 or 终止: the relationship no longer runs at its region, which a
        transfer out requires before it may be applied for."""
        return self.status in (EnrollmentStatus.SUSPENDED, EnrollmentStatus.TERMINATED)


class EnrollmentEvent(models.Model):
    """One change of an enrollment's status: who, when, from, to, why."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(max_length=200, blank=True)
    # What staff saw before acting (a suspension on evidence: 单位参保证明…).
    evidence = models.CharField(_("证明材料"), max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("参保状态变更")
        verbose_name_plural = _("参保状态变更")

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class MonthsKind(models.TextChoices):
    ACTUAL = "actual", _("实际缴费月数")
    DEEMED = "deemed", _("视同缴费月数")


class ContributionMonths(models.Model):
    """A ledger of contribution months (缴费月数) per person and region. Each
    row has a unique reference so a payment or a transfer adds its months once."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="contribution_months"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=MonthsKind.choices)
    months = models.IntegerField()
    # The scheme the months were paid in ("" when unknown, as for months moved
    # by a transfer), so residents' and employees' months are told apart.
    scheme = models.CharField(max_length=10, choices=Scheme.choices, blank=True)
    # The first calendar month the months stand for, consecutive from there: a
    # year paid ahead counts only once its months have come. None: all count.
    first_month = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("缴费月数")
        verbose_name_plural = _("缴费月数")
        indexes = [
            models.Index(fields=["person", "region"], name="months_person_region")
        ]

    def __str__(self):
        return f"{self.kind} {self.months:+d} ({self.reference})"


class WaitingRepair(models.Model):
    """修复: past gap years paid for, each removing one added month of the
    waiting period. One row per payment reference, so a repeated call changes nothing."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="repairs"
    )
    years = models.PositiveIntegerField(_("修复年数"))
    reference = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("断保修复")
        verbose_name_plural = _("断保修复")
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gte=1), name="repair_at_least_one_year"
            )
        ]

    def __str__(self):
        return f"{self.enrollment_id} +{self.years} ({self.reference})"


class FlexibleMonth(models.Model):
    """One paid month of a flexible worker (月缴月享: it covers the following
    month). Cover is derived from these rows by `rules.flexible_cover`."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="paid_months"
    )
    month = models.DateField(_("缴费月份"))  # its first day
    paid_on = models.DateField(_("缴费日期"))
    restores_gap = models.BooleanField(_("补缴"), default=False)
    reference = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["month"]
        verbose_name = _("灵活就业缴费月份")
        verbose_name_plural = _("灵活就业缴费月份")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "month"], name="flexible_month_once"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="flexible_month_first_day"
            ),
        ]

    def __str__(self):
        return f"{self.enrollment_id} {self.month:%Y-%m}"

"""What a person can file and look up beyond enrolling and paying (SPEC §9,
§10): cross-region medical treatment filings (异地就医备案) with their
certificates, certificates of insurance (参保证明), and each region's
contribution-years requirement for lifetime benefits at retirement."""

import json

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.documents import signature
from core.models import Region
from core.places import in_english, is_province, place_name
from core.transitions import Edge, StateMachine
from people.models import Person

# --- Policy figures (local: each region may differ; these are the examples of
# SPEC §9) ------------------------------------------------------------------------

# A long-term filing cannot be changed or cancelled within this many months.
LONG_TERM_LOCK_MONTHS = 6
# A temporary filing is valid this many months from its start.
TEMPORARY_VALID_MONTHS = 6
# An emergency may be filed afterwards (补办): its start may lie this many days back.
EMERGENCY_BACKDATE_DAYS = 30
# A filing may be made ahead of the move or the trip by at most this many days.
ADVANCE_START_DAYS = 90


class FilingKind(models.TextChoices):
    LONG_TERM = "long_term", _("长期异地就医")
    TEMPORARY = "temporary", _("临时外出就医")


class FilingReason(models.TextChoices):
    RETIRED = "retired", _("异地安置退休")
    RESIDENT = "resident", _("异地长期居住")
    POSTED = "posted", _("常驻异地工作")
    REFERRAL = "referral", _("转诊转院")
    EMERGENCY = "emergency", _("急诊抢救")
    OTHER = "other", _("其他临时外出")


LONG_TERM_REASONS = (FilingReason.RETIRED, FilingReason.RESIDENT, FilingReason.POSTED)
TEMPORARY_REASONS = (
    FilingReason.REFERRAL,
    FilingReason.EMERGENCY,
    FilingReason.OTHER,
)
KIND_OF_REASON = {
    **dict.fromkeys(LONG_TERM_REASONS, FilingKind.LONG_TERM),
    **dict.fromkeys(TEMPORARY_REASONS, FilingKind.TEMPORARY),
}


class Evidence(models.TextChoices):
    NONE = "", _("无需材料")
    RESIDENCE_PERMIT = "permit", _("居住证")
    COMMITMENT = "commitment", _("个人承诺书")


class FilingStatus(models.TextChoices):
    # Only in memory, before the filing is saved: the source of "file".
    NEW = "new", _("填写中")
    ACTIVE = "active", _("备案有效")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已到期")


# The one table of filing transitions:
#   file     the filing is made (online, or by staff at a counter)
#   cancel   the person (or one acting for them) cancels it
#   expire   a temporary filing's six months are over (the beat scan)
FILING_MACHINE = StateMachine(
    "filing",
    [
        Edge(FilingStatus.NEW, FilingStatus.ACTIVE, "file"),
        Edge(FilingStatus.ACTIVE, FilingStatus.CANCELLED, "cancel"),
        Edge(FilingStatus.ACTIVE, FilingStatus.EXPIRED, "expire"),
    ],
    states=FilingStatus.values,
)


class Channel(models.TextChoices):
    ONLINE = "online", _("网上办理")
    COUNTER = "counter", _("窗口办理")


class Filing(models.Model):
    """异地就医备案: a person insured in one region who will be treated in
    another (a province, or a city) and settles the costs there directly."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="medical_filings",
    )
    kind = models.CharField(_("备案类型"), max_length=10, choices=FilingKind.choices)
    reason = models.CharField(
        _("备案人员类别"), max_length=10, choices=FilingReason.choices
    )
    insured_region = models.ForeignKey(
        Region,
        verbose_name=_("参保地"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # GB/T 2260 code of a province (xx0000) or a city, its name as filed, and
    # the pooling region when the destination is one (for its staff's queue).
    destination_code = models.CharField(_("就医地区划代码"), max_length=6)
    destination_name = models.CharField(_("就医地"), max_length=60)
    destination_region = models.ForeignKey(
        Region,
        verbose_name=_("就医地统筹区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings_in",
    )
    evidence = models.CharField(
        _("备案材料"), max_length=10, choices=Evidence.choices, blank=True
    )
    residence_permit_number = models.CharField(_("居住证号"), max_length=30, blank=True)
    start_on = models.DateField(_("备案开始日期"))
    # Temporary filings end; long-term ones run until cancelled.
    end_on = models.DateField(_("备案结束日期"), null=True, blank=True)
    # A long-term filing may not be changed or cancelled before this day.
    locked_until = models.DateField(_("可变更日期"), null=True, blank=True)
    status = models.CharField(
        _("备案状态"),
        max_length=10,
        choices=FilingStatus.choices,
        default=FilingStatus.NEW,
    )
    channel = models.CharField(
        _("办理渠道"), max_length=8, choices=Channel.choices, default=Channel.ONLINE
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # 备案凭证: its number and the code anyone holding it may verify it with.
    number = models.CharField(_("备案编号"), max_length=24, unique=True)
    verification_code = models.CharField(_("验证码"), max_length=16, unique=True)
    filed_at = models.DateTimeField(_("备案时间"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    expired_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    # When the expiry scan should end it (temporary filings in force only).
    due_at = models.DateTimeField(_("自动到期时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("异地就医备案")
        verbose_name_plural = _("异地就医备案")
        constraints = [
            # One destination at a time: one filing in force per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="filing_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FilingStatus]),
                name="filing_status_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind=FilingKind.LONG_TERM,
                    reason__in=[r.value for r in LONG_TERM_REASONS],
                )
                | Q(
                    kind=FilingKind.TEMPORARY,
                    reason__in=[r.value for r in TEMPORARY_REASONS],
                ),
                name="filing_reason_fits_kind",
            ),
            # Long-term: evidence, no end, a lock; temporary: an end after the start.
            models.CheckConstraint(
                condition=~Q(kind=FilingKind.LONG_TERM)
                | (
                    Q(evidence=Evidence.COMMITMENT)
                    | (
                        Q(evidence=Evidence.RESIDENCE_PERMIT)
                        & ~Q(residence_permit_number="")
                    )
                )
                & Q(end_on__isnull=True, locked_until__isnull=False),
                name="filing_long_term_has_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(kind=FilingKind.TEMPORARY)
                | Q(end_on__isnull=False, end_on__gte=F("start_on")),
                name="filing_temporary_has_end",
            ),
            models.CheckConstraint(
                condition=Q(destination_code__regex=r"^[1-9]\d{5}$"),
                name="filing_destination_code_6_digits",
            ),
            models.CheckConstraint(
                condition=~Q(destination_region=F("insured_region")),
                name="filing_destination_not_insured_region",
            ),
            models.CheckConstraint(
                condition=Q(due_at__isnull=True) | Q(status="active"),
                name="filing_due_only_while_active",
            ),
        ]
        indexes = [
            # The expiry scan: only filings with due work are in the index.
            models.Index(
                fields=["due_at"],
                condition=Q(due_at__isnull=False),
                name="filing_due",
            ),
            models.Index(
                fields=["destination_region", "status"], name="filing_dest_queue"
            ),
            models.Index(
                fields=["destination_code", "status"], name="filing_dest_code"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.person}"

    def get_absolute_url(self):
        return reverse("records:filing_detail", args=[self.pk])

    @property
    def destination_display(self) -> str:
        """就医地 in the active language: as filed in Chinese; in English the
        province, or the city's region with its province."""
        if (
            in_english()
            and self.destination_region_id
            and not is_province(self.destination_code)
        ):
            return self.destination_region.display_place
        return place_name(self.destination_code, self.destination_name)

    @property
    def is_active(self) -> bool:
        return self.status == FilingStatus.ACTIVE

    @property
    def is_long_term(self) -> bool:
        return self.kind == FilingKind.LONG_TERM

    @property
    def permit_masked(self) -> str:
        """居住证号 shown as its first 4 and last 4 characters."""
        number = self.residence_permit_number
        if len(number) <= 8:
            return "*" * len(number)
        return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


class FilingEvent(models.Model):
    """One change of a filing's status: which action, who, when, from, to."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=10)
    from_status = models.CharField(_("原状态"), max_length=10)
    to_status = models.CharField(
        _("新状态"), max_length=10, choices=FilingStatus.choices
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("备案状态变更")
        verbose_name_plural = _("备案状态变更")
        constraints = [
            # Each action happens once per filing (a repeated expiry adds no row).
            models.UniqueConstraint(
                fields=["filing", "action"], name="filing_event_once_per_action"
            ),
        ]

    def __str__(self):
        return f"{self.filing_id} {self.action}"


class InsuranceCertificate(models.Model):
    """参保证明: what was certified about a person's insurance on the day it
    was issued (schemes, regions, covered periods, contribution months), kept
    as printed so that verification shows exactly that."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="insurance_certificates",
    )
    number = models.CharField(_("证明编号"), max_length=24, unique=True)
    verification_code = models.CharField(_("验证码"), max_length=16, unique=True)
    issued_at = models.DateTimeField(_("开具时间"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开具人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    facts = models.JSONField(_("证明内容"), default=dict)
    # HMAC of number, code and facts at issue (printed on the PDF).
    signature = models.CharField(_("签名"), max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("参保证明")
        verbose_name_plural = _("参保证明")
        indexes = [
            models.Index(fields=["person", "-issued_at"], name="certificate_person")
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("records:certificate_detail", args=[self.pk])

    @property
    def signed_content(self) -> str:
        return "|".join(
            (
                self.number,
                self.verification_code,
                json.dumps(self.facts, sort_keys=True),
            )
        )

    def compute_signature(self) -> str:
        return signature("records.InsuranceCertificate", self.signed_content)

    @property
    def signature_valid(self) -> bool:
        return bool(self.signature) and self.signature == self.compute_signature()


class LifetimeRequirement(models.Model):
    """退休时享受终身医保待遇的缴费年限要求 of one region (local): total
    contribution months by sex, of which actual months paid in the region."""

    region = models.OneToOneField(
        Region,
        verbose_name=_("统筹区"),
        on_delete=models.PROTECT,
        related_name="lifetime_requirement",
    )
    men_months = models.PositiveIntegerField(_("男性累计缴费月数"), default=300)
    women_months = models.PositiveIntegerField(_("女性累计缴费月数"), default=240)
    local_actual_months = models.PositiveIntegerField(
        _("其中本地实际缴费月数"), default=120
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["region"]
        verbose_name = _("终身待遇缴费年限要求")
        verbose_name_plural = _("终身待遇缴费年限要求")
        constraints = [
            models.CheckConstraint(
                condition=Q(men_months__gt=0, women_months__gt=0)
                & Q(local_actual_months__lte=F("men_months"))
                & Q(local_actual_months__lte=F("women_months")),
                name="requirement_months_sane",
            ),
        ]

    def __str__(self):
        return str(self.region)

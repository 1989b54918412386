"""医保关系转移接续: transfer requests, their timeline, the handoff messages the
two regions exchange, and the information sheet the outgoing region issues."""

import json
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from core.identity import mask_id_number
from core.models import Region
from core.transitions import Edge, StateMachine
from people.models import Person


class TransferKind(models.TextChoices):
    EMPLOYEE_TO_EMPLOYEE = "e2e", _("职工医保 → 职工医保")
    RESIDENT_TO_RESIDENT = "r2r", _("居民医保 → 居民医保")
    EMPLOYEE_TO_RESIDENT = "e2r", _("职工医保 → 居民医保")
    RESIDENT_TO_EMPLOYEE = "r2e", _("居民医保 → 职工医保")


# The schemes on each side of a kind ("employee" covers both employee schemes).
KIND_SIDES = {
    TransferKind.EMPLOYEE_TO_EMPLOYEE: ("employee", "employee"),
    TransferKind.RESIDENT_TO_RESIDENT: ("resident", "resident"),
    TransferKind.EMPLOYEE_TO_RESIDENT: ("employee", "resident"),
    TransferKind.RESIDENT_TO_EMPLOYEE: ("resident", "employee"),
}


class TransferStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交，待转出地受理")
    OUTGOING_REVIEW = "outgoing_review", _("转出地审核中")
    SHEET_ISSUED = "sheet_issued", _("转出地已出具信息表")
    INCOMING_REVIEW = "incoming_review", _("转入地审核中")
    COMPLETED = "completed", _("已办结")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已撤销")


# The one table of transfer transitions (SPEC §8), each edge labelled with the
# actions that may take it; services ask it instead of comparing `.status`.
# The money return after an incoming rejection changes no status, so it is
# not an edge: REJECTED stays final.
TRANSFER_MACHINE = StateMachine(
    "transfer",
    [
        Edge(
            TransferStatus.SUBMITTED, TransferStatus.OUTGOING_REVIEW, "outgoing_accept"
        ),
        Edge(TransferStatus.SUBMITTED, TransferStatus.CANCELLED, "citizen_cancel"),
        Edge(TransferStatus.SUBMITTED, TransferStatus.REJECTED, "outgoing_reject"),
        Edge(
            TransferStatus.OUTGOING_REVIEW,
            TransferStatus.SHEET_ISSUED,
            "outgoing_issue_sheet",
        ),
        Edge(
            TransferStatus.OUTGOING_REVIEW, TransferStatus.REJECTED, "outgoing_reject"
        ),
        Edge(
            TransferStatus.SHEET_ISSUED,
            TransferStatus.INCOMING_REVIEW,
            "incoming_receive",
        ),
        Edge(
            TransferStatus.INCOMING_REVIEW,
            TransferStatus.COMPLETED,
            "incoming_complete",
        ),
        Edge(
            TransferStatus.INCOMING_REVIEW, TransferStatus.REJECTED, "incoming_reject"
        ),
    ],
    states=TransferStatus.values,
)
OUTGOING_ACTIONS = ("outgoing_accept", "outgoing_issue_sheet", "outgoing_reject")
INCOMING_ACTIONS = ("incoming_receive", "incoming_complete", "incoming_reject")


def _statuses_where(*actions: str) -> tuple[TransferStatus, ...]:
    return tuple(
        status
        for status in TransferStatus
        if any(status in TRANSFER_MACHINE.sources(action=a) for a in actions)
    )


# Derived from the machine so that a queue and the actions it offers cannot
# disagree: a transfer is open while some action can still move it, and waits
# for the side whose actions can.
OPEN_STATUSES = tuple(
    status for status in TransferStatus if not TRANSFER_MACHINE.is_final(status)
)
OUTGOING_STATUSES = _statuses_where(*OUTGOING_ACTIONS)
INCOMING_STATUSES = _statuses_where(*INCOMING_ACTIONS)


class Side(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    OUTGOING = "outgoing", _("转出地")
    INCOMING = "incoming", _("转入地")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    COUNTER = "counter", _("窗口申请")


class Step(models.TextChoices):
    """The next automatic step of the engine (a simulated office or a message delivery)."""

    ACCEPT = "accept", _("转出地受理")
    ISSUE_SHEET = "issue_sheet", _("转出地出具信息表")
    RECEIVE = "receive", _("转入地接收信息表")
    COMPLETE = "complete", _("转入地办结")
    RETURN = "return", _("转出地收回在途资金")


class RejectReason(models.TextChoices):
    IDENTITY = "identity", _("身份信息与参保记录不一致")
    ARREARS = "arrears", _("转出地存在欠费")
    NOT_SUSPENDED = "not_suspended", _("转出地参保关系未暂停")
    INCOMING_NOT_NORMAL = "incoming_not_normal", _("转入地参保状态不正常")
    DUPLICATE = "duplicate", _("重复申请")
    OTHER = "other", _("其他原因")


NEXT_ACTIONS = {
    RejectReason.IDENTITY: _(
        "请携带身份证到参保地经办窗口核对、更正参保信息后重新申请。"
    ),
    RejectReason.ARREARS: _("请先在转出地补缴欠费，再重新申请转移。"),
    RejectReason.NOT_SUSPENDED: _(
        "请先到转出地办理暂停参保（中止参保），再重新申请转移。"
    ),
    RejectReason.INCOMING_NOT_NORMAL: _(
        "请先在转入地完成参保登记并缴费，再重新申请转移。"
    ),
    RejectReason.DUPLICATE: _("您已有其他转移接续申请，请在“转移接续”列表中查看进度。"),
    RejectReason.OTHER: _("请按原因说明处理后重新申请，或致电经办机构咨询。"),
}


class Transfer(models.Model):
    """医保关系转移接续 request: one person's insurance relationship (months,
    personal-account balance) moved from an outgoing to an incoming region."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    kind = models.CharField(_("转移类型"), max_length=3, choices=TransferKind.choices)
    outgoing_region = models.ForeignKey(
        Region,
        verbose_name=_("转出地"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    incoming_region = models.ForeignKey(
        Region,
        verbose_name=_("转入地"),
        on_delete=models.PROTECT,
        related_name="transfers_in",
    )
    status = models.CharField(
        _("办理状态"),
        max_length=16,
        choices=TransferStatus.choices,
        default=TransferStatus.SUBMITTED,
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(
        _("申请渠道"), max_length=8, choices=Channel.choices, default=Channel.ONLINE
    )
    # The enrollments found when the preconditions were checked.
    outgoing_enrollment = models.ForeignKey(
        "enrollment.Enrollment",
        verbose_name=_("转出地参保登记"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    incoming_enrollment = models.ForeignKey(
        "enrollment.Enrollment",
        verbose_name=_("转入地参保登记"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Deadlines on the real working-day calendar; estimated where the calendar is not yet published.
    outgoing_deadline = models.DateField(_("转出地办理时限"), null=True, blank=True)
    outgoing_deadline_estimated = models.BooleanField(
        _("转出地时限为预估"), default=False
    )
    incoming_deadline = models.DateField(_("转入地办理时限"), null=True, blank=True)
    incoming_deadline_estimated = models.BooleanField(
        _("转入地时限为预估"), default=False
    )
    # The time of each step.
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    sheet_issued_at = models.DateTimeField(_("出具信息表时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("转入地接收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("不予办理时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    reject_side = models.CharField(
        _("不予办理方"), max_length=10, choices=Side.choices, blank=True
    )
    reject_code = models.CharField(
        _("不予办理原因"), max_length=24, choices=RejectReason.choices, blank=True
    )
    reject_text = models.CharField(_("原因说明"), max_length=300, blank=True)
    # Money and months "in transit": debited at the outgoing region, not yet
    # credited at the incoming one (or returned). Balances + transit never change.
    transit_amount = models.DecimalField(
        _("在途个人账户资金"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    transit_actual_months = models.IntegerField(_("在途实际缴费月数"), default=0)
    transit_deemed_months = models.IntegerField(_("在途视同缴费月数"), default=0)
    # The engine's next automatic step and when it is due (null: waiting for staff).
    next_step = models.CharField(
        _("下一步"), max_length=12, choices=Step.choices, blank=True
    )
    due_at = models.DateTimeField(_("自动办理时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("转移接续申请")
        verbose_name_plural = _("转移接续申请")
        constraints = [
            # One open transfer per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(
                    status__in=[
                        "submitted",
                        "outgoing_review",
                        "sheet_issued",
                        "incoming_review",
                    ]
                ),
                name="transfer_one_open_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(outgoing_region=models.F("incoming_region")),
                name="transfer_regions_differ",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TransferStatus]),
                name="transfer_status_known",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TransferKind]),
                name="transfer_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(transit_amount__gte=0), name="transfer_transit_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_code=""),
                name="transfer_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(due_at__isnull=True) | ~Q(next_step=""),
                name="transfer_due_has_step",
            ),
        ]
        indexes = [
            # The engine's scan: only rows with due work are in the index, so its
            # cost does not grow with finished or staff-handled transfers.
            models.Index(
                fields=["due_at"],
                condition=Q(due_at__isnull=False),
                name="transfer_due",
            ),
            models.Index(
                fields=["outgoing_region", "status"], name="transfer_out_queue"
            ),
            models.Index(
                fields=["incoming_region", "status"], name="transfer_in_queue"
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.person}"

    def get_absolute_url(self):
        return reverse("transfers:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        day = self.submitted_at.strftime("%Y%m%d") if self.submitted_at else "00000000"
        return f"ZY{day}{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def acting_side(self) -> str:
        if self.status in OUTGOING_STATUSES:
            return Side.OUTGOING
        if self.status in INCOMING_STATUSES:
            return Side.INCOMING
        return ""

    @property
    def current_deadline_estimated(self) -> bool:
        if self.status in OUTGOING_STATUSES:
            return self.outgoing_deadline_estimated
        if self.status in INCOMING_STATUSES:
            return self.incoming_deadline_estimated
        return False

    @property
    def reject_label(self) -> str:
        if not self.reject_code:
            return ""
        label = str(RejectReason(self.reject_code).label)
        return f"{label}（{self.reject_text}）" if self.reject_text else label

    @property
    def next_action(self) -> str:
        """What the citizen should do after a rejection."""
        return str(NEXT_ACTIONS.get(self.reject_code, "")) if self.reject_code else ""

    @property
    def current_deadline(self):
        if self.status in OUTGOING_STATUSES:
            return self.outgoing_deadline
        if self.status in INCOMING_STATUSES:
            return self.incoming_deadline
        return None


class EventStep(models.TextChoices):
    SUBMITTED = "submitted", _("提交申请")
    ACCEPTED = "accepted", _("转出地受理")
    SHEET_ISSUED = "sheet_issued", _("转出地出具信息表并转出个人账户")
    RECEIVED = "received", _("转入地接收信息表")
    COMPLETED = "completed", _("转入地办结")
    REJECTED = "rejected", _("不予办理")
    CANCELLED = "cancelled", _("申请人撤销")
    RETURNED = "returned", _("在途资金退回转出地")


class TransferEvent(models.Model):
    """One step of a transfer's timeline (append-only): which step, who acted
    for which side, when, and the deadline that applied."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="events"
    )
    step = models.CharField(_("环节"), max_length=16, choices=EventStep.choices)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(
        _("新状态"), max_length=16, choices=TransferStatus.choices
    )
    # The region that acts (or must act) at this step; blank for the applicant.
    side = models.CharField(_("办理方"), max_length=10, choices=Side.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("统筹区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    deadline = models.DateField(_("办理时限"), null=True, blank=True)
    estimated = models.BooleanField(_("时限为预估"), default=False)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("转移接续办理记录")
        verbose_name_plural = _("转移接续办理记录")
        constraints = [
            # Each step happens once per transfer: a step that runs twice cannot add a second row.
            models.UniqueConstraint(
                fields=["transfer", "step"], name="transfer_event_once_per_step"
            ),
        ]

    def __str__(self):
        return f"{self.transfer_id} {self.step}"


class MessageKind(models.TextChoices):
    APPLICATION = "application", _("转移接续联系函")
    SHEET = "sheet", _("参保人员基本医疗保险信息表")
    COMPLETED = "completed", _("转入办结通知")
    REJECTED = "rejected", _("不予办理通知")


class HandoffMessage(models.Model):
    """A message between two regions' offices: the outbox of `from_region` and
    the inbox of `to_region`. The regions share this database but talk only
    through these rows, so a region could later be a separate server."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=MessageKind.choices)
    from_region = models.ForeignKey(
        Region, verbose_name=_("发送方"), on_delete=models.PROTECT, related_name="+"
    )
    to_region = models.ForeignKey(
        Region, verbose_name=_("接收方"), on_delete=models.PROTECT, related_name="+"
    )
    payload = models.JSONField(_("内容"), default=dict)
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("经办机构往来消息")
        verbose_name_plural = _("经办机构往来消息")
        constraints = [
            # A message of each kind exists once per transfer, so it is processed once.
            models.UniqueConstraint(
                fields=["transfer", "kind"], name="handoff_once_per_kind"
            ),
            models.CheckConstraint(
                condition=~Q(from_region=models.F("to_region")),
                name="handoff_regions_differ",
            ),
        ]
        indexes = [
            models.Index(fields=["to_region", "processed_at"], name="handoff_inbox"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.from_region_id} → {self.to_region_id}"


SHEET_SIGNATURE_SALT = "transfers.InformationSheet"


class InformationSheet(models.Model):
    """《参保人员基本医疗保险信息表》: issued by the outgoing region, a stored
    document the citizen and both regions can open and download."""

    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, related_name="sheet"
    )
    number = models.CharField(_("编号"), max_length=24, unique=True)
    # Anyone holding the code may verify the sheet on the public page.
    verification_code = models.CharField(_("验证码"), max_length=16, unique=True)
    # HMAC of the sheet's fields at issue, printed on the PDF and shown by the
    # verification page: a copy whose figures were changed no longer matches.
    signature = models.CharField(_("签名"), max_length=64, blank=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证号"), max_length=18)
    scheme = models.CharField(_("险种"), max_length=10)
    scheme_label = models.CharField(_("险种名称"), max_length=50)
    outgoing_region_code = models.CharField(_("转出地区划代码"), max_length=6)
    incoming_region_code = models.CharField(_("转入地区划代码"), max_length=6)
    enrollment_start = models.DateField(_("参保开始日期"), null=True, blank=True)
    suspended_on = models.DateField(_("暂停参保日期"), null=True, blank=True)
    actual_months = models.IntegerField(_("实际缴费月数"))
    deemed_months = models.IntegerField(_("视同缴费月数"))
    contribution_history = models.JSONField(_("缴费记录"), default=list)
    account_balance = models.DecimalField(
        _("个人账户余额"), max_digits=12, decimal_places=2
    )
    issued_at = models.DateTimeField(_("出具时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("参保人员基本医疗保险信息表")
        verbose_name_plural = _("参保人员基本医疗保险信息表")
        constraints = [
            models.CheckConstraint(
                condition=Q(actual_months__gte=0, deemed_months__gte=0),
                name="sheet_months_ok",
            ),
            models.CheckConstraint(
                condition=Q(account_balance__gte=0), name="sheet_balance_not_negative"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def name_masked(self) -> str:
        """张三丰 → 张**: enough to recognise one's own sheet, not a stranger."""
        name = self.name
        return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name

    @property
    def signed_content(self) -> str:
        """The fields the signature covers, in a fixed order."""
        return "|".join(
            str(value)
            for value in (
                self.number,
                self.verification_code,
                self.id_number,
                self.name,
                self.scheme,
                self.outgoing_region_code,
                self.incoming_region_code,
                self.enrollment_start or "",
                self.suspended_on or "",
                self.actual_months,
                self.deemed_months,
                self.account_balance,
                json.dumps(self.contribution_history, sort_keys=True),
            )
        )

    def compute_signature(self, *, secret=None) -> str:
        return salted_hmac(
            SHEET_SIGNATURE_SALT,
            self.signed_content,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()[:32]

    def signature_holds(self) -> bool:
        """Whether the stored fields still match the signature they were issued
        with (under the current secret key or one it replaced)."""
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        return any(
            constant_time_compare(self.signature, self.compute_signature(secret=key))
            for key in keys
        )


class OutgoingQueue(Transfer):
    """Staff view: transfers waiting for the outgoing region (转出待办)."""

    class Meta:
        proxy = True
        verbose_name = _("转出待办")
        verbose_name_plural = _("转出待办")


class IncomingQueue(Transfer):
    """Staff view: transfers waiting for the incoming region (转入待办)."""

    class Meta:
        proxy = True
        verbose_name = _("转入待办")
        verbose_name_plural = _("转入待办")

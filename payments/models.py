"""Payments: personal accounts (个人账户) as ledgers.

The payment orders, attempts, events, receipts and family bindings live here too.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Region
from core.money import format_yuan
from core.places import in_english
from core.transitions import Edge, StateMachine
from enrollment.models import EnrollmentStatus
from people.models import Person, Relation


class PersonalAccount(models.Model):
    """An employee-insured person's personal account (个人账户) at one region.

    A ledger: `balance` is the sum of its entries, kept in step under a row lock
    by payments.services.account_post, and can never go below zero."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="personal_accounts"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    balance = models.DecimalField(_("余额"), max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("个人账户")
        verbose_name_plural = _("个人账户")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "region"], name="account_one_per_person_region"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="account_balance_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.person} @ {self.region_id}"


class EntryKind(models.TextChoices):
    CONTRIBUTION = "contribution", _("划入")
    FAMILY_PAYMENT = "family_payment", _("家庭共济缴费")
    REFUND = "refund", _("退回")
    TRANSFER_OUT = "transfer_out", _("转出")
    TRANSFER_IN = "transfer_in", _("转入")
    ADJUSTMENT = "adjustment", _("调整")


class AccountEntry(models.Model):
    """One movement of a personal account. `reference` is unique: the same
    payment or transfer step can never post twice."""

    account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    reference = models.CharField(max_length=80, unique=True)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("个人账户明细")
        verbose_name_plural = _("个人账户明细")
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0), name="entry_amount_not_zero"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="entry_balance_after_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount:+.2f} ({self.reference})"


# --- Orders, payment attempts and their events ---------------------------------


# An enrollment takes a payment while registered (unpaid) or active (a flexible
# worker's further months); a charge that arrives for any other is refunded.
PAYABLE_ENROLLMENT_STATUSES = (EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE)


class OrderKind(models.TextChoices):
    PREMIUM = "premium", _("缴费")
    BACKPAY = "backpay", _("补缴")
    REPAIR = "repair", _("断保修复缴费")


class Order(models.Model):
    """What is paid: one insured person's premium for one period, priced by the
    server from the policy tables (the client never sends an amount).

    `period` is "2026" for a resident year or the first month "2026-03" of a
    flexible worker's months; `periods` lists every month an order covers."""

    insured = models.ForeignKey(
        Person,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    payer = models.ForeignKey(
        Person,
        verbose_name=_("缴费人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders_paid",
    )
    enrollment = models.ForeignKey(
        "enrollment.Enrollment",
        verbose_name=_("参保登记"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("统筹区"), on_delete=models.PROTECT, related_name="+"
    )
    scheme = models.CharField(_("险种"), max_length=10)
    period = models.CharField(_("缴费期间"), max_length=7)
    periods = models.JSONField(default=list)
    kind = models.CharField(
        _("类型"), max_length=10, choices=OrderKind.choices, default=OrderKind.PREMIUM
    )
    category = models.CharField(_("人员类别"), max_length=24, blank=True)
    months = models.PositiveIntegerField(_("月数"), default=12)
    personal_amount = models.DecimalField(
        _("个人缴费"), max_digits=12, decimal_places=2
    )
    subsidy = models.DecimalField(
        _("财政补助（不需缴纳）"), max_digits=12, decimal_places=2, default=0
    )
    late_fee = models.DecimalField(
        _("滞纳金"), max_digits=12, decimal_places=2, default=0
    )
    total = models.DecimalField(_("应缴合计"), max_digits=12, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("缴费订单")
        verbose_name_plural = _("缴费订单")
        constraints = [
            models.CheckConstraint(
                condition=Q(personal_amount__gte=0, subsidy__gte=0, late_fee__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total=models.F("personal_amount") + models.F("late_fee")),
                name="order_total_is_sum",
            ),
            models.CheckConstraint(
                condition=Q(period__regex=r"^\d{4}(-\d{2})?$"),
                name="order_period_shape",
            ),
        ]
        indexes = [
            models.Index(
                fields=["insured", "scheme", "period"], name="order_insured_period"
            )
        ]

    def __str__(self):
        return f"{self.insured.name} {self.period} {self.total}"


class Channel(models.TextChoices):
    APP = "app", _("国家医保服务平台App")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    BANK = "bank", _("银行App")
    COUNTER = "counter", _("经办窗口")
    ACCOUNT = "account", _("个人账户（家庭共济）")


# Channels that answer later through a signed callback (the simulated providers).
ONLINE_CHANNELS = (Channel.APP, Channel.WECHAT, Channel.ALIPAY, Channel.BANK)


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("已创建")
    STARTED = "started", _("正在发起支付")
    SUBMITTED = "submitted", _("等待支付结果")
    SUCCESS = "success", _("缴费成功")
    FAILED = "failed", _("缴费失败")
    CANCELLED = "cancelled", _("已取消")
    ERROR = "error", _("支付异常")
    REFUND_PENDING = "refund_pending", _("重复缴费，退费中")
    REFUNDED = "refunded", _("已退费")


def status_label(value: str) -> str:
    """A payment status as people read it ("缴费成功"); an unknown code as it is."""
    try:
        return str(PaymentStatus(value).label)
    except ValueError:
        return value or "—"


S = PaymentStatus
# The one table of payment transitions (SPEC §7, as GOV.UK Pay's
# PaymentGatewayStateTransitions): each edge names the service actions that may
# take it. A synchronous channel (counter, personal account) and a channel's
# answer that arrives before the submit step is recorded go straight from
# started to an outcome. A charge that must not stand (its period is already
# paid, its enrollment no longer payable, or the attempt was given up) goes to
# refund_pending and is refunded (退费). An edge back to its own state is an
# action allowed on the attempt that leaves it as it is: a retry (补扣) makes a
# new attempt, a refund request resends the refund. No action cancels an attempt
# yet; a cancelled one (the database still knows the status) is treated as
# given up, like a failed one.
PAYMENT_MACHINE = StateMachine(
    "payment",
    [
        Edge(S.CREATED, S.STARTED, "start"),
        Edge(S.STARTED, S.SUBMITTED, "submit", "channel_processing"),
        Edge(
            S.STARTED, S.SUCCESS, "channel_success", "counter_settle", "account_settle"
        ),
        Edge(S.SUBMITTED, S.SUCCESS, "channel_success"),
        Edge(S.STARTED, S.FAILED, "channel_failure", "account_decline"),
        Edge(S.SUBMITTED, S.FAILED, "channel_failure"),
        # Reconciliation ends an attempt the channel never heard of.
        Edge(S.STARTED, S.ERROR, "give_up"),
        Edge(S.SUBMITTED, S.ERROR, "give_up"),
        Edge(S.STARTED, S.REFUND_PENDING, "settle_refused"),
        Edge(S.SUBMITTED, S.REFUND_PENDING, "settle_refused"),
        # The channel took the money after the attempt was given up.
        Edge(S.FAILED, S.REFUND_PENDING, "channel_success"),
        Edge(S.CANCELLED, S.REFUND_PENDING, "channel_success"),
        Edge(S.ERROR, S.REFUND_PENDING, "channel_success"),
        Edge(S.REFUND_PENDING, S.REFUNDED, "refund_done"),
        Edge(S.FAILED, S.FAILED, "retry"),
        Edge(S.CANCELLED, S.CANCELLED, "retry"),
        Edge(S.ERROR, S.ERROR, "retry"),
        Edge(S.REFUND_PENDING, S.REFUND_PENDING, "refund_request"),
    ],
    states=S.values,
)
# In flight: not started yet, or started and still waiting for the channel's
# answer (reconciliation may yet give it up). New attempts for the same period
# wait for these; every other status is an outcome.
_UNANSWERED = PAYMENT_MACHINE.sources(action="start") | PAYMENT_MACHINE.sources(
    action="give_up"
)
IN_FLIGHT = tuple(s for s in S.values if s in _UNANSWERED)
FINISHED = tuple(s for s in S.values if s not in IN_FLIGHT)
LIVE_ATTEMPT_CONSTRAINT = "payment_one_live_per_period"


class Payment(models.Model):
    """One attempt to pay an order at one channel. A retry (补扣) is a new row."""

    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="payments"
    )
    # Copied from the order so the database can hold one success per period.
    insured = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    scheme = models.CharField(_("险种"), max_length=10)
    period = models.CharField(_("缴费期间"), max_length=7)
    channel = models.CharField(_("缴费渠道"), max_length=10, choices=Channel.choices)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=PaymentStatus.choices,
        default=PaymentStatus.CREATED,
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    reference = models.CharField(_("支付流水号"), max_length=32, unique=True)
    provider_transaction_id = models.CharField(
        _("渠道交易号"), max_length=64, null=True, blank=True
    )
    last_callback_seq = models.PositiveIntegerField(default=0)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    account = models.ForeignKey(
        PersonalAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When reconciliation should next ask the channel about this attempt.
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("支付记录")
        verbose_name_plural = _("支付记录")
        constraints = [
            models.UniqueConstraint(
                fields=["insured", "scheme", "period"],
                condition=Q(status="success"),
                name="payment_one_success_per_period",
            ),
            # One live attempt per period: a second click, a second tab or
            # another family member paying at the same moment is refused by
            # the database itself (payments.services turns it into 409).
            models.UniqueConstraint(
                fields=["insured", "scheme", "period"],
                condition=Q(status__in=IN_FLIGHT),
                name=LIVE_ATTEMPT_CONSTRAINT,
            ),
            models.UniqueConstraint(
                fields=["channel", "provider_transaction_id"],
                condition=Q(provider_transaction_id__isnull=False),
                name="payment_provider_txn_once",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="payment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PaymentStatus]),
                name="payment_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(channel="account") | Q(account__isnull=False),
                name="payment_account_channel_has_account",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["created", "started", "submitted"]),
                name="payment_due_unsettled",
            ),
            models.Index(
                fields=["insured", "-created_at"], name="payment_insured_recent"
            ),
            # The staff dashboard's premiums by day and channel.
            models.Index(
                fields=["settled_at"],
                condition=Q(status="success"),
                name="payment_success_settled",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class PaymentEvent(models.Model):
    """Append-only log of a payment's changes: who, when, from, to, why."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        max_length=20, blank=True
    )  # citizen, callback, reconcile, staff, system
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("支付状态变更")
        verbose_name_plural = _("支付状态变更")

    def __str__(self):
        """ "2026-12-01 09:12 张伟 缴费成功 ¥400.00（微信）": the payment's
        person, amount and channel only when the caller loaded the payment
        (select_related), so listing events never costs a query per row."""
        parts = (
            [timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")] if self.at else []
        )
        payment = self.payment if PaymentEvent.payment.is_cached(self) else None
        if payment is not None and Payment.insured.is_cached(payment):
            parts.append(payment.insured.name)
        parts.append(status_label(self.to_status))
        if payment is not None:
            parts.append(
                f"{format_yuan(payment.amount)}（{payment.get_channel_display()}）"
            )
        return " ".join(parts)


class PaidPeriod(models.Model):
    """A period (year or month) of one insured person and scheme that is paid.
    Unique: whichever payment writes it first is the one success."""

    insured = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    scheme = models.CharField(max_length=10)
    period = models.CharField(max_length=7)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="paid_periods"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["insured", "scheme", "period"], name="paid_period_once"
            ),
        ]

    def __str__(self):
        return f"{self.scheme} {self.period}"


class Receipt(models.Model):
    """电子缴费凭证: a snapshot of a successful payment, verifiable by its code."""

    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="receipt"
    )
    number = models.CharField(_("凭证号"), max_length=24, unique=True)
    verification_code = models.CharField(_("验证码"), max_length=16, unique=True)
    payer_name = models.CharField(_("缴费人"), max_length=50)
    insured_name = models.CharField(_("参保人"), max_length=50)
    insured_id_masked = models.CharField(_("参保人身份证号"), max_length=18)
    scheme = models.CharField(_("险种"), max_length=40)
    region_name = models.CharField(_("参保地"), max_length=50)
    period = models.CharField(_("缴费期间"), max_length=40)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    channel = models.CharField(_("缴费渠道"), max_length=40)
    transaction_id = models.CharField(_("交易号"), max_length=64)
    paid_at = models.DateTimeField(_("缴费时间"))

    class Meta:
        verbose_name = _("电子缴费凭证")
        verbose_name_plural = _("电子缴费凭证")

    def __str__(self):
        return self.number

    @property
    def region_display(self) -> str:
        """参保地 in the active language: as issued in Chinese, else the order's
        region by its name in that language."""
        if in_english():
            return self.payment.order.region.display_name
        return self.region_name


class CallbackLog(models.Model):
    """Every signed callback received; the nonce is unique, so a replay is refused."""

    channel = models.CharField(max_length=10)
    nonce = models.CharField(max_length=64, unique=True)
    timestamp = models.BigIntegerField()
    body = models.TextField()
    outcome = models.CharField(max_length=40)
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("渠道回调")
        verbose_name_plural = _("渠道回调")

    def __str__(self):
        return f"{self.channel} {self.outcome}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("退费中")
    DONE = "done", _("已退费")


REFUND_MACHINE = StateMachine(
    "refund", [Edge(RefundStatus.PENDING, RefundStatus.DONE, "refund_done")]
)


class Refund(models.Model):
    """退费 (原路退回) of a charge that must not stand, such as a duplicate."""

    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="refund"
    )
    amount = models.DecimalField(_("退费金额"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("退费原因"), max_length=200)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RefundStatus.choices,
        default=RefundStatus.PENDING,
    )
    provider_refund_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退费")
        verbose_name_plural = _("退费")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="refund_amount_positive"
            )
        ]

    def __str__(self):
        return f"{self.amount:.2f} {self.status}"


# --- 家庭共济 ----------------------------------------------------------------------


class BindingStatus(models.TextChoices):
    PENDING = "pending", _("待亲属同意")
    ACTIVE = "active", _("已绑定")
    DECLINED = "declined", _("亲属已拒绝")
    UNBOUND = "unbound", _("已解除")


B = BindingStatus
# The authoriser asks (pending); the relative, or a minor's guardian, accepts or
# declines; either side may unbind a binding that is pending or active.
BINDING_MACHINE = StateMachine(
    "binding",
    [
        Edge(B.PENDING, B.ACTIVE, "consent_accept"),
        Edge(B.PENDING, B.DECLINED, "consent_decline"),
        Edge(B.PENDING, B.UNBOUND, "unbind"),
        Edge(B.ACTIVE, B.UNBOUND, "unbind"),
    ],
)
MAX_BINDINGS = 6


class FamilyBinding(models.Model):
    """家庭共济 binding: an employee-insured authoriser lets a close relative's
    resident premiums be paid from the authoriser's personal account."""

    authoriser = models.ForeignKey(
        Person,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="bindings",
    )
    relative = models.ForeignKey(
        Person,
        verbose_name=_("亲属"),
        on_delete=models.PROTECT,
        related_name="bound_by",
    )
    relation = models.CharField(_("关系"), max_length=24, choices=Relation.choices)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=BindingStatus.choices,
        default=BindingStatus.PENDING,
    )
    consented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("家庭共济绑定")
        verbose_name_plural = _("家庭共济绑定")
        constraints = [
            models.UniqueConstraint(
                fields=["authoriser", "relative"],
                condition=Q(status__in=["pending", "active"]),
                name="binding_one_live_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(authoriser=models.F("relative")), name="binding_not_self"
            ),
            models.CheckConstraint(
                condition=Q(relation__in=[r.value for r in Relation]),
                name="binding_relation_close",
            ),
        ]

    def __str__(self):
        return f"{self.authoriser.name} → {self.relative.name}"


# --- The counter's takings and the day close (日结对账) -------------------------


class Tender(models.TextChoices):
    """How the citizen paid a clerk at the counter."""

    CASH = "cash", _("现金")
    CARD = "card", _("刷卡")


class CounterTender(models.Model):
    """How a counter payment was handed over (现金 / 刷卡): the day close
    reconciles each clerk's takings per tender against the receipts."""

    payment = models.OneToOneField(
        Payment,
        verbose_name=_("支付记录"),
        on_delete=models.PROTECT,
        related_name="tender",
    )
    method = models.CharField(_("收款方式"), max_length=8, choices=Tender.choices)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("窗口收款方式")
        verbose_name_plural = _("窗口收款方式")
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=["cash", "card"]), name="tender_method_known"
            )
        ]

    def __str__(self):
        return str(self.get_method_display())


class DayClose(models.Model):
    """日结对账: a supervisor closes one clerk's counter day. The sums of the
    clerk's counter payments, per tender, matched the receipts issued for
    them; `lines` keeps those figures per tender with what was counted, and
    any difference (长短款) carries its explanation. One per clerk and day."""

    region = models.ForeignKey(
        Region, verbose_name=_("统筹区"), on_delete=models.PROTECT, related_name="+"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办员"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    day = models.DateField(_("营业日"))
    # [{"tender": "cash", "count": 3, "payments": "1200.00", "receipts":
    #   "1200.00", "counted": "1200.00"}, …]; tender "" for counter payments
    # taken without a recorded tender.
    lines = models.JSONField(_("分收款方式明细"), default=list)
    payments_count = models.PositiveIntegerField(_("笔数"))
    payments_total = models.DecimalField(
        _("窗口缴费合计"), max_digits=12, decimal_places=2
    )
    receipts_total = models.DecimalField(
        _("缴费凭证合计"), max_digits=12, decimal_places=2
    )
    counted_total = models.DecimalField(_("实收合计"), max_digits=12, decimal_places=2)
    difference = models.DecimalField(_("长短款"), max_digits=12, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("日结人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("日结时间"), auto_now_add=True)

    class Meta:
        ordering = ["-day", "clerk_id"]
        verbose_name = _("日结对账")
        verbose_name_plural = _("日结对账")
        constraints = [
            models.UniqueConstraint(
                fields=["clerk", "day"], name="day_close_once_per_clerk_day"
            ),
            models.CheckConstraint(
                condition=Q(payments_total=models.F("receipts_total")),
                name="day_close_payments_match_receipts",
            ),
            models.CheckConstraint(
                condition=Q(
                    difference=models.F("counted_total") - models.F("receipts_total")
                ),
                name="day_close_difference_is_counted_less_receipts",
            ),
            models.CheckConstraint(
                condition=Q(difference=0) | ~Q(note=""),
                name="day_close_difference_explained",
            ),
            models.CheckConstraint(
                condition=Q(payments_total__gte=0, counted_total__gte=0),
                name="day_close_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.clerk} {format_yuan(self.receipts_total)}"


# --- The simulated payment providers' own records ---------------------------------
# These belong to payments/simulator.py, which plays the outside channels. The
# portal's code never reads them: it learns outcomes only through signed HTTP
# callbacks and the channel's query function, as it would from a real provider.


class SimBehaviour(models.TextChoices):
    SUCCEED = "succeed", _("成功")
    DECLINE = "decline", _("拒绝")
    SILENT = "silent", _("扣款但不回调")
    NEVER = "never", _("不处理也不回调")
    TWICE = "twice", _("回调两次")
    OUT_OF_ORDER = "out_of_order", _("乱序回调")
    LATE_CHARGE = "late_charge", _("先拒绝，稍后又扣款")


class SimChannelScript(models.Model):
    """How a simulated channel answers its next request (oldest unused first);
    with no script left it succeeds after `delay_seconds`."""

    channel = models.CharField(max_length=10)
    behaviour = models.CharField(
        max_length=12, choices=SimBehaviour.choices, default=SimBehaviour.SUCCEED
    )
    delay_seconds = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0.5")
    )
    used = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("模拟渠道脚本")
        verbose_name_plural = _("模拟渠道脚本")

    def __str__(self):
        return f"{self.channel} {self.behaviour}"


class SimTransaction(models.Model):
    """A charge request as the simulated provider recorded it (its own ledger)."""

    channel = models.CharField(max_length=10)
    merchant_reference = models.CharField(max_length=32)
    transaction_id = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    behaviour = models.CharField(max_length=12)
    delay_seconds = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    charged = models.BooleanField(default=False)
    result = models.CharField(
        max_length=10, blank=True
    )  # success / failed / "" while processing
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "merchant_reference"],
                name="sim_txn_once_per_request",
            ),
        ]

    def __str__(self):
        return self.transaction_id

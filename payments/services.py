"""Every write of the payments app, one transactional function each."""

import datetime as dt
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError
from core.money import format_yuan, to_money
from core.outbox import enqueue
from core.transitions import StateMachine
from enrollment.models import Enrollment
from enrollment.services import (
    enrollment_activate,
    enrollment_flexible_month_paid,
    enrollment_repair_years,
)
from people.models import Person, Scope, msg_money, msg_phrase
from people.services import notify, person_lock, proxy_access_record

from .channels import ChannelUnavailable, request_charge
from .channels import query as channel_query
from .channels import refund as channel_refund
from .models import (
    BINDING_MACHINE,
    FINISHED,
    LIVE_ATTEMPT_CONSTRAINT,
    MAX_BINDINGS,
    ONLINE_CHANNELS,
    PAYABLE_ENROLLMENT_STATUSES,
    PAYMENT_MACHINE,
    REFUND_MACHINE,
    AccountEntry,
    BindingStatus,
    CallbackLog,
    Channel,
    EntryKind,
    FamilyBinding,
    Order,
    OrderKind,
    PaidPeriod,
    Payment,
    PaymentEvent,
    PaymentStatus,
    PersonalAccount,
    Receipt,
    Refund,
)
from .pricing import Quote, quote_for
from .quotes import SignedQuote, quote_changed


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


@transaction.atomic
def account_post(
    *, account_id: int, amount: Decimal, kind: str, reference: str
) -> AccountEntry:
    """Post one movement to a personal account, exactly once per `reference`.

    Returns the entry; posting a reference again returns the first entry and
    changes nothing. Raises InsufficientBalance rather than go below zero.
    """
    (entry,) = accounts_post_many(postings=[(account_id, amount, kind, reference)])
    return entry


@transaction.atomic(savepoint=False)
def accounts_post_many(
    *, postings: Sequence[tuple[int, Decimal, str, str]]
) -> list[AccountEntry]:
    """Post movements, each `(account id, amount, kind, reference)`, exactly
    once per reference, in four statements whatever their number (the
    transfer engine's batches; account_post is the batch of one). Returns the
    entries in the order given, the first entry for a reference posted before.
    Raises InsufficientBalance (nothing posted) rather than let any balance go
    below zero, ValueError for a reference posted before with other terms."""
    postings = [
        (account_id, to_money(amount), kind, reference)
        for account_id, amount, kind, reference in postings
    ]
    if any(amount == 0 for _account, amount, _kind, _ref in postings):
        raise ValueError("an account entry moves money")
    # The row locks serialise every movement of these accounts, so two
    # payments at once cannot both spend the same balance, and a reference
    # found unposted here cannot be posted by another transaction before
    # this one commits (id order: two batches never wait on each other).
    accounts = {
        account.pk: account
        for account in PersonalAccount.objects.select_for_update()
        .filter(pk__in={account_id for account_id, *_rest in postings})
        .order_by("pk")
    }
    existing = {
        entry.reference: entry
        for entry in AccountEntry.objects.filter(
            reference__in=[reference for *_rest, reference in postings]
        )
    }
    entries, new, balances = [], [], {}
    for account_id, amount, kind, reference in postings:
        entry = existing.get(reference)
        if entry is not None:
            if entry.account_id != account_id or entry.amount != amount:
                raise ValueError(
                    f"reference {reference} already posted with other terms"
                )
            entries.append(entry)
            continue
        account = accounts[account_id]
        balance = balances.get(account_id, account.balance)
        if balance + amount < 0:
            raise InsufficientBalance(
                _("个人账户余额 ¥%(balance)s 不足以支付 ¥%(amount)s。")
                % {"balance": balance, "amount": -amount}
            )
        balances[account_id] = balance + amount
        entry = AccountEntry(
            account=account,
            amount=amount,
            kind=kind,
            reference=reference,
            balance_after=balance + amount,
        )
        existing[reference] = entry
        entries.append(entry)
        new.append(entry)
    for account_id, balance in balances.items():
        accounts[account_id].balance = balance
    changed = [accounts[account_id] for account_id in balances]
    if len(new) == 1:
        # One movement is saved as a model: its signals and, for a staff
        # member's act, the audit log see it as before.
        new[0].save()
        changed[0].save(update_fields=["balance"])
    elif new:
        # A batch: one INSERT and one UPDATE, no signals (the caller tells
        # people.pagecache). Each balance is its newest entry's balance_after,
        # computed above under the row lock.
        AccountEntry.objects.bulk_create(new)
        PersonalAccount.objects.filter(pk__in=balances).update(
            balance=Subquery(
                AccountEntry.objects.filter(account_id=OuterRef("pk"))
                .order_by("-id")
                .values("balance_after")[:1]
            )
        )
    return entries


@transaction.atomic
def account_get_or_create(*, person_id: int, region_code: str) -> PersonalAccount:
    account, _created = PersonalAccount.objects.get_or_create(
        person_id=person_id, region_id=region_code
    )
    return account


def account_lock(*, person_id: int, region_code: str) -> PersonalAccount | None:
    """The person's personal account in a region, locked until the transaction
    ends (a transfer holds the balance still until it is posted out); None when
    the person has none there. Call inside a transaction."""
    pair = (person_id, region_code)
    return accounts_lock(pairs=[pair]).get(pair)


def accounts_lock(
    *, pairs: Iterable[tuple[int, str]], create: bool = False
) -> dict[tuple[int, str], PersonalAccount]:
    """The personal accounts of these (person id, region code) pairs, locked
    until the transaction ends, in one statement (two with `create`, which
    opens the ones missing first); a pair without an account is left out.
    Call inside a transaction."""
    pairs = set(pairs)
    if not pairs:
        return {}
    if create:
        PersonalAccount.objects.bulk_create(
            [
                PersonalAccount(person_id=person_id, region_id=region)
                for person_id, region in sorted(pairs)
            ],
            ignore_conflicts=True,
        )
    rows = (
        PersonalAccount.objects.select_for_update()
        .filter(
            person_id__in={person_id for person_id, _region in pairs},
            region_id__in={region for _person, region in pairs},
        )
        .order_by("pk")
    )
    return {
        (row.person_id, row.region_id): row
        for row in rows
        if (row.person_id, row.region_id) in pairs
    }


# --- Orders and payment attempts ------------------------------------------------------
#
# Every payment decision for one insured person (is the period paid? what
# does it cost?) is made under people.services.person_lock on that person, so
# two requests at once cannot both decide "not paid yet"; one live attempt per
# period is a constraint of the database (payment_one_live_per_period).

log = logging.getLogger(__name__)

# How long an online attempt may go without an answer before reconciliation asks
# the channel, and how long an intent may stay unsent before it is given up.
QUERY_AFTER = dt.timedelta(seconds=20)
QUERY_BACKOFF = dt.timedelta(seconds=15)
INTENT_GIVE_UP_AFTER = dt.timedelta(seconds=60)
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# How many times a transaction whose randomly drawn number collided (a unique
# index refused it) is run again with new ones.
DRAWS = 3


class PaymentRefused(DomainError):
    code = "payment_refused"


def _new_reference() -> str:
    return "P" + secrets.token_hex(8).upper()


def paid_periods_for(*, insured_id: int, scheme: str) -> set[str]:
    return set(
        PaidPeriod.objects.filter(insured_id=insured_id, scheme=scheme).values_list(
            "period", flat=True
        )
    )


def _move(
    payment: Payment, *, action: str, source: str, actor=None, reason: str = ""
) -> None:
    """Take `action` on a locked payment where PAYMENT_MACHINE leads it, with
    its event row; TransitionNotAllowed if the action has no edge from here."""
    target = PAYMENT_MACHINE.target(payment.status, action=action)
    PaymentEvent.objects.create(
        payment=payment,
        from_status=payment.status,
        to_status=target,
        actor=actor if getattr(actor, "pk", None) else None,
        source=source,
        reason=str(reason)[:200],
    )
    payment.status = target
    if target in FINISHED:
        payment.settled_at = timezone.now()
        payment.due_at = None


def _save(payment: Payment) -> None:
    payment.save(
        update_fields=[
            "status",
            "provider_transaction_id",
            "last_callback_seq",
            "failure_reason",
            "due_at",
            "settled_at",
            "updated_at",
        ]
    )


def quote_for_enrollment(
    *,
    enrollment_id: int | None = None,
    enrollment: Enrollment | None = None,
    months_ahead: int = 1,
    repair_years: int = 0,
    today: dt.date | None = None,
) -> Quote:
    """The server's price of the next unpaid period(s) of an enrollment (given
    by id, or loaded already by the caller)."""
    if enrollment is None:
        enrollment = Enrollment.objects.get(pk=enrollment_id)
    return quote_for(
        enrollment=enrollment,
        paid_periods=paid_periods_for(
            insured_id=enrollment.person_id, scheme=enrollment.scheme
        ),
        months_ahead=months_ahead,
        today=today or timezone.localdate(),
        repair_years=repair_years,
    )


def _refuse_if_paid(*, periods: list[str], paid: set[str]) -> None:
    """A period already paid is refused before any money moves. (A second
    live attempt for a period is refused by the database itself, see
    _attempt_once.)"""
    if paid.intersection(periods):
        raise PaymentRefused(
            _("该期间的保费已缴纳，无需重复缴费。"), code="already_paid"
        )


def _quote_unpaid(
    *,
    enrollment: Enrollment,
    months_ahead: int,
    repair_years: int = 0,
    signed: SignedQuote | None = None,
) -> Quote:
    """The server's price for the next unpaid period(s), refused when a period
    is already paid; with `signed` (the quote the citizen confirmed), refused
    too unless it is still that price. Call with the insured person locked:
    the paid periods read here are then the last word."""
    paid = paid_periods_for(insured_id=enrollment.person_id, scheme=enrollment.scheme)
    if signed is not None:
        _refuse_if_paid(periods=signed.priced["periods"], paid=paid)
    quote = quote_for(
        enrollment=enrollment,
        paid_periods=paid,
        months_ahead=months_ahead,
        today=timezone.localdate(),
        repair_years=repair_years,
    )
    _refuse_if_paid(periods=quote.periods, paid=paid)
    if signed is not None and not signed.matches(quote):
        raise quote_changed()
    return quote


def _attempt_once(idempotency_key: str, write: Callable[[], Payment]) -> Payment:
    """Run `write` (its own transaction, or a savepoint inside the caller's),
    which starts one attempt under `idempotency_key`.

    The database decides the races, so the common case asks it nothing
    beforehand: a repeat of a submission that was accepted (a second click,
    the same form sent again) fails on the key's unique index, or is refused
    because its own first attempt has since paid the period; either way it
    returns that first attempt. A second live attempt for the same period (a
    second tab, another family member at the same moment) fails on
    payment_one_live_per_period and is refused with a reason (409)."""
    for _try in range(DRAWS):
        try:
            return write()
        except IntegrityError as error:
            first = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if first is not None:
                return first
            if _broke(error, LIVE_ATTEMPT_CONSTRAINT):
                raise PaymentRefused(
                    _("该期间已有一笔缴费正在处理中，请等待结果后再操作。"),
                    code="in_flight",
                ) from None
            # Else a number drawn at random (the attempt's reference, a
            # counter receipt's number or code) collided: draw again.
            collided = error
        except DomainError:
            first = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if first is not None:
                return first
            raise
    raise collided


def _broke(error: IntegrityError, constraint_name: str) -> bool:
    """Whether `error` is Payment's unique constraint `constraint_name`
    refusing a row: PostgreSQL names the constraint, SQLite its columns."""
    diagnosis = getattr(error.__cause__, "diag", None)
    if diagnosis is not None:
        return diagnosis.constraint_name == constraint_name
    constraint = next(c for c in Payment._meta.constraints if c.name == constraint_name)
    columns = ", ".join(
        f"{Payment._meta.db_table}.{Payment._meta.get_field(name).column}"
        for name in constraint.fields
    )
    return str(error).endswith(f"UNIQUE constraint failed: {columns}")


def _attempt_create(
    *,
    order: Order,
    channel: str,
    idempotency_key: str,
    actor=None,
    account=None,
    source="citizen",
) -> Payment:
    """A new attempt, inserted as started: the intent is on record before any
    channel is asked for money, so a crash after the call leaves a row that
    reconciliation will ask about. Its two events (created, started) go in
    one INSERT."""
    started = PAYMENT_MACHINE.target(PaymentStatus.CREATED, action="start")
    online = channel in ONLINE_CHANNELS
    created_by = actor if getattr(actor, "pk", None) else None
    payment = Payment.objects.create(
        order=order,
        insured_id=order.insured_id,
        scheme=order.scheme,
        period=order.period,
        channel=channel,
        amount=order.total,
        status=started,
        idempotency_key=idempotency_key,
        reference=_new_reference(),
        account=account,
        created_by=created_by,
        due_at=timezone.now() + QUERY_AFTER if online else None,
    )
    common = {"payment": payment, "source": source, "actor": created_by}
    PaymentEvent.objects.bulk_create(
        [
            PaymentEvent(from_status="", to_status=PaymentStatus.CREATED, **common),
            PaymentEvent(
                from_status=PaymentStatus.CREATED,
                to_status=started,
                reason=str(_("已记录支付意图")) if online else "",
                **common,
            ),
        ]
    )
    return payment


def _run_attempt(payment: Payment, *, actor=None, source: str = "citizen") -> Payment:
    """Take a started attempt forward: an outside channel gets its submit task
    (sent after commit); the counter and the personal account settle here
    and now."""
    if payment.channel in ONLINE_CHANNELS:
        enqueue("payments.tasks.payment_submit", payment.pk)
        return payment
    if payment.channel == Channel.ACCOUNT:
        try:
            # A savepoint: a refused debit leaves the failed attempt on record.
            with transaction.atomic():
                account_post(
                    account_id=payment.account_id,
                    amount=-payment.amount,
                    kind=EntryKind.FAMILY_PAYMENT,
                    reference=f"payment:{payment.reference}",
                )
        except InsufficientBalance as error:
            payment.failure_reason = str(error.message)[:200]
            _move(
                payment,
                action="account_decline",
                source=source,
                actor=actor,
                reason=error.message,
            )
            _save(payment)
            return payment
        payment.provider_transaction_id = f"ACC{payment.reference}"
        action = "account_settle"
    else:  # counter: the clerk has taken the money
        payment.provider_transaction_id = f"CTR{payment.reference}"
        action = "counter_settle"
    _settle_success(payment, action=action, source=source, actor=actor)
    return payment


def _account_for_binding(*, payer_id: int, insured: Person) -> PersonalAccount:
    binding = FamilyBinding.objects.filter(
        authoriser_id=payer_id, relative=insured, status=BindingStatus.ACTIVE
    ).first()
    if binding is None:
        raise PaymentRefused(
            _("您与该参保人没有已生效的家庭共济绑定，不能使用个人账户缴费。"),
            code="no_binding",
            field="channel",
        )
    account = (
        PersonalAccount.objects.filter(person_id=payer_id)
        .order_by("-balance", "pk")
        .first()
    )
    if account is None:
        raise PaymentRefused(
            _("您没有职工医保个人账户。"), code="no_account", field="channel"
        )
    return account


def payment_checkout(
    *,
    user,
    enrollment_id: int,
    channel: str,
    idempotency_key: str,
    months_ahead: int = 1,
    repair_years: int = 0,
    source: str = "citizen",
    signed: SignedQuote | None = None,
) -> Payment:
    """确认缴费: price the order on the server and start one attempt at `channel`.

    `signed` is the quote the citizen confirmed (payments.quotes): its months
    are the ones paid for, and the payment is refused (QuoteChanged) unless
    the server's price is still the one signed. Without it (tests, tools) the
    price is simply the server's now.

    One transaction of a handful of statements: lock the insured person and
    read the enrollment, read the paid periods and the policy, insert the
    order, the attempt (started) with its events, and the submit task's
    outbox row. A repeated submission with the same key returns the first
    attempt and changes nothing; a period already paid, or with a live
    attempt, is refused before any money moves (_attempt_once)."""
    if signed is not None:
        months_ahead, repair_years = signed.months_ahead, signed.repair_years
    return _attempt_once(
        idempotency_key,
        lambda: _checkout(
            user=user,
            enrollment_id=enrollment_id,
            channel=channel,
            idempotency_key=idempotency_key,
            months_ahead=months_ahead,
            repair_years=repair_years,
            source=source,
            signed=signed,
        ),
    )


@transaction.atomic
def _checkout(
    *,
    user,
    enrollment_id: int,
    channel: str,
    idempotency_key: str,
    months_ahead: int,
    repair_years: int,
    source: str,
    signed: SignedQuote | None,
) -> Payment:
    if channel not in Channel.values or channel == Channel.COUNTER:
        raise PaymentRefused(_("请选择缴费方式。"), code="channel", field="channel")
    # The enrollment, read with its insured person locked (people's
    # person_lock, in the same statement): every payment decision for a
    # person is taken under this lock, so the paid periods read next are
    # the last word until this transaction ends.
    enrollment = (
        Enrollment.objects.select_related("person", "person__account")
        .select_for_update(of=("person",))
        .get(pk=enrollment_id)
    )
    quote = _quote_unpaid(
        enrollment=enrollment,
        months_ahead=months_ahead,
        repair_years=repair_years,
        signed=signed,
    )
    payer_id = getattr(user, "person_id", None)
    account = None
    if channel == Channel.ACCOUNT:
        if payer_id is None or quote.scheme != "resident":
            raise PaymentRefused(
                _("个人账户只能用于为绑定亲属缴纳居民医保。"),
                code="account_scope",
                field="channel",
            )
        account = _account_for_binding(payer_id=payer_id, insured=enrollment.person)
    order = _order_create(
        enrollment=enrollment,
        quote=quote,
        payer_id=payer_id,
        key=idempotency_key,
        actor=user,
    )
    if payer_id is not None and payer_id != enrollment.person_id:
        # Under an authority or as 代缴 by name and number: either way the
        # insured person is told who paid, and sees it in "who looked at my
        # record".
        proxy_access_record(
            user=user,
            person=enrollment.person,
            scope=Scope.PAY,
            what=msg_phrase(
                gettext_noop("缴纳%(period)s保费 %(amount)s"),
                period=(
                    msg_phrase(gettext_noop("%(year)s年度"), year=quote.period)
                    if len(quote.period) == 4
                    else quote.period
                ),
                amount=msg_money(quote.total),
            ),
        )
    payment = _attempt_create(
        order=order,
        channel=channel,
        idempotency_key=idempotency_key,
        actor=user,
        account=account,
        source=source,
    )
    return _run_attempt(payment, actor=user, source=source)


def _order_create(
    *, enrollment: Enrollment, quote: Quote, payer_id: int | None, key: str, actor
) -> Order:
    return Order.objects.create(
        insured_id=enrollment.person_id,
        payer_id=payer_id,
        enrollment=enrollment,
        region_id=enrollment.region_id,
        scheme=quote.scheme,
        period=quote.period,
        periods=quote.periods,
        kind=quote.kind,
        category=quote.category,
        months=quote.months,
        personal_amount=quote.personal_amount,
        subsidy=quote.subsidy,
        late_fee=quote.late_fee,
        total=quote.total,
        note=quote.note[:200],
        idempotency_key=key,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def payment_retry(
    *,
    user,
    payment_id: int,
    channel: str,
    idempotency_key: str,
    source: str = "citizen",
) -> Payment:
    """补扣: a new attempt for the order of a failed (or abandoned) attempt."""
    return _attempt_once(
        idempotency_key,
        lambda: _retry(
            user=user,
            payment_id=payment_id,
            channel=channel,
            idempotency_key=idempotency_key,
            source=source,
        ),
    )


@transaction.atomic
def _retry(
    *, user, payment_id: int, channel: str, idempotency_key: str, source: str
) -> Payment:
    if channel not in ONLINE_CHANNELS and channel != Channel.ACCOUNT:
        raise PaymentRefused(_("请选择缴费方式。"), code="channel", field="channel")
    order = Order.objects.get(payments__pk=payment_id)
    insured = person_lock(person_id=order.insured_id)
    previous = Payment.objects.get(pk=payment_id)
    if not PAYMENT_MACHINE.can(previous.status, action="retry"):
        raise PaymentRefused(_("只有失败的缴费可以重新支付。"), code="not_failed")
    _refuse_if_paid(
        periods=order.periods,
        paid=paid_periods_for(insured_id=order.insured_id, scheme=order.scheme),
    )
    account = None
    if channel == Channel.ACCOUNT:
        payer_id = getattr(user, "person_id", None)
        if payer_id is None or order.scheme != "resident":
            raise PaymentRefused(
                _("个人账户只能用于为绑定亲属缴纳居民医保。"),
                code="account_scope",
                field="channel",
            )
        account = _account_for_binding(payer_id=payer_id, insured=insured)
    payment = _attempt_create(
        order=order,
        channel=channel,
        idempotency_key=idempotency_key,
        actor=user,
        account=account,
        source=source,
    )
    return _run_attempt(payment, actor=user, source=source)


def payment_counter(
    *, staff, enrollment_id: int, idempotency_key: str, months_ahead: int = 1
) -> Payment:
    """窗口缴费: a clerk takes the money at the counter; settled at once."""
    return _attempt_once(
        idempotency_key,
        lambda: _counter(
            staff=staff,
            enrollment_id=enrollment_id,
            idempotency_key=idempotency_key,
            months_ahead=months_ahead,
        ),
    )


@transaction.atomic
def _counter(
    *, staff, enrollment_id: int, idempotency_key: str, months_ahead: int
) -> Payment:
    enrollment = Enrollment.objects.select_related("person").get(pk=enrollment_id)
    if not staff.is_superuser and staff.region_id != enrollment.region_id:
        raise PaymentRefused(_("只能为本统筹区的参保人办理窗口缴费。"), code="region")
    if getattr(staff, "role", "") == "auditor":
        raise PaymentRefused(_("审计员不能办理缴费。"), code="auditor")
    person_lock(person_id=enrollment.person_id)
    quote = _quote_unpaid(enrollment=enrollment, months_ahead=months_ahead)
    order = _order_create(
        enrollment=enrollment,
        quote=quote,
        payer_id=enrollment.person_id,
        key=idempotency_key,
        actor=staff,
    )
    payment = _attempt_create(
        order=order,
        channel=Channel.COUNTER,
        idempotency_key=idempotency_key,
        actor=staff,
        source="staff",
    )
    return _run_attempt(payment, actor=staff, source="staff")


# What settling an attempt reads besides the attempt itself: the order, the
# enrollment it pays for, the persons to tell (with their logins, for the
# e-mail) and the region named on the receipt. Callers that may settle load
# the attempt with these (select_related), so settling reads no row again.
SETTLE_RELATED = (
    "order__enrollment",
    "order__insured__account",
    "order__payer__account",
    "order__region",
)


def _settle_success(payment: Payment, *, action: str, source: str, actor=None) -> None:
    """The channel has the money: take `action` (a settling one). With the
    insured person locked: record the paid periods, activate the enrollment,
    issue the receipt, notify; or, when the period is already paid or the
    enrollment no longer payable, send the charge back (退费)."""
    order = payment.order
    enrollment = order.enrollment
    if PaidPeriod.objects.filter(
        insured_id=order.insured_id, scheme=order.scheme, period__in=order.periods
    ).exists():
        _refund_open(
            payment,
            action="settle_refused",
            reason=_("该期间已由另一笔缴费缴纳，重复扣款原路退回"),
            source=source,
            actor=actor,
        )
        return
    if enrollment.status not in PAYABLE_ENROLLMENT_STATUSES:
        _refund_open(
            payment,
            action="settle_refused",
            reason=_("参保登记已不可缴费，扣款原路退回"),
            source=source,
            actor=actor,
        )
        return
    _move(payment, action=action, source=source, actor=actor)
    _save(payment)
    PaidPeriod.objects.bulk_create(
        [
            PaidPeriod(
                insured_id=order.insured_id,
                scheme=order.scheme,
                period=p,
                payment=payment,
            )
            for p in order.periods
        ]
    )
    paid_on = timezone.localdate()
    if order.kind == OrderKind.REPAIR:
        enrollment_repair_years(
            enrollment_id=enrollment.pk,
            years=len(order.periods),
            reference=payment.reference,
        )
    elif order.scheme == "resident":
        enrollment_activate(
            enrollment_id=enrollment.pk, paid_on=paid_on, reference=payment.reference
        )
    else:
        for period in order.periods:
            enrollment_flexible_month_paid(
                enrollment_id=enrollment.pk,
                period=period,
                paid_on=paid_on,
                reference=f"{payment.reference}:{period}",
                restores_gap=order.kind == OrderKind.BACKPAY,
            )
    receipt = _receipt_create(payment=payment, order=order)
    url = reverse("payments:receipt", args=[payment.pk])
    message = {
        "subject": gettext_noop("缴费成功：%(name)s %(period)s %(amount)s"),
        "body": gettext_noop("电子缴费凭证号 %(number)s，验证码 %(code)s。"),
        "params": {
            "name": order.insured.name,
            "period": order.period,
            "amount": msg_money(payment.amount),
            "number": receipt.number,
            "code": receipt.verification_code,
        },
        "url": url,
    }
    notify(person=order.insured, **message)
    if order.payer_id and order.payer_id != order.insured_id:
        notify(person=order.payer, **message)


def _receipt_create(*, payment: Payment, order: Order) -> Receipt:
    """The receipt, its number and code drawn at random (not guessable from
    another's). A number or code that collides fails the insert and with it
    the transaction, which its service runs again (callback_receive,
    _attempt_once): no savepoint per receipt."""
    from enrollment.models import Scheme

    insured = order.insured
    payer = order.payer or insured
    period = (
        order.period
        if order.months <= 1 or order.scheme == "resident"
        else f"{order.periods[0]}～{order.periods[-1]}"
    )
    return Receipt.objects.create(
        payment=payment,
        number=f"{timezone.localdate():%Y%m%d}{secrets.randbelow(10**10):010d}",
        verification_code="".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(12)),
        payer_name=payer.name,
        insured_name=insured.name,
        insured_id_masked=insured.id_masked,
        scheme=str(Scheme(order.scheme).label),
        region_name=order.region.name,
        period=period,
        amount=payment.amount,
        channel=str(Channel(payment.channel).label),
        transaction_id=payment.provider_transaction_id or payment.reference,
        paid_at=payment.settled_at or timezone.now(),
    )


def _refund_open(
    payment: Payment, *, action: str, reason, source: str, actor=None
) -> Refund:
    """Take `action` (one that leads to refund_pending) and queue the refund."""
    _move(payment, action=action, source=source, actor=actor, reason=reason)
    _save(payment)
    refund, _created = Refund.objects.get_or_create(
        payment=payment,
        defaults={"amount": payment.amount, "reason": str(reason)[:200]},
    )
    enqueue("payments.tasks.refund_process", refund.pk)
    return refund


def _apply_outcome(
    payment: Payment, *, status: str, transaction_id: str, source: str, reason: str = ""
) -> str:
    """Apply what a channel says about a locked payment. Returns what happened."""
    if transaction_id and not payment.provider_transaction_id:
        payment.provider_transaction_id = transaction_id
    if status == "processing":
        if PAYMENT_MACHINE.can(payment.status, action="channel_processing"):
            _move(payment, action="channel_processing", source=source, reason=reason)
            _save(payment)
            return "submitted"
        _save(payment)
        return "no_change"
    if status == "success":
        if PAYMENT_MACHINE.can(payment.status, action="start"):
            # The channel answered before the start was recorded.
            _move(payment, action="start", source=source)
        if not PAYMENT_MACHINE.can(payment.status, action="channel_success"):
            return "no_change"
        if (
            PAYMENT_MACHINE.target(payment.status, action="channel_success")
            == PaymentStatus.SUCCESS
        ):
            _settle_success(payment, action="channel_success", source=source)
        else:
            # The channel took the money after the attempt was given up: send it back.
            _refund_open(
                payment,
                action="channel_success",
                reason=_("放弃的支付被渠道扣款，原路退回"),
                source=source,
            )
        return payment.status
    if status == "failed":
        if PAYMENT_MACHINE.can(payment.status, action="channel_failure"):
            payment.failure_reason = str(reason or _("渠道拒绝支付"))[:200]
            _move(
                payment,
                action="channel_failure",
                source=source,
                reason=payment.failure_reason,
            )
            _save(payment)
            return payment.status
        return "no_change"
    raise ValueError(f"unknown channel status {status!r}")


class CallbackRejected(DomainError):
    code = "callback_rejected"
    status = 400


# The largest sequence number a payment stores (last_callback_seq is a
# PositiveIntegerField: 2**31 - 1 on every database Django supports).
CALLBACK_SEQ_MAX = 2**31 - 1
# An amount as the channels send it: a JSON string of yuan with at most two
# decimals, below the 10 digits before the point that the amount columns hold.
CALLBACK_AMOUNT = re.compile(r"\A[0-9]{1,10}(\.[0-9]{1,2})?\Z")


def callback_fields(body: bytes) -> tuple[str, str, Decimal, int, str, str]:
    """(reference, status, amount, seq, transaction_id, reason) from a
    callback's body, every number checked for its type and range before it
    is used: an amount is a string of yuan, a sequence number a JSON integer
    within what the database holds. Anything else is CallbackRejected
    (400, code "malformed"), never an error of the database or of Python."""

    def malformed(what: str) -> CallbackRejected:
        return CallbackRejected(what, code="malformed")

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise malformed("body is not JSON") from None
    if not isinstance(data, dict):
        raise malformed("body is not an object")
    reference, status = data.get("reference"), data.get("status")
    if not isinstance(reference, str) or not 0 < len(reference) <= 64:
        raise malformed("reference is not a payment reference")
    if status not in ("processing", "success", "failed"):
        raise malformed("unknown status")
    amount = data.get("amount")
    if not isinstance(amount, str) or not CALLBACK_AMOUNT.match(amount):
        raise malformed("amount is not a string of yuan with two decimals")
    seq = data.get("seq", 0)
    # bool is an int in Python; a float, a string or null is not a sequence number.
    if type(seq) is not int or not 0 <= seq <= CALLBACK_SEQ_MAX:
        raise malformed("seq is not an integer in range")
    return (
        reference,
        status,
        to_money(amount),
        seq,
        str(data.get("transaction_id", ""))[:64],
        str(data.get("reason", ""))[:200],
    )


def callback_receive(*, channel: str, nonce: str, timestamp: int, body: bytes) -> str:
    """A verified (signed, fresh) callback from `channel`. Refuses a replayed
    nonce and an amount that does not match (nothing about the payment
    changes); a second callback that says the same as the first changes
    nothing. Returns the outcome; every callback is logged with its nonce."""
    text = body.decode("utf-8", "replace")[:4000]
    for _try in range(DRAWS):
        try:
            return _callback_apply(
                channel=channel, nonce=nonce, timestamp=timestamp, body=body, text=text
            )
        except CallbackRejected as error:
            # The processing rolled back; keep the evidence and spend the
            # nonce (a copy of a refused message keeps the first's evidence).
            CallbackLog.objects.bulk_create(
                [
                    CallbackLog(
                        channel=channel,
                        nonce=nonce,
                        timestamp=timestamp,
                        body=text,
                        outcome=error.code,
                        payment_id=getattr(error, "payment_id", None),
                    )
                ],
                ignore_conflicts=True,
            )
            raise
        except IntegrityError:
            if CallbackLog.objects.filter(nonce=nonce).exists():
                raise CallbackRejected("replayed nonce", code="replay") from None
            # Else the receipt's randomly drawn number or code collided:
            # everything rolled back, so run the message again.
    raise RuntimeError("could not draw a unique receipt number")


@transaction.atomic
def _callback_apply(
    *, channel: str, nonce: str, timestamp: int, body: bytes, text: str
) -> str:
    reference, status, amount, seq, transaction_id, reason = callback_fields(body)
    payment = _attempt_lock(reference=reference, channel=channel)
    if payment is None:
        raise CallbackRejected("unknown payment", code="unknown_payment")
    if amount != payment.amount:
        log.warning("callback amount mismatch for %s", payment.reference)
        error = CallbackRejected("amount does not match", code="amount_mismatch")
        error.payment_id = payment.pk
        raise error
    if seq and seq <= payment.last_callback_seq:
        # An older message arriving after a newer one (out of order), or the
        # same message again: nothing changes.
        outcome = "stale"
    else:
        payment.last_callback_seq = max(seq, payment.last_callback_seq)
        outcome = _apply_outcome(
            payment,
            status=status,
            transaction_id=transaction_id,
            source="callback",
            reason=reason,
        )
    # The nonce row is written last, in the same transaction as the change it
    # records: a copy of a message already taken fails here (the nonce is
    # unique) and everything it did rolls back; a crash leaves neither.
    CallbackLog.objects.create(
        channel=channel,
        nonce=nonce,
        timestamp=timestamp,
        body=text,
        outcome=outcome,
        payment=payment,
    )
    return outcome


def _attempt_lock(*, reference: str, channel: str) -> Payment | None:
    """The attempt a channel's message is about, with what settling it reads
    (SETTLE_RELATED), locked until the transaction ends; None when there is
    none. Two statements: first the insured person's lock (people's
    person_lock, taken first by every payment decision), reached by the
    reference; then the attempt and its order, enrollment, persons and
    region in one query."""
    attempt = Payment.objects.filter(reference=reference, channel=channel)
    locked = (
        Person.objects.select_for_update()
        .filter(pk=Subquery(attempt.values("insured_id")[:1]))
        .values_list("pk", flat=True)
    )
    if not locked:
        return None
    return (
        attempt.select_for_update(of=("self",)).select_related(*SETTLE_RELATED).first()
    )


def payment_submit(*, payment_id: int) -> str:
    """Send a started attempt to its channel (the outside call, outside any
    transaction), then record that it was submitted. Safe to run twice: the
    channel keys the request on the payment's reference."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or not PAYMENT_MACHINE.can(payment.status, action="submit"):
        return "skipped"
    try:
        transaction_id = request_charge(
            channel=payment.channel, reference=payment.reference, amount=payment.amount
        )
    except ChannelUnavailable:
        return "unavailable"  # still started: reconciliation asks again later
    with transaction.atomic():
        person_lock(person_id=payment.insured_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if not payment.provider_transaction_id:
            payment.provider_transaction_id = transaction_id
        if PAYMENT_MACHINE.can(payment.status, action="submit"):
            _move(
                payment,
                action="submit",
                source="system",
                reason=_("已提交支付渠道"),
            )
            payment.due_at = timezone.now() + QUERY_AFTER
        _save(payment)
    return payment.status


@transaction.atomic
def payment_query(*, payment_id: int, source: str = "reconcile") -> str:
    """Ask the channel what became of an unsettled attempt and settle it."""
    found = (
        Payment.objects.filter(pk=payment_id)
        .values_list("insured_id", flat=True)
        .first()
    )
    if found is None:
        return "missing"
    person_lock(person_id=found)
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related(*SETTLE_RELATED)
        .get(pk=payment_id)
    )
    # What reconciliation may give up is what it may ask about.
    if (
        not PAYMENT_MACHINE.can(payment.status, action="give_up")
        or payment.channel not in ONLINE_CHANNELS
    ):
        return "no_change"
    answer = channel_query(channel=payment.channel, reference=payment.reference)
    if answer.status == "unknown":
        if timezone.now() - payment.created_at >= INTENT_GIVE_UP_AFTER:
            # The intent never reached the channel (a crash before the call):
            # nothing was charged, so the attempt ends and may be retried.
            payment.failure_reason = str(_("支付请求未送达渠道，未扣款，请重新支付"))
            _move(
                payment,
                action="give_up",
                source=source,
                reason=payment.failure_reason,
            )
            _save(payment)
            return payment.status
        if PAYMENT_MACHINE.can(payment.status, action="submit"):
            # Resend the intent: the channel keys it on our reference.
            enqueue("payments.tasks.payment_submit", payment.pk)
        payment.due_at = timezone.now() + QUERY_BACKOFF
        _save(payment)
        return "unknown"
    if answer.amount is not None and to_money(answer.amount) != payment.amount:
        log.error("channel reports another amount for %s", payment.reference)
        payment.due_at = timezone.now() + QUERY_BACKOFF
        _save(payment)
        return "amount_mismatch"
    outcome = _apply_outcome(
        payment,
        status=answer.status,
        transaction_id=answer.transaction_id,
        source=source,
    )
    if PAYMENT_MACHINE.can(payment.status, action="give_up"):
        # Still unanswered: ask again later.
        payment.due_at = timezone.now() + QUERY_BACKOFF
        _save(payment)
    return outcome


def payments_reconcile(*, batch: int = 50) -> int:
    """Claim unsettled attempts that are due and ask their channels; resend
    refunds left pending. Several reconcilers may run: skip_locked claims."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Payment.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=PAYMENT_MACHINE.sources(action="give_up"),
                due_at__lte=now,
            )
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        # Push the claimed rows forward so the next scan does not take them again
        # while these are being asked about.
        Payment.objects.filter(pk__in=ids).update(due_at=now + QUERY_BACKOFF)
    for payment_id in ids:
        try:
            payment_query(payment_id=payment_id)
        except ChannelUnavailable:
            continue
    stale = list(
        Refund.objects.filter(
            status__in=REFUND_MACHINE.sources(action="refund_done"),
            created_at__lte=now - QUERY_BACKOFF,
        ).values_list("pk", flat=True)[:batch]
    )
    for refund_id in stale:
        refund_process(refund_id=refund_id)
    return len(ids)


def refund_process(*, refund_id: int) -> str:
    """退费: send the money back the way it came, then mark the attempt refunded.
    The channel call is idempotent per payment reference, so running twice is safe."""
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or not REFUND_MACHINE.can(refund.status, action="refund_done"):
        return "done"
    payment = refund.payment
    if payment.channel == Channel.ACCOUNT:
        refund_id_text = f"account:{payment.reference}"
    elif payment.channel in ONLINE_CHANNELS:
        try:
            refund_id_text = channel_refund(
                channel=payment.channel,
                reference=payment.reference,
                amount=refund.amount,
            )
        except ChannelUnavailable:
            return "unavailable"
    else:
        refund_id_text = f"counter:{payment.reference}"
    with transaction.atomic():
        person_lock(person_id=payment.insured_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if not REFUND_MACHINE.can(refund.status, action="refund_done"):
            return "done"
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("order__insured", "order__payer")
            .get(pk=payment.pk)
        )
        if payment.channel == Channel.ACCOUNT:
            account_post(
                account_id=payment.account_id,
                amount=refund.amount,
                kind=EntryKind.REFUND,
                reference=f"refund:{payment.reference}",
            )
        refund.status = REFUND_MACHINE.target(refund.status, action="refund_done")
        refund.provider_refund_id = refund_id_text[:64]
        refund.done_at = timezone.now()
        refund.save(update_fields=["status", "provider_refund_id", "done_at"])
        _move(payment, action="refund_done", source="system", reason=refund.reason)
        _save(payment)
        order = payment.order
        notify(
            person=order.payer or order.insured,
            subject=gettext_noop("退费已原路退回：%(amount)s"),
            body=gettext_noop("支付流水号 %(reference)s：%(reason)s。"),
            params={
                "amount": msg_money(refund.amount),
                "reference": payment.reference,
                # The reason was written in the worker's language (Chinese,
                # a msgid): looked up again in the reader's.
                "reason": msg_phrase(refund.reason),
            },
            url=reverse("payments:detail", args=[payment.pk]),
        )
    return "done"


@transaction.atomic
def refund_request(*, payment_id: int, staff=None) -> Refund:
    """Staff start (or restart) the refund of an attempt that is waiting for one."""
    payment = Payment.objects.get(pk=payment_id)
    person_lock(person_id=payment.insured_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if not PAYMENT_MACHINE.can(payment.status, action="refund_request"):
        raise PaymentRefused(_("只有待退费的缴费可以退费。"), code="not_refundable")
    refund = Refund.objects.get(payment=payment)
    enqueue("payments.tasks.refund_process", refund.pk)
    return refund


# --- 家庭共济 bindings ---------------------------------------------------------------------


def _province_of(person: Person) -> str:
    return person.region.province_code if person.region_id else person.id_number[:2]


def _is_normal(person: Person) -> bool:
    latest = (
        person.enrollments.order_by("-year", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return latest not in ("suspended", "terminated")


@transaction.atomic
def binding_request(
    *, authoriser: Person, id_number: str, name: str, relation: str
) -> FamilyBinding:
    """An employee-insured person asks to bind a close relative (the relative
    or their guardian then consents in their own account)."""
    from people.models import Relation
    from people.services import person_get_or_create

    if relation not in Relation.values:
        raise DomainError(_("请选择与亲属的关系。"), code="relation", field="relation")
    authoriser = person_lock(person_id=authoriser.pk)
    relative = person_get_or_create(id_number=id_number, name=name)
    if relative.pk == authoriser.pk:
        raise DomainError(_("不能绑定本人。"), code="self", field="id_number")
    if (
        not PersonalAccount.objects.filter(person=authoriser).exists()
        or not authoriser.enrollments.filter(
            scheme__in=["employee", "flexible"], status="active"
        ).exists()
    ):
        raise DomainError(
            _("只有正常参保的职工医保参保人才能开通家庭共济。"), code="not_employee"
        )
    if not (_is_normal(authoriser) and _is_normal(relative)):
        raise DomainError(_("双方都应处于正常参保状态。"), code="not_normal")
    if _province_of(authoriser) != _province_of(relative):
        raise DomainError(
            _("家庭共济仅限同一省份内的近亲属。"), code="province", field="id_number"
        )
    live = FamilyBinding.objects.filter(
        authoriser=authoriser, status__in=[BindingStatus.PENDING, BindingStatus.ACTIVE]
    )
    if live.filter(relative=relative).exists():
        raise DomainError(
            _("已绑定该亲属或正在等待其同意。"), code="exists", field="id_number"
        )
    if live.count() >= MAX_BINDINGS:
        raise DomainError(
            _("最多可绑定%(n)d名亲属。") % {"n": MAX_BINDINGS}, code="limit"
        )
    binding = FamilyBinding.objects.create(
        authoriser=authoriser, relative=relative, relation=relation
    )
    notify(
        person=relative,
        subject=gettext_noop("%(name)s 申请与您绑定家庭共济"),
        body=gettext_noop("同意后，对方可以用其职工医保个人账户为您缴纳居民医保费。"),
        params={"name": authoriser.name},
        url=reverse("payments:family"),
    )
    return binding


def binding_may_consent(*, user, binding: FamilyBinding) -> bool:
    """The relative, or for a minor a parent or guardian whose relation is
    proven (people.access, the same authority as everywhere else)."""
    from people.access import is_proven_guardian

    person_id = getattr(user, "person_id", None)
    if person_id is None:
        return False
    if binding.relative_id == person_id:
        return True
    if binding.relative.age_on(timezone.localdate()) < 18:
        return is_proven_guardian(user=user, person_id=binding.relative_id)
    return False


def _repeated(machine: StateMachine, current: str, *, action: str) -> bool:
    """`current` is where `action` leads and the action cannot be taken from
    it: a second click or a second tab, which changes nothing."""
    return not machine.can(current, action=action) and any(
        edge.target == current and action in edge.actions for edge in machine.edges
    )


@transaction.atomic
def binding_consent(*, user, binding_id: int, accept: bool) -> FamilyBinding:
    binding = (
        FamilyBinding.objects.select_for_update()
        .select_related("relative", "authoriser")
        .get(pk=binding_id)
    )
    if not binding_may_consent(user=user, binding=binding):
        raise FamilyBinding.DoesNotExist
    action = "consent_accept" if accept else "consent_decline"
    if _repeated(BINDING_MACHINE, binding.status, action=action):
        return binding
    binding.status = BINDING_MACHINE.target(binding.status, action=action)
    binding.consented_by = user
    binding.consented_at = timezone.now()
    binding.save(update_fields=["status", "consented_by", "consented_at"])
    notify(
        person=binding.authoriser,
        subject=(
            gettext_noop("%(name)s 已同意家庭共济绑定")
            if accept
            else gettext_noop("%(name)s 拒绝了家庭共济绑定")
        ),
        params={"name": binding.relative.name},
        url=reverse("payments:family"),
    )
    return binding


@transaction.atomic
def binding_unbind(*, user, binding_id: int) -> FamilyBinding:
    """解除绑定, by either side; past payments stay as they are."""
    binding = FamilyBinding.objects.select_for_update().get(pk=binding_id)
    if getattr(user, "person_id", None) not in (
        binding.authoriser_id,
        binding.relative_id,
    ):
        raise FamilyBinding.DoesNotExist
    if _repeated(BINDING_MACHINE, binding.status, action="unbind"):
        return binding
    binding.status = BINDING_MACHINE.target(binding.status, action="unbind")
    binding.ended_at = timezone.now()
    binding.save(update_fields=["status", "ended_at"])
    return binding


# --- Counter takings and the day close (日结对账) -------------------------------
# The counter records how each payment was handed over (现金 / 刷卡) so that a
# supervisor can close each clerk's day against the receipts issued.


@transaction.atomic
def counter_payment_take(
    *,
    staff,
    enrollment_id: int,
    idempotency_key: str,
    tender: str,
    months_ahead: int = 1,
    expected_total=None,
) -> Payment:
    """确认入账: payment_counter, plus the tender the clerk took. With
    `expected_total` (the amount the clerk read out on the check page) a
    price that changed in between refuses the whole entry, so the amount
    taken is always the amount shown. A repeated key returns the first entry."""
    from .models import CounterTender, Tender

    if tender not in Tender.values:
        raise PaymentRefused(
            _("请选择收款方式（现金或刷卡）。"), code="tender", field="tender"
        )
    payment = payment_counter(
        staff=staff,
        enrollment_id=enrollment_id,
        idempotency_key=idempotency_key,
        months_ahead=months_ahead,
    )
    if expected_total is not None and payment.amount != to_money(expected_total):
        # Raising rolls back the payment just made (same transaction).
        raise PaymentRefused(
            _("应缴金额已变为 %(amount)s，请重新核对后再确认入账。")
            % {"amount": format_yuan(payment.amount)},
            code="amount_changed",
        )
    CounterTender.objects.get_or_create(payment=payment, defaults={"method": tender})
    return payment


def _local_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def counter_takings(*, clerk_id: int, day: dt.date) -> list[dict]:
    """One clerk's counter payments settled on `day` (local), per tender:
    [{"tender": "cash", "count", "payments", "receipts_count", "receipts"}],
    tender "" for payments taken without one. One query; read by the day
    pages and by day_close_record."""
    from django.db.models import Count, Sum

    start, end = _local_day(day)
    rows = (
        Payment.objects.filter(
            channel=Channel.COUNTER,
            created_by_id=clerk_id,
            status=PaymentStatus.SUCCESS,
            settled_at__gte=start,
            settled_at__lt=end,
        )
        .values("tender__method")
        .annotate(
            count=Count("id"),
            payments=Sum("amount"),
            receipts_count=Count("receipt"),
            receipts=Sum("receipt__amount"),
        )
        .order_by("tender__method")
    )
    return [
        {
            "tender": row["tender__method"] or "",
            "count": row["count"],
            "payments": to_money(row["payments"] or 0),
            "receipts_count": row["receipts_count"],
            "receipts": to_money(row["receipts"] or 0),
        }
        for row in rows
    ]


@transaction.atomic
def day_close_record(
    *, supervisor, clerk_id: int, day: dt.date, counted: dict, note: str = ""
):
    """日结对账: a supervisor closes a clerk of their region for `day`.

    Refused unless, for each tender, the clerk's counter payments and the
    receipts issued for them agree in number and sum. `counted` is what was
    counted per tender ({"cash": Decimal, "card": Decimal}); a difference
    from the receipts (长短款) is recorded and must be explained in `note`.
    Once per clerk and day."""
    from people.models import Role, User

    from .models import DayClose, Tender

    if not (supervisor.is_superuser or supervisor.role == Role.SUPERVISOR):
        raise DomainError(
            _("只有主管可以办理日结对账。"), code="not_supervisor", field="clerk"
        )
    # Locks the clerk's row: two supervisors closing the same clerk wait in turn.
    clerk = User.objects.select_for_update().filter(pk=clerk_id).first()
    if clerk is None or (
        not supervisor.is_superuser and clerk.region_id != supervisor.region_id
    ):
        raise DomainError(
            _("本统筹区没有这位经办员。"), code="clerk_region", field="clerk"
        )
    if day > timezone.localdate():
        raise DomainError(_("不能为将来的日期日结。"), code="future", field="day")
    if DayClose.objects.filter(clerk=clerk, day=day).exists():
        raise DomainError(
            _("%(clerk)s %(day)s 已日结，不能重复日结。")
            % {"clerk": clerk.get_username(), "day": day.isoformat()},
            code="already_closed",
            field="clerk",
        )
    takings = counter_takings(clerk_id=clerk.pk, day=day)
    if not takings:
        raise DomainError(
            _("该经办员当天没有窗口收费，无需日结。"), code="nothing", field="clerk"
        )
    labels = dict(Tender.choices)
    for line in takings:
        if (
            line["count"] != line["receipts_count"]
            or line["payments"] != line["receipts"]
        ):
            raise DomainError(
                _(
                    "%(tender)s：窗口缴费 %(count)d 笔 %(payments)s，缴费凭证 "
                    "%(receipts_count)d 张 %(receipts)s，两者不符，请先核查后再日结。"
                )
                % {
                    "tender": labels.get(line["tender"], _("收款方式未登记")),
                    "count": line["count"],
                    "payments": format_yuan(line["payments"]),
                    "receipts_count": line["receipts_count"],
                    "receipts": format_yuan(line["receipts"]),
                },
                code="receipts_mismatch",
            )
    lines = []
    for line in takings:
        counted_here = to_money(counted.get(line["tender"]) or 0)
        if counted_here < 0:
            raise DomainError(
                _("实收金额不能为负数。"), code="counted", field=line["tender"]
            )
        lines.append({**line, "counted": counted_here})
    # A tender counted but with no payment that day is a difference too.
    for tender in Tender.values:
        amount = to_money(counted.get(tender) or 0)
        if amount and not any(line["tender"] == tender for line in lines):
            lines.append(
                {
                    "tender": tender,
                    "count": 0,
                    "payments": to_money(0),
                    "receipts_count": 0,
                    "receipts": to_money(0),
                    "counted": amount,
                }
            )
    receipts_total = to_money(sum((line["receipts"] for line in lines), 0))
    counted_total = to_money(sum((line["counted"] for line in lines), 0))
    difference = counted_total - receipts_total
    note = (note or "").strip()[:200]
    if difference and not note:
        raise DomainError(
            _("实收合计与缴费凭证合计相差 %(difference)s，请在“说明”中写明原因。")
            % {"difference": format_yuan(difference)},
            code="difference_unexplained",
            field="note",
        )
    return DayClose.objects.create(
        region_id=clerk.region_id,
        clerk=clerk,
        day=day,
        lines=[
            {
                key: str(value) if isinstance(value, Decimal) else value
                for key, value in line.items()
            }
            for line in lines
        ],
        payments_count=sum(line["count"] for line in lines),
        payments_total=to_money(sum((line["payments"] for line in lines), 0)),
        receipts_total=receipts_total,
        counted_total=counted_total,
        difference=difference,
        note=note,
        closed_by=supervisor,
    )

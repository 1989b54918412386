"""Persons (参保人), their logins, family relations, the site inbox and the
"who looked at my record" trail."""

import datetime as dt
import logging
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.identity import mask_id_number, mask_mobile
from core.models import Region
from core.money import format_yuan, to_money
from core.places import place_name

log = logging.getLogger(__name__)


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Person(models.Model):
    """An insured person (参保人), separate from any login: family members and
    newborns without an account exist and can be acted for."""

    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    # The region that currently holds the person's insurance relationship;
    # set by enrollment and transfer services. Staff see persons of their region.
    region = models.ForeignKey(
        Region,
        verbose_name=_("参保地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="persons",
    )
    # A record whose stored number was typed with other characters (full-width
    # digits) and whose normalised number already belongs to another person:
    # staff check the two records and merge them (data migration 0002).
    identity_review = models.CharField(_("身份证号待核查"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参保人")
        verbose_name_plural = _("参保人")
        indexes = [models.Index(fields=["region", "name"], name="person_region_name")]
        constraints = [
            # ASCII only ([0-9], not \d, which matches other digit forms);
            # a record flagged for review keeps the number as it was typed.
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$")
                | ~Q(identity_review=""),
                name="person_id_number_ascii",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.id_masked}）"

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class Role(models.TextChoices):
    CITIZEN = "citizen", _("参保人")
    CLERK = "clerk", _("经办员")
    SUPERVISOR = "supervisor", _("主管")
    AUDITOR = "auditor", _("审计员")


STAFF_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)


class User(AbstractUser):
    """A login. Citizens log in with their mobile number and are tied to one
    verified person; staff belong to one region."""

    person = models.OneToOneField(
        Person,
        verbose_name=_("参保人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    mobile = models.CharField(
        _("手机号"), max_length=11, null=True, blank=True, unique=True
    )
    role = models.CharField(
        _("角色"), max_length=12, choices=Role.choices, default=Role.CITIZEN
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属统筹区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    language = models.CharField(_("界面语言"), max_length=10, blank=True)
    care_mode = models.BooleanField(_("关怀模式"), default=False)
    # Set when the citizen opened the link sent to `email`; e-mail goes only
    # to a verified address (a typo must not send someone's messages elsewhere).
    email_verified_at = models.DateTimeField(_("邮箱验证时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            # Clerks and supervisors act within one region; auditors read all regions.
            models.CheckConstraint(
                condition=~Q(role__in=["clerk", "supervisor"])
                | Q(region__isnull=False),
                name="staff_role_needs_region",
            ),
        ]

    @property
    def is_citizen(self) -> bool:
        return self.role == Role.CITIZEN

    @property
    def is_region_staff(self) -> bool:
        return self.role in (Role.CLERK, Role.SUPERVISOR)


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("配偶")
    PARENT = "parent", _("父母")
    CHILD = "child", _("子女")
    SIBLING = "sibling", _("兄弟姐妹")
    GRANDPARENT = "grandparent", _("祖父母")
    MATERNAL_GRANDPARENT = "maternal_grandparent", _("外祖父母")
    GRANDCHILD = "grandchild", _("孙子女")
    MATERNAL_GRANDCHILD = "maternal_grandchild", _("外孙子女")


class Scope(models.TextChoices):
    """What an authority allows its holder to do for the person (SPEC §1a)."""

    VIEW = "view", _("查看参保和缴费记录")
    ENROLL = "enroll", _("办理参保登记")
    PAY = "pay", _("缴费")
    TRANSFER = "transfer", _("申请转移接续")
    SUSPEND = "suspend", _("申请暂停参保")


ALL_SCOPES = tuple(Scope.values)


class AuthorityStatus(models.TextChoices):
    PENDING = "pending", _("待对方同意")
    GRANTED = "granted", _("已授权")
    DECLINED = "declined", _("对方已拒绝")
    REVOKED = "revoked", _("已解除")


class AuthorityBasis(models.TextChoices):
    """How the authority was given or proven."""

    CONSENT = "consent", _("本人在线同意")
    COUNTER_CONSENT = "counter_consent", _("本人在窗口当面同意")
    BIRTH_CERTIFICATE = "birth_certificate", _("出生医学证明与户籍登记的父母一致")
    HOUSEHOLD_REGISTER = "household_register", _("窗口核验户口本（监护关系）")


class FamilyLink(models.Model):
    """A family relation and the authority it carries (SPEC §1a): `owner` asks
    to act for `relative`. It grants nothing until the relative (an adult)
    consents, or until a parent's or guardian's relation to a minor is proven;
    a guardian's authority ends on the minor's 18th birthday (`ends_on`).
    Either side revokes it at once; a new request after a decline or a
    revocation is a new row, so the history stays."""

    owner = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="family_links"
    )
    relative = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="linked_by"
    )
    relation = models.CharField(_("关系"), max_length=24, choices=Relation.choices)
    status = models.CharField(
        _("授权状态"),
        max_length=10,
        choices=AuthorityStatus.choices,
        default=AuthorityStatus.PENDING,
    )
    basis = models.CharField(
        _("授权依据"), max_length=20, choices=AuthorityBasis.choices, blank=True
    )
    scopes = models.JSONField(_("授权范围"), default=list, blank=True)
    ends_on = models.DateField(_("授权截止日"), null=True, blank=True)
    evidence = models.CharField(_("核验凭据"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "User",
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("同意或拒绝时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        Person,
        verbose_name=_("解除人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("家庭成员授权")
        verbose_name_plural = _("家庭成员授权")
        constraints = [
            # One open request or authority per pair; declined and revoked rows
            # stay as history.
            models.UniqueConstraint(
                fields=["owner", "relative"],
                condition=Q(status__in=["pending", "granted"]),
                name="family_link_one_open",
            ),
            models.CheckConstraint(
                condition=~Q(owner=models.F("relative")), name="family_link_not_self"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "granted", "declined", "revoked"]),
                name="family_link_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="granted") | ~Q(basis=""),
                name="family_link_granted_has_basis",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="family_link_owner_status"),
            models.Index(
                fields=["relative", "status"], name="family_link_relative_status"
            ),
        ]

    def __str__(self):
        return f"{self.get_relation_display()}（{self.get_status_display()}）"

    def allows(self, scope: str, *, on) -> bool:
        """Whether this row lets the owner do `scope` for the relative on day `on`."""
        return (
            self.status == AuthorityStatus.GRANTED
            and scope in (self.scopes or ())
            and (self.ends_on is None or on < self.ends_on)
        )

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(Scope.choices)
        return [str(labels[s]) for s in ALL_SCOPES if s in (self.scopes or ())]


# --- messages read in the reader's language -------------------------------------
#
# A message kept to be read later (an inbox message, a line of "who looked at
# my record") is written in a worker or while someone else's language is
# active, and read in either language. So it is stored as its untranslated
# source text (a msgid, marked at the call site with gettext_noop, or a lazy
# label) and its parameters, and translated only when shown. A parameter is
# data (a name, a reference, a year), or one of these, rendered in the
# reader's language too:
#   {"t": msgid, "p": {...}}  a phrase: a label, or a template with its own
#                             parameters ("p" only when it has some);
#   {"yuan": "1234.50"}       an amount, shown ¥1,234.50 (1,234.50 with
#                             "bare", where the text says 元 itself);
#   {"date": "2026-12-08"}    a date, shown 2026年12月8日 / 8 Dec 2026;
#   {"datetime": ISO 8601}    a moment, in local time.

# gettext's separator between a context and its message (pgettext).
_CONTEXT_SEPARATOR = "\x04"


def msg_source(template) -> str:
    """The untranslated text of `template`: a string marked with gettext_noop,
    or a gettext_lazy / pgettext_lazy value such as a TextChoices label (a
    context is kept before gettext's separator)."""
    if isinstance(template, dict):
        return str(template.get("t", ""))
    if isinstance(template, Promise):
        # A lazy translation pickles as its function and arguments.
        func, args = template.__reduce__()[1][:2]
        name = getattr(func, "__name__", "")
        if name == "gettext" and len(args) == 1:
            return str(args[0])
        if name == "pgettext" and len(args) == 2:
            return f"{args[0]}{_CONTEXT_SEPARATOR}{args[1]}"
        with translation.override(None):
            return str(template)
    return "" if template is None else str(template)


def msg_phrase(template, /, **params) -> dict:
    """A translatable phrase as a parameter of a message: a label (a scheme's
    or a reason's name) or a template with parameters of its own."""
    if isinstance(template, dict) and not params:
        return template
    phrase = {"t": msg_source(template)}
    if params:
        phrase["p"] = msg_params(params)
    return phrase


def msg_money(amount, *, symbol: bool = True) -> dict:
    """An amount of yuan, kept exact; `symbol=False` where the text itself
    says 元 after it."""
    value = {"yuan": str(to_money(amount))}
    if not symbol:
        value["bare"] = True
    return value


def msg_date(value: dt.date) -> dict:
    """A date (or a moment) kept as ISO 8601, written out when read."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    return {"date": value.isoformat()}


def msg_place(code: str, name: str) -> dict:
    """A place (a province or a region, by its code) written out in the
    reader's language; `name` is its Chinese name as stored."""
    return {"place": code, "name": name}


def msg_params(params) -> dict:
    """`params` ready to store: lazy labels become phrases, Decimals amounts,
    dates dates; other values are data and stay as they are."""
    return {str(key): _msg_param(value) for key, value in (params or {}).items()}


def _msg_param(value):
    if isinstance(value, Promise):
        return msg_phrase(value)
    if isinstance(value, Decimal):
        return msg_money(value)
    if isinstance(value, dt.date):
        return msg_date(value)
    if value is None or isinstance(value, (bool, int, str, dict)):
        return value
    return str(value)


def _msg_translate(template: str) -> str:
    if _CONTEXT_SEPARATOR in template:
        context, _sep, message = template.partition(_CONTEXT_SEPARATOR)
        return translation.pgettext(context, message)
    return translation.gettext(template)


def _msg_param_text(value):
    if not isinstance(value, dict):
        return value
    if "t" in value:
        return msg_render(value["t"], value.get("p"))
    if "yuan" in value:
        amount = to_money(value["yuan"])
        return f"{amount:,.2f}" if value.get("bare") else format_yuan(amount)
    if "date" in value:
        return date_format(dt.date.fromisoformat(value["date"]), "DATE_FORMAT")
    if "place" in value:
        return place_name(value["place"], value.get("name", ""))
    if "datetime" in value:
        moment = dt.datetime.fromisoformat(value["datetime"])
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "DATETIME_FORMAT")
    return str(value)


def msg_render(template: str, params=None) -> str:
    """`template` in the active language, filled with `params` (each written
    out in that language too). Without params it is only looked up: a
    message stored written out, before params existed, shows as stored
    (translated only where it happens to be a msgid itself).
    One that cannot be filled (a parameter missing or of the wrong kind,
    in the source or in its translation) shows unfilled and is logged:
    a page that lists messages must never fail on one of them."""
    text = _msg_translate(template or "")
    if not params:
        return text
    try:
        return text % {key: _msg_param_text(value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError) as exc:
        log.warning(
            "message %r left unfilled: %s %s", template, type(exc).__name__, exc
        )
        return text


class ProxyAccess(models.Model):
    """Something a citizen did or looked at for another person under their
    authority (代办记录): shown to that person in "who looked at my record"."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="proxy_accesses"
    )
    actor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    # What was done: its untranslated text, filled with what_params when
    # shown (msg_render); rows without what_params show `what` as stored.
    what = models.CharField(max_length=200, blank=True)
    what_params = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("代办记录")
        verbose_name_plural = _("代办记录")
        indexes = [models.Index(fields=["person", "-at"], name="proxyaccess_recent")]

    def __str__(self):
        return f"{self.scope} {self.what_text}"

    @property
    def what_text(self) -> str:
        """What was done, in the active language."""
        return msg_render(self.what, self.what_params)


class SmsPurpose(models.TextChoices):
    SIGNUP = "signup", _("注册")
    PASSWORD_RESET = "reset", _("找回密码")


class SmsCode(models.Model):
    """A one-time code sent to a mobile number: stored hashed, expires, used
    once, and a few wrong guesses end it."""

    mobile = models.CharField(max_length=11)
    purpose = models.CharField(max_length=10, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["mobile", "purpose", "-created_at"], name="smscode_recent"
            )
        ]

    def __str__(self):
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class SimSmsMessage(models.Model):
    """A message as the simulated SMS gateway "sent" it (make run, tests)."""

    mobile = models.CharField(max_length=11)
    text = models.CharField(max_length=300)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return self.text


class SimRegistryRecord(models.Model):
    """The simulated population registry's (户籍人口库) own table: who exists,
    under which name, and for a newborn the birth certificate and the parents."""

    id_number = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=50)
    birth_certificate = models.CharField(max_length=20, blank=True)
    mother_id_number = models.CharField(max_length=18, blank=True)
    father_id_number = models.CharField(max_length=18, blank=True)

    class Meta:
        verbose_name = _("模拟户籍人口库")
        verbose_name_plural = _("模拟户籍人口库")

    def __str__(self):
        return self.name


class Notification(models.Model):
    """A message in a person's site inbox (站内信)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="notifications"
    )
    # Subject and body are untranslated templates (msgids) filled with
    # `params` when read, in the reader's language (subject_text,
    # body_text). Rows without params show subject and body as stored.
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    params = models.JSONField(_("参数"), null=True, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内信")
        verbose_name_plural = _("站内信")
        indexes = [
            models.Index(
                fields=["person", "-created_at"], name="notification_person_recent"
            )
        ]

    def __str__(self):
        return self.subject_text

    @property
    def subject_text(self) -> str:
        """The subject in the active language."""
        return msg_render(self.subject, self.params)

    @property
    def body_text(self) -> str:
        """The body in the active language."""
        return msg_render(self.body, self.params)


class StaffAccess(models.Model):
    """Who among staff viewed or changed a person's record, and when (查询记录)."""

    class Action(models.TextChoices):
        VIEW = "view", _("查看")
        CHANGE = "change", _("修改")
        ACTION = "action", _("办理")

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="staff_accesses"
    )
    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    what = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("经办查询记录")
        verbose_name_plural = _("经办查询记录")
        indexes = [
            models.Index(fields=["person", "-at"], name="staffaccess_person_recent")
        ]

    def __str__(self):
        return f"{self.action} {self.what}"


class Reminder(models.Model):
    """A reminder sent to a person: the unique (person, key) makes each one
    go out once, however often the scan runs."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="reminders"
    )
    key = models.CharField(max_length=100)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "key"], name="reminder_once_per_person"
            )
        ]

    def __str__(self):
        return self.key

"""Every write of persons, accounts, authorities and notifications, one
transactional function each."""

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.core.signing import BadSignature, TimestampSigner
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError
from core.identity import mask_id_number, parse_id_number

from .access import is_acting_for_another
from .models import (
    ALL_SCOPES,
    AuthorityBasis,
    AuthorityStatus,
    FamilyLink,
    Notification,
    Person,
    ProxyAccess,
    Role,
    Scope,
    SmsPurpose,
    User,
    msg_params,
    msg_phrase,
    msg_source,
)
from .registry import registry_verify
from .sms import sms_code_send

log = logging.getLogger(__name__)


def person_get_or_create(*, id_number: str, name: str, mobile: str = "") -> Person:
    """The person with this identity number, created if new. Every place that
    creates or claims a person comes through here, so the population registry
    checks the name and number first (SPEC §1a: a false name creates nobody);
    an existing record's name must match too (a wrong name is refused, never
    silently accepted). RegistryUnavailable when the registry does not answer:
    nothing is written."""
    parsed = parse_id_number(id_number)
    name = name.strip()
    registry_verify(id_number=parsed.number, name=name)
    person = Person.objects.filter(id_number=parsed.number).first()
    if person is not None:
        if person.name != name:
            raise DomainError(
                _("姓名与身份证号登记的信息不一致，请核对。"),
                code="name_mismatch",
                field="name",
            )
        return person
    try:
        with transaction.atomic():
            return Person.objects.create(
                id_number=parsed.number,
                name=name,
                sex=parsed.sex,
                birth_date=parsed.birth_date,
                mobile=mobile,
            )
    except IntegrityError:
        # Created by a simultaneous request: use that one, checking the name again.
        return person_get_or_create(id_number=id_number, name=name, mobile=mobile)


def person_lock(*, person_id: int) -> Person:
    """The person's row, locked until the transaction ends (select_for_update):
    two requests that decide something from the same person take turns."""
    return Person.objects.select_for_update().get(pk=person_id)


@transaction.atomic
def person_region_set(
    *, person_id: int, region_code: str, move: bool = False
) -> Person:
    """The one place a person's 参保地 (Person.region) changes: a first region
    for a person who has none (first enrollment, counter registration), or a
    new one with move=True (a completed transfer moves it). Returns the locked
    person; without move, a region already set stays as it is, and the caller
    decides whether that is acceptable."""
    person = person_lock(person_id=person_id)
    if person.region_id is None or (move and person.region_id != region_code):
        person.region_id = region_code
        person.save(update_fields=["region"])
    return person


def persons_region_move(*, regions: dict[int, str]) -> None:
    """person_region_set(move=True) for many persons at once (the transfer
    engine's completed batches), `regions` person id → region code: the
    persons locked in one statement and moved in one more, whatever their
    number. Sends no model signals: the caller tells people.pagecache."""
    if not regions:
        return
    moving = [
        pk
        for pk, region in Person.objects.select_for_update()
        .filter(pk__in=list(regions))
        .order_by("pk")
        .values_list("pk", "region_id")
        if region != regions[pk]
    ]
    if not moving:
        return
    by_region: dict[str, list[int]] = {}
    for pk in moving:
        by_region.setdefault(regions[pk], []).append(pk)
    # One WHEN per region, not per person: few regions, however many persons.
    Person.objects.filter(pk__in=moving).update(
        region_id=Case(
            *[
                When(pk__in=pks, then=Value(region))
                for region, pks in sorted(by_region.items())
            ],
            output_field=CharField(),
        )
    )


def citizen_username() -> str:
    return "c" + secrets.token_hex(6)


def signup_code_send(*, name: str, id_number: str, mobile: str) -> None:
    """Sign-up, step 1: the registry checks the name and number, then a code
    goes to the mobile. The page answers alike whether the mobile already has
    an account: that account's holder receives a message saying so instead of
    a code, and the next step fails like a wrong code."""
    parsed = parse_id_number(id_number)
    registry_verify(id_number=parsed.number, name=name)
    if User.objects.filter(mobile=mobile).exists():
        from .sms import gateway

        gateway().send(
            mobile=mobile,
            text=_(
                "【医保服务】有人用本手机号申请注册。本号码已注册医保账号，"
                "如忘记密码，请在登录页选择“忘记密码”。"
            ),
        )
        return
    sms_code_send(
        mobile=mobile,
        purpose=SmsPurpose.SIGNUP,
        text_for_code=lambda code: (
            _("【医保服务】您的注册验证码为%(code)s，10分钟内有效。请勿告诉他人。")
            % {"code": code}
        ),
    )


def password_reset_code_send(*, mobile: str) -> None:
    """Forgotten password, step 1: a code to the mobile if it has an account;
    nothing otherwise, and the page says the same either way."""
    if not User.objects.filter(mobile=mobile, role=Role.CITIZEN).exists():
        return
    sms_code_send(
        mobile=mobile,
        purpose=SmsPurpose.PASSWORD_RESET,
        text_for_code=lambda code: (
            _(
                "【医保服务】您正在找回密码，验证码为%(code)s，10分钟内有效。请勿告诉他人。"
            )
            % {"code": code}
        ),
    )


@transaction.atomic
def user_password_reset(*, mobile: str, password: str) -> User:
    """Forgotten password, step 2 (after the SMS code was used): set the new
    password and lift any login lock-out of this mobile."""
    user = User.objects.select_for_update().filter(mobile=mobile).first()
    if user is None:
        raise DomainError(
            _("验证码不正确或已失效，请重新获取。"), code="sms_code_wrong", field="code"
        )
    user.set_password(password)
    user.save(update_fields=["password"])
    from axes.utils import reset

    transaction.on_commit(lambda: reset(username=mobile))
    return user


@transaction.atomic
def user_signup(*, name: str, id_number: str, mobile: str, password: str) -> User:
    """Create a citizen's login tied to one verified identity number."""
    parsed = parse_id_number(id_number)
    if User.objects.filter(person__id_number=parsed.number).exists():
        raise DomainError(
            _("该身份证号已注册账号，请直接登录。"), code="id_taken", field="id_number"
        )
    if User.objects.filter(mobile=mobile).exists():
        raise DomainError(
            _("该手机号已注册账号，请直接登录。"), code="mobile_taken", field="mobile"
        )
    person = person_get_or_create(id_number=parsed.number, name=name, mobile=mobile)
    try:
        with transaction.atomic():
            user = User(
                # Not the mobile number: staff pages and the audit log show
                # usernames (citizens log in with their mobile).
                username=citizen_username(),
                mobile=mobile,
                person=person,
                role=Role.CITIZEN,
                first_name=name,
            )
            user.set_password(password)
            user.save()
    except IntegrityError:
        raise DomainError(
            _("该身份证号或手机号已注册账号，请直接登录。"),
            code="taken",
            field="id_number",
        ) from None
    held = FamilyLink.objects.filter(
        relative=person, status__in=[AuthorityStatus.PENDING, AuthorityStatus.GRANTED]
    ).count()
    if held:
        # A record made at a counter or by a relative, now claimed: its holder
        # sees who holds authority over it and can end it.
        notify(
            person=person,
            subject=gettext_noop("有 %(count)d 位家人持有或申请了代您办理医保的授权"),
            body=gettext_noop("请在“家庭成员与授权”中查看，您可以随时解除。"),
            params={"count": held},
            url=reverse("people:family"),
        )
    return user


# --- authority to act for someone (SPEC §1a) -----------------------------------


def _age_on(person: Person, day: dt.date) -> int:
    return person.age_on(day)


def _eighteenth_birthday(person: Person) -> dt.date:
    born = person.birth_date
    try:
        return born.replace(year=born.year + 18)
    except ValueError:  # 29 February
        return dt.date(born.year + 18, 3, 1)


@transaction.atomic
def family_member_request(
    *,
    owner: Person,
    id_number: str,
    name: str,
    relation: str,
    birth_certificate: str = "",
) -> FamilyLink:
    """Ask for authority to act for a family member. For an adult it is a
    request they accept or decline in their inbox (or in person at a counter).
    For a minor, the parent holds it at once when the birth certificate number
    matches the registry's record of this parent; otherwise a counter checks
    the household register. Nothing is granted before that."""
    if parse_id_number(id_number).number == owner.id_number:
        raise DomainError(
            _("不能把本人添加为家庭成员。"), code="self", field="id_number"
        )
    relative = person_get_or_create(id_number=id_number, name=name)
    _end_expired(owner_id=owner.pk, relative_id=relative.pk)
    if FamilyLink.objects.filter(
        owner=owner,
        relative=relative,
        status__in=[AuthorityStatus.PENDING, AuthorityStatus.GRANTED],
    ).exists():
        raise DomainError(
            _("您已添加过这位家庭成员，请在下方查看授权状态。"),
            code="exists",
            field="id_number",
        )
    today = timezone.localdate()
    minor = _age_on(relative, today) < 18
    link = FamilyLink(owner=owner, relative=relative, relation=relation)
    if minor and birth_certificate:
        guardian_grant_by_birth_certificate(
            link=link, birth_certificate=birth_certificate, save=False
        )
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        raise DomainError(
            _("您已添加过这位家庭成员，请在下方查看授权状态。"),
            code="exists",
            field="id_number",
        ) from None
    if link.status == AuthorityStatus.PENDING and not minor:
        notify(
            person=relative,
            subject=gettext_noop("%(name)s 申请代您办理医保业务"),
            body=gettext_noop(
                "同意后，对方可以查看您的参保和缴费记录，并为您办理参保、缴费、"
                "转移接续和暂停参保。您可以随时解除。不同意请选择“拒绝”。"
            ),
            params={"name": owner.name},
            url=reverse("people:family"),
        )
    return link


def guardian_grant_by_birth_certificate(
    *, link: FamilyLink, birth_certificate: str, save: bool = True
) -> FamilyLink:
    """A parent's authority over a minor, proven by the birth certificate
    number (出生医学证明编号) matching the registry's record of the child and
    of this parent. Ends on the child's 18th birthday."""
    answer = registry_verify(id_number=link.relative.id_number, name=link.relative.name)
    typed = (birth_certificate or "").strip().upper()
    if not (
        typed
        and answer.birth_certificate
        and typed == answer.birth_certificate.upper()
        and answer.is_parent(link.owner.id_number)
    ):
        raise DomainError(
            _(
                "出生医学证明编号与户籍登记的父母信息不一致。请核对编号，"
                "或携带户口本到经办窗口办理监护关系核验。"
            ),
            code="guardian_unproven",
            field="birth_certificate",
        )
    link.status = AuthorityStatus.GRANTED
    link.basis = AuthorityBasis.BIRTH_CERTIFICATE
    link.scopes = list(ALL_SCOPES)
    link.ends_on = _eighteenth_birthday(link.relative)
    link.evidence = _("出生医学证明 %(number)s") % {"number": mask_id_number(typed)}
    link.decided_at = timezone.now()
    if save:
        link.save()
    return link


@transaction.atomic
def guardian_authority_prove(
    *, owner: Person, child: Person, relation: str, birth_certificate: str
) -> FamilyLink:
    """A parent proves their relation to a minor with the birth certificate
    number (newborn registration, adding a child): the open link becomes a
    granted guardian authority, or one is made. DomainError beside the birth
    certificate field when the registry does not name this parent."""
    if _age_on(child, timezone.localdate()) >= 18:
        raise DomainError(
            _("年满18周岁的家人须本人同意授权。"),
            code="adult",
            field="birth_certificate",
        )
    _end_expired(owner_id=owner.pk, relative_id=child.pk)
    link = (
        FamilyLink.objects.select_for_update()
        .filter(
            owner=owner,
            relative=child,
            status__in=[AuthorityStatus.PENDING, AuthorityStatus.GRANTED],
        )
        .first()
    )
    if link is not None and link.status == AuthorityStatus.GRANTED:
        return link
    link = link or FamilyLink(owner=owner, relative=child, relation=relation)
    guardian_grant_by_birth_certificate(
        link=link, birth_certificate=birth_certificate, save=True
    )
    return link


def _end_expired(*, owner_id: int, relative_id: int) -> None:
    """A guardian's authority that ended at 18 no longer blocks a new request."""
    FamilyLink.objects.filter(
        owner_id=owner_id,
        relative_id=relative_id,
        status=AuthorityStatus.GRANTED,
        ends_on__lte=timezone.localdate(),
    ).update(status=AuthorityStatus.REVOKED, revoked_at=timezone.now())


def _link_for_update(link_id) -> FamilyLink:
    try:
        link_id = int(link_id)
    except (TypeError, ValueError, OverflowError):
        raise FamilyLink.DoesNotExist from None
    return (
        FamilyLink.objects.select_for_update(of=("self",))
        .select_related("owner", "relative")
        .get(pk=link_id)
    )


@transaction.atomic
def authority_decide(*, user, link_id, accept: bool, scopes=None) -> FamilyLink:
    """The adult asked for (the relative) accepts or declines a pending
    request in their own account. Only they can; anyone else gets
    DoesNotExist (404)."""
    link = _link_for_update(link_id)
    if link.relative_id != getattr(user, "person_id", None):
        raise FamilyLink.DoesNotExist
    if link.status != AuthorityStatus.PENDING:
        raise DomainError(_("这项申请已处理，无需再次操作。"), code="decided")
    chosen = [s for s in (scopes or ALL_SCOPES) if s in ALL_SCOPES]
    if accept and not chosen:
        raise DomainError(
            _("请至少选择一项授权范围。"), code="no_scope", field="scopes"
        )
    link.status = AuthorityStatus.GRANTED if accept else AuthorityStatus.DECLINED
    link.decided_at = timezone.now()
    if accept:
        link.basis = AuthorityBasis.CONSENT
        link.scopes = chosen
    link.save(update_fields=["status", "decided_at", "basis", "scopes"])
    notify(
        person=link.owner,
        subject=(
            gettext_noop("%(name)s 同意了您的代办授权申请")
            if accept
            else gettext_noop("%(name)s 拒绝了您的代办授权申请")
        ),
        params={"name": link.relative.name},
        url=reverse("people:family"),
    )
    return link


@transaction.atomic
def authority_revoke(*, user, link_id) -> FamilyLink:
    """Either side ends a request or an authority at once. What was done under
    it stays done."""
    link = _link_for_update(link_id)
    person_id = getattr(user, "person_id", None)
    if person_id not in (link.owner_id, link.relative_id):
        raise FamilyLink.DoesNotExist
    if link.status not in (AuthorityStatus.PENDING, AuthorityStatus.GRANTED):
        return link
    link.status = AuthorityStatus.REVOKED
    link.revoked_at = timezone.now()
    link.revoked_by_id = person_id
    link.save(update_fields=["status", "revoked_at", "revoked_by"])
    other = link.relative if person_id == link.owner_id else link.owner
    notify(
        person=other,
        subject=gettext_noop("%(name)s 解除了代办授权"),
        params={"name": user.person.name},
        url=reverse("people:family"),
    )
    return link


@transaction.atomic
def authority_record_at_counter(
    *,
    staff,
    owner: Person,
    relative: Person,
    relation: str,
    basis: str,
    evidence: str,
) -> FamilyLink:
    """A clerk records, in person, an adult's consent to a relative's
    authority (COUNTER_CONSENT) or a guardian's proven relation to a minor
    (HOUSEHOLD_REGISTER). Audited through StaffAccess; both are told."""
    from .models import StaffAccess

    if basis not in (AuthorityBasis.COUNTER_CONSENT, AuthorityBasis.HOUSEHOLD_REGISTER):
        raise DomainError(_("请选择授权依据。"), code="basis", field="basis")
    if not (evidence or "").strip():
        raise DomainError(
            _("请填写核验的凭据（证件种类和编号）。"), code="evidence", field="evidence"
        )
    minor = _age_on(relative, timezone.localdate()) < 18
    if basis == AuthorityBasis.HOUSEHOLD_REGISTER and not minor:
        raise DomainError(
            _("成年人须本人当面同意，不能以户口本代替。"), code="adult", field="basis"
        )
    if basis == AuthorityBasis.COUNTER_CONSENT and minor:
        raise DomainError(
            _("未成年人的监护关系请核验户口本。"), code="minor", field="basis"
        )
    _end_expired(owner_id=owner.pk, relative_id=relative.pk)
    link = (
        FamilyLink.objects.select_for_update()
        .filter(
            owner=owner,
            relative=relative,
            status__in=[AuthorityStatus.PENDING, AuthorityStatus.GRANTED],
        )
        .first()
    ) or FamilyLink(owner=owner, relative=relative, relation=relation)
    link.status = AuthorityStatus.GRANTED
    link.basis = basis
    link.scopes = list(ALL_SCOPES)
    link.ends_on = _eighteenth_birthday(relative) if minor else None
    link.evidence = evidence.strip()[:200]
    link.recorded_by = staff
    link.decided_at = timezone.now()
    link.save()
    for person in (owner, relative):
        StaffAccess.objects.create(
            person=person,
            staff=staff,
            action=StaffAccess.Action.ACTION,
            what=_("窗口登记代办授权"),
        )
    notify(
        person=relative,
        subject=gettext_noop("已在窗口登记：%(name)s 可代您办理医保业务"),
        body=gettext_noop("您可以在“家庭成员与授权”中随时解除。"),
        params={"name": owner.name},
        url=reverse("people:family"),
    )
    notify(
        person=owner,
        subject=gettext_noop("窗口已登记您代 %(name)s 办理医保业务的授权"),
        params={"name": relative.name},
        url=reverse("people:family"),
    )
    return link


class NoAuthority(DomainError):
    code = "no_authority"
    status = 403


def proxy_act(*, user, person: Person, scope: str, what) -> None:
    """The one check and record of a citizen acting for a person: refused
    (NoAuthority, 403) without a granted authority for `scope`; recorded and
    told to the person when it is someone else. Staff acting at a counter are
    audited by the staff site instead, and `user=None` is the system itself
    (workers, data migrations). Call inside the transaction of the act.

    `what` is untranslated, so that the person reads it in their language:
    a msgid marked with gettext_noop, or `msg_phrase(template, **params)`."""
    from .access import may_act_for

    if user is None:
        return
    if not getattr(user, "is_authenticated", False):
        raise NoAuthority(_("请先登录。"))
    if user.is_superuser or getattr(user, "role", Role.CITIZEN) != Role.CITIZEN:
        return
    if not may_act_for(user=user, person_id=person.pk, scope=scope):
        raise NoAuthority(_("您没有代此人办理该业务的授权。"))
    proxy_access_record(user=user, person=person, scope=scope, what=what)


def proxy_access_record(*, user, person: Person, scope: str, what) -> None:
    """An act on someone's behalf: recorded for "who looked at my record" and,
    for anything beyond looking, told to them in their inbox. Nothing when the
    user acts for themself. Call inside the transaction of the act. `what` as
    for proxy_act."""
    if not is_acting_for_another(user, person.pk):
        return
    what = msg_phrase(what)
    ProxyAccess.objects.create(
        person=person,
        actor_id=user.person_id,
        scope=scope,
        what=what["t"][:200],
        what_params=what.get("p"),
    )
    if scope != Scope.VIEW:
        notify(
            person=person,
            subject=gettext_noop("%(name)s 代您办理了：%(what)s"),
            body=gettext_noop(
                "如非您本人授权，请在“家庭成员与授权”中解除授权，并联系经办窗口。"
            ),
            params={"name": user.person.name, "what": what},
            url=reverse("people:family"),
        )


def proxy_views_record(*, user, person_ids, what) -> None:
    """A page that showed other persons' records to the user: one "looked at"
    row per person and day. The cache remembers what today already recorded,
    so a page seen again runs no query for it. `what` as for proxy_act."""
    from django.core.cache import cache

    others = [pid for pid in person_ids if is_acting_for_another(user, pid)]
    if not others:
        return
    today = timezone.localdate()
    keys = {f"looked:{user.person_id}:{pid}:{today:%Y%m%d}": pid for pid in others}
    remembered = cache.get_many(list(keys))
    missing = [pid for key, pid in keys.items() if key not in remembered]
    if missing:
        start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
        seen = set(
            ProxyAccess.objects.filter(
                actor_id=user.person_id,
                person_id__in=missing,
                scope=Scope.VIEW,
                at__gte=start,
            ).values_list("person_id", flat=True)
        )
        what = msg_phrase(what)
        ProxyAccess.objects.bulk_create(
            ProxyAccess(
                person_id=pid,
                actor_id=user.person_id,
                scope=Scope.VIEW,
                what=what["t"][:200],
                what_params=what.get("p"),
            )
            for pid in missing
            if pid not in seen
        )
        cache.set_many(
            {key: 1 for key, pid in keys.items() if pid in missing}, timeout=86400
        )


def notify(
    *, person: Person, subject, body="", url: str = "", params=None
) -> Notification:
    """A message in the person's site inbox, and an e-mail after commit if they
    have an account with a verified address.

    `subject` and `body` are untranslated templates (msgids marked with
    gettext_noop, or lazy labels) and `params` what fills them: data (names,
    references, years) as it is, translatable values through
    `people.models.msg_phrase`, amounts as Decimals or `msg_money`, dates as
    dates. The message is written out when read, in the reader's language;
    the e-mail in the account's language."""
    note = _notification(
        person=person, subject=subject, body=body, url=url, params=params
    )
    note.save()
    _email_after_commit(note)
    return note


def notify_many(*, notes) -> list[Notification]:
    """notify for many messages at once (the transfer engine's batches): each
    of `notes` a dict of notify's arguments, all in one INSERT whatever their
    number, each e-mailed as notify does. Sends no model signals: the caller
    tells people.pagecache (family_changed). Load each person's `account`
    with the persons (select_related) or it costs a query each."""
    rows = [_notification(**note) for note in notes]
    if rows:
        Notification.objects.bulk_create(rows)
    for row in rows:
        _email_after_commit(row)
    return rows


def _notification(
    *, person: Person, subject, body="", url: str = "", params=None
) -> Notification:
    return Notification(
        person=person,
        subject=msg_source(subject),
        body=msg_source(body),
        params=msg_params(params) or None,
        url=url,
    )


def _email_after_commit(note: Notification) -> None:
    person = note.person
    account = getattr(person, "account", None) if hasattr(person, "account") else None
    # Only an address the citizen proved to be theirs (email_verify).
    verified = account is not None and account.email_verified_at is not None
    email = account.email if verified else ""
    if not email:
        return
    language = account.language
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE

    def send() -> None:
        with translation.override(language):
            subject_text = note.subject_text
            body_text = note.body_text or subject_text
        send_mail(subject_text, body_text, None, [email], fail_silently=True)

    transaction.on_commit(send)


# --- an optional e-mail address, verified by a link ------------------------------

EMAIL_TOKEN_SALT = "people.email_verify"
EMAIL_TOKEN_MAX_AGE = dt.timedelta(hours=24)


def _email_signer() -> TimestampSigner:
    return TimestampSigner(salt=EMAIL_TOKEN_SALT)


def email_verification_send(*, user: User, email: str, verify_url) -> str:
    """Keep `email` on the account, unverified until the link sent to it is
    opened (`verify_url(token)` makes the absolute link). Returns the token."""
    email = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        account.email = email
        account.email_verified_at = None
        account.save(update_fields=["email", "email_verified_at"])
    token = _email_signer().sign_object({"u": account.pk, "e": email})
    link = verify_url(token)
    subject = _("请验证您的电子邮箱")
    body = _(
        "请在24小时内打开以下链接，验证此邮箱用于接收医保服务消息：\n%(link)s\n"
        "如果不是您本人操作，请忽略此邮件。"
    ) % {"link": link}

    def send() -> None:
        send_mail(subject, body, None, [email], fail_silently=True)

    transaction.on_commit(send)
    user.email, user.email_verified_at = email, None
    return token


def email_verify(*, token: str) -> User:
    """Mark the address in a valid, unexpired token verified; DomainError
    (400) for a forged or expired token, or one for an address since replaced."""
    invalid = DomainError(
        _("验证链接无效或已过期，请重新发送验证邮件。"), code="email_token_invalid"
    )
    try:
        data = _email_signer().unsign_object(
            token, max_age=EMAIL_TOKEN_MAX_AGE.total_seconds()
        )
        user_id, email = int(data["u"]), str(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise invalid from exc
    with transaction.atomic():
        account = User.objects.select_for_update().filter(pk=user_id).first()
        if account is None or account.email != email:
            raise invalid
        if account.email_verified_at is None:
            account.email_verified_at = timezone.now()
            account.save(update_fields=["email_verified_at"])
    return account

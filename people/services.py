"""Every write of the shared records, one transactional function each."""

import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.identity import parse_id_number

from .models import FamilyLink, Notification, Person, Role, User

log = logging.getLogger(__name__)


def person_get_or_create(*, id_number: str, name: str, mobile: str = "") -> Person:
    """The person with this identity number, created if new; the name must match
    the record (a wrong name is refused, never silently accepted)."""
    parsed = parse_id_number(id_number)
    name = name.strip()
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
                username=f"m{mobile}",
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
    return user


@transaction.atomic
def family_member_add(
    *, owner: Person, id_number: str, name: str, relation: str
) -> FamilyLink:
    """Add a family member the owner may act for (enroll, pay, see records)."""
    relative = person_get_or_create(id_number=id_number, name=name)
    if relative.pk == owner.pk:
        raise DomainError(
            _("不能把本人添加为家庭成员。"), code="self", field="id_number"
        )
    link, created = FamilyLink.objects.get_or_create(
        owner=owner, relative=relative, defaults={"relation": relation}
    )
    if not created:
        raise DomainError(
            _("%(name)s 已是您的家庭成员。") % {"name": relative.name},
            code="exists",
            field="id_number",
        )
    return link


def notify(
    *, person: Person, subject: str, body: str = "", url: str = ""
) -> Notification:
    """A message in the person's site inbox, and an e-mail after commit if they
    have an account with an address."""
    note = Notification.objects.create(
        person=person, subject=subject, body=body, url=url
    )
    account = getattr(person, "account", None) if hasattr(person, "account") else None
    email = getattr(account, "email", "") if account else ""
    if email:
        transaction.on_commit(
            lambda: send_mail(
                subject, body or subject, None, [email], fail_silently=True
            )
        )
    return note

"""Persons (参保人), their logins, family relations, the site inbox and the
"who looked at my record" trail."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.identity import mask_id_number, mask_mobile
from core.models import Region


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参保人")
        verbose_name_plural = _("参保人")
        indexes = [models.Index(fields=["region", "name"], name="person_region_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^\d{17}[\dX]$"),
                name="person_id_number_shape",
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


class FamilyLink(models.Model):
    """A family member a citizen may act for (enroll, pay, see records)."""

    owner = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="family_links"
    )
    relative = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="linked_by"
    )
    relation = models.CharField(_("关系"), max_length=24, choices=Relation.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "relative"], name="family_link_once"
            ),
            models.CheckConstraint(
                condition=~Q(owner=models.F("relative")), name="family_link_not_self"
            ),
        ]

    def __str__(self):
        return (
            f"{self.owner.name} → {self.relative.name}（{self.get_relation_display()}）"
        )


class Notification(models.Model):
    """A message in a person's site inbox (站内信)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
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
        return self.subject


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

"""Records that know no app and no person: regions, the working-day calendar
and the task outbox."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .places import PROVINCES, localized, with_code


class Region(models.Model):
    """A pooling region (统筹区), by its GB/T 2260 administrative division code."""

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    province = models.CharField(_("省份"), max_length=50)
    # Shown on English pages (pinyin: 合肥市 → Hefei); blank shows the Chinese.
    name_en = models.CharField(_("英文名称"), max_length=50, blank=True)
    province_en = models.CharField(_("省份英文名称"), max_length=50, blank=True)
    # How this region's office handles transfer steps: automatically (a
    # simulated regional office run by the workers) or by staff in the admin.
    transfer_processing = models.CharField(
        _("转移接续办理方式"),
        max_length=10,
        choices=[
            ("auto", _("自动（模拟经办机构）")),
            ("manual", _("人工（后台办理）")),
        ],
        default="auto",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("统筹区")
        verbose_name_plural = _("统筹区")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[1-9]\d{5}$"), name="region_code_6_digits"
            )
        ]

    def __str__(self):
        return with_code(self.display_name, self.code)

    @property
    def province_code(self) -> str:
        return self.code[:2]

    @property
    def display_name(self) -> str:
        """The name in the active language (core.places.localized)."""
        return localized(self.name, self.name_en)

    @property
    def display_province(self) -> str:
        known = PROVINCES.get(f"{self.province_code}0000", ("", ""))[1]
        return localized(self.province, self.province_en or known)

    @property
    def display_place(self) -> str:
        """The region with its province: 安徽省合肥市 / Hefei, Anhui; a
        municipality (北京市) by its name alone."""
        name, province = self.display_name, self.display_province
        if not province or province == name:
            return name
        return localized(f"{province}{name}", f"{name}, {province}")


class CalendarYear(models.Model):
    """A year whose working-day schedule the State Council has published and
    staff have entered: its deadlines are exact, not estimated."""

    year = models.PositiveIntegerField(_("年份"), primary_key=True)
    published = models.BooleanField(_("已公布放假安排"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a holiday on a weekday, or a make-up
    working day (调休) on a weekend."""

    date = models.DateField(_("日期"), primary_key=True)
    is_working_day = models.BooleanField(_("是否工作日"))
    note = models.CharField(_("说明"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")

    def __str__(self):
        return f"{self.date} {'班' if self.is_working_day else '休'} {self.note}"


class OutboxMessage(models.Model):
    """A task to send to the broker, written in the same transaction as the
    change that needs it, so a broker outage loses nothing (transactional outbox)."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="outbox_unsent",
            ),
        ]

    def __str__(self):
        return f"{self.task}{self.args}"

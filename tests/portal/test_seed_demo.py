"""`manage.py seed_demo`: the demo the README promises, loaded twice without change."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from core.models import Region
from enrollment.models import Enrollment, Policy
from people.models import FamilyLink, Person, User
from portal.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        Region.objects.count(),
        Policy.objects.count(),
        User.objects.count(),
        Person.objects.count(),
        FamilyLink.objects.count(),
        Enrollment.objects.count(),
    )


@time_machine.travel(
    dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_seed_demo_loads_the_demo_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    first = snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == first
    assert {"340100", "110000", "370200", "350100"} <= set(
        Region.objects.values_list("code", flat=True)
    )
    assert set(Policy.objects.values_list("year", flat=True)) == {2025, 2026, 2027}
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)
    for prefix, code in (
        ("hf", "340100"),
        ("bj", "110000"),
        ("qd", "370200"),
        ("fz", "350100"),
    ):
        clerk = User.objects.get(username=f"{prefix}_clerk")
        supervisor = User.objects.get(username=f"{prefix}_supervisor")
        assert (
            clerk.is_staff
            and clerk.region_id == code
            and clerk.has_perm("enrollment.view_enrollment")
        )
        assert supervisor.has_perm("enrollment.change_policy") and not clerk.has_perm(
            "enrollment.change_policy"
        )
    auditor = User.objects.get(username="auditor")
    assert auditor.has_perm("enrollment.view_enrollment") and not auditor.has_perm(
        "enrollment.change_enrollment"
    )
    zhang = User.objects.get(mobile="13800000001")
    assert zhang.check_password(DEMO_PASSWORD)
    assert (
        FamilyLink.objects.filter(owner=zhang.person).count() == 4
    )  # spouse, child, parent, newborn
    assert (
        Enrollment.objects.filter(
            person=zhang.person, year__in=[2025, 2026], status="active"
        ).count()
        == 2
    )
    assert Enrollment.objects.filter(scheme="flexible", status="active").exists()
    assert Enrollment.objects.filter(
        person__name="张小满", is_newborn=True, waiting_months=0
    ).exists()
    assert Enrollment.objects.filter(verification="pending").exists()


def test_print_logins_prints_the_password_and_every_login_without_writing():
    out = io.StringIO()
    call_command("seed_demo", "--print-logins", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for login in ("admin", "hf_clerk", "bj_supervisor", "auditor", "13800000001"):
        assert login in text
    assert not User.objects.exists()


@time_machine.travel(
    dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_print_logins_lists_every_demo_login_with_what_it_shows():
    """Every account the demo makes (the apps' own demo modules' included:
    the transfers citizen and the 家庭共济 pair) is in the printed list."""
    from portal.management.commands.seed_demo import demo_logins

    call_command("seed_demo", stdout=io.StringIO())
    listed = dict(demo_logins())
    made = set(
        User.objects.exclude(mobile__isnull=True)
        .exclude(mobile="")
        .values_list("mobile", flat=True)
    )
    made |= set(User.objects.filter(is_staff=True).values_list("username", flat=True))
    assert made and made <= set(listed)
    assert {"13800000005", "13800000006", "13800000007"} <= set(listed)
    assert "周杰" in listed["13800000005"]
    assert "赵敏" in listed["13800000006"] and "家庭共济" in listed["13800000006"]
    assert "孙桂兰" in listed["13800000007"] and "家庭共济" in listed["13800000007"]
    for login, who in listed.items():
        assert who.strip(), login
    out = io.StringIO()
    call_command("seed_demo", "--print-logins", stdout=out)
    for login in made:
        assert login in out.getvalue()


@time_machine.travel(
    dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
)
def test_the_demo_flexible_workers_months_are_payments_in_their_history(client):
    """李娜 (北京) and 赵敏 (合肥) paid month by month: each paid month is a
    settled counter payment with a receipt, dated in its month, and the
    history page lists them; seeding again adds none."""
    from enrollment.models import FlexibleMonth
    from payments.models import PaidPeriod, Payment, PaymentStatus, Receipt

    call_command("seed_demo", stdout=io.StringIO())
    for mobile, first_period in (
        ("13800000002", "2025-01"),
        ("13800000006", "2026-01"),
    ):
        person = User.objects.get(mobile=mobile).person
        months = {
            f"{month:%Y-%m}"
            for month in FlexibleMonth.objects.filter(
                enrollment__person=person
            ).values_list("month", flat=True)
        }
        paid = set(
            PaidPeriod.objects.filter(
                insured=person, payment__status=PaymentStatus.SUCCESS
            ).values_list("period", flat=True)
        )
        assert first_period in months
        assert months and months == paid, mobile
        payments = Payment.objects.filter(insured=person, status=PaymentStatus.SUCCESS)
        assert payments.count() == len(months)
        assert Receipt.objects.filter(payment__in=payments).count() == len(months)
        for payment in payments:
            settled = payment.settled_at.astimezone(ZoneInfo("Asia/Shanghai"))
            assert f"{settled:%Y-%m}" == payment.period, payment.period
    li = User.objects.get(mobile="13800000002")
    assert Payment.objects.filter(insured=li.person).count() == 12 + 11
    client.force_login(li)
    page = client.get("/payments/?year=all").content.decode()
    for period in ("2025-01", "2025-12", "2026-11"):
        assert period in page
    before = Payment.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Payment.objects.count() == before

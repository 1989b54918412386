"""Suspend, then transfer (issue 11), in a real browser: a resident insured in
福州 who has enrolled and paid for next year in 合肥 opens the transfer form, is
told the 福州 enrollment must be suspended first, follows the link to 暂停参保,
gives the reason, checks and confirms; applies again, sees the confirmation and
the timeline, and watches the two offices finish the transfer: the months at
福州 arrive in 合肥 once."""

import datetime as dt
import re

import pytest
import time_machine

from enrollment import services as enrollment_services
from enrollment.models import ContributionMonths, EnrollmentStatus, MonthsKind
from enrollment.selectors import months_totals
from tests import factories
from transfers.models import Transfer, TransferStatus
from transfers.services import transfers_scan

pytestmark = pytest.mark.django_db(transaction=True)

# In the 2027 enrollment window (1 Sept – 31 Dec 2026).
TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
OUT, IN = "350100", "340100"  # 福州 → 合肥


@pytest.fixture
def resident(settings):
    """陈思远: residents' insurance at 福州 for 2026, paid (正常参保), and at 合肥
    for 2027, registered and paid (SPEC §8: a residents' move needs next year
    enrolled at the incoming region). Both offices process automatically in
    fast scaled time."""
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.02
    factories.policy(OUT, 2026)
    factories.policy(IN, 2027)
    user = factories.UserFactory(
        person__name="陈思远", person__region=factories.region(OUT)
    )
    person = user.person
    for region, year, paid_on in (
        (OUT, 2026, dt.date(2025, 11, 20)),
        (IN, 2027, dt.date(2026, 11, 20)),
    ):
        enrollment = enrollment_services.enrollment_register_resident(
            actor=None,
            person=person,
            region=region,
            year=year,
            category="ordinary",
            today=paid_on,
        )
        enrollment_services.enrollment_activate(
            enrollment_id=enrollment.pk,
            paid_on=paid_on,
            reference=f"E2E-SUSPEND-{person.pk}-{region}-{year}",
        )
    return user


def log_in(page, user):
    page.goto("/login/")
    page.locator("#id_username").fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")


def fill_transfer_form(page, user):
    page.get_by_label("为谁办理").select_option(str(user.person.pk))
    page.get_by_label("姓名").fill(user.person.name)
    page.get_by_label("身份证号").fill(user.person.id_number)
    page.get_by_label("居民医保 → 居民医保", exact=True).check()
    page.get_by_label("转出地（原参保地）").select_option(OUT)
    page.get_by_label("转入地（新参保地）").select_option(IN)
    page.get_by_role("button", name="继续").click()


def test_suspend_then_transfer_and_watch_it_complete(new_page, shot, resident):
    person = resident.person
    outgoing = person.enrollments.get(region_id=OUT, year=2026)
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        log_in(page, resident)

        # The transfer form says to suspend first; applying now is refused.
        page.goto("/transfers/apply/")
        suspend_first = page.locator("#suspend-first")
        assert "先在转出地暂停参保" in suspend_first.inner_text()
        fill_transfer_form(page, resident)
        assert "尚未暂停" in page.inner_text("main")
        assert not Transfer.objects.filter(person=person).exists()
        shot(page, "suspend-transfer-refused-zh-1280")

        # 暂停参保 for this person: the 福州 enrollment, not the one in 合肥.
        suspend_first.get_by_role("link", name="办理暂停参保").click()
        page.wait_for_url(re.compile(rf".*/enrollment/suspend/\?person={person.pk}$"))
        form = page.locator("form").filter(
            has=page.get_by_role("heading", name=re.compile(r"2026年度.*福州"))
        )
        assert form.count() == 1
        form.get_by_label("迁往外地，办理医保关系转移接续").check()
        shot(page, "suspend-reason-zh-1280")
        form.get_by_role("button", name="继续").click()

        page.get_by_role("heading", name="请核对暂停参保信息").wait_for()
        check = page.inner_text("main")
        assert "迁往外地，办理医保关系转移接续" in check
        assert "暂停后即可申请医保关系转移接续" in check
        assert "福州" in check
        shot(page, "suspend-check-zh-1280")
        page.get_by_role("button", name="确认暂停参保").click()

        page.wait_for_url(f"**/enrollment/{outgoing.pk}/suspend/")
        page.get_by_role("heading", name="已暂停参保").wait_for()
        done = page.inner_text("main")
        assert outgoing.reference in done
        assert "迁往外地，办理医保关系转移接续" in done
        outgoing.refresh_from_db()
        assert outgoing.status == EnrollmentStatus.SUSPENDED
        incoming = person.enrollments.get(region_id=IN, year=2027)
        assert incoming.status == EnrollmentStatus.ACTIVE
        shot(page, "suspend-done-zh-1280")

        # Back to the transfer form, from the link on the confirmation.
        page.get_by_role("link", name="申请转移接续").click()
        page.wait_for_url("**/transfers/apply/")
        fill_transfer_form(page, resident)
        page.get_by_role("heading", name="核对申请信息").wait_for()
        summary = page.inner_text("main")
        assert "居民医保 → 居民医保" in summary
        assert "福州" in summary and "合肥" in summary
        shot(page, "suspend-transfer-check-zh-1280")
        page.get_by_role("button", name="确认提交申请").click()
        page.wait_for_url(re.compile(r".*/transfers/\d+/done/$"))

        transfer = Transfer.objects.get(person=person)
        confirmation = page.inner_text("main")
        assert transfer.reference in confirmation
        assert "受理后10个工作日内" in confirmation
        assert "办理时限从受理之日起算" in confirmation
        shot(page, "suspend-transfer-confirmation-zh-1280")

        page.get_by_role("link", name="查看办理进度").click()
        page.wait_for_url(f"**/transfers/{transfer.pk}/")
        assert transfer.reference in page.inner_text("main")
        shot(page, "suspend-transfer-timeline-zh-1280")

        # The beat's scan, run here step by step; the page follows by itself.
        for _ in range(200):
            transfers_scan(time_budget=1.0)
            transfer.refresh_from_db()
            if transfer.status == TransferStatus.COMPLETED:
                break
            page.wait_for_timeout(50)
        assert transfer.status == TransferStatus.COMPLETED
        passed = set(transfer.events.values_list("to_status", flat=True))
        assert {
            TransferStatus.OUTGOING_REVIEW,
            TransferStatus.SHEET_ISSUED,
            TransferStatus.INCOMING_REVIEW,
            TransferStatus.COMPLETED,
        } <= passed
        page.locator(
            "dd strong", has_text=str(TransferStatus.COMPLETED.label)
        ).wait_for(timeout=15000)
        timeline = page.inner_text("main")
        assert "已办结" in timeline
        assert "本页每" not in timeline  # no longer refreshing itself
        shot(page, "suspend-transfer-completed-zh-1280")

    # The 12 months paid at 福州 moved to 合肥 once (its own 12 for 2027 stay).
    assert transfer.sheet.actual_months == 12
    assert months_totals(person_id=person.pk, region_code=OUT)[MonthsKind.ACTUAL] == 0
    assert months_totals(person_id=person.pk, region_code=IN)[MonthsKind.ACTUAL] == 24
    moved_in = ContributionMonths.objects.filter(
        person=person, region_id=IN, reference__startswith=f"transfer:{transfer.pk}:in"
    )
    assert [(row.kind, row.months) for row in moved_in] == [(MonthsKind.ACTUAL, 12)]
    person.refresh_from_db()
    assert person.region_id == IN

"""A transfer in a real browser: apply, watch the timeline advance as the
simulated regional offices work in scaled time, open the information sheet;
a clerk rejects another application with a reason and the citizen sees it."""

import datetime as dt
import re

import pytest
import time_machine

from people.models import Role
from tests import factories
from transfers import demo
from transfers.models import Transfer, TransferStatus
from transfers.services import transfers_scan

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def mover(settings):
    """A flexible worker suspended at 合肥 (months and a balance there) and
    enrolled at 北京; both offices process automatically in fast scaled time."""
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.02
    for code in ("340100", "110000"):
        factories.policy(code, 2026)
    user = factories.UserFactory(
        person__name="高远", person__region=factories.region("340100")
    )
    demo._ready(user.person, "340100", "110000", 2026, 0)
    return user


def log_in(page, user):
    page.goto("/login/")
    page.locator("#id_username").fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")


def apply(page, user):
    page.goto("/transfers/apply/")
    page.get_by_label("为谁办理").select_option(str(user.person.pk))
    page.get_by_label("姓名").fill(user.person.name)
    page.get_by_label("身份证号").fill(user.person.id_number)
    page.get_by_label("职工医保 → 职工医保").check()
    page.get_by_label("转出地（原参保地）").select_option("340100")
    page.get_by_label("转入地（新参保地）").select_option("110000")
    page.get_by_role("button", name="继续").click()
    page.get_by_role("button", name="确认提交申请").click()
    page.wait_for_url(re.compile(r".*/transfers/\d+/done/$"))


def test_apply_watch_the_timeline_advance_and_open_the_sheet(new_page, shot, mover):
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        log_in(page, mover)
        apply(page, mover)
        confirmation = page.inner_text("main")
        transfer = Transfer.objects.get(person=mover.person)
        assert transfer.reference in confirmation
        assert "受理后10个工作日内" in confirmation
        shot(page, "transfer-confirmation-zh-1280")

        page.goto(f"/transfers/{transfer.pk}/")
        shot(page, "transfer-timeline-submitted-zh-1280")
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
        } <= passed
        page.get_by_text(str(TransferStatus.COMPLETED.label)).first.wait_for(
            timeout=15000
        )
        timeline = page.inner_text("main")
        assert "转出地" in timeline and "转入地" in timeline
        shot(page, "transfer-timeline-completed-zh-1280")

        page.goto(f"/transfers/{transfer.pk}/sheet/")
        sheet = page.inner_text("main")
        assert "参保人员基本医疗保险信息表" in sheet
        assert mover.person.id_number not in page.content()
        shot(page, "transfer-sheet-zh-1280")


def test_a_clerk_rejects_with_a_reason_and_the_citizen_sees_it(new_page, shot, mover):
    hefei = factories.region("340100")
    hefei.transfer_processing = "manual"
    hefei.save()
    factories.StaffFactory(username="hf_clerk_e2e", role=Role.CLERK, region=hefei)
    with time_machine.travel(TODAY, tick=True):
        citizen = new_page()
        log_in(citizen, mover)
        apply(citizen, mover)
        transfer = Transfer.objects.get(person=mover.person)

        staff = new_page()
        staff.goto("/admin/")
        staff.get_by_label("用户名").fill("hf_clerk_e2e")
        staff.get_by_label("密码").fill("pass-Word-123")
        staff.get_by_role("button", name="登录").click()
        staff.wait_for_url("**/admin/")
        staff.goto("/admin/transfers/outgoingqueue/")
        staff.locator(f"input[name=_selected_action][value='{transfer.pk}']").check()
        staff.locator("select[name=action]").select_option("action_reject")
        staff.locator("button[name=index]").first.click()
        staff.get_by_label("原因说明").fill(
            "参保信息与登记信息不一致，请携带身份证到合肥市医保经办窗口核对。"
        )
        shot(staff, "staff-transfer-reject-zh-1280")
        staff.locator("form button[type=submit], form input[type=submit]").last.click()
        staff.wait_for_load_state()
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.REJECTED

        citizen.goto(f"/transfers/{transfer.pk}/")
        text = citizen.inner_text("main")
        assert "请携带身份证到合肥市医保经办窗口核对" in text
        shot(citizen, "transfer-rejected-zh-1280")
